package demo

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
)

func testFactory(out, errOut *bytes.Buffer, now time.Time) *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:     &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler),
		Getenv: func(string) string { return "" },
	}
}

// TestDemoEndToEnd runs the demo through the real collectors, clients and
// drafter and checks every expected draft appears with the right numbers and
// that no false one does.
func TestDemoEndToEnd(t *testing.T) {
	end := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var out, errOut bytes.Buffer
	f := testFactory(&out, &errOut, end)
	started := time.Now()
	res, err := Run(context.Background(), f, &Options{End: end})
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, errOut.String())
	}
	t.Logf("demo took %s\n%s", time.Since(started), out.String())

	w := res.World
	if len(w.Expect) == 0 {
		t.Fatal("demo world expects no drafts")
	}
	matched := make([]bool, len(res.Drafts))
	for _, e := range w.Expect {
		found := false
		for i, d := range res.Drafts {
			if d.Metric.ID != e.Metric || !slices.Equal(prKeys(d), e.PRs) {
				continue
			}
			found, matched[i] = true, true
			if !within(d.Before, e.Before, 0.05) || !within(d.After, e.After, 0.05) {
				t.Errorf("%s: before %.4g after %.4g, want %.4g → %.4g within 5%%", e.Metric, d.Before, d.After, e.Before, e.After)
			}
			if d.Status != model.StatusPending || d.Text == "" || d.ID == "" {
				t.Errorf("%s: bad draft %+v", e.Metric, d)
			}
			for _, p := range d.PRs {
				if p.Author != w.Me {
					t.Errorf("%s: credits %s#%d by %s, not me", e.Metric, p.Repo, p.Number, p.Author)
				}
			}
		}
		if !found {
			t.Errorf("missing draft for %s crediting %v", e.Metric, e.PRs)
		}
	}
	for i, d := range res.Drafts {
		if !matched[i] {
			t.Errorf("unexpected draft %s on %s crediting %v: %s", d.ID, d.Metric.ID, prKeys(d), d.Text)
		}
	}
	for _, m := range w.MustNotMetrics {
		for _, d := range res.Drafts {
			if d.Metric.ID == m {
				t.Errorf("false draft on %s: %s", m, d.Text)
			}
		}
	}
	text := out.String()
	checkLeadTimeDraft(t, res, text)

	// One example of each verdict a reader might take for a missed win,
	// each on its series' line.
	i := strings.Index(text, "Not drafted, and why")
	if i < 0 {
		t.Fatalf("output does not explain what was not drafted:\n%s", text)
	}
	section := text[i:]
	section = section[:strings.Index(section, "\n\n")]
	for _, want := range []string{
		"checkout-p95       regression 319 ms → 450 ms (+41%) on Oct 9 after acme/checkout#",
		"platform-db-p99    moved 897 ms → 301 ms (−66%) on Nov 3, credited to @bob: acme/platform#",
		"fraud-check-p99    not sustained (after acme/checkout#",
		// Growth of 1.5% a day with wander: the detector's trend and
		// wander models take it, so no step is proposed at all.
		"search-throughput  no step found",
		"search-errors      no step found",
	} {
		if !strings.Contains(section, "\n  "+want) {
			t.Errorf("not drafted: no line %q in\n%s", want, section)
		}
	}

	// The operations sources: drafts in reliability and infrastructure,
	// per-week rates for counts, deploy times as go-live times.
	cats := map[string]bool{}
	for _, d := range res.Drafts {
		cats[d.Category] = true
		switch {
		case strings.HasPrefix(d.Metric.ID, "pagerduty.pages_to_me"):
			if !strings.Contains(d.Text, "reducing pages to me from 14 to 3 per week (−79%).") {
				t.Errorf("pages to me: %q", d.Text)
			}
		case strings.HasPrefix(d.Metric.ID, "ci.duration/"):
			if !strings.HasPrefix(d.Text, "Cached Go modules and build outputs in CI, reducing CI build time for acme/search-api ci.yml from 13.7 min to 5.94 min") {
				t.Errorf("CI: %q", d.Text)
			}
		}
		for _, p := range d.PRs {
			if p.Repo == "acme/search-api" && !p.LiveAt.After(p.MergedAt) {
				t.Errorf("%s: %s#%d live at its merge, not at its deploy", d.Metric.ID, p.Repo, p.Number)
			}
		}
	}
	for _, c := range []string{"performance", "reliability", "infrastructure"} {
		if !cats[c] {
			t.Errorf("no draft in %s", c)
		}
	}
}

