package world

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// The demo's operations data: PagerDuty incidents of two services and
// GitHub Actions runs of acme/search-api's CI and deploy workflows. See
// Demo for the designed shifts in them.

// Demo PagerDuty ids.
const (
	ServiceSearch   = "PSEARCH1" // search-api
	ServiceCheckout = "PCHKOUT1" // checkout
	UserAlice       = "PALICE1"
)

// onCall is the search-api rotation besides alice, a week each.
var onCall = []string{"PBOB1", "PCAROL1", "PDAVE1"}

// Incidents per weekday (Monday first) of each PSEARCH1 stream. The counts
// are fixed, so any window of whole weeks holds exactly 7× the weekly rate:
// the designed per-week rates are what the drafter must report.
var (
	// Indexer alerts, paged to alice, until her retry budget: 11 a week.
	indexerPerDay = [7]int{2, 2, 2, 2, 2, 0, 1}
	// search-api alerts paged to alice (she is the service's secondary):
	// 3 a week.
	searchAlicePerDay = [7]int{1, 0, 1, 0, 1, 0, 0}
	// search-api alerts paged to the on-call of the week: 11 a week.
	searchOthersPerDay = [7]int{2, 2, 2, 2, 1, 1, 1}
)

// Designed PagerDuty levels.
const (
	pagesBefore, pagesAfter         = 14.0, 3.0  // pages to alice per week
	searchIncBefore, searchIncAfter = 25.0, 14.0 // PSEARCH1 incidents per week
	mttrBefore, mttrAfter           = 52.0, 20.0 // PSEARCH1 minutes to resolve
	mttaSearch                      = 4.0        // PSEARCH1 minutes to acknowledge
	mttrCheckout, mttaCheckout      = 38.0, 5.0
)

// Designed CI levels (minutes).
const (
	ciBefore, ciAfter = 14.0, 6.0
	deployMinutes     = 5.5
)

var (
	indexerTitles = []string{
		"[search-indexer] Indexing lag above 10 minutes",
		"[search-indexer] Bulk indexing error rate above 5%",
		"[search-indexer] Dead-letter queue growing",
		"[search-indexer] Elasticsearch bulk rejections",
	}
	searchTitles = []string{
		"[search-api] p99 latency above 1.5 s",
		"[search-api] 5xx rate above 1%",
		"[search-api] Elasticsearch cluster health yellow",
		"[search-api] Pod restarts above threshold",
		"[search-api] Suggest endpoint error budget burn",
	}
	checkoutTitles = []string{
		"[checkout] Payment provider error rate above 2%",
		"[checkout] Order confirmation queue backlog",
		"[checkout] Fraud-check timeouts",
		"[checkout] Checkout p95 latency above 800 ms",
	}
)

// ops are the demo's designed operations events.
type ops struct {
	start, end time.Time
	retryAt    time.Time // indexer alerts stop (alice's retry budget live)
	runbookAt  time.Time // incidents created from here resolve faster
	cacheAt    time.Time // CI runs created from here are fast
	// searchMerges are acme/search-api's merged PRs, by merge time.
	searchMerges []model.PR
	// sureDeploys are merge SHAs whose deploy must succeed first time
	// (the designed PRs).
	sureDeploys map[string]bool
	// trainUntil is alice's deploy-on-merge PR's merge: deploy.yml runs
	// on a schedule before it, on every merge from it (see runs).
	trainUntil time.Time
	// extra are the merge SHAs of the PRs added with addExtra.
	extra map[string]bool
}

func weekdayIndex(t time.Time) int { return (int(t.Weekday()) + 6) % 7 }

// incidentTime is a time on day d: mostly working hours, sometimes the
// night (alerts do not keep office hours).
func incidentTime(rng *rand.Rand, d time.Time) time.Time {
	if rng.Float64() < 0.75 {
		return d.Add(time.Duration(9*3600+rng.IntN(9*3600)) * time.Second)
	}
	return d.Add(time.Duration(rng.IntN(24*3600)) * time.Second)
}

