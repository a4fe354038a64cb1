package digest

import (
	"math"
	"testing"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// Hostile text, as a PR title, a metric name or an edited statement could
// carry it.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileHeader = "\"\r\nBcc: x@evil.example"
)

var searchP99 = model.MetricRef{ID: "search-p99", Name: "search API p99 latency", Unit: "ms", Better: "lower"}

// fixture is a week with two new drafts (one with hostile titles), an
// older pending draft, accepted and rejected drafts, a regression and an
// unattributed shift, and activity in every source.
type fixture struct {
	loc  *time.Location
	week Week
	in   Input
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	loc := berlin(t)
	w, err := ParseWeek("2026-W48", loc)
	if err != nil {
		t.Fatal(err)
	}
	mon := w.Start()
	at := func(day int, hour int) time.Time { return mon.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour) }

	hostile := mkDraft("d1a2b3c4", searchP99, at(-6, 15), at(2, 9), 1800, 210, "Move Elasticsearch query construction "+hostileScript+hostileHeader)
	hostile.Text = "Moved Elasticsearch query construction off the request path " + hostileScript + hostileHeader +
		", reducing search API p99 latency from 1.8 s to 210 ms (−88%). (acme/search-api#1234)"
	checkout := mkDraft("e5f6a7b8", model.MetricRef{ID: "checkout-errors", Name: "checkout error rate " + hostileScript, Unit: "percent", Better: "lower"},
		at(1, 17), at(1, 18), 2.4, 0.59, "fix(payments): retry idempotent calls on 503")
	checkout.Category = "reliability"
	older := mkDraft("0ld0ld00", searchP99, at(-30, 12), at(-20, 9), 900, 300, "Add index")
	accepted := mkDraft("acc00001", searchP99, at(-40, 12), at(-35, 9), 900, 300, "Add cache")
	accepted.Status = model.StatusAccepted
	accepted2 := mkDraft("acc00002", searchP99, at(-10, 12), at(-8, 9), 900, 300, "Tune pool")
	accepted2.Status, accepted2.Category = model.StatusAccepted, "database"
	oldAccepted := mkDraft("acc00003", searchP99, time.Date(2026, 6, 20, 12, 0, 0, 0, loc), time.Date(2026, 6, 25, 9, 0, 0, 0, loc), 900, 300, "Old")
	oldAccepted.Status = model.StatusAccepted // H1: not this review period
	rejected := mkDraft("rej00001", searchP99, at(1, 12), at(2, 9), 900, 300, "Nope")
	rejected.Status = model.StatusRejected

	regression := drafter.Shift{
		Metric: model.MetricRef{ID: "checkout-p95", Name: "checkout p95 latency", Unit: "ms", Better: "lower"},
		At:     at(-4, 14), Before: 320, After: 449, Change: 0.403, PValue: 0.0006,
		BeforeWindow: model.Window{Start: at(-11, 11), End: at(-4, 11)},
		AfterWindow:  model.Window{Start: at(-3, 11), End: at(4, 11)}, // measurable from day 2 (Wed)
		Cause:        &model.PRRef{Repo: "acme/checkout", Number: 403, Title: "Add request logging middleware " + hostileScript, URL: "https://github.com/acme/checkout/pull/403", Author: "alice"},
	}
	oldRegression := regression
	oldRegression.Metric.ID = "old-p95"
	oldRegression.AfterWindow = model.Window{Start: at(-20, 0), End: at(-13, 0)} // measured weeks ago
	unattributed := drafter.Shift{
		Metric: model.MetricRef{ID: "platform-db-p99", Name: "platform DB p99 latency", Unit: "ms", Better: "lower"},
		At:     at(-3, 13), Before: 902, After: 297, Change: -0.67, PValue: 0.0006, Improvement: true,
		BeforeWindow: model.Window{Start: at(-10, 10), End: at(-3, 10)},
		AfterWindow:  model.Window{Start: at(-2, 10), End: at(5, 10)},
		Cause:        &model.PRRef{Repo: "acme/platform", Number: 2004, Title: "Add index on orders.customer_id", URL: "javascript:alert(1)", Author: "bob"},
	}

	in := Input{
		Week:         w,
		Now:          w.End().Add(9 * time.Hour),
		Drafts:       []model.Draft{hostile, checkout, older, accepted, accepted2, oldAccepted, rejected},
		Regressions:  []drafter.Shift{regression, oldRegression},
		Unattributed: []drafter.Shift{unattributed},
		Samples: map[string][]model.Sample{
			"search-p99":      series(hostile, 1800, 210),
			"checkout-errors": series(checkout, 2.4, 0.59),
		},
		GitHub: &GitHubActivity{Me: []string{"@Alice"}, PRs: []model.PR{
			{Repo: "acme/search-api", Number: 1, Author: "alice", MergedAt: at(0, 10), Title: hostileScript},
			{Repo: "acme/search-api", Number: 2, Author: "ALICE", MergedAt: at(3, 10)},
			{Repo: "acme/search-api", Number: 3, Author: "bob", MergedAt: at(4, 10)},
			{Repo: "acme/search-api", Number: 4, Author: "alice", MergedAt: at(7, 0)},  // next week
			{Repo: "acme/search-api", Number: 5, Author: "alice", MergedAt: at(0, -1)}, // last week
		}},
		PagerDuty: &PagerDutyActivity{UserID: "PALICE1", Incidents: []model.Incident{
			{ID: "I1", Service: "PSEARCH1", CreatedAt: at(1, 3), ResolvedAt: at(1, 3).Add(20 * time.Minute), Assignees: []string{"PALICE1"}},
			{ID: "I2", Service: "PSEARCH1", CreatedAt: at(2, 3), ResolvedAt: at(2, 3).Add(40 * time.Minute), Assignees: []string{"PALICE1", "PBOB"}},
			{ID: "I3", Service: "PSEARCH1", CreatedAt: at(3, 3), Assignees: []string{"PALICE1"}}, // open
			{ID: "I4", Service: "PSEARCH1", CreatedAt: at(3, 4), ResolvedAt: at(3, 5), Assignees: []string{"PBOB"}},
		}},
		CI: &CIActivity{Workflows: []string{"acme/search-api/ci.yml", "acme/search-api/deploy.yml"}, Runs: []model.CIRun{
			{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 1, Conclusion: "success", CreatedAt: at(0, 9), Duration: 8 * time.Minute},
			{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 2, Conclusion: "success", CreatedAt: at(1, 9), Duration: 10 * time.Minute},
			{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 3, Conclusion: "success", CreatedAt: at(2, 9), Duration: 12 * time.Minute},
			{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 4, Conclusion: "failure", CreatedAt: at(2, 9), Duration: 99 * time.Minute},
		}},
	}
	return fixture{loc: loc, week: w, in: in}
}

