package drafter

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aclements/go-moremath/stats"

	"github.com/impact-dev/impact/drafter/changepoint"
	"github.com/impact-dev/impact/internal/model"
)

// analysis is one series being examined.
type analysis struct {
	p      Params
	m      *model.Metric
	ref    model.MetricRef
	s      []model.Sample // sorted by time, finite values only
	end    time.Time      // data counts up to here (Now, or just after the last sample)
	weekly bool
	hourly bool
	lower  bool          // better = lower
	block  time.Duration // aggregation block for the significance test

	days []int64    // UTC day numbers of the daily aggregates
	xs   []float64  // daily medians (daily sums for weekly series)
	cw   []float64  // weekly series: each day's weekday weight (see weekdayWeights)
	dxs  []float64  // daily values with the weekly cycle removed (see deseasonalize)
	wf   [7]float64 // each weekday's factor: xs = dxs × wf

	// shifts are the shifts found in the series (shiftTimes), set before
	// they are attributed: a before window stops at the previous one.
	shifts []shiftEst

	scratch []float64
	profile *[24]float64 // the daily cycle (dailyProfile), once needed

	// What the step test (placebo) computes once per series: the median
	// of every run of wmed consecutive dxs (medW[i] of dxs[i:i+wmed]),
	// and the local-level fit of dxs (localLevel) up to lag wlev.
	medW         []float64
	wmed         int
	levQ, levR   float64
	wlev         int
	levOK, medOK bool
}

func newAnalysis(se *Series, p Params, now time.Time) *analysis {
	s := se.Samples
	clean := true
	for i := range s {
		if math.IsNaN(s[i].Value) || math.IsInf(s[i].Value, 0) || i > 0 && s[i].Time.Before(s[i-1].Time) {
			clean = false
			break
		}
	}
	if !clean {
		s = make([]model.Sample, 0, len(se.Samples))
		for _, x := range se.Samples {
			if !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
				s = append(s, x)
			}
		}
		sort.SliceStable(s, func(i, j int) bool { return s[i].Time.Before(s[j].Time) })
	}
	if len(s) == 0 {
		return nil
	}
	a := &analysis{
		p: p, m: &se.Metric, ref: se.Metric.Ref(), s: s,
		weekly: se.Metric.Weekly,
		lower:  !strings.EqualFold(se.Metric.Better, "higher"),
		end:    now,
	}
	if a.ref.Name == "" {
		a.ref.Name = a.ref.ID
	}
	if !se.End.IsZero() && (a.end.IsZero() || se.End.Before(a.end)) {
		a.end = se.End
	}
	if last := s[len(s)-1].Time.Add(time.Nanosecond); a.end.IsZero() {
		a.end = last
	}
	a.aggregate()
	a.wf = [7]float64{1, 1, 1, 1, 1, 1, 1}
	if !a.weekly {
		a.dxs = deseasonalize(a.xs, a.days)
		for i := range a.xs {
			if a.dxs[i] > 0 {
				a.wf[weekday(a.days[i])] = a.xs[i] / a.dxs[i]
			}
		}
	}
	// Hourly series are compared in blocks of a day (a seventh of a
	// shorter window); series of irregular events (CI runs, incident
	// durations) and daily values in days with data.
	a.block = day
	if p.Window < 7*day && a.hourly {
		a.block = max(time.Hour, (p.Window / 7).Truncate(time.Hour))
	}
	return a
}

func dayOf(t time.Time) int64 {
	u := t.Unix()
	d := u / 86400
	if u < 0 && u%86400 != 0 {
		d--
	}
	return d
}

