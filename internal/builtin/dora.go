package builtin

import (
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// DORA's four keys per repo with a deploy workflow (`deploys: true`),
// from the stored deploys, merged PRs and PagerDuty incidents. Definitions
// follow DORA (dora.dev, "DORA's software delivery metrics"); where Apache
// DevLake or Google's Four Keys differ, the choice is said here.
//
//	dora.deploy_frequency/<repo>  successful deploys per UTC day, zeros
//	                              included, from the first deploy's day to
//	                              the last whole day. Weekly (per-week rate).
//	dora.lead_time/<repo>         one sample per PR, at the deploy that
//	                              shipped it: minutes from the PR's opening to
//	                              that deploy. DORA measures from the commit;
//	                              Four Keys takes the first commit's time,
//	                              DevLake the PR's first commit, else its
//	                              opening. The first commit needs a request
//	                              per PR, so the opening it is (PRs stored
//	                              without an opening time are left out).
//	dora.change_failure_rate/<repo>  one sample per whole ISO week with
//	                              deploys: failed deploys / deploys × 100.
//	dora.time_to_restore/<repo>   one sample per failed deploy, at the
//	                              failure: minutes from the incident's
//	                              creation to its resolution, or from the
//	                              failed deploy to the deploy that shipped
//	                              the revert.
//
// The deploy that shipped a PR is the repo's first deploy at or after its
// merge (a deploy runs the branch head, which holds every PR merged
// before it).
//
// A deploy failed when, before the next deploy of the repo and within
// FailureWindow of it, (a) an incident was created on a PagerDuty service
// mapped to the repo (sources.pagerduty.service_repos; a service without a
// mapping counts for every repo), or (b) a PR titled `Revert "<title>"`
// was merged for a PR that deploy shipped. DevLake attributes incidents to
// the last deploy before them without a time limit, Four Keys through
// incident labels naming the commit; a window bounds the guess, and "before
// the next deploy" is DevLake's rule.
//
// The series credit PRs to their repo: the drafter credits a step in lead
// time or failure rate to my PRs like any metric.

// Series id prefixes.
const (
	PrefixDeployFrequency = githubactions.DORAPrefix + "deploy_frequency/"
	PrefixLeadTime        = githubactions.DORAPrefix + "lead_time/"
	PrefixChangeFailure   = githubactions.DORAPrefix + "change_failure_rate/"
	PrefixTimeToRestore   = githubactions.DORAPrefix + "time_to_restore/"
)

// FailureWindow bounds how long after a deploy an incident or a revert
// marks it failed.
const FailureWindow = 24 * time.Hour

// DORAInput is what DORASeries reads.
type DORAInput struct {
	// Repos are the repos with a deploy workflow.
	Repos     []string
	Deploys   []model.Deploy
	PRs       []model.PR
	Incidents []model.Incident
	// ServiceRepos maps a service to its repos; a service it lacks counts
	// for every repo.
	ServiceRepos map[string][]string
	Now          time.Time
}

// Failure is a failed deploy and when service was restored.
type Failure struct {
	Deploy   model.Deploy
	At       time.Time // the incident's creation, or the failed deploy (revert)
	Restored time.Time // zero while not restored
	Cause    string    // "incident <id>" or "revert <repo>#<n>"
}

// DORA is one repo's computed history, the series' raw material.
type DORA struct {
	Repo     string
	Deploys  []model.Deploy
	Shipped  map[string]model.Deploy // PR key → the deploy that shipped it
	Failures []Failure
}

// ComputeDORA works out, per repo, the deploys, which deploy shipped each
// PR, and which deploys failed.
func ComputeDORA(in DORAInput) []DORA {
	var out []DORA
	for _, repo := range in.Repos {
		d := DORA{Repo: repo, Shipped: map[string]model.Deploy{}}
		for _, dep := range in.Deploys {
			if strings.EqualFold(dep.Repo, repo) {
				d.Deploys = append(d.Deploys, dep)
			}
		}
		slices.SortStableFunc(d.Deploys, func(a, b model.Deploy) int { return a.Time.Compare(b.Time) })
		shippedBy := map[int][]model.PR{}
		for _, p := range in.PRs {
			if !strings.EqualFold(p.Repo, repo) || p.MergedAt.IsZero() {
				continue
			}
			i, _ := slices.BinarySearchFunc(d.Deploys, p.MergedAt, func(x model.Deploy, t time.Time) int { return x.Time.Compare(t) })
			if i < len(d.Deploys) {
				d.Shipped[p.Key()] = d.Deploys[i]
				shippedBy[i] = append(shippedBy[i], p)
			}
		}
		for i, dep := range d.Deploys {
			end := dep.Time.Add(FailureWindow)
			if i+1 < len(d.Deploys) && d.Deploys[i+1].Time.Before(end) {
				end = d.Deploys[i+1].Time
			}
			if f, ok := incidentFailure(in, repo, dep, end); ok {
				d.Failures = append(d.Failures, f)
				continue
			}
			if f, ok := revertFailure(in, d, repo, dep, shippedBy[i]); ok {
				d.Failures = append(d.Failures, f)
			}
		}
		out = append(out, d)
	}
	return out
}

func incidentFailure(in DORAInput, repo string, dep model.Deploy, end time.Time) (Failure, bool) {
	var first *model.Incident
	for i := range in.Incidents {
		inc := &in.Incidents[i]
		if inc.CreatedAt.Before(dep.Time) || !inc.CreatedAt.Before(end) {
			continue
		}
		if repos, ok := in.ServiceRepos[inc.Service]; ok && !slices.ContainsFunc(repos, func(r string) bool { return strings.EqualFold(r, repo) }) {
			continue
		}
		if first == nil || inc.CreatedAt.Before(first.CreatedAt) {
			first = inc
		}
	}
	if first == nil {
		return Failure{}, false
	}
	return Failure{Deploy: dep, At: first.CreatedAt, Restored: first.ResolvedAt, Cause: "incident " + first.ID}, true
}

func revertFailure(in DORAInput, d DORA, repo string, dep model.Deploy, shipped []model.PR) (Failure, bool) {
	if len(shipped) == 0 {
		return Failure{}, false
	}
	for _, p := range in.PRs {
		if !strings.EqualFold(p.Repo, repo) || p.MergedAt.Before(dep.Time) || !p.MergedAt.Before(dep.Time.Add(FailureWindow)) {
			continue
		}
		t, ok := strings.CutPrefix(p.Title, `Revert "`)
		if !ok || !strings.HasSuffix(t, `"`) {
			continue
		}
		t = strings.TrimSuffix(t, `"`)
		if !slices.ContainsFunc(shipped, func(s model.PR) bool { return s.Title == t }) {
			continue
		}
		// The failure began when the deploy shipped the reverted PR.
		f := Failure{Deploy: dep, At: dep.Time, Cause: "revert " + p.Key()}
		if fix, ok := d.Shipped[p.Key()]; ok {
			f.Restored = fix.Time
		}
		return f, true
	}
	return Failure{}, false
}

// DORASeries derives the four series of every repo in in.Repos.
func DORASeries(in DORAInput) []drafter.Series {
	var out []drafter.Series
	for _, d := range ComputeDORA(in) {
		if len(d.Deploys) == 0 {
			continue
		}
		repos := []string{d.Repo}
		m := func(prefix, name, unit, better, cat string, weekly bool) model.Metric {
			return model.Metric{ID: prefix + d.Repo, Name: name + " for " + d.Repo, Source: SourceGitHubActions, Unit: unit,
				Better: better, Repos: repos, Category: cat, Weekly: weekly}
		}
		days := coveredDays(model.Window{Start: d.Deploys[0].Time.UTC().Truncate(day), End: in.Now}, in.Now)
		freq := make([]model.Sample, len(days))
		for i, x := range days {
			freq[i] = model.Sample{Time: x}
		}
		for _, dep := range d.Deploys {
			if len(days) == 0 || dep.Time.Before(days[0]) {
				continue
			}
			if i := int(dep.Time.Sub(days[0]) / day); i < len(freq) {
				freq[i].Value++
			}
		}
		var lead []model.Sample
		for _, p := range in.PRs {
			dep, ok := d.Shipped[p.Key()]
			if !ok || p.CreatedAt.IsZero() || dep.Time.Before(p.CreatedAt) {
				continue
			}
			lead = append(lead, model.Sample{Time: dep.Time.UTC(), Value: dep.Time.Sub(p.CreatedAt).Minutes()})
		}
		sortSamples(lead)
		failed := map[string]bool{}
		var restore []model.Sample
		for _, f := range d.Failures {
			failed[f.Deploy.Key()] = true
			if !f.Restored.IsZero() && !f.Restored.Before(f.At) {
				restore = append(restore, model.Sample{Time: f.At.UTC(), Value: f.Restored.Sub(f.At).Minutes()})
			}
		}
		sortSamples(restore)
		var cfr []model.Sample
		if len(days) > 0 {
			first := days[0]
			for first.Weekday() != time.Monday {
				first = first.Add(day)
			}
			for wk := first; !wk.Add(7 * day).After(daysEnd(days)); wk = wk.Add(7 * day) {
				n, bad := 0, 0
				for _, dep := range d.Deploys {
					if !dep.Time.Before(wk) && dep.Time.Before(wk.Add(7*day)) {
						n++
						if failed[dep.Key()] {
							bad++
						}
					}
				}
				if n > 0 {
					cfr = append(cfr, model.Sample{Time: wk, Value: 100 * float64(bad) / float64(n)})
				}
			}
		}
		out = append(out,
			drafter.Series{Metric: m(PrefixDeployFrequency, "deployment frequency", "count", "higher", categoryCI, true), Samples: freq, End: daysEnd(days)},
			drafter.Series{Metric: m(PrefixLeadTime, "lead time for changes", "min", "lower", categoryCI, false), Samples: lead},
			drafter.Series{Metric: m(PrefixChangeFailure, "change failure rate", "percent", "lower", categoryPagerDuty, false), Samples: cfr},
			drafter.Series{Metric: m(PrefixTimeToRestore, "time to restore service", "min", "lower", categoryPagerDuty, false), Samples: restore},
		)
	}
	return out
}
