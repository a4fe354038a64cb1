package daemon

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/impact-dev/impact/config"
)

// Interval returns how often source is polled under cfg (the source's
// interval, an hour when it has none); the loops ask the registry
// (collectors.Registry.Interval), which answers the same.
func Interval(cfg *config.Config, source string) time.Duration {
	return cfg.PollInterval(source)
}

// Backoff is the wait after the n-th consecutive failure (n ≥ 1): base
// doubling with each failure, capped at max (or at the interval, when that
// is longer: a failing source is never polled more rarely than that cap).
func Backoff(n int, base, max, interval time.Duration) time.Duration {
	limit := max
	if interval > limit {
		limit = interval
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	return d
}

// schedule runs one loop per configured source until ctx is done; a config
// reload starts loops for new sources, stops removed ones, and lets the
// others pick up a changed interval.
func (d *Daemon) schedule(ctx context.Context) error {
	type loop struct {
		cancel context.CancelFunc
		wake   chan struct{}
	}
	loops := map[string]*loop{}
	var wg sync.WaitGroup
	sync := func() {
		want := map[string]bool{}
		for _, name := range d.sourceNames(d.config()) {
			want[name] = true
		}
		for name, l := range loops {
			if !want[name] {
				d.log.Info("source no longer configured; polling stops", "source", name)
				l.cancel()
				delete(loops, name)
				continue
			}
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
		for name := range want {
			if loops[name] != nil {
				continue
			}
			lctx, cancel := context.WithCancel(ctx)
			l := &loop{cancel: cancel, wake: make(chan struct{}, 1)}
			loops[name] = l
			d.m.initSource(name)
			wg.Go(func() { d.sourceLoop(lctx, name, l.wake) })
		}
	}
	sync()
	for {
		select {
		case <-ctx.Done():
			for _, l := range loops {
				l.cancel()
			}
			wg.Wait()
			return nil
		case <-d.reloaded:
			sync()
		}
	}
}

// sourceLoop polls one source: first after a short random delay, then
// every interval (± jitter); after a failure, after a backoff that grows
// with each consecutive failure, until a poll succeeds again.
func (d *Daemon) sourceLoop(ctx context.Context, source string, wake <-chan struct{}) {
	log := d.log.With("source", source)
	failures := 0
	var lastEnd time.Time
	first := time.Duration(0)
	if d.o.StartJitter > 0 {
		first = time.Duration(rand.Int64N(int64(d.o.StartJitter)))
	}
	next := time.Now().Add(first)
	d.m.nextPoll.WithLabelValues(source).Set(float64(next.Unix()))
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			// The config was reloaded: a healthy source moves to its new interval.
			if failures == 0 && !lastEnd.IsZero() {
				next = lastEnd.Add(jitter(d.reg.Interval(d.config(), source), d.o.Jitter))
				timer.Reset(time.Until(next))
				d.m.nextPoll.WithLabelValues(source).Set(float64(next.Unix()))
			}
			continue
		case <-timer.C:
		}
		cfg := d.config()
		log.Debug("polling")
		_, err := d.pollSource(ctx, cfg, source, time.Time{})
		if ctx.Err() != nil {
			return
		}
		lastEnd = time.Now()
		interval := d.reg.Interval(cfg, source)
		var wait time.Duration
		if err != nil {
			failures++
			wait = Backoff(failures, d.o.BackoffBase, d.o.BackoffMax, interval)
			log.Warn("poll failed; backing off", "failures", failures, "retry_in", wait.Round(time.Second), "err", err)
		} else {
			if failures > 0 {
				log.Info("source recovered", "after_failures", failures)
			}
			failures = 0
			wait = jitter(interval, d.o.Jitter)
		}
		d.m.consecutiveFailures.WithLabelValues(source).Set(float64(failures))
		next = lastEnd.Add(wait)
		d.m.nextPoll.WithLabelValues(source).Set(float64(next.Unix()))
		timer.Reset(wait)
	}
}