func dayStart(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// aggregate computes the daily series: medians of the samples of each UTC
// day with data, or for weekly counts the sum of every day from the first
// sample to the last complete day (days without events count as zero).
func (a *analysis) aggregate() {
	s := a.s
	if a.weekly {
		first, last := dayOf(s[0].Time), dayOf(a.end)-1
		if last < first {
			return
		}
		n := int(last - first + 1)
		a.days = make([]int64, n)
		a.xs = make([]float64, n)
		for i := range a.days {
			a.days[i] = first + int64(i)
		}
		for _, x := range s {
			if d := dayOf(x.Time); d >= first && d <= last {
				a.xs[d-first] += x.Value
			}
		}
		a.cw = a.weekdayWeights()
		return
	}
	nd := int(dayOf(s[len(s)-1].Time)-dayOf(s[0].Time)) + 1
	a.days = make([]int64, 0, nd)
	a.xs = make([]float64, 0, nd)
	for i := 0; i < len(s); {
		d := dayOf(s[i].Time)
		j := i
		for j < len(s) && dayOf(s[j].Time) == d {
			j++
		}
		a.days = append(a.days, d)
		a.xs = append(a.xs, a.medianOf(s[i:j]))
		i = j
	}
	a.hourly = len(s) >= 12*len(a.days)
}

// medianOf returns the median value of samples.
func (a *analysis) medianOf(s []model.Sample) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	a.scratch = a.scratch[:0]
	for _, x := range s {
		a.scratch = append(a.scratch, x.Value)
	}
	return median(a.scratch)
}

