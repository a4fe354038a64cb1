package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmd/demo"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/daemon"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// chromiumBin finds a headless-capable Chromium; the test skips without one
// unless IMPACT_REQUIRE_CHROMIUM is set (CI installs Debian's chromium).
func chromiumBin(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium is not installed (apt-get install -y chromium)"
	if os.Getenv("IMPACT_REQUIRE_CHROMIUM") != "" {
		t.Fatal(msg + " (IMPACT_REQUIRE_CHROMIUM is set)")
	}
	t.Skip(msg + "; skipping the browser test")
	return ""
}

const hostileID = "badc0ffee0"

// demoDaemon builds the demo store, adds a draft whose PR title and metric
// name are hostile, and runs a real daemon on it (API and review page on
// free loopback ports). It returns the daemon's API client and the store's
// drafts as they were.
func demoDaemon(t *testing.T, ctx context.Context) (*backend.Client, []model.Draft) {
	t.Helper()
	dir := t.TempDir()
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	f := &cmdutil.Factory{
		IO:  &cmdutil.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
		Now: func() time.Time { return end }, Logger: slog.New(slog.DiscardHandler), Getenv: func(string) string { return "" },
	}
	path := filepath.Join(dir, "impact.db")
	out, err := demo.Run(ctx, f, &demo.Options{Store: path, End: end})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Drafts) < 5 {
		t.Fatalf("the demo drafted %d drafts; the test needs 5", len(out.Drafts))
	}
	h := out.Drafts[0]
	h.ID, h.Category = hostileID, "leadership"
	h.Metric.Name = `<svg onload=window.__pwned=1>` + "p99 \u202eycnetal"
	h.PRs = append([]model.PRRef(nil), h.PRs...)
	h.PRs[0].Title = `<img src=x onerror="window.__pwned=1;alert(1)">` + " fix \u202egnp.exe"
	h.PRs[0].URL = "javascript:alert(1)"
	h.GeneratedText = "Shipped <img src=x onerror=alert(1)>, reducing p99 from 1.8 s to 210 ms (−88%)."
	h.Text = h.GeneratedText + " " // edited, so the daemon's drafter pass keeps it
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveDrafts(ctx, []model.Draft{h}); err != nil {
		t.Fatal(err)
	}
	before, err := st.Drafts(ctx, store.DraftFilter{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := all.Registry().Load(path + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Listen, cfg.UI.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Server.Token = "browser-test-token" // any TCP listen needs one
	// The demo's metrics (not its sources: nothing to poll), so the drafter
	// reads their series and the draft page can explain them.
	cfg.Metrics = out.World.Metrics
	dctx, stop := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(dctx, cfg, daemon.Options{
			Logger: slog.New(slog.DiscardHandler), StartJitter: -1, Hangup: make(chan os.Signal),
			OnReady: func(a net.Addr) { ready <- a },
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	select {
	case a := <-ready:
		return backend.NewClient(config.ServerConfig{Listen: a.String(), Token: cfg.Server.Token}, cfg.Store.Path), before
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-ctx.Done():
		t.Fatal("the daemon did not start")
	}
	return nil, nil
}

// browser starts headless Chromium with the flags that keep it off the
// network and out of the user's profile.
func browser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumBin(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")), chromedp.WindowSize(1000, 1400),
	)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	return bctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// js is an action that evaluates an expression for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr+"\n;true")(ctx, t)
		return err
	})
}

func call[P, R any](t *testing.T, ctx context.Context, cmd cdp.Command[P, R], p P) R {
	t.Helper()
	r, err := chromedp.Call(ctx, cmd, p)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}

func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return b
}

