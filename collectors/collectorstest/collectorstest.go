// Package collectorstest holds what every source's tests need: an
// in-memory Sink, and what the vendors' fake servers share (FakeOptions,
// request counting, latency and fault injection, an hourly budget; see
// fakeserver.go).
package collectorstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Sink is an in-memory collectors.Sink. The zero value is ready.
type Sink struct {
	mu      sync.Mutex
	cursors map[string][]byte
	samples map[string]map[time.Time]float64
	Batches []model.Batch
	// Fail, if set, fails every Commit with this error.
	Fail error
}

// Cursor implements collectors.Sink.
func (s *Sink) Cursor(_ context.Context, source, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"/"+key], nil
}

// SetCursor stores a cursor as a previous run would have.
func (s *Sink) SetCursor(source, key string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors == nil {
		s.cursors = map[string][]byte{}
	}
	s.cursors[source+"/"+key] = v
}

// SetCursorJSON stores v, encoded as JSON, as source's cursor key.
func (s *Sink) SetCursorJSON(source, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.SetCursor(source, key, b)
	return nil
}

// CursorJSON decodes source's cursor key into v; ok is false when there
// is none.
func (s *Sink) CursorJSON(source, key string, v any) (ok bool, err error) {
	raw, _ := s.Cursor(context.Background(), source, key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("cursor %s = %s: %w", key, raw, err)
	}
	return true, nil
}

// Commit implements collectors.Sink.
func (s *Sink) Commit(_ context.Context, b model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if s.cursors == nil {
		s.cursors = map[string][]byte{}
	}
	if s.samples == nil {
		s.samples = map[string]map[time.Time]float64{}
	}
	s.Batches = append(s.Batches, b)
	for id, ss := range b.Samples {
		if s.samples[id] == nil {
			s.samples[id] = map[time.Time]float64{}
		}
		for _, x := range ss {
			s.samples[id][x.Time.UTC()] = x.Value
		}
	}
	for k, v := range b.Cursors {
		s.cursors[b.Source+"/"+k] = v
	}
	return nil
}

// Samples returns the stored samples of series id in time order (a later
// commit of the same time overwrites an earlier one, as the store does).
func (s *Sink) Samples(id string) []model.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]model.Sample, 0, len(s.samples[id]))
	for t, v := range s.samples[id] {
		out = append(out, model.Sample{Time: t, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
