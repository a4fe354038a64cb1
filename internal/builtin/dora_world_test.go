package builtin

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// TestDORADemoWorld: the DORA series of the demo world against a plain
// computation in the test — deploys per week, and each PR's lead time as
// the first successful deploy at or after its merge minus its opening.
func TestDORADemoWorld(t *testing.T) {
	end := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	w := world.Demo(end)
	var deploys []model.Deploy
	for _, r := range w.CIRuns {
		if r.Deploys && r.Status == "completed" && r.Conclusion == "success" {
			start := r.StartedAt
			if start.IsZero() {
				start = r.CreatedAt
			}
			deploys = append(deploys, model.Deploy{Repo: r.Repo, Workflow: r.Workflow, RunID: r.RunID, SHA: r.SHA, Time: start.Add(r.Duration)})
		}
	}
	if len(deploys) < 10 {
		t.Fatalf("the demo world has %d deploys", len(deploys))
	}
	repo := deploys[0].Repo
	var prs []model.PR
	for _, p := range w.PRs {
		p.CreatedAt = w.Info[p.Key()].CreatedAt
		prs = append(prs, p)
	}
	series := DORASeries(DORAInput{Repos: []string{repo}, Deploys: deploys, PRs: prs, Incidents: w.Incidents, Now: end})
	got := map[string][]model.Sample{}
	for _, s := range series {
		got[s.Metric.ID] = s.Samples
	}

	// Deploys: the total over the covered days is every deploy before the
	// last whole day's end.
	total := 0.0
	for _, s := range got[PrefixDeployFrequency+repo] {
		total += s.Value
	}
	want := 0
	lastDay := end.Truncate(24 * time.Hour)
	for _, d := range deploys {
		if d.Time.Before(lastDay) {
			want++
		}
	}
	if int(total) != want {
		t.Errorf("deploys counted %v, want %d", total, want)
	}

	// Lead times, independently: sort the deploy times, find the first at
	// or after each merge.
	times := make([]time.Time, len(deploys))
	for i, d := range deploys {
		times[i] = d.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var wantLead []float64
	for _, p := range prs {
		if p.Repo != repo || p.CreatedAt.IsZero() {
			continue
		}
		for _, dt := range times {
			if !dt.Before(p.MergedAt) {
				wantLead = append(wantLead, dt.Sub(p.CreatedAt).Minutes())
				break
			}
		}
	}
	var gotLead []float64
	for _, s := range got[PrefixLeadTime+repo] {
		gotLead = append(gotLead, s.Value)
	}
	slices.Sort(wantLead)
	slices.Sort(gotLead)
	if len(wantLead) == 0 || !slices.Equal(gotLead, wantLead) {
		t.Errorf("lead times: got %d samples, want %d (equal: %v)", len(gotLead), len(wantLead), slices.Equal(gotLead, wantLead))
	}
}
