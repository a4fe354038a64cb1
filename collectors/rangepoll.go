package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// RangeMetric is one series a RangePoll reads.
type RangeMetric struct {
	// ID is the metric id: the series id and the cursor key.
	ID string
	// Query identifies what is asked (the query as sent); when it differs
	// from the one stored in the cursor, the series is read again from
	// Run.Since.
	Query string
}

// RangeQuery reads metric m between from and to (both on an hour
// boundary, from < to) and returns its hourly samples in [from, to), in
// time order. An error fails the metric (the others go on).
type RangeQuery func(ctx context.Context, m RangeMetric, from, to time.Time) ([]model.Sample, error)

// RangeCursor is what a RangePoll stores under each metric id.
type RangeCursor struct {
	// Through is the end of the range stored: the next poll starts here. It
	// is always on an hour boundary and never past the start of the
	// still-open hour.
	Through time.Time `json:"through"`
	// Query is the query the data was read with.
	Query string `json:"query,omitempty"`
}

// RangePoll is the poll loop of a time-series source whose vendor answers
// "this metric between these times": it plans each metric's range from its
// cursor (or Run.Since), cuts it into chunks the vendor allows, asks for
// them oldest first, and commits each chunk's samples together with the
// advanced cursor, so an interrupted backfill resumes at the first chunk it
// did not store. Progress counts chunks. A poll when no hour has completed
// since the last one asks nothing.
type RangePoll struct {
	// Source names the source in batches, cursors, progress and errors.
	Source string
	// Chunk is the longest range one query may cover (a whole number of
	// hours).
	Chunk time.Duration
	// MinRange, if set, is the shortest range a query may cover: a shorter
	// one starts earlier (re-reading stored hours, which overwrite
	// themselves) — for vendors that refuse hourly buckets over a short
	// range.
	MinRange time.Duration
	// MaxAge, if set, is how far back the vendor keeps data queryable: a
	// range starting earlier is cut (and the cut logged once).
	MaxAge time.Duration
	// DefaultSince is how far back a first poll reaches when Run.Since is
	// zero.
	DefaultSince time.Duration
	// OpenHour reads the still-open hour too: the last chunk ends at
	// Run.Now, its partial hour is stored and overwritten, final, by the
	// first poll after the hour closes (the cursor never passes the open
	// hour's start). Datadog answers a partial hour and Prometheus evaluates
	// the open hour's start; others leave it out.
	OpenHour bool
	Metrics  []RangeMetric
	Query    RangeQuery
	Logger   *slog.Logger
}

type rangeChunk struct{ from, to time.Time }

type rangePlan struct {
	m      RangeMetric
	chunks []rangeChunk
}

// Collect implements the poll: every metric from its cursor (or
// Run.Since) to Run.Now. Failing metrics do not stop the others; their
// errors are joined.
func (p *RangePoll) Collect(ctx context.Context, run Run) error {
	if run.Sink == nil {
		return errors.New(p.Source + ": no sink")
	}
	if p.Chunk < time.Hour || p.Chunk%time.Hour != 0 {
		return fmt.Errorf("%s: chunk %v must be a whole number of hours", p.Source, p.Chunk)
	}
	run = run.WithDefaults(p.Logger)
	log, progress, now := run.Logger, run.Progress, run.Now
	open := now.Truncate(time.Hour)

	var errs []error
	var plans []rangePlan
	var total int64
	for _, m := range p.Metrics {
		start, resumed, err := p.start(ctx, run, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resumed && !start.Before(open) {
			continue // no hour completed since the last poll: ask nothing
		}
		if p.MaxAge > 0 {
			if oldest := now.Add(-p.MaxAge).Truncate(time.Hour).Add(time.Hour); start.Before(oldest) {
				log.Info(p.Source+": the vendor keeps data queryable for a limited time; starting later", "metric", m.ID, "from", oldest, "asked", start)
				start = oldest
			}
		}
		if p.MinRange > 0 && open.Sub(start) < p.MinRange {
			start = open.Add(-p.MinRange)
		}
		pl := rangePlan{m: m, chunks: p.split(start, open, now)}
		if len(pl.chunks) == 0 {
			continue
		}
		total += int64(len(pl.chunks))
		plans = append(plans, pl)
	}
	progress.Total(p.Source, total)

	for i, pl := range plans {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("%s: query %s: %w", p.Source, pl.m.ID, err))
			progress.Done(p.Source, int64(len(pl.chunks)))
		} else if err := p.collectMetric(ctx, run.Sink, progress, log, pl, open); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			for _, rest := range plans[i+1:] {
				progress.Done(p.Source, int64(len(rest.chunks)))
			}
			break
		}
	}
	return errors.Join(errs...)
}

