// Package builtin derives the built-in series (SPEC.md, "Built-in series")
// from stored events: PagerDuty incidents and GitHub Actions workflow runs.
// It is pure — no I/O, no clock — so the pipeline, tests and benchmarks
// can call it on plain slices.
//
// # Series
//
//	pagerduty.incidents/<service>   one sample per UTC day (at 00:00) inside the
//	                                source's coverage: incidents created that day,
//	                                zeros included. Weekly (per-week rate).
//	pagerduty.pages_to_me           the same for incidents whose assignees include
//	                                sources.pagerduty.user_id (all services).
//	pagerduty.mttr/<service>        one sample per resolved incident, at its
//	                                creation: minutes from trigger to resolve.
//	pagerduty.mtta/<service>        one sample per acknowledged incident: minutes
//	                                from trigger to first acknowledgement.
//	ci.duration/<repo>/<workflow>   one sample per successful completed run, at its
//	                                start (creation when unknown): wall time in
//	                                minutes. Runs of unknown duration are left out.
//	ci.queue/<repo>/<workflow>      one sample per started first attempt, at its
//	                                creation: minutes from created to started. A
//	                                re-run's start is its latest attempt's, not a
//	                                queue time, so re-runs are left out.
//	ci.success_rate/<repo>/<workflow>  one sample per UTC day (at 00:00) with
//	                                finished runs: successful / finished × 100.
//	                                Finished means success, failure, timed_out
//	                                or startup_failure; cancelled, skipped,
//	                                neutral, stale and action_required runs say
//	                                nothing about the build and are left out.
//
// A workflow watched on a branch other than main (or on every branch,
// branch "") gets "@<branch>" ("@*") appended to its ids, as the
// githubactions collector does with its cursor keys, so two entries for
// the same file never share a series.
//
// # Repos
//
// ci.* series credit PRs to the workflow's repo. PagerDuty services are not
// mapped to repos in the config, so pagerduty.* series credit PRs to every
// repo of sources.github; the drafter's timing rules (a PR must go live
// within `settle` of the shift, and another author's PR closer to it takes
// the credit) do the rest.
//
// # Coverage
//
// A day without incidents is a zero only where the collector actually
// looked. Data.Coverage gives, per source ("pagerduty", "github_actions"),
// the span that was collected; count series get a sample for every whole
// UTC day inside it and none outside, and their Series.End is the end of
// the last whole day, so the drafter does not read "not collected yet" as
// "no pages". Without coverage for pagerduty the count series are left
// out (the other series need none).
package builtin

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// Source names, the keys of Data.Coverage.
const (
	SourcePagerDuty     = "pagerduty"
	SourceGitHubActions = "github_actions"
)

// Series id prefixes, under the prefixes their sources reserve.
const (
	PrefixIncidents   = pagerduty.SeriesPrefix + "incidents/"
	IDPagesToMe       = pagerduty.SeriesPrefix + "pages_to_me"
	PrefixMTTR        = pagerduty.SeriesPrefix + "mttr/"
	PrefixMTTA        = pagerduty.SeriesPrefix + "mtta/"
	PrefixCIDuration  = githubactions.CIPrefix + "duration/"
	PrefixCIQueue     = githubactions.CIPrefix + "queue/"
	PrefixSuccessRate = githubactions.CIPrefix + "success_rate/"
)

// OnCall reports whether id is a built-in PagerDuty series (incidents,
// pages, time to acknowledge or resolve): on-call load.
func OnCall(id string) bool { return strings.HasPrefix(id, pagerduty.SeriesPrefix) }

// Categories of the built-in series (SPEC.md's table).
const (
	categoryPagerDuty = "reliability"
	categoryCI        = "infrastructure"
)

// Data is what the series are computed from.
type Data struct {
	Incidents []model.Incident
	Runs      []model.CIRun
	// Now bounds coverage that has no end.
	Now time.Time
	// Coverage is, per source, the span the collector has read; see the
	// package comment.
	Coverage map[string]model.Window
	// Deploys and PRs feed the DORA series (dora.go).
	Deploys []model.Deploy
	PRs     []model.PR
}

const day = 24 * time.Hour

