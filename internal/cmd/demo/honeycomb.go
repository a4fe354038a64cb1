package demo

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// demoClock is the time the demo's fake Honeycomb and its replayed polls
// see.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// honeycombFake serves the world's honeycomb metrics: a query is answered
// from the series of the metric with its dataset and spec.
func honeycombFake(w *world.World, now func() time.Time) http.Handler {
	type key struct{ dataset, spec string }
	ids := map[key]string{}
	for _, m := range w.Metrics {
		if m.Source != honeycomb.Name {
			continue
		}
		if s, err := honeycomb.ParseQuery(m.Query); err == nil {
			ids[key{m.In, s.Canonical()}] = m.ID
		}
	}
	return &honeycomb.Fake{Key: "demo", Now: now, Instant: true,
		Series: func(dataset string, s honeycomb.Spec, from, to time.Time) []model.Sample {
			var out []model.Sample
			for _, x := range w.Series[ids[key{dataset, s.Canonical()}]] {
				if !x.Time.Before(from) && x.Time.Before(to) {
					out = append(out, x)
				}
			}
			return out
		}}
}

// honeycombHistory replays the polls of a daemon that has run since the
// world's start: Honeycomb's Query Data API reads back only 7 days, so a
// series' history exists because impact polled it. One poll every 6 days
// up to end (the demo's main collection reads the last 7 days).
func honeycombHistory(ctx context.Context, p *app.Pipeline, w *world.World, end time.Time, clock *demoClock) ([]collectors.Result, error) {
	defer clock.set(end)
	var out []collectors.Result
	for t := w.Start.Add(6 * 24 * time.Hour); t.Before(end); t = t.Add(6 * 24 * time.Hour) {
		clock.set(t)
		rs, err := p.Collect(ctx, app.CollectOptions{Source: honeycomb.Name, Since: w.Start})
		if err != nil {
			return nil, fmt.Errorf("demo: honeycomb poll at %s: %w", t.Format(time.DateTime), err)
		}
		out = append(out, rs...)
	}
	return out, nil
}