func mkDraft(id string, m model.MetricRef, shift, created time.Time, before, after float64, title string) model.Draft {
	live := shift.Add(-3 * time.Hour)
	return model.Draft{
		ID: id, Status: model.StatusPending, Category: "performance",
		Text:   "Shipped " + title + ".",
		Metric: m, Before: before, After: after, Change: (after - before) / before,
		BeforeWindow: model.Window{Start: live.Add(-7 * 24 * time.Hour), End: live},
		AfterWindow:  model.Window{Start: live.Add(24 * time.Hour), End: live.Add(8 * 24 * time.Hour)},
		ShiftAt:      shift, PValue: 0.0006, Confidence: "high",
		PRs: []model.PRRef{{Repo: "acme/search-api", Number: 1234, Title: title,
			URL: "https://github.com/acme/search-api/pull/1234", Author: "alice", MergedAt: live, LiveAt: live}},
		CreatedAt: created,
	}
}

// series is hourly samples over the draft's windows: before, then after,
// with a daily wave.
func series(d model.Draft, before, after float64) []model.Sample {
	var out []model.Sample
	live := d.PRs[0].LiveAt
	for t := d.BeforeWindow.Start; t.Before(d.AfterWindow.End); t = t.Add(time.Hour) {
		v := before
		if !t.Before(live.Add(3 * time.Hour)) {
			v = after
		}
		v *= 1 + 0.15*math.Sin(float64(t.Unix())/86400*2*math.Pi) + 0.05*math.Sin(float64(t.Unix())/3700)
		out = append(out, model.Sample{Time: t, Value: v})
	}
	return out
}

func testConfig(loc *time.Location) *config.Config {
	cfg := config.Default()
	cfg.Me.GitHub = config.StringList{"alice"}
	cfg.Me.Timezone = loc.String()
	cfg.Me.Email = "alice@example.com"
	cfg.Digest.To = []string{"alice@example.com", "Alice Two <alice2@example.com>"}
	cfg.Digest.From = "impact@example.com"
	return cfg
}