// Series returns the built-in series of the configured sources, in a fixed
// order: PagerDuty (per service: incidents, mttr, mtta; then pages to me),
// then GitHub Actions (per workflow: duration, queue, success rate). A
// series without samples is left out.
func Series(cfg *config.Config, in Data) []drafter.Series {
	var out []drafter.Series
	add := func(s drafter.Series) {
		if len(s.Samples) > 0 {
			out = append(out, s)
		}
	}
	if pd := config.SourceAs[pagerduty.Config](cfg, pagerduty.Name); pd != nil {
		var repos []string
		if gh := config.SourceAs[github.Config](cfg, github.Name); gh != nil {
			repos = slices.Clone(gh.Repos)
		}
		cov, hasCov := in.Coverage[SourcePagerDuty]
		days := coveredDays(cov, in.Now)
		byService := map[string][]model.Incident{}
		for _, inc := range in.Incidents {
			byService[inc.Service] = append(byService[inc.Service], inc)
		}
		var mine []model.Incident
		seen := map[string]bool{}
		for _, svc := range pd.Services {
			svc = strings.TrimSpace(svc)
			if svc == "" || seen[svc] {
				continue
			}
			seen[svc] = true
			incs := byService[svc]
			repos := repos
			if mapped := pd.ReposOf(svc); mapped != nil {
				repos = slices.Clone(mapped) // sources.pagerduty.service_repos
			}
			if hasCov {
				add(drafter.Series{Metric: countMetric(PrefixIncidents+svc, "incidents on "+svc, repos),
					Samples: dailyCounts(incs, days), End: daysEnd(days)})
			}
			add(drafter.Series{Metric: minutesMetric(PrefixMTTR+svc, "time to resolve "+svc+" incidents", repos),
				Samples: incidentMinutes(incs, func(i model.Incident) time.Time { return i.ResolvedAt })})
			add(drafter.Series{Metric: minutesMetric(PrefixMTTA+svc, "time to acknowledge "+svc+" incidents", repos),
				Samples: incidentMinutes(incs, func(i model.Incident) time.Time { return i.AcknowledgedAt })})
			if user := strings.TrimSpace(pd.UserID); user != "" {
				for _, inc := range incs {
					if slices.Contains(inc.Assignees, user) {
						mine = append(mine, inc)
					}
				}
			}
		}
		if strings.TrimSpace(pd.UserID) != "" && hasCov {
			add(drafter.Series{Metric: countMetric(IDPagesToMe, "pages to me", repos),
				Samples: dailyCounts(mine, days), End: daysEnd(days)})
		}
	}
	if ga := config.SourceAs[githubactions.Config](cfg, githubactions.Name); ga != nil {
		seen := map[string]bool{}
		for _, wf := range ga.Workflows {
			repo, file, branch := strings.TrimSpace(wf.Repo), strings.TrimSpace(wf.Workflow), strings.TrimSpace(wf.Branch)
			suffix := ""
			switch branch {
			case "main":
			case "":
				suffix = "@*"
			default:
				suffix = "@" + branch
			}
			key := repo + "/" + file + suffix
			if repo == "" || file == "" || seen[strings.ToLower(key)] {
				continue
			}
			seen[strings.ToLower(key)] = true
			var runs []model.CIRun
			for _, r := range in.Runs {
				if strings.EqualFold(r.Repo, repo) && r.Workflow == file && (branch == "" || r.Branch == branch) {
					runs = append(runs, r)
				}
			}
			label := repo + " " + file + suffix
			repos := []string{repo}
			what := "CI build time"
			if wf.Deploys {
				what = "deploy time"
			}
			add(drafter.Series{Metric: model.Metric{ID: PrefixCIDuration + key, Name: what + " for " + label,
				Source: SourceGitHubActions, Unit: "min", Better: "lower", Repos: repos, Category: categoryCI},
				Samples: runDurations(runs)})
			add(drafter.Series{Metric: model.Metric{ID: PrefixCIQueue + key, Name: "CI queue time for " + label,
				Source: SourceGitHubActions, Unit: "min", Better: "lower", Repos: repos, Category: categoryCI},
				Samples: queueTimes(runs)})
			add(drafter.Series{Metric: model.Metric{ID: PrefixSuccessRate + key, Name: "CI success rate for " + label,
				Source: SourceGitHubActions, Unit: "percent", Better: "higher", Repos: repos, Category: categoryCI},
				Samples: successRates(runs)})
		}
		var deployRepos []string
		for _, wf := range ga.Workflows {
			if r := strings.TrimSpace(wf.Repo); wf.Deploys && r != "" && !slices.ContainsFunc(deployRepos, func(x string) bool { return strings.EqualFold(x, r) }) {
				deployRepos = append(deployRepos, r)
			}
		}
		if len(deployRepos) > 0 {
			dora := DORAInput{Repos: deployRepos, Deploys: in.Deploys, PRs: in.PRs, Incidents: in.Incidents, Now: in.Now,
				ServiceRepos: map[string][]string{}}
			if pd := config.SourceAs[pagerduty.Config](cfg, pagerduty.Name); pd != nil {
				for _, m := range pd.ServiceRepos {
					dora.ServiceRepos[m.Service] = m.Repos
				}
			}
			for _, s := range DORASeries(dora) {
				add(s)
			}
		}
	}
	return out
}

