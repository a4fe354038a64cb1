package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/cmd/export"
	"github.com/impact-dev/impact/internal/cmd/status"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/internal/weblink"
	"github.com/impact-dev/impact/store"
)

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

var funcs = template.FuncMap{
	"clean": clean,
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// card: a draft's decide forms in the inbox; after a decision the
	// browser comes back to the next draft.
	"card": func(d draftView, csrf string) cardData {
		next := "/"
		if d.Next != "" {
			next = "/#d-" + d.Next
		}
		return cardData{D: d, CSRF: csrf, Next: next}
	},
	// single: the decide forms on a draft's own page, which it stays on.
	"single": func(d draftView, csrf string) cardData {
		return cardData{D: d, CSRF: csrf, Next: "/drafts/" + d.ID}
	},
}

type cardData struct {
	D    draftView
	CSRF string
	Next string
}

// clean makes collected text safe to show beside other text: one line, no
// control or bidi formatting characters (an RTL override must not reorder
// the page), at most 2000 characters. html/template escapes the rest.
func clean(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case unicode.Is(unicode.Bidi_Control, r), unicode.IsControl(r), r == '\u200b', r == '\ufeff':
			continue
		}
		if n++; n > 2000 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pageData is what every template gets.
type pageData struct {
	Title   string
	Nav     string
	CSRF    string
	Message string
	Bounce  string

	Groups     []groupView
	Pending    int
	Draft      *draftView
	History    []decisionView
	Explain    []findingView
	ExplainErr string
	Explained  bool
	CanUndo    bool

	Period     string
	Periods    []string
	PeriodErr  string
	Markdown   string
	Accepted   int
	Status     *status.Report
	StatusRows []statusRow
	NextDigest string
	DigestLine string
}

type decisionView struct {
	At     time.Time
	Status string
	Reason string
	Text   string // the statement the decision replaced
}

// findingView is one shift drafter.Explain found near the draft's.
type findingView struct {
	At, Tolerance, Verdict, Reason string
	Before, After, Change          string
	PValue, StepZ                  string
	ThisDraft                      bool
	Candidates                     []candidateView
}

type candidateView struct {
	PR     prView
	Mine   bool
	Role   string
	Offset string
}

func explainView(f drafter.Finding, draftID string, links weblink.GitHubHosts) findingView {
	v := findingView{
		At: f.At.UTC().Format("2006-01-02 15:04 UTC"), Tolerance: f.Tolerance().String(),
		Verdict: clean(drafter.VerdictText(f.Verdict)), Reason: clean(f.Reason),
		ThisDraft: f.DraftID != "" && f.DraftID == draftID,
	}
	if f.Before != 0 || f.After != 0 {
		v.Before, v.After = drafter.FormatValue(f.Before, f.Metric.Unit), drafter.FormatValue(f.After, f.Metric.Unit)
		v.Change = drafter.FormatChange(f.Change, f.Metric.Better)
		v.PValue = strconv.FormatFloat(f.PValue, 'g', 2, 64)
	}
	if f.Placebos > 0 {
		v.StepZ = strconv.FormatFloat(f.StepZ, 'f', 1, 64)
	}
	for _, c := range f.Candidates {
		off := time.Duration(c.OffsetSeconds) * time.Second
		when := off.Abs().Round(time.Minute).String() + " before the shift"
		if off > 0 {
			when = off.Round(time.Minute).String() + " after the shift"
		}
		v.Candidates = append(v.Candidates, candidateView{PR: prRef(c.PR, links), Mine: c.Mine, Role: clean(c.Role), Offset: "went live " + when})
	}
	return v
}

type groupView struct {
	Category string
	Title    string
	Drafts   []draftView
}

type prView struct {
	Ref, Title, URL, Author string
	LiveAt                  time.Time
}

