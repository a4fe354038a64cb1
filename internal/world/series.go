package world

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Regime is one stretch of a series at a constant true level, from From
// until the next regime's From (or the end of the series).
type Regime struct {
	From  time.Time
	Level float64
}

// Shape describes how a series wiggles around its true level.
type Shape struct {
	// DailyAmp is the relative amplitude of the daily cycle (0.2 = ±20%),
	// peaking at PeakHour (UTC, fractional hours allowed).
	DailyAmp float64
	PeakHour float64
	// Weekend multiplies Saturday and Sunday (0.8 = 20% lower).
	Weekend float64
	// Sigma is the log-sd of the multiplicative log-normal noise.
	Sigma float64
	// Spikes is how many incident spikes (1–2 hours at 3–5×) to add;
	// SpikeDown makes them dips (÷3–5) instead, as an outage looks on a
	// throughput series.
	Spikes    int
	SpikeDown bool
	// Min and Max clamp the values (e.g. 0 and 100 for percent). Max 0
	// means no upper bound.
	Min, Max float64
	// Growth is organic growth per day, compounding from GrowthFrom (or
	// start; 0.012 = +1.2% a day; negative for decay): the levels are then
	// the levels before it, and the growth adds no step anywhere.
	Growth     float64
	GrowthFrom time.Time
	// Walk is the daily log-sd of a random walk the level follows (0.03 =
	// about 3% a day either way): no step anywhere, and no level to return to.
	Walk float64
}

// GenerateSeries builds hourly samples on [start, end) (start and end are
// truncated to the hour) following regimes (sorted by From; the first one is
// in force from start whatever its From says).
//
// Calibration: the series is level × daily cycle × weekly effect × noise ×
// spikes, and then each regime is rescaled so that the median of its own
// samples equals the regime's Level exactly. To keep the median over any
// whole week inside a regime close to Level too (within about 2%; rms
// 0.4%), three things help: every 168-hour window holds each hour of the
// week exactly once; the noise is stratified in blocks of 6 hours (each
// block's draws are a random permutation of evenly spread quantiles); and
// one pass divides each regime by its centred rolling weekly median
// (flattenWeekly), which removes the slow wander that i.i.d. noise leaves in
// weekly medians without touching the hour-to-hour texture. The tests check
// every whole-week window.
//
// Spikes are never placed within 2 days of a regime boundary or of a time in
// quiet (e.g. the merges that caused a shift), so they cannot blur a shift.
func GenerateSeries(rng *rand.Rand, start, end time.Time, regimes []Regime, sh Shape, quiet []time.Time) []model.Sample {
	start = start.UTC().Truncate(time.Hour)
	end = end.UTC().Truncate(time.Hour)
	n := int(end.Sub(start) / time.Hour)
	if n <= 0 || len(regimes) == 0 {
		return nil
	}
	weekend := sh.Weekend
	if weekend == 0 {
		weekend = 1
	}
	shape := make([]float64, n)
	times := make([]time.Time, n)
	// Standard normals stratified per block of stratK hours.
	const stratK = 6
	z := make([]float64, 0, 24)
	for i := range n {
		if i%stratK == 0 {
			z = stratifiedNormals(rng, stratK, z[:0])
		}
		t := start.Add(time.Duration(i) * time.Hour)
		times[i] = t
		h := float64(t.Hour())
		c := 1 + sh.DailyAmp*(0.8*math.Cos(2*math.Pi*(h-sh.PeakHour)/24)+0.2*math.Cos(4*math.Pi*(h-sh.PeakHour)/24))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			c *= weekend
		}
		shape[i] = c * math.Exp(sh.Sigma*z[i%stratK])
	}

	// Regime index per sample.
	reg := make([]int, n)
	r := 0
	for i, t := range times {
		for r+1 < len(regimes) && !t.Before(regimes[r+1].From) {
			r++
		}
		reg[i] = r
	}

	// Incident spikes, away from boundaries and quiet times.
	avoid := slices.Clone(quiet)
	for _, rg := range regimes[1:] {
		avoid = append(avoid, rg.From)
	}
	for k := 0; k < sh.Spikes; k++ {
		for try := 0; try < 100; try++ {
			i := 24 + rng.IntN(max(1, n-72))
			if i >= n || near(times[i], avoid, 48*time.Hour) {
				continue
			}
			f := 3 + 2*rng.Float64()
			if sh.SpikeDown {
				f = 1 / f
			}
			length := 1 + rng.IntN(2)
			for j := i; j < i+length && j < n; j++ {
				shape[j] *= f
			}
			avoid = append(avoid, times[i])
			break
		}
	}

	// The walk, drawn after everything else so that it changes no other draw.
	var walk []float64
	if sh.Walk > 0 {
		walk = make([]float64, n)
		x, sd := 0.0, sh.Walk/math.Sqrt(24)
		for i := range walk {
			x += sd * rng.NormFloat64()
			walk[i] = math.Exp(x)
		}
	}

	// Rescale each regime so its median is its level.
	out := make([]model.Sample, n)
	for ri, rg := range regimes {
		var vals []float64
		for i := range n {
			if reg[i] == ri {
				vals = append(vals, shape[i])
			}
		}
		if len(vals) == 0 {
			continue
		}
		vals = flattenWeekly(vals)
		scale := rg.Level / Median(vals)
		j := 0
		for i := range n {
			if reg[i] == ri {
				v := vals[j] * scale
				j++
				if walk != nil {
					v *= walk[i]
				}
				if sh.Growth != 0 {
					from := start
					if sh.GrowthFrom.After(start) {
						from = sh.GrowthFrom
					}
					v *= math.Pow(1+sh.Growth, max(0, times[i].Sub(from).Hours()/24))
				}
				if v < sh.Min {
					v = sh.Min
				}
				if sh.Max > 0 && v > sh.Max {
					v = sh.Max
				}
				out[i] = model.Sample{Time: times[i], Value: v}
			}
		}
	}
	return out
}