func incidentID(service string, t time.Time, n int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", service, t.Unix(), n)
	s := strings.ToUpper(strconv.FormatUint(h.Sum64(), 36))
	return ("Q" + s + "0000000000000")[:14]
}

// incidents builds both services' incidents.
func (o ops) incidents() []model.Incident {
	rng := seedFor(demoSeed, "incidents")
	const day = 24 * time.Hour
	var out []model.Incident
	add := func(service string, t time.Time, title, urgency string, assignees ...string) {
		if t.Before(o.start) || !t.Before(o.end) {
			return
		}
		out = append(out, model.Incident{Service: service, Title: title, Urgency: urgency, CreatedAt: t.UTC(),
			Assignees: assignees})
	}
	for d := o.start.Truncate(day); d.Before(o.end); d = d.Add(day) {
		wd := weekdayIndex(d)
		week := int(d.Sub(o.start.Truncate(day)) / (7 * day))
		for k := 0; k < indexerPerDay[wd]; k++ {
			if t := incidentTime(rng, d); t.Before(o.retryAt) {
				add(ServiceSearch, t, indexerTitles[rng.IntN(len(indexerTitles))], "high", UserAlice)
			}
		}
		for k := 0; k < searchAlicePerDay[wd]; k++ {
			add(ServiceSearch, incidentTime(rng, d), searchTitles[rng.IntN(len(searchTitles))], urgency(rng), UserAlice)
		}
		for k := 0; k < searchOthersPerDay[wd]; k++ {
			add(ServiceSearch, incidentTime(rng, d), searchTitles[rng.IntN(len(searchTitles))], urgency(rng), onCall[week%len(onCall)])
		}
		// checkout: a Poisson trickle, about 6 a week.
		mean := 1.1
		if wd >= 5 {
			mean = 0.3
		}
		for k := poisson(rng, mean); k > 0; k-- {
			add(ServiceCheckout, incidentTime(rng, d), checkoutTitles[rng.IntN(len(checkoutTitles))], urgency(rng),
				[]string{"PBOB1", "PDAVE1"}[rng.IntN(2)])
		}
	}
	slices.SortStableFunc(out, func(a, b model.Incident) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Service, b.Service)
	})
	for i := range out {
		out[i].ID = incidentID(out[i].Service, out[i].CreatedAt, i)
		out[i].URL = "https://impact-demo.pagerduty.com/incidents/" + out[i].ID
	}

	// Times to acknowledge and resolve: spread around each level so that
	// the median of any few days is within a few per cent of it (see
	// spread).
	mttr := func(inc model.Incident) float64 {
		if inc.Service == ServiceCheckout {
			return mttrCheckout
		}
		if inc.CreatedAt.Before(o.runbookAt) {
			return mttrBefore
		}
		return mttrAfter
	}
	mtta := func(inc model.Incident) float64 {
		if inc.Service == ServiceCheckout {
			return mttaCheckout
		}
		return mttaSearch
	}
	for _, svc := range []string{ServiceSearch, ServiceCheckout} {
		var idx []int
		for k := range out {
			if out[k].Service == svc {
				idx = append(idx, k)
			}
		}
		ack := spread(rng, len(idx), 0.4)
		res := spread(rng, len(idx), 0.35)
		for n, k := range idx {
			inc := &out[k]
			a := mtta(*inc) * ack[n]
			r := max(mttr(*inc)*res[n], a+2) // resolved after the first acknowledgement
			inc.AcknowledgedAt = inc.CreatedAt.Add(minutes(a))
			inc.ResolvedAt = inc.CreatedAt.Add(minutes(r))
			switch {
			case !inc.ResolvedAt.After(o.end):
				inc.Status = "resolved"
			case !inc.AcknowledgedAt.After(o.end):
				inc.Status = "acknowledged"
			default:
				inc.Status = "triggered"
			}
		}
	}
	return out
}