// median of xs; reorders xs in place. Long slices without NaN are not
// sorted but partitioned (quickselect, O(n)): the same value.
func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	if n > selectMin && !slices.ContainsFunc(xs, math.IsNaN) {
		hi := changepoint.SelectK(xs, n/2)
		if n%2 == 1 {
			return hi
		}
		// xs[:n/2] holds the n/2 smallest values.
		return (slices.Max(xs[:n/2]) + hi) / 2
	}
	slices.Sort(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// selectMin: shorter slices are sorted.
const selectMin = 48

// window returns the samples in [from, to).
func (a *analysis) window(from, to time.Time) []model.Sample {
	i := sort.Search(len(a.s), func(i int) bool { return !a.s[i].Time.Before(from) })
	j := i + sort.Search(len(a.s)-i, func(k int) bool { return !a.s[i+k].Time.Before(to) })
	return a.s[i:j]
}

// shiftEst is a detected shift: where it most likely began, and how far
// off that may be.
type shiftEst struct {
	at  time.Time
	tol time.Duration
	// score is how clearly the data split there (the refinement's
	// statistic): when two proposals land on the same shift, the clearer
	// one stands.
	score float64
	// late is how far after at the shift may have begun, for hourly
	// series whose split points the data cannot tell apart lie mostly
	// before at (the new level is already in the samples right after a
	// gap): at most tol. Zero means tol.
	late time.Duration
}

// lateTol is how far after at a PR may go live and still be a candidate.
func (e shiftEst) lateTol() time.Duration {
	if e.late > 0 && e.late < e.tol {
		return e.late
	}
	return e.tol
}

// shiftTimes detects level shifts on the daily series and refines each to
// the sample where it began. Each shift's tolerance is the span of
// near-best split points (at least Params.Tolerance, at most refineSpan);
// without hourly refinement (weekly counts) it is one day.
func (a *analysis) shiftTimes() []shiftEst {
	if a.weekly {
		return a.countShiftTimes()
	}
	if len(a.xs) < 2*minSegment {
		return nil
	}
	idx := detect(a.dxs)
	if len(idx) == 0 {
		return nil
	}
	var profile *[24]float64
	if a.hourly {
		if a.profile == nil {
			a.profile = a.dailyProfile()
		}
		profile = a.profile
	}
	out := make([]shiftEst, 0, len(idx))
	for n, i := range idx {
		if i <= 0 || i >= len(a.xs) {
			continue
		}
		t0 := dayStart(a.days[i])
		est := shiftEst{at: t0, tol: max(a.p.Tolerance, day)}
		if !a.weekly {
			// Hourly data has enough samples within 3 days either side;
			// irregular events and daily values look a week either way
			// (the split itself is still searched within ±refineSpan).
			reach := 3 * day
			if !a.hourly {
				reach = 7 * day
			}
			lo, hi := t0.Add(-reach), t0.Add(reach)
			if n > 0 {
				lo = later(lo, dayStart(a.days[idx[n-1]]))
			}
			if n+1 < len(idx) {
				hi = earlier(hi, dayStart(a.days[idx[n+1]]))
			}
			span := refineSpan
			if !a.hourly {
				// Daily medians of a few events, or one value a day, place
				// a shift less surely, and one noisy day moves the best
				// split: search ±3 days, and let the splits the data
				// cannot tell apart make the tolerance (one value a day
				// cannot place a shift within the day at all: at least a
				// day).
				span = dailySpan
			}
			var spread time.Duration
			var late time.Duration
			est.at, spread, late, est.score = a.refine(t0, lo, hi, span, a.direction(i), profile)
			est.tol = min(max(a.p.Tolerance, spread), span)
			floor := a.p.Tolerance
			if a.daily() {
				est.tol = max(est.tol, day)
				floor = day
			}
			if a.hourly {
				// Hourly samples right after the split already show the
				// new level; a few events a day do not say as much.
				est.late = min(max(floor, late), est.tol)
			}
		}
		if len(out) > 0 && est.at.Sub(out[len(out)-1].at) < out[len(out)-1].tol {
			// Two detected days refined to the same shift: keep the
			// clearer split (a weak proposal next to a real shift, cut
			// off from it by the detection it neighbours, refines badly
			// and claims a wide tolerance).
			if est.score > out[len(out)-1].score {
				out[len(out)-1] = est
			}
			continue
		}
		out = append(out, est)
	}
	return dropShadows(out, a.p.Window)
}

// shadowRatio: a refined proposal whose split is less than 1/shadowRatio
// as clear as that of a shift within Window of it is taken for an echo of
// that shift (see dropShadows).
const shadowRatio = 2.5

// dropShadows removes the proposals that lie within w of a much clearer
// one. The detector sometimes proposes a second day next to a real shift
// (the weekly cycle, a noisy day at the edge of the step); cut off from
// the step by the detection beside it, that proposal refines to a weak
// split with a wide tolerance, and its PR-anchored windows — which do
// contain the real step — would credit part of the shift's PRs on their
// own.
func dropShadows(ests []shiftEst, w time.Duration) []shiftEst {
	out := ests[:0:0]
	for i, e := range ests {
		shadow := false
		for j, f := range ests {
			if i != j && absDur(e.at.Sub(f.at)) <= w && f.score >= shadowRatio*e.score {
				shadow = true
				break
			}
		}
		if !shadow {
			out = append(out, e)
		}
	}
	return out
}

// daily reports whether the series has about one sample per day with
// data (daily rates), too few to place a shift within a day.
func (a *analysis) daily() bool {
	return !a.hourly && len(a.s) < 2*len(a.days)
}

// direction is +1 when the daily level rises at index i, −1 when it falls.
func (a *analysis) direction(i int) float64 {
	lo, hi := max(0, i-minSegment), min(len(a.xs), i+minSegment)
	b := median(slices.Clone(a.xs[lo:i]))
	c := median(slices.Clone(a.xs[i:hi]))
	switch {
	case c > b:
		return 1
	case c < b:
		return -1
	}
	return 0
}

// dailyProfile is the median ratio of each UTC hour's value to its day's
// median: the daily cycle, for deseasonalising hourly values.
func (a *analysis) dailyProfile() *[24]float64 {
	// Ratios grouped by hour with a counting sort: no maps, two passes.
	var count, off [25]int
	hours := make([]uint8, len(a.s))
	ratios := make([]float64, len(a.s))
	di := 0
	for i, x := range a.s {
		h := hourOf(x.Time)
		hours[i] = uint8(h)
		d := dayOf(x.Time)
		for di < len(a.days) && a.days[di] < d {
			di++
		}
		if di < len(a.days) && a.days[di] == d && a.xs[di] > 0 {
			ratios[i] = x.Value / a.xs[di]
			count[h]++
		} else {
			hours[i] = 255
		}
	}
	for h := 0; h < 24; h++ {
		off[h+1] = off[h] + count[h]
	}
	grouped := make([]float64, off[24])
	pos := off
	for i, h := range hours {
		if h != 255 {
			grouped[pos[h]] = ratios[i]
			pos[h]++
		}
	}
	var profile [24]float64
	for h := range profile {
		profile[h] = 1
		if m := median(grouped[off[h]:off[h+1]]); m > 0 {
			profile[h] = m
		}
	}
	return &profile
}

// hourOf is the UTC hour of t.
func hourOf(t time.Time) int {
	u := t.Unix() % 86400
	if u < 0 {
		u += 86400
	}
	return int(u / 3600)
}

// refine finds the sample in [t0 − span, t0 + span] where the values in
// [lo, hi) split best into two levels (rank statistic on deseasonalised
// values, in the given direction when known).
// It returns the split's time, how far off it may be (the larger side of
// the span of near-best splits), how far that span reaches after it, and
// the split's score.
func (a *analysis) refine(t0, lo, hi time.Time, span time.Duration, dir float64, profile *[24]float64) (time.Time, time.Duration, time.Duration, float64) {
	w := a.window(lo, hi)
	minSide := 6
	if a.daily() {
		minSide = minSegment
	}
	n := len(w)
	if n < 2*minSide {
		return t0, day, day, 0
	}
	vals := make([]float64, n)
	for i, x := range w {
		vals[i] = x.Value
		if profile != nil {
			vals[i] /= profile[hourOf(x.Time)]
		}
	}
	ranks := midranks(vals)
	from, to := t0.Add(-span), t0.Add(span)
	nf := float64(n)
	scores := make([]float64, n)
	best, bestK := math.Inf(-1), -1
	sum := 0.0
	for k := 1; k < n; k++ {
		sum += ranks[k-1]
		scores[k] = math.Inf(-1)
		if k < minSide || n-k < minSide || w[k].Time.Before(from) || w[k].Time.After(to) {
			continue
		}
		kf := float64(k)
		// Standardised Mann–Whitney statistic of the first k values.
		z := (sum - kf*(nf+1)/2) / math.Sqrt(kf*(nf-kf)*(nf+1)/12)
		score := -z * dir // a rise means low ranks first
		if dir == 0 {
			score = math.Abs(z)
		}
		scores[k] = score
		if score > best {
			best, bestK = score, k
		}
	}
	if bestK < 0 {
		return t0, 0, 0, 0
	}
	// The splits whose statistic is close to the best one are about as
	// likely: their span is the uncertainty of the shift time.
	// A split at k says the new level began after w[k-1] and by w[k]:
	// where samples are sparse (nights and weekends without CI runs, a
	// scraper outage) the span reaches back across the gap, to one
	// typical spacing after w[k-1].
	step := typicalStep(w)
	lo, hi = w[bestK].Time, w[bestK].Time
	for k, sc := range scores {
		if sc > 0 && best*best-sc*sc <= refineSlack {
			lo, hi = earlier(lo, earlier(w[k].Time, w[k-1].Time.Add(step))), later(hi, w[k].Time)
		}
	}
	tau := w[bestK].Time
	return tau, max(tau.Sub(lo), hi.Sub(tau)), hi.Sub(tau), best
}

// typicalStep is the median spacing of the samples in w (at least 1 ns).
func typicalStep(w []model.Sample) time.Duration {
	if len(w) < 2 {
		return time.Nanosecond
	}
	ds := make([]time.Duration, len(w)-1)
	for i := 1; i < len(w); i++ {
		ds[i-1] = w[i].Time.Sub(w[i-1].Time)
	}
	slices.Sort(ds)
	return max(ds[len(ds)/2], time.Nanosecond)
}

// midranks returns the rank of each value (1-based, ties averaged).
func midranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return xs[idx[i]] < xs[idx[j]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = rank
		}
		i = j
	}
	return r
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// measurement is a before/after comparison.
type measurement struct {
	before, after, change, p float64
	bw, aw                   model.Window
	nb, na                   int     // blocks compared (whole weeks for counts)
	held                     int     // after blocks beyond the midpoint
	mid                      float64 // midpoint of before and after
	improvement              bool

	// Medians of the windows as they are (before and after differ from
	// them when a significant trend was removed; see stepFit).
	rawBefore, rawAfter float64
	step                stepTest
	detrended           bool

	// Weekly counts only: events and exposure (weekday-weighted days) in
	// each window, and the dispersion the test allowed for.
	cb, ca     float64
	expB, expA float64
	phi        float64

	// why says, when the shift is not a real one, what failed.
	why string
}

