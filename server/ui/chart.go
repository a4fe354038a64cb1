package ui

import (
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH           = 600, 170
	padL, padR, padT, padB   = 58, 10, 18, 24
	maxChartPoints           = 200
	seriesCacheTTL           = time.Minute
	defaultChartMarginWindow = 0
)

// Chart draws a draft's series around its shift as inline SVG: the before
// and after windows shaded, each window's level, the series, a line where
// each credited PR went live and one where the after window starts (the
// settle). Only numbers and dates are drawn, no collected text; the
// accessible name is escaped. Fewer than two samples: no chart.
func Chart(d model.Draft, samples []model.Sample, weekly bool) template.HTML {
	from, to := d.BeforeWindow.Start, d.AfterWindow.End
	if from.IsZero() || !to.After(from) {
		return ""
	}
	pts := chartPoints(samples, from, to, weekly)
	if len(pts) < 2 {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
	}
	for _, v := range []float64{d.Before, d.After} {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	pad := (hi - lo) * 0.08
	hi += pad
	if lo >= 0 && lo-pad < 0 {
		lo = 0
	} else {
		lo -= pad
	}
	span := float64(to.Sub(from))
	x := func(t time.Time) float64 {
		return padL + float64(t.Sub(from))/span*(chartW-padL-padR)
	}
	y := func(v float64) float64 {
		return padT + (hi-v)/(hi-lo)*(chartH-padT-padB)
	}
	clampX := func(t time.Time) float64 { return math.Max(padL, math.Min(chartW-padR, x(t))) }

	unit := d.Metric.Unit
	var b strings.Builder
	b.Grow(4096 + 16*len(pts))
	label := fmt.Sprintf("%s: %s before, %s after (%s); before window %s to %s, after window %s to %s",
		clean(metricName(d.Metric)), drafter.FormatValue(d.Before, unit), drafter.FormatValue(d.After, unit),
		drafter.FormatChange(d.Change, d.Metric.Better), day(d.BeforeWindow.Start), day(d.BeforeWindow.End),
		day(d.AfterWindow.Start), day(d.AfterWindow.End))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="none">`, chartW, chartH, html.EscapeString(label))
	top, bottom := float64(padT), float64(chartH-padB)
	rect := func(class string, a, z time.Time) {
		x0, x1 := clampX(a), clampX(z)
		if x1 > x0 {
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, class, x0, top, x1-x0, bottom-top)
		}
	}
	rect("win-before", d.BeforeWindow.Start, d.BeforeWindow.End)
	rect("win-after", d.AfterWindow.Start, d.AfterWindow.End)
	// Axes: the value range on the left, the first and last day below.
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padL, bottom, chartW-padR, bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-4, top+8, html.EscapeString(drafter.FormatValue(hi, unit)))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-4, bottom, html.EscapeString(drafter.FormatValue(lo, unit)))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, padL, chartH-6, day(from))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-padR, chartH-6, day(to))
	// The series.
	b.WriteString(`<polyline class="series" points="`)
	num := make([]byte, 0, 16)
	for i, p := range pts {
		if i > 0 {
			num = append(num[:0], ' ')
		} else {
			num = num[:0]
		}
		num = strconv.AppendFloat(num, math.Round(x(p.t)*10)/10, 'f', -1, 64)
		num = append(num, ',')
		num = strconv.AppendFloat(num, math.Round(y(p.v)*10)/10, 'f', -1, 64)
		b.Write(num)
	}
	b.WriteString(`"/>`)
	// Each window's level.
	level := func(class string, w model.Window, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, clampX(w.Start), y(v), clampX(w.End), y(v))
	}
	level("level-before", d.BeforeWindow, d.Before)
	level("level-after", d.AfterWindow, d.After)
	// Go-live of each credited PR, and the settle (the after window's start).
	seen := map[int]bool{}
	for _, p := range d.PRs {
		t := p.LiveAt
		if t.IsZero() {
			t = p.MergedAt
		}
		if t.Before(from) || t.After(to) {
			continue
		}
		px := x(t)
		if seen[int(px)] {
			continue
		}
		seen[int(px)] = true
		fmt.Fprintf(&b, `<line class="live" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, top-4, px, bottom)
		if len(seen) == 1 {
			fmt.Fprintf(&b, `<text class="mark" x="%.1f" y="%.1f" text-anchor="end">go-live</text>`, px-2, top-6)
		}
	}
	if !d.AfterWindow.Start.IsZero() {
		sx := x(d.AfterWindow.Start)
		fmt.Fprintf(&b, `<line class="settle" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, sx, top-4, sx, bottom)
		fmt.Fprintf(&b, `<text class="mark" x="%.1f" y="%.1f">settled</text>`, sx+2, top-6)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built above from numbers and dates; the label is escaped
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

type point struct {
	t time.Time
	v float64
}

// chartPoints keeps the samples in [from, to), as daily sums scaled to a
// per-week rate for weekly counts, averaged into at most maxChartPoints
// buckets.
func chartPoints(samples []model.Sample, from, to time.Time, weekly bool) []point {
	var pts []point
	if weekly {
		start := from.UTC().Truncate(24 * time.Hour)
		days := int(to.Sub(start)/(24*time.Hour)) + 1
		sums := make([]float64, days)
		for _, s := range samples {
			if s.Time.Before(start) || !s.Time.Before(to) || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				continue
			}
			sums[int(s.Time.Sub(start)/(24*time.Hour))] += s.Value
		}
		for i, v := range sums {
			t := start.Add(time.Duration(i)*24*time.Hour + 12*time.Hour)
			if !t.Before(from) && t.Before(to) {
				pts = append(pts, point{t, v * 7})
			}
		}
		return pts
	}
	ok := func(s model.Sample) bool {
		return !s.Time.Before(from) && s.Time.Before(to) && !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0)
	}
	n := 0
	for _, s := range samples {
		if ok(s) {
			n++
		}
	}
	if n <= maxChartPoints {
		pts = make([]point, 0, n)
		for _, s := range samples {
			if ok(s) {
				pts = append(pts, point{s.Time, s.Value})
			}
		}
		return pts
	}
	// Average into equal time buckets.
	width := to.Sub(from) / maxChartPoints
	out := make([]point, 0, maxChartPoints+1)
	var sum float64
	var cnt int
	bucket := -1
	flush := func() {
		if cnt > 0 {
			out = append(out, point{from.Add(time.Duration(bucket)*width + width/2), sum / float64(cnt)})
		}
		sum, cnt = 0, 0
	}
	for _, s := range samples {
		if !ok(s) {
			continue
		}
		p := point{s.Time, s.Value}
		bk := int(p.t.Sub(from) / width)
		if bk != bucket {
			flush()
			bucket = bk
		}
		sum += p.v
		cnt++
	}
	flush()
	return out
}