// start is where m's range begins: its cursor, unless this is a backfill,
// there is none, or the query changed since it was written.
func (p *RangePoll) start(ctx context.Context, run Run, m RangeMetric) (time.Time, bool, error) {
	since := run.Since
	if since.IsZero() {
		d := p.DefaultSince
		if d <= 0 {
			d = 90 * 24 * time.Hour
		}
		since = run.Now.Add(-d)
	}
	since = since.UTC().Truncate(time.Hour)
	if run.Backfill {
		return since, false, nil
	}
	raw, err := run.Sink.Cursor(ctx, p.Source, m.ID)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: read cursor of %s: %w", p.Source, m.ID, err)
	}
	if raw == nil {
		return since, false, nil
	}
	var cur RangeCursor
	if err := json.Unmarshal(raw, &cur); err != nil || cur.Through.IsZero() {
		run.Logger.Warn(p.Source+": unreadable cursor, reading again from since", "metric", m.ID, "since", since)
		return since, false, nil
	}
	if cur.Query != "" && cur.Query != m.Query {
		run.Logger.Info(p.Source+": query changed, reading again from since", "metric", m.ID, "since", since)
		return since, false, nil
	}
	return cur.Through.UTC().Truncate(time.Hour), true, nil
}

// split cuts [start, open) — open on an hour boundary — into chunks of at
// most p.Chunk, oldest first. With OpenHour the last chunk ends at now
// instead (a range within the open hour is one chunk), so the partial hour
// costs no request of its own.
func (p *RangePoll) split(start, open, now time.Time) []rangeChunk {
	var out []rangeChunk
	for from := start; from.Before(open); from = from.Add(p.Chunk) {
		to := from.Add(p.Chunk)
		if to.After(open) {
			to = open
		}
		out = append(out, rangeChunk{from, to})
	}
	if p.OpenHour && now.After(start) {
		if len(out) == 0 {
			return []rangeChunk{{start, now}}
		}
		out[len(out)-1].to = now
	}
	return out
}

func (p *RangePoll) collectMetric(ctx context.Context, sink Sink, progress Progress, log *slog.Logger, pl rangePlan, open time.Time) error {
	stored := 0
	for i, ch := range pl.chunks {
		samples, err := p.Query(ctx, pl.m, ch.from, ch.to)
		if err != nil {
			progress.Done(p.Source, int64(len(pl.chunks)-i)) // the bar still completes
			return err
		}
		kept := samples[:0:0]
		for _, s := range samples {
			if !s.Time.Before(ch.from) && s.Time.Before(ch.to) {
				kept = append(kept, s)
			}
		}
		through := ch.to
		if through.After(open) {
			through = open // OpenHour: the open hour is read again once it closes
		}
		cur, err := json.Marshal(RangeCursor{Through: through, Query: pl.m.Query})
		if err != nil {
			return err
		}
		b := model.Batch{Source: p.Source, Cursors: map[string][]byte{pl.m.ID: cur}}
		if len(kept) > 0 {
			b.Samples = map[string][]model.Sample{pl.m.ID: kept}
		}
		if err := sink.Commit(ctx, b); err != nil {
			progress.Done(p.Source, int64(len(pl.chunks)-i))
			return fmt.Errorf("%s: store %s: %w", p.Source, pl.m.ID, err)
		}
		stored += len(kept)
		progress.Done(p.Source, 1)
	}
	log.Info(p.Source+": collected", "metric", pl.m.ID, "chunks", len(pl.chunks), "samples", stored)
	return nil
}
