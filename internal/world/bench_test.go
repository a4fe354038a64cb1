package world

import (
	"testing"
	"time"
)

func TestBenchSizes(t *testing.T) {
	end := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	w := Bench(end)
	if !w.End.Equal(end.Truncate(time.Hour)) || w.End.Sub(w.Start) != 365*24*time.Hour {
		t.Fatalf("span %v – %v", w.Start, w.End)
	}
	merged, older := map[string]int{}, map[string]int{}
	for _, p := range w.PRs {
		in := w.Info[p.Key()]
		if !in.ClosedAt.Equal(p.MergedAt) || in.CreatedAt.After(p.MergedAt) || !in.UpdatedAt.After(p.MergedAt) {
			t.Errorf("%s: created %v merged %v closed %v updated %v", p.Key(), in.CreatedAt, p.MergedAt, in.ClosedAt, in.UpdatedAt)
		}
		switch {
		case !p.MergedAt.Before(w.Start) && p.MergedAt.Before(w.End):
			merged[p.Repo]++
		case p.MergedAt.Before(w.Start):
			older[p.Repo]++
		default:
			t.Errorf("%s merged after the end", p.Key())
		}
	}
	unmerged := map[string]int{}
	for _, p := range w.ClosedUnmerged {
		if in := w.Info[p.Key()]; in.ClosedAt.Before(w.Start) || !in.ClosedAt.Before(w.End) {
			t.Errorf("%s closed at %v", p.Key(), in.ClosedAt)
		}
		unmerged[p.Repo]++
	}
	if len(w.Repos) != BenchRepos {
		t.Errorf("%d repos", len(w.Repos))
	}
	for _, r := range w.Repos {
		if merged[r] != BenchMergedPerRepo || older[r] != BenchOlderPerRepo || unmerged[r] != BenchUnmergedPerRepo {
			t.Errorf("%s: %d merged, %d older, %d unmerged", r, merged[r], older[r], unmerged[r])
		}
	}
	sources := map[string]int{}
	for _, m := range w.Metrics {
		sources[m.Source]++
		if len(m.Paths) != 0 {
			t.Errorf("%s has paths", m.ID)
		}
		if n := len(w.Series[m.ID]); n != 365*24 {
			t.Errorf("%s: %d samples", m.ID, n)
		}
	}
	if sources["datadog"] != BenchDatadogSeries || sources["prometheus"] != BenchPrometheusSeries {
		t.Errorf("series by source %v", sources)
	}
	if len(w.Services) != BenchServices || len(w.Incidents) != BenchServices*BenchIncidents {
		t.Errorf("%d services, %d incidents", len(w.Services), len(w.Incidents))
	}
	ids := map[string]bool{}
	for _, in := range w.Incidents {
		if ids[in.ID] || in.CreatedAt.Before(w.Start) || !in.ResolvedAt.Before(w.End) || in.AcknowledgedAt.After(in.ResolvedAt) {
			t.Errorf("incident %+v", in)
		}
		ids[in.ID] = true
	}
	if len(w.Workflows) != BenchWorkflows || len(w.CIRuns) != BenchWorkflows*BenchRunsPerWorkflow {
		t.Errorf("%d workflows, %d runs", len(w.Workflows), len(w.CIRuns))
	}
	runs := map[int64]bool{}
	for _, r := range w.CIRuns {
		if runs[r.RunID] || r.CreatedAt.Before(w.Start) || !r.StartedAt.Add(r.Duration).Before(w.End) {
			t.Errorf("run %+v", r)
		}
		runs[r.RunID] = true
	}

	// Deterministic.
	w2 := Bench(end)
	if len(w2.PRs) != len(w.PRs) || w2.PRs[100].Key() != w.PRs[100].Key() || !w2.PRs[100].MergedAt.Equal(w.PRs[100].MergedAt) ||
		w2.Series["dd-search-api-p99"][4000] != w.Series["dd-search-api-p99"][4000] || w2.Incidents[77].ID != w.Incidents[77].ID {
		t.Error("Bench is not deterministic")
	}
}