func countMetric(id, name string, repos []string) model.Metric {
	return model.Metric{ID: id, Name: name, Source: SourcePagerDuty, Unit: "count", Better: "lower",
		Repos: repos, Category: categoryPagerDuty, Weekly: true}
}

func minutesMetric(id, name string, repos []string) model.Metric {
	return model.Metric{ID: id, Name: name, Source: SourcePagerDuty, Unit: "min", Better: "lower",
		Repos: repos, Category: categoryPagerDuty}
}

// coveredDays returns the start of every whole UTC day inside cov (an
// open end is bounded by now).
func coveredDays(cov model.Window, now time.Time) []time.Time {
	end := cov.End
	if end.IsZero() || (!now.IsZero() && end.After(now)) {
		end = now
	}
	if cov.Start.IsZero() || end.IsZero() {
		return nil
	}
	first := cov.Start.UTC().Truncate(day)
	if first.Before(cov.Start) {
		first = first.Add(day)
	}
	var out []time.Time
	for d := first; !d.Add(day).After(end); d = d.Add(day) {
		out = append(out, d)
	}
	return out
}

// daysEnd is the end of the last covered day (zero for none).
func daysEnd(days []time.Time) time.Time {
	if len(days) == 0 {
		return time.Time{}
	}
	return days[len(days)-1].Add(day)
}

// dailyCounts counts the incidents created on each covered day.
func dailyCounts(incs []model.Incident, days []time.Time) []model.Sample {
	if len(days) == 0 {
		return nil
	}
	out := make([]model.Sample, len(days))
	for i, d := range days {
		out[i] = model.Sample{Time: d}
	}
	first := days[0]
	for _, inc := range incs {
		i := int(inc.CreatedAt.Sub(first) / day)
		if inc.CreatedAt.Before(first) || i >= len(out) {
			continue
		}
		out[i].Value++
	}
	return out
}

// incidentMinutes is one sample per incident with a non-zero to(i) at or
// after its creation: minutes from creation to to(i), at the creation.
func incidentMinutes(incs []model.Incident, to func(model.Incident) time.Time) []model.Sample {
	var out []model.Sample
	for _, inc := range incs {
		t := to(inc)
		if t.IsZero() || inc.CreatedAt.IsZero() || t.Before(inc.CreatedAt) {
			continue
		}
		out = append(out, model.Sample{Time: inc.CreatedAt.UTC(), Value: t.Sub(inc.CreatedAt).Minutes()})
	}
	sortSamples(out)
	return out
}

func runDurations(runs []model.CIRun) []model.Sample {
	var out []model.Sample
	for _, r := range runs {
		if r.Status != "completed" || r.Conclusion != "success" || r.Duration <= 0 {
			continue
		}
		at := r.StartedAt
		if at.IsZero() {
			at = r.CreatedAt
		}
		out = append(out, model.Sample{Time: at.UTC(), Value: r.Duration.Minutes()})
	}
	sortSamples(out)
	return out
}

func queueTimes(runs []model.CIRun) []model.Sample {
	var out []model.Sample
	for _, r := range runs {
		if r.Attempt > 1 || r.StartedAt.IsZero() || r.CreatedAt.IsZero() || r.StartedAt.Before(r.CreatedAt) {
			continue
		}
		out = append(out, model.Sample{Time: r.CreatedAt.UTC(), Value: r.StartedAt.Sub(r.CreatedAt).Minutes()})
	}
	sortSamples(out)
	return out
}

// finished reports whether a run's conclusion says whether the build
// worked (see the package comment), and whether it did.
func finished(r model.CIRun) (done, ok bool) {
	if r.Status != "completed" {
		return false, false
	}
	switch r.Conclusion {
	case "success":
		return true, true
	case "failure", "timed_out", "startup_failure":
		return true, false
	}
	return false, false
}

func successRates(runs []model.CIRun) []model.Sample {
	type tally struct{ ok, all int }
	byDay := map[time.Time]*tally{}
	for _, r := range runs {
		done, ok := finished(r)
		if !done || r.CreatedAt.IsZero() {
			continue
		}
		d := r.CreatedAt.UTC().Truncate(day)
		t := byDay[d]
		if t == nil {
			t = &tally{}
			byDay[d] = t
		}
		t.all++
		if ok {
			t.ok++
		}
	}
	out := make([]model.Sample, 0, len(byDay))
	for d, t := range byDay {
		out = append(out, model.Sample{Time: d, Value: 100 * float64(t.ok) / float64(t.all)})
	}
	sortSamples(out)
	return out
}

func sortSamples(s []model.Sample) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Time.Before(s[j].Time) })
}
