package builtin

import (
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

func TestDORA(t *testing.T) {
	mon := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC) // a Monday
	at := func(h float64) time.Time { return mon.Add(time.Duration(h * float64(time.Hour))) }
	pr := func(n int, title string, opened, merged float64) model.PR {
		return model.PR{Repo: "acme/api", Number: n, Title: title, Author: "alice", CreatedAt: at(opened), MergedAt: at(merged)}
	}
	dep := func(id int64, h float64) model.Deploy {
		return model.Deploy{Repo: "acme/api", Workflow: "deploy.yml", RunID: id, Time: at(h)}
	}
	tests := []struct {
		name      string
		prs       []model.PR
		deploys   []model.Deploy
		incidents []model.Incident
		mapping   map[string][]string
		lead      []float64 // minutes, in deploy-time order
		failures  []string  // causes
		restore   []float64 // minutes
		cfr       []float64 // per whole week
		perWeek   float64   // deploys in the first week
	}{
		{
			name: "a deploy ships three PRs",
			prs:  []model.PR{pr(1, "Add A", 0, 10), pr(2, "Add B", 5, 11), pr(3, "Add C", 9, 12)},
			// 12:00 → deploy at 14:00 ships all three; a later deploy ships none.
			deploys:  []model.Deploy{dep(1, 14), dep(2, 50)},
			lead:     []float64{14 * 60, 9 * 60, 5 * 60},
			cfr:      []float64{0},
			perWeek:  2,
			failures: nil,
		},
		{
			name:    "a failed deploy followed by an incident on a mapped service",
			prs:     []model.PR{pr(1, "Add A", 0, 10)},
			deploys: []model.Deploy{dep(1, 12), dep(2, 30)},
			incidents: []model.Incident{
				{ID: "P1", Service: "PAPI", CreatedAt: at(13), ResolvedAt: at(13.75)},   // after deploy 1: failed, restored in 45 min
				{ID: "P2", Service: "POTHER", CreatedAt: at(31), ResolvedAt: at(32)},    // a service of another repo
				{ID: "P3", Service: "PAPI", CreatedAt: at(30 + 25), ResolvedAt: at(56)}, // 25 h after deploy 2: outside the window
			},
			mapping:  map[string][]string{"PAPI": {"acme/api"}, "POTHER": {"acme/web"}},
			lead:     []float64{12 * 60},
			failures: []string{"incident P1"},
			restore:  []float64{45},
			cfr:      []float64{50},
			perWeek:  2,
		},
		{
			name: "a revert",
			prs: []model.PR{pr(1, "Add cache", 0, 10), pr(2, `Revert "Add cache"`, 12, 13),
				pr(3, `Revert "Something never shipped"`, 12, 13)},
			deploys:  []model.Deploy{dep(1, 11), dep(2, 14)},
			lead:     []float64{11 * 60, 2 * 60, 2 * 60},
			failures: []string{"revert acme/api#2"},
			restore:  []float64{3 * 60}, // deploy 1 at 11:00 → the revert's deploy at 14:00
			cfr:      []float64{50},
			perWeek:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := DORAInput{Repos: []string{"acme/api"}, Deploys: tt.deploys, PRs: tt.prs, Incidents: tt.incidents,
				ServiceRepos: tt.mapping, Now: mon.Add(15 * 24 * time.Hour)}
			ds := ComputeDORA(in)
			var causes []string
			for _, f := range ds[0].Failures {
				causes = append(causes, f.Cause)
			}
			if !equalStrings(causes, tt.failures) {
				t.Errorf("failures %v, want %v", causes, tt.failures)
			}
			ss := map[string]drafter.Series{}
			for _, s := range DORASeries(in) {
				ss[s.Metric.ID] = s
			}
			check := func(id string, want []float64) {
				t.Helper()
				got := ss[id].Samples
				if len(got) != len(want) {
					t.Errorf("%s: %v, want %v", id, got, want)
					return
				}
				for i := range want {
					if got[i].Value != want[i] {
						t.Errorf("%s[%d] = %v, want %v", id, i, got[i].Value, want[i])
					}
				}
			}
			check(PrefixLeadTime+"acme/api", tt.lead)
			check(PrefixChangeFailure+"acme/api", tt.cfr)
			if tt.restore != nil || len(ss[PrefixTimeToRestore+"acme/api"].Samples) > 0 {
				check(PrefixTimeToRestore+"acme/api", tt.restore)
			}
			week := 0.0
			for _, s := range ss[PrefixDeployFrequency+"acme/api"].Samples {
				if s.Time.Before(mon.Add(7 * 24 * time.Hour)) {
					week += s.Value
				}
			}
			if week != tt.perWeek || !ss[PrefixDeployFrequency+"acme/api"].Metric.Weekly {
				t.Errorf("deploys in the first week: %v, want %v", week, tt.perWeek)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