// StoreData reads what the page needs beyond drafts from the store: the
// samples of a draft's series (Series) and what the drafter finds in it
// (Explain). The drafter's input (every series, built-in ones included,
// the PRs and deploys) is loaded at most once a minute.
type StoreData struct {
	st  *store.Store
	cfg func() *config.Config
	now func() time.Time

	mu sync.Mutex
	in *drafter.Input
	at time.Time
}

// NewStoreData reads from st with the config cfg returns; now is the
// drafter's clock (nil: time.Now).
func NewStoreData(st *store.Store, cfg func() *config.Config, now func() time.Time) *StoreData {
	if now == nil {
		now = time.Now
	}
	return &StoreData{st: st, cfg: cfg, now: now}
}

// input is the drafter's input, cached for seriesCacheTTL.
func (sd *StoreData) input(ctx context.Context) (drafter.Input, error) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.in == nil || time.Since(sd.at) > seriesCacheTTL {
		p := &app.Pipeline{Config: sd.cfg(), Store: sd.st, Now: sd.now}
		in, err := p.DrafterInput(ctx)
		if err != nil {
			return drafter.Input{}, err
		}
		sd.in, sd.at = &in, time.Now()
	}
	return *sd.in, nil
}

// Series is an Options.Series: a configured metric's samples from the
// store; for a built-in series (pagerduty.*, ci.*, computed from stored
// events) the series the drafter reads.
func (sd *StoreData) Series(ctx context.Context, d model.Draft) ([]model.Sample, bool, error) {
	ss, err := sd.st.Samples(ctx, d.Metric.ID, d.BeforeWindow.Start, d.AfterWindow.End)
	if err != nil || len(ss) > 0 {
		return ss, false, err
	}
	in, err := sd.input(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, s := range in.Series {
		if s.Metric.ID == d.Metric.ID {
			return s.Samples, s.Metric.Weekly, nil
		}
	}
	return nil, false, nil
}

// Explain is an Options.Explain: what `impact explain METRIC --at SHIFT`
// shows of the draft's series around its shift (app.Pipeline.ExplainInput:
// a configured series up to the pass's horizon, a long one in two parts,
// as the pass analysed it). Nil when the series is not among the
// drafter's input.
func (sd *StoreData) Explain(ctx context.Context, d model.Draft) (*drafter.Explanation, error) {
	in, err := sd.input(ctx)
	if err != nil {
		return nil, err
	}
	p := &app.Pipeline{Config: sd.cfg(), Store: sd.st, Now: sd.now}
	ex, err := p.ExplainInput(ctx, in, d.Metric.ID, d.ShiftAt)
	if errors.Is(err, app.ErrUnknownMetric) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &ex, nil
}
