package collectors

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Result is the outcome of one collector run, timed by the framework.
type Result struct {
	Source   string
	Start    time.Time
	Duration time.Duration
	// Samples and Events count what the run committed.
	Samples int
	Events  int
	Err     error
}

// RunAll runs every collector once, concurrently, each isolated from the
// others: an error or even a panic in one is reported in its Result and the
// rest carry on. The framework, not the collector, times the run and counts
// what it committed. onDone, if set, is called as each collector finishes.
func RunAll(ctx context.Context, cs []Collector, run Run, onDone func(Result)) []Result {
	results := make([]Result, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runOne(ctx, c, run)
			if onDone != nil {
				onDone(results[i])
			}
		}()
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, c Collector, run Run) (res Result) {
	res = Result{Source: c.Name(), Start: time.Now()}
	cs := &countingSink{Sink: run.Sink}
	run.Sink = cs
	if run.Progress == nil {
		run.Progress = NopProgress{}
	}
	if run.Logger != nil {
		run.Logger = run.Logger.With("source", c.Name())
	}
	defer func() {
		if p := recover(); p != nil {
			res.Err = fmt.Errorf("%s: collector panicked: %v\n%s", c.Name(), p, debug.Stack())
		}
		res.Duration = time.Since(res.Start)
		res.Samples = int(cs.samples.Load())
		res.Events = int(cs.events.Load())
	}()
	res.Err = c.Collect(ctx, run)
	return res
}

// countingSink counts what passes through to the real sink.
type countingSink struct {
	Sink
	samples, events atomic.Int64
}

func (s *countingSink) Commit(ctx context.Context, b model.Batch) error {
	if err := s.Sink.Commit(ctx, b); err != nil {
		return err
	}
	n := 0
	for _, ss := range b.Samples {
		n += len(ss)
	}
	s.samples.Add(int64(n))
	s.events.Add(int64(len(b.PRs) + len(b.Deploys) + len(b.Incidents) + len(b.CIRuns)))
	return nil
}