// TestDemoAcrossEnds: the demo's "now" is the current hour, so the world
// shifts with it; other weekdays and hours must give the expected drafts
// and nothing else too.
func TestDemoAcrossEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo four times")
	}
	base := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC) // a Monday
	for _, d := range []int{0, 2, 4, 6} {
		end := base.Add(time.Duration(d)*24*time.Hour + time.Duration(d*7%24)*time.Hour)
		t.Run(end.Format("Mon-15h"), func(t *testing.T) {
			var out, errOut bytes.Buffer
			res, err := Run(context.Background(), testFactory(&out, &errOut, end), &Options{End: end, Output: "json"})
			if err != nil {
				t.Fatal(err)
			}
			matched := 0
			for _, e := range res.World.Expect {
				found := false
				for _, dr := range res.Drafts {
					if dr.Metric.ID == e.Metric && slices.Equal(prKeys(dr), e.PRs) {
						found = true
						if !within(dr.Before, e.Before, 0.05) || !within(dr.After, e.After, 0.05) {
							t.Errorf("%s: %.4g → %.4g, want %.4g → %.4g", e.Metric, dr.Before, dr.After, e.Before, e.After)
						}
					}
				}
				if found {
					matched++
				} else {
					t.Errorf("missing draft for %s crediting %v", e.Metric, e.PRs)
				}
			}
			if len(res.Drafts) != matched {
				for _, dr := range res.Drafts {
					t.Logf("%s: %s", dr.Metric.ID, dr.Text)
				}
				t.Errorf("%d drafts, %d expected", len(res.Drafts), matched)
			}
		})
	}
}

// TestDemoDeterministic: the same world drafted twice gives the same ids.
func TestDemoDeterministic(t *testing.T) {
	end := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var ids [2][]string
	for i := range ids {
		var out, errOut bytes.Buffer
		res, err := Run(context.Background(), testFactory(&out, &errOut, end), &Options{End: end, Output: "json"})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range res.Drafts {
			ids[i] = append(ids[i], d.ID+" "+d.Text)
		}
		slices.Sort(ids[i])
	}
	if !slices.Equal(ids[0], ids[1]) {
		t.Errorf("drafts differ between runs:\n%v\n%v", ids[0], ids[1])
	}
}

func prKeys(d model.Draft) []string {
	var ks []string
	for _, p := range d.PRs {
		ks = append(ks, model.PR{Repo: p.Repo, Number: p.Number}.Key())
	}
	slices.Sort(ks)
	return ks
}

func within(got, want, tol float64) bool {
	if want == 0 {
		return math.Abs(got) < 1e-9
	}
	return math.Abs(got-want)/math.Abs(want) <= tol
}