// measure compares [beforeEnd − Window, beforeEnd) with
// [afterStart, afterStart + Window) and reports whether the difference is
// a real shift: significant, large enough, a step at tau, and sustained.
// It returns the measurement and "" when it is, else the verdict
// (VerdictTooLittleData, VerdictTooSmall, VerdictNotSignificant,
// VerdictDrift, VerdictNotSustained) with m.why saying more.
func (a *analysis) measure(est shiftEst, beforeEnd, afterStart time.Time) (measurement, string) {
	tau := est.at
	if a.weekly {
		return a.measureCounts(beforeEnd, afterStart)
	}
	var m measurement
	W := a.p.Window
	m.bw = model.Window{Start: beforeEnd.Add(-W).UTC(), End: beforeEnd.UTC()}
	afterEnd := afterStart.Add(W)
	if !a.hourly {
		// Irregular events (CI runs, incidents) leave days without data
		// (weekends, quiet days): each window stretches, by up to another
		// Window, until it holds as many days with data as a full window
		// has days, so that gaps do not starve the test.
		want := int(W / a.block)
		for extra := time.Duration(0); extra < W && len(a.blocks(m.bw, true)) < want; {
			extra += a.block
			m.bw.Start = beforeEnd.Add(-W - extra).UTC()
		}
		for extra := time.Duration(0); extra < W && afterStart.Add(W+extra).Before(a.end) &&
			len(a.blocks(model.Window{Start: afterStart, End: afterEnd}, false)) < want; {
			extra += a.block
			afterEnd = afterStart.Add(W + extra)
		}
	}
	// A clearer shift found earlier in the before window (another PR's
	// step, or the same step seen twice by the detector) would mix two
	// levels into "before" and credit part of that shift to this one: the
	// before window starts after it (its time plus its tolerance), and a
	// window that is then too short is too little data. Weaker proposals
	// are left alone (they are the detector's noise next to this shift).
	// A later shift in the after window is left there too: a revert must
	// read as not sustained.
	var bounded *shiftEst
	self := est.score
	for i := range a.shifts {
		o := &a.shifts[i]
		if end := o.at.Add(o.tol); o.at.Before(tau) && o.score > self && end.After(m.bw.Start) && end.Before(tau) {
			m.bw.Start = end.UTC()
			bounded = o
		}
	}
	if afterEnd.After(a.end) {
		avail := a.end.Sub(afterStart).Truncate(a.block)
		if avail < min(minAfterWindow, W) {
			m.aw = model.Window{Start: afterStart.UTC(), End: a.end.UTC()}
			m.why = "the after window has " + humanDur(max(avail, 0)) + " of data; it needs " + humanDur(min(minAfterWindow, W))
			return m, VerdictTooLittleData
		}
		afterEnd = afterStart.Add(avail)
	}
	m.aw = model.Window{Start: afterStart.UTC(), End: afterEnd.UTC()}

	bBlocks := a.blocks(m.bw, true)
	aBlocks := a.blocks(m.aw, false)
	need := int(min(minAfterWindow, W) / a.block)
	if len(bBlocks) < need || len(aBlocks) < need {
		m.why = fmt.Sprintf("%d and %d %s with data before and after; the test needs %d on each side", len(bBlocks), len(aBlocks), a.blockName(), need)
		if bounded != nil {
			m.why += fmt.Sprintf(" (the before window starts after the shift found at %s)", bounded.at.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return m, VerdictTooLittleData
	}
	m.nb, m.na = len(bBlocks), len(aBlocks)
	m.before = a.medianOf(a.window(m.bw.Start, m.bw.End))
	m.after = a.medianOf(a.window(m.aw.Start, m.aw.End))
	m.rawBefore, m.rawAfter = m.before, m.after
	if !(m.before > 0) || math.IsNaN(m.after) {
		m.why = "the before level is not positive, so there is no relative change"
		return m, VerdictTooSmall
	}
	m.change = (m.after - m.before) / m.before
	r, err := stats.MannWhitneyUTest(bBlocks, aBlocks, stats.LocationDiffers)
	if err == nil {
		m.p = r.P
	} else {
		m.p = 1
	}

	// Step or drift: compare the change with the placebo changes at
	// every other point of the history (see stepTest).
	m.step = a.placebo(a.dayIndex(dayOf(m.bw.Start)), a.dayIndex(dayOf(m.bw.End)),
		a.dayIndex(dayOf(m.aw.Start)), a.dayIndex(dayOf(m.aw.End)+1), math.Log(m.after/m.before))
	raw := signedPct(m.change)
	if m.step.trendSig && m.after > 0 {
		// Move both medians along the trend to the go-live: the change
		// reported is the step, not the step plus the trend's share.
		half := float64(m.step.wd) / 2
		m.before *= math.Exp(m.step.perDayLog * half)
		m.after *= math.Exp(-m.step.perDayLog * (float64(m.step.gap) + half))
		m.change = (m.after - m.before) / m.before
		m.detrended = true
	}
	if math.Abs(m.change) < a.p.MinChange {
		if m.detrended && math.Abs(m.rawAfter-m.rawBefore)/m.rawBefore >= a.p.MinChange {
			m.why = fmt.Sprintf("the windows differ by %s, but the series moves %s over any such span (a trend of %s a day): the step at the go-live is %s, under min_change %s",
				raw, signedPct(math.Expm1(m.step.trend)), signedPct(math.Expm1(m.step.perDayLog)), signedPct(m.change), pctOf(a.p.MinChange))
			return m, VerdictDrift
		}
		if rev := a.reverted(tau, m); rev != "" {
			m.why = rev
			return m, VerdictNotSustained
		}
		m.why = fmt.Sprintf("a change of %s, under min_change %s", signedPct(m.change), pctOf(a.p.MinChange))
		return m, VerdictTooSmall
	}
	if !(m.p < a.p.Alpha) {
		if rev := a.reverted(tau, m); rev != "" {
			m.why = rev
			return m, VerdictNotSustained
		}
		m.why = fmt.Sprintf("Mann–Whitney p = %s on %d vs %d %s, not below alpha %g", formatP(m.p), m.nb, m.na, a.blockName(), a.p.Alpha)
		return m, VerdictNotSignificant
	}
	if st := m.step; st.ok {
		if zc := zAlpha(a.p.Alpha); math.Abs(st.z) < zc || (st.z > 0) != (st.d > 0) {
			m.why = fmt.Sprintf("the windows differ by %s, but the same windows measure changes like it elsewhere in the series (typically %s, spread ± %s): the change is %.1f spreads out, not the %.1f a step needs — the level drifted",
				raw, signedPct(math.Expm1(st.trend)), pctOf(math.Expm1(st.scale)), math.Abs(st.z), zc)
			return m, VerdictDrift
		}
	}
	if why := a.spread(est, m); why != "" {
		m.why = why
		return m, VerdictDrift
	}
	m.mid = (m.before + m.after) / 2
	mid := (m.rawBefore + m.rawAfter) / 2
	up := m.rawAfter > m.rawBefore
	beyond := func(v float64) bool { return up == (v > mid) && v != mid }
	vals := aBlocks
	for _, v := range vals {
		if beyond(v) {
			m.held++
		}
	}
	if float64(m.held) < math.Ceil(heldFraction*float64(len(vals))) {
		m.why = fmt.Sprintf("only %d of %d %s after the settle stayed beyond the midpoint: the level did not hold", m.held, len(vals), a.blockName())
		if rev := a.reverted(tau, m); rev != "" {
			m.why = rev
		}
		return m, VerdictNotSustained
	}
	// The shift must have begun by the end of the settle: the after
	// window's first days already show the new level. A window whose first
	// days still sit at the old level straddles a later shift that
	// something else caused. And the level must still hold at the end of
	// the after window: a level that returns within it was reverted.
	// (Hourly series only: a day's median of a handful of irregular events
	// is too noisy to judge one day by.)
	if a.hourly {
		for _, v := range vals[:min(onsetBlocks, len(vals))] {
			if !beyond(v) {
				m.why = "the after window's first days still sat at the old level: the shift began after the settle"
				return m, VerdictNotSustained
			}
		}
		if n := len(vals); n >= 2*onsetBlocks+1 {
			back := 0
			for i := n - onsetBlocks; i < n; i++ {
				if !beyond(vals[i]) {
					back++
				}
			}
			if back == onsetBlocks {
				m.why = "the level returned before the end of the after window (reverted)"
				return m, VerdictNotSustained
			}
		}
	}
	m.improvement = (m.change < 0) == a.lower
	return m, ""
}

// concentration is the share of the claimed change the local step must
// carry (see spread): a step carries all of it, give or take the noise of
// two days; a ramp over a week, anchored at a PR in its middle, about half.
const concentration = 0.75

// spread reports, for an hourly series, whether the change between the
// windows is spread over them rather than concentrated at the shift: a
// ramp over days (a gradual rollout of traffic, a slow change) moves the
// window medians though no one moment did. The local step — the day just
// before the shift's span of plausible start times against the day just
// after it, on values with the daily and weekly cycles removed — must
// carry at least concentration of the windows' (trend-free) change,
// unless what it misses is within the noise of those two days (z_alpha
// robust standard errors): a small step on a noisy series is not judged
// this way. It returns a sentence, or "".
func (a *analysis) spread(est shiftEst, m measurement) string {
	if !a.hourly || !(m.before > 0) || !(m.after > 0) {
		return ""
	}
	lo, hi := est.at.Add(-est.tol), est.at.Add(est.lateTol())
	before := a.window(lo.Add(-day), lo)
	after := a.window(hi, hi.Add(day))
	if len(before) < 12 || len(after) < 12 {
		return "" // a gap beside the shift: nothing to judge by
	}
	if a.profile == nil {
		a.profile = a.dailyProfile()
	}
	logs := func(ss []model.Sample) (med, se float64, ok bool) {
		xs := make([]float64, 0, len(ss))
		for _, x := range ss {
			if v := x.Value / a.profile[hourOf(x.Time)] / a.wf[weekday(dayOf(x.Time))]; v > 0 {
				xs = append(xs, math.Log(v))
			}
		}
		if len(xs) < 12 {
			return 0, 0, false
		}
		med = median(xs)
		dev := make([]float64, len(xs))
		for i, x := range xs {
			dev[i] = math.Abs(x - med)
		}
		// Standard error of a median: 1.2533 σ/√n, σ from the MAD.
		return med, 1.2533 * 1.4826 * median(dev) / math.Sqrt(float64(len(xs))), true
	}
	mb, sb, okb := logs(before)
	ma, sa, oka := logs(after)
	if !okb || !oka {
		return ""
	}
	whole := math.Log(m.after / m.before) // the claimed change: trend-free when detrended
	local := ma - mb
	if m.detrended {
		local -= m.step.perDayLog * hi.Add(day).Sub(lo.Add(-day)).Hours() / 48
	}
	missed := whole - local
	if whole == 0 || local/whole >= concentration || math.Abs(missed) < zAlpha(a.p.Alpha)*math.Hypot(sa, sb) {
		return ""
	}
	return fmt.Sprintf("the windows differ by %s, but across the shift (the day before %s against the day after %s) the level moved %s: the change is spread over days, a ramp or a drift, not a step",
		signedPct(math.Expm1(whole)), fmtTime(lo), fmtTime(hi), signedPct(math.Expm1(local)))
}

// reverted reports, for a shift whose after window shows no lasting
// change, whether the level did move at tau and came back: the samples
// from tau to the start of the after window (the settle), or the after
// window's first onsetBlocks blocks, differ from the before median by at
// least MinChange, while the after window's last onsetBlocks blocks are
// back within half of that change. It returns a sentence, or "".
func (a *analysis) reverted(tau time.Time, m measurement) string {
	if !a.hourly || !(m.rawBefore > 0) || m.aw.End.Sub(m.aw.Start) < time.Duration(2*onsetBlocks)*a.block {
		return ""
	}
	rel := func(from, to time.Time) float64 {
		if to.Sub(from) < 6*time.Hour {
			return 0
		}
		x := a.medianOf(a.window(from, to))
		if math.IsNaN(x) {
			return 0
		}
		return (x - m.rawBefore) / m.rawBefore
	}
	moved, until := rel(tau, m.aw.Start), m.aw.Start
	if early := rel(m.aw.Start, m.aw.Start.Add(onsetBlocks*a.block)); math.Abs(early) > math.Abs(moved) {
		moved, until = early, m.aw.Start.Add(onsetBlocks*a.block)
	}
	if math.Abs(moved) < a.p.MinChange {
		return ""
	}
	if late := rel(m.aw.End.Add(-onsetBlocks*a.block), m.aw.End); math.Abs(late) > math.Abs(moved)/2 {
		return "" // not back near the old level (still moved, or moved on)
	}
	return fmt.Sprintf("the level moved %s at %s and was back by %s, within the after window: not sustained (reverted)",
		signedPct(moved), fmtTime(tau), fmtTime(until.Add(time.Duration(onsetBlocks)*a.block)))
}

func (a *analysis) blockName() string {
	if a.block == day {
		return "days"
	}
	return humanDur(a.block) + " blocks"
}

// signedPct is x as a signed percentage with a true minus sign, as the
// statements write changes (−41%, +12%).
func signedPct(x float64) string {
	return strings.Replace(fmt.Sprintf("%+.0f%%", 100*x), "-", "−", 1)
}

func pctOf(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// blocks aggregates a window into blocks of a.block: medians (sums for
// weekly series). Before windows are cut into blocks backwards from their
// end, after windows forwards from their start. Blocks without data are
// left out (weekly series: blocks outside the series' span).
func (a *analysis) blocks(w model.Window, backwards bool) []float64 {
	n := int(w.End.Sub(w.Start) / a.block)
	out := make([]float64, 0, n)
	var first time.Time
	if a.weekly {
		first = dayStart(dayOf(a.s[0].Time))
	}
	for i := 0; i < n; i++ {
		var from time.Time
		if backwards {
			from = w.End.Add(-time.Duration(n-i) * a.block)
		} else {
			from = w.Start.Add(time.Duration(i) * a.block)
		}
		to := from.Add(a.block)
		ws := a.window(from, to)
		if a.weekly {
			if from.Before(first) || to.After(a.end) {
				continue
			}
			t := 0.0
			for _, x := range ws {
				t += x.Value
			}
			out = append(out, t)
			continue
		}
		if len(ws) == 0 {
			continue
		}
		out = append(out, a.medianOf(ws))
	}
	return out
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}