func urgency(rng *rand.Rand) string {
	if rng.Float64() < 0.6 {
		return "high"
	}
	return "low"
}

func minutes(m float64) time.Duration {
	return time.Duration(m * float64(time.Minute)).Round(time.Second)
}

// spread returns n log-normal-looking multipliers with median 1 and log-sd
// about sigma, in triples {e^{+a}, ≈1, e^{−a}} (in random order; the
// middle one within 2% of 1): any run of consecutive values holds as many
// above 1 as below it, and a third of them near 1, so its median is within
// a few per cent of 1 however the run is cut.
func spread(rng *rand.Rand, n int, sigma float64) []float64 {
	out := make([]float64, 0, n+2)
	for len(out) < n {
		a := sigma * (0.3 + math.Abs(rng.NormFloat64()))
		t := []float64{math.Exp(a), math.Exp(0.02 * (2*rng.Float64() - 1)), math.Exp(-a)}
		rng.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
		out = append(out, t...)
	}
	return out[:n]
}

// poisson draws a Poisson variate with a small mean.
func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// demoWorkflows are the GitHub Actions workflows the demo watches.
func demoWorkflows() []Workflow {
	return []Workflow{
		{Repo: repoSearch, Workflow: "ci.yml", Branch: "main"},
		{Repo: repoSearch, Workflow: "deploy.yml", Branch: "main", Deploys: true},
	}
}