// checkLeadTimeDraft: the demo's DORA win — alice's PR that made
// acme/search-api deploy on every merge instead of a daily release train —
// against an independent computation from the world's runs and PRs. A
// PR's lead time for changes is the minutes from its opening to the first
// successful deploy at or after its merge (DORA's definition, as
// internal/builtin/dora.go reads it); the windows are the drafter's as
// documented: before [live − 7d, live), after [live + 1d settle, + 7d),
// each stretched a whole day at a time, by up to another 7 days, until it
// holds 7 days with data (24-hour blocks from its fixed end); the levels
// are the medians of the lead times in them. The draft must carry exactly
// these numbers, credit alice's PR alone, with high confidence.
func checkLeadTimeDraft(t *testing.T, res *Outcome, text string) {
	t.Helper()
	const repo = "acme/search-api"
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	w := res.World
	var d *model.Draft
	for i := range res.Drafts {
		if res.Drafts[i].Metric.ID == "dora.lead_time/"+repo {
			d = &res.Drafts[i]
		}
	}
	if d == nil {
		t.Fatal("no lead time draft")
	}
	var deploys []time.Time
	for _, r := range w.CIRuns {
		if r.Repo == repo && r.Deploys && r.Status == "completed" && r.Conclusion == "success" {
			deploys = append(deploys, r.StartedAt.Add(r.Duration))
		}
	}
	slices.SortFunc(deploys, func(a, b time.Time) int { return a.Compare(b) })
	shipped := func(merged time.Time) time.Time {
		for _, at := range deploys {
			if !at.Before(merged) {
				return at
			}
		}
		return time.Time{}
	}
	type sample struct {
		at  time.Time
		min float64
	}
	var lead []sample
	var cause model.PR
	for _, p := range w.PRs {
		if p.Repo != repo {
			continue
		}
		if p.Title == "Deploy every merge to main instead of a daily release train" {
			cause = p
		}
		if at := shipped(p.MergedAt); !at.IsZero() {
			lead = append(lead, sample{at, at.Sub(w.Info[p.Key()].CreatedAt).Minutes()})
		}
	}
	in := func(from, to time.Time) []float64 {
		var out []float64
		for _, s := range lead {
			if !s.at.Before(from) && s.at.Before(to) {
				out = append(out, s.min)
			}
		}
		return out
	}
	withData := func(from, to time.Time, fromEnd bool) int {
		n := 0
		for k := time.Duration(1); k <= to.Sub(from)/day; k++ {
			b := from.Add((k - 1) * day)
			if fromEnd {
				b = to.Add(-k * day)
			}
			if len(in(b, b.Add(day))) > 0 {
				n++
			}
		}
		return n
	}
	median := func(xs []float64) float64 {
		slices.Sort(xs)
		if n := len(xs); n%2 == 1 {
			return xs[n/2]
		} else if n > 0 {
			return (xs[n/2-1] + xs[n/2]) / 2
		}
		return math.NaN()
	}
	live := shipped(cause.MergedAt)
	bs := live.Add(-week)
	for bs.After(live.Add(-2*week)) && withData(bs, live, true) < 7 {
		bs = bs.Add(-day)
	}
	as := live.Add(day)
	ae := as.Add(week)
	for ae.Before(as.Add(2*week)) && ae.Add(day).Before(w.End.Add(day)) && withData(as, ae, false) < 7 {
		ae = ae.Add(day)
	}
	if ae.After(w.End) {
		ae = as.Add(w.End.Sub(as).Truncate(day))
	}
	before, after := median(in(bs, live)), median(in(as, ae))

	if len(d.PRs) != 1 || d.PRs[0].Number != cause.Number || d.PRs[0].Author != "alice" || !d.PRs[0].LiveAt.Equal(live) {
		t.Errorf("lead time draft credits %+v, want %s live at %v", d.PRs, cause.Key(), live)
	}
	if !d.BeforeWindow.Start.Equal(bs) || !d.BeforeWindow.End.Equal(live) || !d.AfterWindow.Start.Equal(as) || !d.AfterWindow.End.Equal(ae) {
		t.Errorf("lead time windows %v and %v, computed [%v, %v) and [%v, %v)", d.BeforeWindow, d.AfterWindow, bs, live, as, ae)
	}
	if math.Abs(d.Before-before) > 1e-9*before || math.Abs(d.After-after) > 1e-9*after {
		t.Errorf("lead time %.6g → %.6g min, computed %.6g → %.6g", d.Before, d.After, before, after)
	}
	if d.Confidence != model.ConfidenceHigh || len(d.Others) != 0 {
		t.Errorf("lead time draft: confidence %s, others %v", d.Confidence, d.Others)
	}
	if !strings.Contains(text, "Deployed every merge to main instead of a daily release train, reducing lead time for changes for acme/search-api from ") {
		t.Errorf("no lead time statement in the output")
	}
	t.Logf("lead time %.1f → %.1f min over %d and %d PRs", before, after, len(in(bs, live)), len(in(as, ae)))
}