type draftView struct {
	ID, Status, Category, Competency string
	Kind                             string // impact, activity or manual: always shown
	Measured                         bool   // a measured shift (before → after, a chart)
	Text, GeneratedText              string
	Metric, MetricID, Unit           string
	Before, After, Change            string
	Confidence                       string
	ShiftAt, CreatedAt               time.Time
	DecidedAt                        *time.Time
	Reason                           string
	PRs, Others                      []prView
	Evidence                         []string
	Chart                            template.HTML
	// Numbers are the measured figures the statement must keep.
	Numbers []string
	// Missing are the Numbers the current text no longer says.
	Missing []string
	Next    string // the next draft's id in the inbox
	Edited  bool
}

func (s *Server) view(ctx context.Context, d model.Draft, chart bool) draftView {
	v := draftView{
		ID: clean(d.ID), Status: string(d.Status), Category: clean(d.Category), Competency: clean(model.CategoryTitle(d.Category)),
		Text: clean(d.Text), GeneratedText: clean(d.GeneratedText),
		Metric: clean(metricName(d.Metric)), MetricID: clean(d.Metric.ID), Unit: clean(d.Metric.Unit),
		Before: drafter.FormatValue(d.Before, d.Metric.Unit), After: drafter.FormatValue(d.After, d.Metric.Unit),
		Change:     drafter.FormatChange(d.Change, d.Metric.Better),
		Confidence: clean(d.Confidence), ShiftAt: d.ShiftAt, CreatedAt: d.CreatedAt, DecidedAt: d.DecidedAt,
		Reason: clean(d.Reason), Evidence: make([]string, 0, len(d.Evidence)),
		Edited: d.GeneratedText != "" && d.Text != d.GeneratedText,
		Kind:   clean(d.Kind),
	}
	if v.Kind == "" {
		v.Kind = model.KindImpact
	}
	v.Measured = v.Kind == model.KindImpact || d.Metric.Unit != ""
	v.Numbers = Numbers(d)
	v.Missing = Missing(d, d.Text)
	links := weblink.ForConfig(s.o.Config())
	for _, p := range d.PRs {
		v.PRs = append(v.PRs, prRef(p, links))
	}
	for _, p := range d.Others {
		v.Others = append(v.Others, prRef(p, links))
	}
	for _, e := range d.Evidence {
		v.Evidence = append(v.Evidence, clean(e))
	}
	if chart && s.o.Series != nil {
		ss, weekly, err := s.o.Series(ctx, d)
		if err != nil {
			s.o.Logger.Warn("review page: loading a chart's series", "draft", d.ID, "metric", d.Metric.ID, "err", err)
		}
		v.Chart = Chart(d, ss, weekly)
	}
	return v
}

func prRef(p model.PRRef, links weblink.GitHubHosts) prView {
	live := p.LiveAt
	if live.IsZero() {
		live = p.MergedAt
	}
	return prView{Ref: clean(fmt.Sprintf("%s#%d", p.Repo, p.Number)), Title: clean(p.Title), URL: links.PR(p.URL), Author: clean(p.Author), LiveAt: live}
}

func metricName(m model.MetricRef) string {
	if m.Name != "" {
		return m.Name
	}
	return m.ID
}

// Numbers are the measured figures a draft's statement carries: before,
// after and the relative change, as the drafter writes them.
func Numbers(d model.Draft) []string {
	if d.Metric.Unit == "" && d.Before == 0 && d.After == 0 {
		return nil // not a measured draft (a manual win)
	}
	out := []string{drafter.FormatValue(d.Before, d.Metric.Unit), drafter.FormatValue(d.After, d.Metric.Unit), drafter.FormatChange(d.Change, d.Metric.Better)}
	// Keep only the figures the drafter's own text says (a fallback
	// statement may word them differently).
	if d.GeneratedText != "" {
		out = slices.DeleteFunc(out, func(n string) bool { return !strings.Contains(d.GeneratedText, n) })
	}
	return out
}