// act runs actions that make the page navigate (a form submission) and
// waits until the new page has loaded.
func act(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, ctx, what, js(`window.__old = true`))
	run(t, ctx, what, actions...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__old === undefined && document.readyState === "complete"`))
		if err == nil && fresh {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the page did not reload (%v)", what, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func current(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `(document.querySelector("article.draft.current") || {dataset: {}}).dataset.id || ""`)
}

// axe runs axe-core's WCAG 2 A/AA rules on the page and fails on any
// violation.
func axe(t *testing.T, ctx context.Context, src, where string) {
	t.Helper()
	if !eval[bool](t, ctx, src+"\n;typeof axe === 'object'") {
		t.Fatal("axe did not load")
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run %s: %v", where, err)
	}
	var r struct {
		Passes     int
		Violations []struct {
			ID, Impact, Help string
			Nodes            []string
		}
	}
	if err := json.Unmarshal([]byte(res), &r); err != nil {
		t.Fatalf("axe %s: %v: %s", where, err, res)
	}
	for _, v := range r.Violations {
		t.Errorf("axe %s: %s (%s): %s — %v", where, v.ID, v.Impact, v.Help, v.Nodes)
	}
	if r.Passes < 10 {
		t.Errorf("axe %s: only %d rules passed: did it run?", where, r.Passes)
	}
}

// The review page in a real browser against a real daemon on the demo
// store: log in through the link, accept by keyboard, reject with a
// reason, edit, undo, reload; the store holds exactly those decisions.
// Requests without the cookie or with a wrong CSRF token change nothing; a
// hostile PR title renders inert; axe-core finds no WCAG A/AA violation in
// light and dark mode and at 360 px. Screenshots go to docs/ when
// IMPACT_UPDATE_SCREENSHOTS=1.
func TestBrowserReview(t *testing.T) {
	chromiumBin(t)
	axeSrc, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, before := demoDaemon(t, ctx)
	link, err := client.UILogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + u.Host
	bctx := browser(t, ctx)
	var dialogs atomic.Int32
	events := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range events {
			if err != nil {
				return
			}
			dialogs.Add(1)
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}()

	// Before logging in the page shows nothing but how to log in.
	run(t, bctx, "open without login", chromedp.Navigate(base+"/"))
	if txt := eval[string](t, bctx, `document.body.innerText`); !strings.Contains(txt, "impact review") || strings.Contains(txt, "pending") {
		t.Errorf("the page before login shows:\n%s", txt)
	}
	// Log in through the link: the session cookie is HttpOnly and Strict.
	run(t, bctx, "login", chromedp.Navigate(link))
	if loc := eval[string](t, bctx, `location.href`); loc != base+"/" {
		t.Fatalf("after login the browser is at %s", loc)
	}
	cookies := call(t, bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}}).Cookies
	if len(cookies) != 1 || !cookies[0].HTTPOnly || cookies[0].SameSite != network.CookieSameSiteStrict {
		t.Fatalf("cookies after login: %+v", cookies)
	}
	if eval[bool](t, bctx, `document.cookie.includes("impact_session")`) {
		t.Error("the session cookie is readable from script")
	}
	ids := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("article.draft")).map(e => e.dataset.id)`)
	pending := 0
	for _, d := range before {
		if d.Status == model.StatusPending {
			pending++
		}
	}
	if len(ids) != pending {
		t.Fatalf("the inbox lists %d drafts, the store has %d pending", len(ids), pending)
	}
	// Every draft of a stored series has its chart. (The demo's config
	// names no sources, so the built-in series computed from events have
	// none here.)
	noChart := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("article.draft")).filter(a => !a.querySelector("svg.chart")).map(a => a.dataset.id)`)
	for _, id := range noChart {
		for _, d := range before {
			if d.ID == id && d.Kind == model.KindImpact && !strings.HasPrefix(d.Metric.ID, "pagerduty.") && !strings.HasPrefix(d.Metric.ID, "ci.") && !strings.HasPrefix(d.Metric.ID, "dora.") {
				t.Errorf("draft %s of %s has no chart", id, d.Metric.ID)
			}
		}
	}
	shots := map[string][]byte{}
	shots["review-inbox.png"] = screenshot(t, bctx)
	axe(t, bctx, string(axeSrc), "inbox")

	// j selects the first draft, a accepts it.
	run(t, bctx, "j", chromedp.KeyEvent("j"))
	accepted := current(t, bctx)
	if accepted != ids[0] {
		t.Fatalf("j selected %q, want the first draft %q", accepted, ids[0])
	}
	act(t, bctx, "accept", chromedp.KeyEvent("a"))
	// The inbox comes back on the next draft: r, a reason, Enter.
	rejected := current(t, bctx)
	if rejected == "" || rejected == accepted {
		t.Fatalf("after accepting, the current draft is %q (at %s)", rejected, eval[string](t, bctx, `location.href + " " + document.body.innerText`))
	}
	run(t, bctx, "r", chromedp.KeyEvent("r"))
	if focused := eval[string](t, bctx, `document.activeElement.name`); focused != "reason" {
		t.Fatalf("r focused %q, want the reason field", focused)
	}
	act(t, bctx, "reject", chromedp.KeyEvent("not my work"), chromedp.KeyEvent(kb.Enter))
	// e opens the edit box; dropping a measured number warns.
	edited := current(t, bctx)
	run(t, bctx, "e", chromedp.KeyEvent("e"))
	if focused := eval[string](t, bctx, `document.activeElement.tagName`); focused != "TEXTAREA" {
		t.Fatalf("e focused %s, want the edit box", focused)
	}
	sel := "#text-" + edited
	run(t, bctx, "clear", js(`document.querySelector("`+sel+`").value = ""`), chromedp.KeyEvent("Made search fast."))
	warn := eval[string](t, bctx, `document.querySelector("#d-`+edited+` .warn").hidden ? "" : document.querySelector("#d-`+edited+` .warn").textContent`)
	if !strings.Contains(warn, "no longer says the measured") {
		t.Errorf("dropping the numbers shows no warning (%q)", warn)
	}
	orig := eval[string](t, bctx, `document.querySelector("#d-`+edited+` .statement").textContent`)
	newText := "Rewrote it: " + orig
	run(t, bctx, "type", js(`document.querySelector("`+sel+`").value = `+strconv.Quote(newText)), js(`document.querySelector("`+sel+`").dispatchEvent(new Event("input"))`))
	if eval[bool](t, bctx, `!document.querySelector("#d-`+edited+` .warn").hidden`) {
		t.Error("a warning with every number kept")
	}
	act(t, bctx, "save and accept", chromedp.Click(chromedp.CSS(`#d-`+edited+` button[value=accept]`)))
	// A second edit, then u undoes it.
	undone := current(t, bctx)
	run(t, bctx, "e", chromedp.KeyEvent("e"))
	run(t, bctx, "edit 2", js(`document.querySelector("#text-`+undone+`").value = "Something else, 1.8 s"`))
	act(t, bctx, "save and accept 2", chromedp.Click(chromedp.CSS(`#d-`+undone+` button[value=accept]`)))
	run(t, bctx, "blur", js(`document.activeElement && document.activeElement.blur()`))
	act(t, bctx, "undo", chromedp.KeyEvent("u"))
	act(t, bctx, "reload", chromedp.Reload())
	left := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("article.draft")).map(e => e.dataset.id)`)
	if len(left) != len(ids)-3 {
		t.Errorf("after three decisions and an undo the inbox lists %d drafts, want %d", len(left), len(ids)-3)
	}

	// The store holds exactly those decisions.
	after, err := client.Drafts(ctx, store.DraftFilter{})
	if err != nil {
		t.Fatal(err)
	}
	was := map[string]model.Draft{}
	for _, d := range before {
		was[d.ID] = d
	}
	check := func(after []model.Draft) {
		t.Helper()
		if len(after) != len(before) {
			t.Errorf("%d drafts, were %d", len(after), len(before))
		}
		for _, d := range after {
			w := was[d.ID]
			switch d.ID {
			case accepted:
				if d.Status != model.StatusAccepted || d.Text != w.Text {
					t.Errorf("accepted draft %s: %s %q", d.ID, d.Status, d.Text)
				}
			case rejected:
				if d.Status != model.StatusRejected || d.Reason != "not my work" {
					t.Errorf("rejected draft %s: %s %q", d.ID, d.Status, d.Reason)
				}
			case edited:
				if d.Status != model.StatusAccepted || d.Text != newText || d.GeneratedText != w.GeneratedText {
					t.Errorf("edited draft %s: %s %q", d.ID, d.Status, d.Text)
				}
			default: // the undone one included
				if d.Status != w.Status || d.Text != w.Text || d.Reason != w.Reason {
					t.Errorf("draft %s changed: %s %q %q", d.ID, d.Status, d.Text, d.Reason)
				}
			}
		}
	}
	check(after)

	// Without the cookie, or with a wrong CSRF token, nothing changes.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	target := left[0]
	for _, tc := range []struct {
		name   string
		cookie bool
		csrf   string
		want   int
	}{
		{"no cookie", false, "", http.StatusUnauthorized},
		{"no cookie, a CSRF token", false, "x", http.StatusUnauthorized},
		{"wrong csrf", true, "wrong", http.StatusForbidden},
		{"no csrf", true, "", http.StatusForbidden},
	} {
		for _, action := range []string{"accept", "reject", "edit"} {
			form := url.Values{"text": {"hacked"}, "reason": {"hacked"}, "then": {"accept"}}
			if tc.csrf != "" {
				form.Set("csrf", tc.csrf)
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/drafts/"+target+"/"+action, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie {
				req.AddCookie(&http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value})
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.name, action, resp.StatusCode, tc.want)
			}
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/undo", strings.NewReader("csrf="+tc.csrf))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.cookie {
			req.AddCookie(&http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value})
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	after, err = client.Drafts(ctx, store.DraftFilter{})
	if err != nil {
		t.Fatal(err)
	}
	check(after)

	// The hostile draft renders inert, on its page and in the inbox.
	run(t, bctx, "hostile draft page", chromedp.Navigate(base+"/drafts/"+hostileID))
	for _, js := range []string{
		`document.querySelectorAll("img, iframe, object, embed").length === 0`,
		`Array.from(document.querySelectorAll("svg")).every(s => s.classList.contains("chart"))`,
		`window.__pwned === undefined`,
		`document.querySelector(".prs a") === null || !document.querySelector(".prs a").href.startsWith("javascript")`,
		`!document.body.innerText.includes("\u202e")`,
		`document.body.innerText.includes('<img src=x onerror="window.__pwned=1;alert(1)"> fix gnp.exe')`,
		`document.body.innerText.includes("<svg onload=window.__pwned=1>p99 ycnetal")`,
	} {
		if !eval[bool](t, bctx, js) {
			t.Errorf("hostile draft page: %s is false", js)
		}
	}
	axe(t, bctx, string(axeSrc), "draft page")
	run(t, bctx, "inbox", chromedp.Navigate(base+"/"))
	if !eval[bool](t, bctx, `document.querySelectorAll("img").length === 0 && window.__pwned === undefined`) {
		t.Error("the hostile draft is not inert in the inbox")
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened", n)
	}

	// A real draft's page, for the screenshot: evidence, chart, history.
	run(t, bctx, "draft page", chromedp.Navigate(base+"/drafts/"+edited))
	if txt := eval[string](t, bctx, `document.body.innerText`); !strings.Contains(txt, "Evidence") || !strings.Contains(txt, "accepted") ||
		!strings.Contains(txt, "— this draft: drafted") || !strings.Contains(txt, "(mine)") {
		t.Errorf("draft page:\n%s", txt)
	}
	full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // the whole page, as PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shots["review-draft.png"] = full

	// Period and Status render, with the accepted statement.
	run(t, bctx, "period", chromedp.Navigate(base+"/period?p=2026"))
	if md := eval[string](t, bctx, `document.querySelector("#md").value`); !strings.Contains(md, "Rewrote it:") {
		t.Errorf("period markdown:\n%s", md)
	}
	axe(t, bctx, string(axeSrc), "period")
	run(t, bctx, "status", chromedp.Navigate(base+"/status"))
	axe(t, bctx, string(axeSrc), "status")

	// Dark mode and a 360 px wide phone.
	call(t, bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	run(t, bctx, "dark", chromedp.Navigate(base+"/"))
	if bg := eval[string](t, bctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(17, 24, 39)" {
		t.Errorf("dark mode background %s", bg)
	}
	axe(t, bctx, string(axeSrc), "inbox, dark")
	run(t, bctx, "360px", chromedp.EmulateViewport(360, 800), chromedp.Navigate(base+"/drafts/"+hostileID))
	if w := eval[int](t, bctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("at 360 px the draft page is %d px wide", w)
	}
	run(t, bctx, "360px inbox", chromedp.Navigate(base+"/"))
	if w := eval[int](t, bctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("at 360 px the inbox is %d px wide", w)
	}
	axe(t, bctx, string(axeSrc), "inbox, 360 px, dark")

	for name, data := range shots {
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() < 900 {
			t.Errorf("screenshot %s: %v", name, err)
			continue
		}
		if os.Getenv("IMPACT_UPDATE_SCREENSHOTS") == "1" {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", name), data, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}