// stratifiedNormals appends k standard normal draws, one from each of k
// equal-probability strata, in random order.
func stratifiedNormals(rng *rand.Rand, k int, dst []float64) []float64 {
	for _, s := range rng.Perm(k) {
		u := (float64(s) + rng.Float64()) / float64(k)
		u = min(max(u, 1e-9), 1-1e-9)
		dst = append(dst, math.Sqrt2*math.Erfinv(2*u-1))
	}
	return dst
}

func near(t time.Time, ts []time.Time, d time.Duration) bool {
	for _, x := range ts {
		if diff := t.Sub(x); diff < d && diff > -d {
			return true
		}
	}
	return false
}

// Median returns the median of xs (the mean of the two middle values for an
// even count); NaN for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// WindowMedian is the median of the samples with from ≤ Time < to.
func WindowMedian(ss []model.Sample, from, to time.Time) (median float64, n int) {
	var vals []float64
	for _, s := range ss {
		if !s.Time.Before(from) && s.Time.Before(to) {
			vals = append(vals, s.Value)
		}
	}
	return Median(vals), len(vals)
}

// seedFor derives a per-name seed so that adding a series does not change
// the others.
func seedFor(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// flattenWeekly divides each value by the median of the (up to) 168-hour
// window centred on it, relative to the overall median, so that the median
// of any whole week is close to the overall median. The window slides over
// a sorted copy, so this is linear in len(vals) times the window.
func flattenWeekly(vals []float64) []float64 {
	const week = 168
	all := Median(vals)
	out := make([]float64, len(vals))
	var win []float64 // sorted values of vals[lo:hi]
	lo, hi := 0, 0
	for i := range vals {
		wlo, whi := i-week/2, i+week/2
		if wlo < 0 {
			wlo, whi = 0, min(len(vals), week)
		}
		if whi > len(vals) {
			wlo, whi = max(0, len(vals)-week), len(vals)
		}
		for ; hi < whi; hi++ {
			j, _ := slices.BinarySearch(win, vals[hi])
			win = slices.Insert(win, j, vals[hi])
		}
		for ; lo < wlo; lo++ {
			j, _ := slices.BinarySearch(win, vals[lo])
			win = slices.Delete(win, j, j+1)
		}
		m := len(win) / 2
		med := win[m]
		if len(win)%2 == 0 {
			med = (win[m-1] + win[m]) / 2
		}
		out[i] = vals[i] * all / med
	}
	return out
}
