package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RunRecord is what `impact status` shows about a collector's runs.
type RunRecord struct {
	LastStart time.Time `json:"last_start"`
	// LastSuccess is when the last successful run ended.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the last run's error text; empty when it succeeded.
	LastError           string        `json:"last_error,omitempty"`
	LastDuration        time.Duration `json:"last_duration_ns"`
	ConsecutiveFailures int           `json:"consecutive_failures"`
	// Samples and Events written in the last run.
	Samples int `json:"samples"`
	Events  int `json:"events"`
	// Rate-limit budget the source reported at the end of the last run, if
	// it reports one.
	RateLimitRemaining int       `json:"rate_limit_remaining,omitempty"`
	RateLimitLimit     int       `json:"rate_limit_limit,omitempty"`
	RateLimitReset     time.Time `json:"rate_limit_reset,omitzero"`
}

// RecordRun stores the record of the run of source that just ended. The
// caller fills LastStart, LastDuration, LastError, Samples, Events (and the
// rate limit); the store fills in, from the previous record, what a single
// run cannot know:
//   - LastSuccess, when zero: LastStart+LastDuration after a success, the
//     previous LastSuccess after a failure;
//   - ConsecutiveFailures, when zero: 0 after a success, previous+1 after a
//     failure.
func (s *Store) RecordRun(ctx context.Context, source string, r RunRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if source == "" || len(source) > maxIDLen {
		return errorf(ErrInvalid, nil, "store: recording a run: bad source name %q", source)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		var prev RunRecord
		if old := b.Get([]byte(source)); old != nil {
			_ = json.Unmarshal(old, &prev) // a damaged record is replaced
		}
		r.LastStart = r.LastStart.UTC()
		r.RateLimitReset = r.RateLimitReset.UTC()
		if r.LastError == "" {
			if r.LastSuccess.IsZero() {
				r.LastSuccess = r.LastStart.Add(r.LastDuration)
			}
		} else {
			if r.LastSuccess.IsZero() {
				r.LastSuccess = prev.LastSuccess
			}
			if r.ConsecutiveFailures == 0 {
				r.ConsecutiveFailures = prev.ConsecutiveFailures + 1
			}
		}
		r.LastSuccess = r.LastSuccess.UTC()
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put([]byte(source), data)
	})
	if err != nil {
		return fmt.Errorf("store: recording a run of %s: %w", source, err)
	}
	return nil
}

// Runs returns the last run record of every source.
func (s *Store) Runs(ctx context.Context) (map[string]RunRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out := map[string]RunRecord{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r RunRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run record of %s: %w", k, err)
			}
			out[string(k)] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading run records: %w", err)
	}
	return out, nil
}
