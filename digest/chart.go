package digest

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// Chart image size: drawn at 2× for high-density screens, shown at
// ChartWidth × ChartHeight CSS pixels.
const (
	ChartWidth  = 536
	ChartHeight = 150
	chartDPI    = 144 // 2 × 72 points per inch
)

var (
	colSeries = color.RGBA{0x9d, 0xb4, 0xd3, 0xff}
	colBefore = color.RGBA{0x6b, 0x72, 0x80, 0xff}
	colAfter  = color.RGBA{0x15, 0x80, 0x3d, 0xff}
	colLive   = color.RGBA{0xc2, 0x41, 0x0c, 0xff}
	colAxis   = color.RGBA{0x9c, 0xa3, 0xaf, 0xff}
	colText   = color.RGBA{0x37, 0x41, 0x51, 0xff}
	colGrid   = color.RGBA{0xee, 0xf0, 0xf3, 0xff}

	chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
)

// PNG draws the chart: the series over the before and after windows, the
// median level of each window, and a vertical line where each credited PR
// went live. Only numbers and dates are drawn, no collected text.
func (c *Chart) PNG() ([]byte, error) {
	if c == nil || len(c.Samples) < 2 {
		return nil, fmt.Errorf("chart: no samples")
	}
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	pts := c.points()
	if len(pts) < 2 {
		return nil, fmt.Errorf("chart: no samples")
	}

	p := plot.New()
	p.BackgroundColor = color.White
	small := font.From(chartFont, 7)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Color = colAxis
		ax.Tick.Color = colAxis
		ax.Tick.Label.Color = colText
		ax.Tick.Label.Font = small
		ax.Padding = 0
		ax.Tick.Length = 3
	}
	p.X.Min, p.X.Max = unix(c.BeforeWindow.Start), unix(c.AfterWindow.End)
	p.X.Tick.Marker = dayTicks{loc: loc}
	p.Y.Tick.Marker = valueTicks{unit: c.Unit}

	// Y range: 0 (for positive data) to a little above the levels and the
	// bulk of the data; rare spikes are clipped rather than squashing the
	// levels into a line.
	vals := make([]float64, len(pts))
	for i, pt := range pts {
		vals[i] = pt.Y
	}
	slices.Sort(vals)
	lo := math.Min(vals[0], math.Min(c.Before, c.After))
	hi := math.Max(vals[int(0.98*float64(len(vals)-1))], math.Max(c.Before, c.After))
	if lo >= 0 {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	p.Y.Min, p.Y.Max = lo, hi+(hi-lo)*0.18

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Transparent
	grid.Horizontal.Color = colGrid
	grid.Horizontal.Width = vg.Points(0.5)
	p.Add(grid)

	series, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	series.Color = colSeries
	series.Width = vg.Points(0.7)
	p.Add(series)

	level := func(w model.Window, v float64, col color.Color) error {
		l, err := plotter.NewLine(plotter.XYs{{X: unix(w.Start), Y: v}, {X: unix(w.End), Y: v}})
		if err != nil {
			return err
		}
		l.Color = col
		l.Width = vg.Points(1.6)
		p.Add(l)
		return nil
	}
	if err := level(c.BeforeWindow, c.Before, colBefore); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	if err := level(c.AfterWindow, c.After, colAfter); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	for _, t := range c.LiveAt {
		x := unix(t)
		if x < p.X.Min || x > p.X.Max {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: p.Y.Min}, {X: x, Y: p.Y.Max}})
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		l.Color = colLive
		l.Width = vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(2.5), vg.Points(1.5)}
		p.Add(l)
	}

	// "went live" by the first go-live line. The levels' values are in
	// the text above the chart, not drawn over the series.
	if len(c.LiveAt) > 0 {
		x := unix(slices.MinFunc(c.LiveAt, time.Time.Compare))
		top := p.Y.Max - (p.Y.Max-p.Y.Min)*0.02
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: top}}, Labels: []string{"went live "}})
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font = font.From(chartFont, 7.5)
			l.TextStyle[i].Color = colLive
			l.TextStyle[i].XAlign = draw.XRight
			l.TextStyle[i].YAlign = draw.YTop
		}
		p.Add(l)
	}

	w := vg.Length(ChartWidth) * vg.Inch / 96
	h := vg.Length(ChartHeight) * vg.Inch / 96
	canvas := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI*96/72))
	dc := draw.New(canvas)
	p.Draw(dc)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: png: %w", err)
	}
	return buf.Bytes(), nil
}

// points are the samples to draw: as they are, or for weekly count series
// daily sums scaled to a per-week rate (the unit of Before and After).
func (c *Chart) points() plotter.XYs {
	if !c.Weekly {
		out := make(plotter.XYs, 0, len(c.Samples))
		for _, s := range c.Samples {
			if !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0) {
				out = append(out, plotter.XY{X: unix(s.Time), Y: s.Value})
			}
		}
		return out
	}
	var out plotter.XYs
	start := c.BeforeWindow.Start.UTC().Truncate(24 * time.Hour)
	sums := map[int]float64{}
	days := int(c.AfterWindow.End.Sub(start)/(24*time.Hour)) + 1
	for _, s := range c.Samples {
		sums[int(s.Time.Sub(start)/(24*time.Hour))] += s.Value
	}
	for d := 0; d < days; d++ {
		t := start.Add(time.Duration(d)*24*time.Hour + 12*time.Hour)
		out = append(out, plotter.XY{X: unix(t), Y: sums[d] * 7})
	}
	return out
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

// dayTicks marks every day, labelling about five of them "Jan 2".
type dayTicks struct{ loc *time.Location }

func (d dayTicks) Ticks(min, max float64) []plot.Tick {
	from := time.Unix(int64(min), 0).In(d.loc)
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, d.loc)
	n := int((max-min)/86400) + 1
	step := max1(n / 5)
	var ts []plot.Tick
	for i := 0; ; i++ {
		t := day.AddDate(0, 0, i)
		x := unix(t)
		if x > max {
			break
		}
		if x < min {
			continue
		}
		tk := plot.Tick{Value: x}
		if i%step == 0 {
			tk.Label = t.Format("Jan 2")
		}
		ts = append(ts, tk)
	}
	return ts
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// valueTicks are the default ticks labelled in the metric's unit.
type valueTicks struct{ unit string }

func (v valueTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	out := ts[:0]
	for _, t := range ts {
		if t.Label == "" {
			continue // no minor ticks: a small chart
		}
		t.Label = drafter.FormatValue(t.Value, v.unit)
		out = append(out, t)
	}
	return out
}
