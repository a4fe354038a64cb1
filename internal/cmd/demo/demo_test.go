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
	// One example of each verdict a reader might take for a missed win,
	// each on its series' line.
	text := out.String()
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
		"dora.time_to_restore/acme/search-api too little data: ",
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
			if !strings.HasPrefix(d.Text, "Cached Go modules and build outputs in CI, reducing CI build time for acme/search-api ci.yml from 14 min to 6 min") {
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