// runs builds acme/search-api's workflow runs on main: ci.yml on every
// merge (push) and hourly from 08:00 to 17:00 UTC on weekdays, twice a day
// at weekends (schedule) — about ten a day; deploy.yml, until the release
// train ends (trainUntil, alice's merge), on weekday mornings at 10:00 UTC
// (schedule), deploying the head of main, and from then on after every
// merge, whose head is the merge commit. A few ordinary deploys fail and
// are run again by hand half an hour later.
//
// The extra PRs (see addExtra) and the train draw from their own rng, and
// a merge before trainUntil draws for the deploy it no longer gets: the
// runs of the other PRs are the same as without them.
func (o ops) runs() []model.CIRun {
	rng := seedFor(demoSeed, "ci-runs")
	xrng := seedFor(demoSeed, "ci-runs-extra")
	const day = 24 * time.Hour
	var runs []model.CIRun
	head := func(t time.Time) string {
		sha := sha(repoSearch + "/main/initial")
		for _, p := range o.searchMerges {
			if p.MergedAt.After(t) {
				break
			}
			sha = p.MergeSHA
		}
		return sha
	}
	ci := func(rng *rand.Rand, created time.Time, event, sha string) {
		level := ciBefore
		if !created.Before(o.cacheAt) {
			level = ciAfter
		}
		r := model.CIRun{Repo: repoSearch, Workflow: "ci.yml", Attempt: 1, Branch: "main", SHA: sha, Event: event,
			Status: "completed", CreatedAt: created}
		r.StartedAt = created.Add(queue(rng))
		switch x := rng.Float64(); {
		case x < 0.02:
			r.Conclusion, r.Duration = "cancelled", minutes(0.5+2.5*rng.Float64())
		case x < 0.09:
			r.Conclusion, r.Duration = "failure", minutes(level*(0.15+0.75*rng.Float64()))
			if rng.Float64() < 0.3 {
				// Re-run: the run now shows its second attempt.
				r.Attempt, r.Conclusion = 2, "success"
				r.StartedAt = r.StartedAt.Add(r.Duration + minutes(2+18*rng.Float64()))
				r.Duration = minutes(level * math.Exp(0.08*rng.NormFloat64()))
			}
		default:
			f := math.Exp(0.08 * rng.NormFloat64())
			if rng.Float64() < 0.02 {
				f *= 1.6 + 0.6*rng.Float64() // a slow runner
			}
			r.Conclusion, r.Duration = "success", minutes(level*f)
		}
		runs = append(runs, r)
	}
	// deploy adds a deploy.yml run, or, with emit false, only draws for it.
	deploy := func(rng *rand.Rand, created time.Time, event, sha string, fail, emit bool) {
		r := model.CIRun{Repo: repoSearch, Workflow: "deploy.yml", Attempt: 1, Branch: "main", SHA: sha, Event: event,
			Status: "completed", Conclusion: "success", CreatedAt: created, Deploys: true}
		r.StartedAt = created.Add(queue(rng))
		r.Duration = minutes(deployMinutes * math.Exp(0.1*rng.NormFloat64()))
		if fail {
			r.Conclusion, r.Duration = "failure", minutes(1+2*rng.Float64())
		}
		if emit {
			runs = append(runs, r)
		}
	}
	for d := o.start.Truncate(day); d.Before(o.end); d = d.Add(day) {
		hours := []int{3, 15}
		if weekdayIndex(d) < 5 {
			hours = []int{8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
		}
		for _, h := range hours {
			t := d.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(240))*time.Second)
			ci(rng, t, "schedule", head(t))
		}
	}
	// The release train.
	k := 0
	for d := o.start.Truncate(day); d.Before(o.trainUntil); d = d.Add(day) {
		t := d.Add(trainHour*time.Hour + time.Duration(xrng.IntN(240))*time.Second)
		if weekdayIndex(d) >= 5 || t.Before(o.start) || !t.Before(o.trainUntil) {
			continue
		}
		fail := k%7 == 4
		k++
		deploy(xrng, t, "schedule", head(t), fail, true)
		if fail {
			t = t.Add(time.Duration(20+xrng.IntN(15)) * time.Minute)
			deploy(xrng, t, "workflow_dispatch", head(t), false, true)
		}
	}
	n, m := 0, 0
	for _, p := range o.searchMerges {
		r, extra := rng, o.extra[p.MergeSHA]
		var fail bool
		if extra {
			r = xrng
			fail = m%9 == 5 && !o.sureDeploys[p.MergeSHA]
			m++
		} else {
			fail = n%7 == 3 && !o.sureDeploys[p.MergeSHA]
			n++
		}
		if p.MergedAt.Before(o.start) {
			continue
		}
		ci(r, p.MergedAt.Add(time.Duration(5+r.IntN(20))*time.Second), "push", p.MergeSHA)
		created := p.MergedAt.Add(time.Duration(120+r.IntN(120)) * time.Second)
		emit := !p.MergedAt.Before(o.trainUntil)
		if extra && !emit {
			continue
		}
		deploy(r, created, "push", p.MergeSHA, fail, emit)
		if fail {
			deploy(r, created.Add(time.Duration(20+r.IntN(15))*time.Minute), "workflow_dispatch", p.MergeSHA, false, emit)
		}
	}
	slices.SortStableFunc(runs, func(a, b model.CIRun) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var id int64 = 7_412_300_000
	for i := range runs {
		id += 20 + int64(rng.IntN(400))
		runs[i].RunID = id
		runs[i].CreatedAt = runs[i].CreatedAt.Truncate(time.Second)
		runs[i].StartedAt = runs[i].StartedAt.Truncate(time.Second)
		runs[i].Duration = runs[i].Duration.Truncate(time.Second)
	}
	// Runs not created yet at End do not exist.
	return slices.DeleteFunc(runs, func(r model.CIRun) bool { return !r.CreatedAt.Before(o.end) })
}

// queue is a run's wait for a runner: seconds, now and then minutes.
func queue(rng *rand.Rand) time.Duration {
	if rng.Float64() < 0.05 {
		return time.Duration(60+rng.IntN(180)) * time.Second
	}
	return time.Duration(4+rng.IntN(40)) * time.Second
}
