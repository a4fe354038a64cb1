package explain

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// TestWrite: each verdict reads as the header of its shift, with the
// numbers, the candidates and their roles.
func TestWrite(t *testing.T) {
	at := time.Date(2026, 10, 19, 17, 0, 0, 0, time.UTC)
	m := model.MetricRef{ID: "search-p99", Name: "search API p99 latency", Unit: "ms", Better: "lower"}
	base := drafter.Finding{Metric: m, At: at, ToleranceSeconds: 4 * 3600, Before: 1800, After: 210, Change: -0.883, PValue: 0.00058,
		BeforeWindow: model.Window{Start: at.Add(-7 * 24 * time.Hour), End: at}, AfterWindow: model.Window{Start: at.Add(24 * time.Hour), End: at.Add(8 * 24 * time.Hour)},
		Step: -0.88, StepZ: -132.8, Placebos: 47, Reason: "why not"}
	mine := drafter.Candidate{PR: model.PRRef{Repo: "acme/search-api", Number: 1234, Author: "alice"}, Mine: true, OffsetSeconds: -3 * 3600, Role: drafter.RoleCredited}
	bobs := drafter.Candidate{PR: model.PRRef{Repo: "acme/search-api", Number: 1240, Author: "bob"}, OffsetSeconds: -3600, Role: drafter.RoleLikeliest}
	with := func(f func(*drafter.Finding)) drafter.Finding { x := base; f(&x); return x }
	for _, c := range []struct {
		name string
		f    drafter.Finding
		want []string
	}{
		{"drafted", with(func(f *drafter.Finding) {
			f.Verdict, f.DraftID, f.Candidates = drafter.VerdictDrafted, "c1b9d315", []drafter.Candidate{mine}
		}), []string{"2026-10-19 17:00 UTC ± 4 h — drafted c1b9d315\n", "1.8 s → 210 ms (−88%), p = 0.00058; step −88% net of the same windows elsewhere (47 placebos), sharpness −132.8\n",
			"windows 10-12 17:00 – 10-19 17:00 and 10-20 17:00 – 10-27 17:00\n", "candidates: acme/search-api#1234 by @alice (mine), 3 h before — credited\n", "why: why not\n"}},
		{"credited to someone else", with(func(f *drafter.Finding) {
			mine := mine
			mine.Role = drafter.RoleLess
			f.Verdict, f.CreditedTo, f.Candidates = drafter.VerdictCredited, "bob", []drafter.Candidate{bobs, mine}
		}), []string{"— credited to @bob\n", "candidates: acme/search-api#1240 by @bob, 1 h before — the likeliest cause\n",
			"              acme/search-api#1234 by @alice (mine), 3 h before — farther from the shift: not credited\n"}},
		{"drift, trend removed", with(func(f *drafter.Finding) {
			f.Verdict, f.Detrended, f.TrendPerDay = drafter.VerdictDrift, true, -0.021
		}), []string{"— drift, not a step\n", "; trend −2.1% a day removed\n", "candidates: none"}},
		{"too little data", with(func(f *drafter.Finding) {
			f.Verdict, f.Before, f.After, f.Change, f.Placebos = drafter.VerdictTooLittleData, 0, 0, 0, 0
		}), []string{"— too little data\n  candidates: none"}},
		{"overlap", with(func(f *drafter.Finding) { f.Verdict, f.DraftID = drafter.VerdictOverlap, "c1b9d315" }),
			[]string{"— credited by another draft (c1b9d315)\n"}},
		{"not sustained", with(func(f *drafter.Finding) { f.Verdict = drafter.VerdictNotSustained }), []string{"— not sustained\n"}},
		{"regression", with(func(f *drafter.Finding) { f.Verdict = drafter.VerdictRegression }), []string{"— regression\n"}},
		{"too small", with(func(f *drafter.Finding) { f.Verdict = drafter.VerdictTooSmall }), []string{"— too small\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			Write(&b, drafter.Explanation{Metric: m, From: at.AddDate(0, 0, -60), To: at.AddDate(0, 0, 30), Samples: 2160, Findings: []drafter.Finding{c.f}}, time.Time{})
			out := b.String()
			if !strings.HasPrefix(out, "search API p99 latency (search-p99): 1 shift found in 2160 samples from 2026-08-20 to 2026-11-18.\n") {
				t.Errorf("header: %q", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("want %q in:\n%s", w, out)
				}
			}
		})
	}

	var b bytes.Buffer
	Write(&b, drafter.Explanation{Metric: m, From: at, To: at, Samples: 100, Findings: []drafter.Finding{}}, at)
	if !strings.Contains(b.String(), "0 shifts found near 2026-10-19 17:00 UTC in 100 samples") || !strings.Contains(b.String(), "found no level shift") {
		t.Errorf("no findings: %q", b.String())
	}
	b.Reset()
	Write(&b, drafter.Explanation{Metric: model.MetricRef{ID: "x", Name: "x"}}, time.Time{})
	if b.String() != "x: no data stored yet.\n" {
		t.Errorf("no data: %q", b.String())
	}
}