// Missing returns the measured figures that text no longer says.
func Missing(d model.Draft, text string) []string {
	var out []string
	for _, n := range Numbers(d) {
		if !strings.Contains(text, n) {
			out = append(out, n)
		}
	}
	return out
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data pageData) {
	var buf bytes.Buffer
	buf.Grow(int(s.lastSize.Load()) + 4096) // one allocation for a page like the last one
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.o.Logger.Error("review page: rendering", "page", name, "err", err)
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.lastSize.Store(int64(buf.Len()))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", pageData{Title: http.StatusText(code) + " — impact", Message: msg})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrAmbiguous):
		code = http.StatusBadRequest
	}
	if code >= 500 {
		s.o.Logger.Warn("review page: request failed", "path", r.URL.Path, "err", err)
	}
	s.errorPage(w, r, code, err.Error())
}

func (s *Server) canUndo() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.undo) > 0
}

// inbox: the pending drafts grouped by competency.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, sess *session) {
	ds, err := s.o.Backend.Drafts(r.Context(), store.DraftFilter{Status: model.StatusPending})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := pageData{Title: "Inbox — impact", Nav: "inbox", CSRF: sess.csrf, Pending: len(ds), CanUndo: s.canUndo(), Message: r.URL.Query().Get("msg")}
	var flat []*draftView
	for _, g := range render.ByCategory(ds) {
		gv := groupView{Category: clean(g.Category), Title: clean(g.Title), Drafts: make([]draftView, 0, len(g.Drafts))}
		for _, d := range g.Drafts {
			gv.Drafts = append(gv.Drafts, s.view(r.Context(), d, true))
		}
		data.Groups = append(data.Groups, gv)
	}
	for gi := range data.Groups {
		for di := range data.Groups[gi].Drafts {
			flat = append(flat, &data.Groups[gi].Drafts[di])
		}
	}
	for i, v := range flat {
		switch {
		case i+1 < len(flat):
			v.Next = flat[i+1].ID
		case i > 0:
			v.Next = flat[i-1].ID
		}
	}
	s.render(w, r, http.StatusOK, "inbox", data)
}

