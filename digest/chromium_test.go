package digest

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumBin finds a headless-capable Chromium; the tests skip without
// one (CI installs Debian's chromium).
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
	t.Skip(msg + "; skipping the rendering test")
	return ""
}

// runChromium runs headless Chromium on a file:// URL with the flags that
// keep it off the network and out of the user's profile. mode is
// "--screenshot=PATH" or "--dump-dom".
func runChromium(ctx context.Context, bin, userDir, url string, width, height int, mode string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+userDir, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), mode, url)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, &chromeError{err: err, stderr: errb.String()}
	}
	return out.Bytes(), nil
}

type chromeError struct {
	err    error
	stderr string
}

func (e *chromeError) Error() string { return e.err.Error() + ": " + e.stderr }

// The preview HTML renders in a real browser: the screenshot is a real
// picture, and the DOM holds the statements (hostile text as text) and the
// chart images.
func TestChromiumRendersPreview(t *testing.T) {
	bin := chromiumBin(t)
	f := newFixture(t)
	r, err := Render(Build(f.in))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "digest.html")
	if err := os.WriteFile(page, []byte(r.StandaloneHTML), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	ctx := context.Background()

	shot := filepath.Join(dir, "d.png")
	if _, err := runChromium(ctx, bin, filepath.Join(dir, "profile1"), url, 800, 2000, "--screenshot="+shot); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if out := os.Getenv("IMPACT_DIGEST_TEST_OUT"); out != "" { // to look at it
		_ = os.WriteFile(filepath.Join(out, "fixture-digest.png"), data, 0o644)
		_ = os.WriteFile(filepath.Join(out, "fixture-digest.html"), []byte(r.StandaloneHTML), 0o644)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 2000 || len(data) < 30_000 {
		t.Errorf("screenshot %v, %d bytes: looks blank", b, len(data))
	}
	// Not one flat colour: count distinct colours in a sample of pixels.
	colors := map[uint32]bool{}
	for y := 0; y < 1200; y += 7 {
		for x := 0; x < 800; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colors) < 20 {
		t.Errorf("the screenshot has %d colours: nothing rendered", len(colors))
	}

	dom, err := runChromium(ctx, bin, filepath.Join(dir, "profile2"), url, 800, 2000, "--dump-dom")
	if err != nil {
		t.Fatal(err)
	}
	html := string(dom)
	for _, s := range []string{
		"Moved Elasticsearch query construction off the request path &lt;script&gt;alert(1)&lt;/script&gt;",
		"Shipped fix(payments): retry idempotent calls on 503.",
		"impact drafts accept d1a2b3c4",
		"Regressions after your PRs",
	} {
		if !strings.Contains(html, s) {
			t.Errorf("rendered DOM lacks %q", s)
		}
	}
	if strings.Contains(strings.ToLower(html), "<script") {
		t.Error("the rendered DOM has a script element")
	}
	imgs := regexp.MustCompile(`<img [^>]*src="data:image/png;base64,`).FindAllString(html, -1)
	if len(imgs) != 2 {
		t.Errorf("rendered DOM has %d chart images, want 2", len(imgs))
	}
}
