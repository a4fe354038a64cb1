package builtin

import (
	"slices"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

var t0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func cfg() *config.Config {
	c := &config.Config{}
	c.Sources.Set(github.Name, &github.Config{Repos: []string{"acme/search-api", "acme/checkout"}})
	c.Sources.Set(pagerduty.Name, &pagerduty.Config{Services: []string{"PSEARCH1", "PCHK1"}, UserID: "PALICE1"})
	c.Sources.Set(githubactions.Name, &githubactions.Config{Workflows: []githubactions.Workflow{
		{Repo: "acme/search-api", Workflow: "ci.yml", Branch: "main"},
		{Repo: "acme/search-api", Workflow: "deploy.yml", Branch: "main", Deploys: true},
		{Repo: "acme/search-api", Workflow: "ci.yml", Branch: "release"},
	}})
	return c
}

func at(d int, h int) time.Time {
	return t0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

func byID(ss []drafter.Series) map[string]drafter.Series {
	m := map[string]drafter.Series{}
	for _, s := range ss {
		if _, dup := m[s.Metric.ID]; dup {
			panic("duplicate series " + s.Metric.ID)
		}
		m[s.Metric.ID] = s
	}
	return m
}

func values(s []model.Sample) []float64 {
	var out []float64
	for _, x := range s {
		out = append(out, x.Value)
	}
	return out
}

func TestPagerDuty(t *testing.T) {
	incs := []model.Incident{
		{ID: "Q1", Service: "PSEARCH1", CreatedAt: at(0, 10), AcknowledgedAt: at(0, 10).Add(4 * time.Minute), ResolvedAt: at(0, 11), Assignees: []string{"PALICE1"}},
		{ID: "Q2", Service: "PSEARCH1", CreatedAt: at(0, 15), ResolvedAt: at(0, 15).Add(30 * time.Minute), Assignees: []string{"PBOB1"}},
		{ID: "Q3", Service: "PCHK1", CreatedAt: at(2, 9), AcknowledgedAt: at(2, 9).Add(time.Minute), Assignees: []string{"PBOB1", "PALICE1"}},
		// Open, not acknowledged.
		{ID: "Q4", Service: "PSEARCH1", CreatedAt: at(3, 23), Assignees: []string{"PALICE1"}},
		// Outside coverage (the last day is not whole yet).
		{ID: "Q5", Service: "PSEARCH1", CreatedAt: at(4, 8), Assignees: []string{"PALICE1"}},
		// A service no longer configured.
		{ID: "Q6", Service: "POLD", CreatedAt: at(1, 8), ResolvedAt: at(1, 9), Assignees: []string{"PALICE1"}},
	}
	got := byID(Series(cfg(), Data{Incidents: incs, Now: at(4, 12),
		Coverage: map[string]model.Window{SourcePagerDuty: {Start: t0, End: at(4, 12)}}}))

	inc := got["pagerduty.incidents/PSEARCH1"]
	if !slices.Equal(values(inc.Samples), []float64{2, 0, 0, 1}) || !inc.End.Equal(at(4, 0)) || !inc.Samples[1].Time.Equal(at(1, 0)) {
		t.Errorf("incidents/PSEARCH1: %v end %v", inc.Samples, inc.End)
	}
	m := inc.Metric
	if m.Unit != "count" || m.Better != "lower" || m.Category != "reliability" || !m.Weekly || m.Name != "incidents on PSEARCH1" ||
		!slices.Equal(m.Repos, []string{"acme/search-api", "acme/checkout"}) {
		t.Errorf("metric %+v", m)
	}
	if v := values(got["pagerduty.incidents/PCHK1"].Samples); !slices.Equal(v, []float64{0, 0, 1, 0}) {
		t.Errorf("incidents/PCHK1: %v", v)
	}
	me := got["pagerduty.pages_to_me"]
	if v := values(me.Samples); !slices.Equal(v, []float64{1, 0, 1, 1}) || me.Metric.Name != "pages to me" || !me.Metric.Weekly {
		t.Errorf("pages to me: %v %+v", v, me.Metric)
	}
	if v := values(got["pagerduty.mttr/PSEARCH1"].Samples); !slices.Equal(v, []float64{60, 30}) {
		t.Errorf("mttr: %v", v)
	}
	if mt := got["pagerduty.mttr/PSEARCH1"].Metric; mt.Unit != "min" || mt.Weekly || mt.Name != "time to resolve PSEARCH1 incidents" {
		t.Errorf("mttr metric %+v", mt)
	}
	if v := values(got["pagerduty.mtta/PSEARCH1"].Samples); !slices.Equal(v, []float64{4}) {
		t.Errorf("mtta: %v", v)
	}
	if _, ok := got["pagerduty.mttr/PCHK1"]; ok {
		t.Error("mttr/PCHK1 without resolved incidents")
	}
	for id := range got {
		if id == "pagerduty.mttr/POLD" || id == "pagerduty.incidents/POLD" {
			t.Errorf("series of an unconfigured service: %s", id)
		}
	}

	// Without coverage, no count series (a zero would be a guess).
	got = byID(Series(cfg(), Data{Incidents: incs, Now: at(4, 12)}))
	if _, ok := got["pagerduty.incidents/PSEARCH1"]; ok {
		t.Error("count series without coverage")
	}
	if _, ok := got["pagerduty.mttr/PSEARCH1"]; !ok {
		t.Error("no mttr without coverage")
	}
}

func TestGitHubActions(t *testing.T) {
	run := func(id int64, wf, branch, concl string, created time.Time, queue, dur time.Duration, attempt int) model.CIRun {
		return model.CIRun{Repo: "acme/search-api", Workflow: wf, RunID: id, Attempt: attempt, Branch: branch,
			Status: "completed", Conclusion: concl, CreatedAt: created, StartedAt: created.Add(queue), Duration: dur}
	}
	runs := []model.CIRun{
		run(1, "ci.yml", "main", "success", at(0, 9), time.Minute, 14*time.Minute, 1),
		run(2, "ci.yml", "main", "failure", at(0, 10), 2*time.Minute, 3*time.Minute, 1),
		run(3, "ci.yml", "main", "cancelled", at(0, 11), time.Minute, time.Minute, 1),
		run(4, "ci.yml", "main", "success", at(1, 9), 30*time.Second, 6*time.Minute, 2), // a re-run: no queue time
		run(5, "ci.yml", "feature", "success", at(1, 10), time.Minute, 99*time.Minute, 1),
		run(6, "ci.yml", "release", "success", at(1, 11), time.Minute, 20*time.Minute, 1),
		run(7, "deploy.yml", "main", "success", at(1, 12), time.Minute, 4*time.Minute, 1),
		{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 8, Branch: "main", Status: "in_progress", CreatedAt: at(1, 13), StartedAt: at(1, 13)},
	}
	got := byID(Series(cfg(), Data{Runs: runs, Now: at(2, 0)}))
	d := got["ci.duration/acme/search-api/ci.yml"]
	if v := values(d.Samples); !slices.Equal(v, []float64{14, 6}) || !d.Samples[0].Time.Equal(at(0, 9).Add(time.Minute)) {
		t.Errorf("duration %v", d.Samples)
	}
	if m := d.Metric; m.Unit != "min" || m.Better != "lower" || m.Category != "infrastructure" || !slices.Equal(m.Repos, []string{"acme/search-api"}) ||
		m.Name != "CI build time for acme/search-api ci.yml" {
		t.Errorf("metric %+v", m)
	}
	if v := values(got["ci.queue/acme/search-api/ci.yml"].Samples); !slices.Equal(v, []float64{1, 2, 1, 0}) {
		t.Errorf("queue %v", v)
	}
	sr := got["ci.success_rate/acme/search-api/ci.yml"]
	if v := values(sr.Samples); !slices.Equal(v, []float64{50, 100}) || sr.Metric.Unit != "percent" || sr.Metric.Better != "higher" {
		t.Errorf("success rate %v %+v", v, sr.Metric)
	}
	if v := values(got["ci.duration/acme/search-api/ci.yml@release"].Samples); !slices.Equal(v, []float64{20}) {
		t.Errorf("release branch %v", v)
	}
	dep := got["ci.duration/acme/search-api/deploy.yml"]
	if v := values(dep.Samples); !slices.Equal(v, []float64{4}) || dep.Metric.Name != "deploy time for acme/search-api deploy.yml" {
		t.Errorf("deploy %v %+v", v, dep.Metric)
	}
}

func TestNothingConfigured(t *testing.T) {
	if got := Series(&config.Config{}, Data{Incidents: []model.Incident{{ID: "Q1", Service: "P", CreatedAt: t0}}}); len(got) != 0 {
		t.Errorf("got %d series", len(got))
	}
}

func TestOnCall(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{IDPagesToMe, true},
		{PrefixIncidents + "PSEARCH1", true},
		{PrefixMTTR + "PSEARCH1", true},
		{PrefixMTTA + "PSEARCH1", true},
		{PrefixCIDuration + "acme/api/ci.yml", false},
		{PrefixTimeToRestore + "acme/api", false},
		{IDReviewsGiven, false},
		{"pagerduty-latency", false},
	}
	for _, tt := range tests {
		if got := OnCall(tt.id); got != tt.want {
			t.Errorf("OnCall(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