// draftPage: everything known about one draft.
func (s *Server) draftPage(w http.ResponseWriter, r *http.Request, sess *session) {
	d, err := s.o.Backend.Draft(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.view(r.Context(), d, true)
	data := pageData{Title: "Draft " + v.ID + " — impact", Nav: "draft", CSRF: sess.csrf, Draft: &v, CanUndo: s.canUndo(), Message: r.URL.Query().Get("msg")}
	if s.o.Explain != nil {
		ex, err := s.o.Explain(r.Context(), d)
		switch {
		case err != nil:
			data.ExplainErr = clean(err.Error())
		case ex != nil:
			data.Explained = true
			for _, f := range ex.Findings {
				data.Explain = append(data.Explain, explainView(f, d.ID, weblink.ForConfig(s.o.Config())))
			}
		}
	}
	for _, h := range d.History {
		data.History = append(data.History, decisionView{At: h.At, Status: string(h.Status), Reason: clean(h.Reason), Text: clean(h.TextBefore)})
	}
	s.render(w, r, http.StatusOK, "draft", data)
}

type action int

const (
	actionAccept action = iota
	actionReject
	actionEdit
)

// decide handles the accept, reject and edit forms, then sends the browser
// back (to the inbox, on the next draft).
func (s *Server) decide(a action) func(w http.ResponseWriter, r *http.Request, sess *session) {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		ctx := context.WithoutCancel(r.Context()) // a started decision is not abandoned
		before, err := s.o.Backend.Draft(ctx, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		text := strings.TrimSpace(r.PostForm.Get("text"))
		if text == before.Text {
			text = ""
		}
		now := s.o.Now().UTC()
		var after model.Draft
		entry := undoEntry{id: before.ID, decision: true}
		action := "accepted"
		switch {
		case a == actionAccept || (a == actionEdit && r.PostForm.Get("then") == "accept"):
			after, err = s.o.Backend.Decide(ctx, before.ID, model.StatusAccepted, text, "", now)
		case a == actionReject:
			action = "rejected"
			after, err = s.o.Backend.Decide(ctx, before.ID, model.StatusRejected, "", strings.TrimSpace(r.PostForm.Get("reason")), now)
		default:
			if text == "" {
				http.Redirect(w, r, s.next(r), http.StatusSeeOther)
				return
			}
			action = "edited"
			entry = undoEntry{id: before.ID, text: before.Text}
			after, err = s.o.Backend.EditText(ctx, before.ID, text)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.mu.Lock()
		s.undo = append(s.undo, entry)
		if len(s.undo) > maxUndo {
			s.undo = slices.Delete(s.undo, 0, len(s.undo)-maxUndo)
		}
		s.mu.Unlock()
		s.o.Logger.Info("review page: decided", "draft", after.ID, "action", action)
		http.Redirect(w, r, s.next(r), http.StatusSeeOther)
	}
}

// next is where a form sends the browser afterwards: a local path from the
// form's "next" field, else the inbox.
func (s *Server) next(r *http.Request) string {
	n := r.PostForm.Get("next")
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/"
	}
	return n
}

// undoLast reverts the last decision made on the page.
func (s *Server) undoLast(w http.ResponseWriter, r *http.Request, _ *session) {
	s.mu.Lock()
	if len(s.undo) == 0 {
		s.mu.Unlock()
		http.Redirect(w, r, "/?msg="+url.QueryEscape("Nothing to undo."), http.StatusSeeOther)
		return
	}
	e := s.undo[len(s.undo)-1]
	s.undo = s.undo[:len(s.undo)-1]
	s.mu.Unlock()
	ctx := context.WithoutCancel(r.Context())
	var d model.Draft
	var err error
	if e.decision {
		d, err = s.o.Backend.Undo(ctx, e.id)
	} else {
		d, err = s.o.Backend.EditText(ctx, e.id, e.text)
	}
	if err != nil {
		s.mu.Lock()
		s.undo = append(s.undo, e)
		s.mu.Unlock()
		s.fail(w, r, fmt.Errorf("undo: %w", err))
		return
	}
	s.o.Logger.Info("review page: undone", "draft", e.id)
	http.Redirect(w, r, "/?msg="+url.QueryEscape("Undone: draft "+d.ID+" is "+string(d.Status)+" again.")+"#d-"+d.ID, http.StatusSeeOther)
}

// ParsePeriod reads a review period: 2026-H2, 2026-Q3 or 2026, in loc. It
// returns its first instant and the first instant after it.
func ParsePeriod(p string, loc *time.Location) (since, until time.Time, err error) {
	bad := fmt.Errorf("period %q: want YEAR-H1, YEAR-H2, YEAR-Q1…Q4 or YEAR (e.g. 2026-H2)", p)
	y, rest, _ := strings.Cut(strings.TrimSpace(p), "-")
	year, yerr := strconv.Atoi(y)
	if yerr != nil || year < 1970 || year > 9999 {
		return since, until, bad
	}
	month, months := 1, 12
	switch strings.ToUpper(rest) {
	case "":
	case "H1", "H2":
		month, months = 1+6*int(rest[1]-'1'), 6
	case "Q1", "Q2", "Q3", "Q4":
		month, months = 1+3*int(rest[1]-'1'), 3
	default:
		return since, until, bad
	}
	since = time.Date(year, time.Month(month), 1, 0, 0, 0, 0, loc)
	return since, since.AddDate(0, months, 0), nil
}

// currentHalf is the review period that contains now.
func currentHalf(now time.Time) string {
	h := 1
	if now.Month() > 6 {
		h = 2
	}
	return fmt.Sprintf("%d-H%d", now.Year(), h)
}

func (s *Server) periodMarkdownText(ctx context.Context, p string) (string, int, error) {
	cfg := s.o.Config()
	since, until, err := ParsePeriod(p, cfg.Location())
	if err != nil {
		return "", 0, err
	}
	ds, err := s.o.Backend.Drafts(ctx, store.DraftFilter{Status: model.StatusAccepted, Since: since, Until: until})
	if err != nil {
		return "", 0, err
	}
	var b bytes.Buffer
	if err := render.Markdown(&b, export.Title(cfg.Me.Name, since, until), ds, weblink.ForConfig(cfg)); err != nil {
		return "", 0, err
	}
	return b.String(), len(ds), nil
}

func (s *Server) periodParam(r *http.Request) string {
	if p := r.URL.Query().Get("p"); p != "" {
		return p
	}
	return currentHalf(s.o.Now().In(s.o.Config().Location()))
}

// period: the accepted statements of a review period, as `impact export`
// writes them.
func (s *Server) period(w http.ResponseWriter, r *http.Request, sess *session) {
	p := s.periodParam(r)
	data := pageData{Title: "Period " + clean(p) + " — impact", Nav: "period", CSRF: sess.csrf, Period: clean(p), CanUndo: s.canUndo()}
	now := s.o.Now().In(s.o.Config().Location())
	for i := range 4 { // this half and the three before it
		t := now.AddDate(0, -6*i, 0)
		data.Periods = append(data.Periods, currentHalf(t))
	}
	md, n, err := s.periodMarkdownText(r.Context(), p)
	if err != nil {
		data.PeriodErr = clean(err.Error())
		s.render(w, r, http.StatusBadRequest, "period", data)
		return
	}
	data.Markdown, data.Accepted = md, n
	s.render(w, r, http.StatusOK, "period", data)
}

func (s *Server) periodMarkdown(w http.ResponseWriter, r *http.Request, _ *session) {
	p := s.periodParam(r)
	md, _, err := s.periodMarkdownText(r.Context(), p)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	name := "impact-" + strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			return r
		}
		return '_'
	}, p) + ".md"
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write([]byte(md))
}

type statusRow struct {
	Source, LastRun, LastSuccess, Wrote, Budget, Error string
	Failures                                           int
}

// statusPage: what `impact status` shows, and the next digest.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request, sess *session) {
	bs, err := s.o.Backend.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg := s.o.Config()
	rep := status.Build(cfg, bs)
	now := s.o.Now()
	data := pageData{Title: "Status — impact", Nav: "status", CSRF: sess.csrf, Status: &rep, CanUndo: s.canUndo()}
	ago := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC") + " (" + now.Sub(*t).Round(time.Second).String() + " ago)"
	}
	for _, src := range rep.Sources {
		row := statusRow{Source: clean(src.Source), LastRun: ago(src.LastRun), LastSuccess: ago(src.LastSuccess), Budget: status.Budget(src.RateLimit, now),
			Error: clean(src.LastError), Failures: src.ConsecutiveFailures, Wrote: "—"}
		if src.LastRun != nil {
			row.Wrote = fmt.Sprintf("%d samples, %d events", src.LastSamples, src.LastEvents)
		}
		data.StatusRows = append(data.StatusRows, row)
	}
	switch {
	case len(cfg.Digest.To) == 0:
		data.NextDigest = "not configured (digest.to is empty)"
	default:
		sched, err := cron.ParseStandard(cfg.Digest.Schedule)
		if err != nil {
			data.NextDigest = "digest.schedule does not parse: " + err.Error()
		} else {
			data.NextDigest = sched.Next(now.In(cfg.Location())).Format("Mon 2006-01-02 15:04 MST")
		}
	}
	if d := rep.Digest; d != nil {
		data.DigestLine = clean(fmt.Sprintf("%s %s at %s", d.Week, d.State, d.UpdatedAt.In(cfg.Location()).Format("2006-01-02 15:04 MST")))
		if d.LastError != "" {
			data.DigestLine += ": " + clean(d.LastError)
		}
	}
	s.render(w, r, http.StatusOK, "status", data)
}
