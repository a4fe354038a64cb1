package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DigestState is where the weekly digest of one ISO week stands.
type DigestState string

const (
	// DigestSending is recorded before the SMTP transaction starts. A week
	// left in this state (a crash mid-send, or an outcome the server never
	// confirmed) is never sent again automatically: at most once.
	DigestSending DigestState = "sending"
	// DigestSent: the server accepted the message.
	DigestSent DigestState = "sent"
	// DigestFailed: the last attempt failed before the server accepted the
	// message; a later send may retry it.
	DigestFailed DigestState = "failed"
	// DigestSkipped: nothing happened that week, so nothing was sent.
	DigestSkipped DigestState = "skipped"
)

// Valid reports whether st is one of the four states.
func (st DigestState) Valid() bool {
	return st == DigestSending || st == DigestSent || st == DigestFailed || st == DigestSkipped
}

// Done reports whether a week in this state must not be sent again
// without an explicit --force.
func (st DigestState) Done() bool { return st == DigestSending || st == DigestSent }

// ErrDigestDone: ClaimDigest refused a week that was already sent (or is
// being sent).
var ErrDigestDone = errors.New("already sent")

// DigestRecord is what the store keeps about one week's digest.
type DigestRecord struct {
	// Week is the ISO week, "2026-W48".
	Week  string      `json:"week"`
	State DigestState `json:"state"`
	// Attempts counts SMTP transactions started for the week.
	Attempts int `json:"attempts"`
	// LastError is the last failed attempt's error; empty after a success.
	LastError string `json:"last_error,omitempty"`
	// MessageID is the Message-ID of the mail (without angle brackets).
	MessageID string `json:"message_id,omitempty"`
	// To are the recipients of the last attempt.
	To        []string  `json:"to,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

var isoWeekKey = regexp.MustCompile(`^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$`)

func checkWeek(ctx context.Context, week string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !isoWeekKey.MatchString(week) {
		return errorf(ErrInvalid, nil, "store: digest week %.20q is not an ISO week like 2026-W48", week)
	}
	return nil
}

// Digest returns the record of one week; an unknown week gives an error
// wrapping ErrNotFound.
func (s *Store) Digest(ctx context.Context, week string) (DigestRecord, error) {
	if err := checkWeek(ctx, week); err != nil {
		return DigestRecord{}, err
	}
	var (
		rec   DigestRecord
		found bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		rec, found, err = getDigest(tx, week)
		return err
	})
	if err != nil {
		return DigestRecord{}, fmt.Errorf("store: reading the digest of %s: %w", week, err)
	}
	if !found {
		return DigestRecord{}, fmt.Errorf("store: digest of %s %w", week, ErrNotFound)
	}
	return rec, nil
}

// Digests returns every week's record, newest week first.
func (s *Store) Digests(ctx context.Context) ([]DigestRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []DigestRecord
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDigests)
		if b == nil {
			return nil // an older file opened read-only
		}
		return b.ForEach(func(k, v []byte) error {
			var r DigestRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("digest record %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading digest records: %w", err)
	}
	slices.SortFunc(out, func(a, b DigestRecord) int { return strings.Compare(b.Week, a.Week) })
	return out, nil
}

// UpdateDigest reads the week's record (zero with exists false when there
// is none), lets fn change it, and writes it back, all in one transaction,
// so that two callers cannot both claim a week. Week and UpdatedAt (now)
// are filled in. When fn returns an error nothing is written and the
// error is returned as is.
func (s *Store) UpdateDigest(ctx context.Context, week string, fn func(rec *DigestRecord, exists bool) error) (DigestRecord, error) {
	if err := checkWeek(ctx, week); err != nil {
		return DigestRecord{}, err
	}
	var rec DigestRecord
	var fnErr error
	err := s.update(func(tx *bolt.Tx) error {
		old, found, err := getDigest(tx, week)
		if err != nil {
			return err
		}
		rec = old
		if fnErr = fn(&rec, found); fnErr != nil {
			return fnErr
		}
		rec.Week = week
		if !rec.State.Valid() {
			return errorf(ErrInvalid, nil, "store: digest of %s: unknown state %q", week, rec.State)
		}
		rec.UpdatedAt = s.opts.Now().UTC()
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDigests).Put([]byte(week), data)
	})
	if fnErr != nil {
		return rec, fnErr
	}
	if err != nil {
		return DigestRecord{}, wrap(fmt.Errorf("store: recording the digest of %s: %w", week, err))
	}
	return rec, nil
}

// ClaimDigest records that an SMTP transaction for week is about to start:
// state sending, one more attempt, the message id and recipients. A week
// already sent or sending is refused with an error wrapping ErrDigestDone
// (and its record), unless force is set.
func (s *Store) ClaimDigest(ctx context.Context, week, messageID string, to []string, force bool) (DigestRecord, error) {
	return s.UpdateDigest(ctx, week, func(rec *DigestRecord, exists bool) error {
		if exists && rec.State.Done() && !force {
			return errorf(ErrDigestDone, nil, "store: the digest of %s was already %s (message %s); use --force to send it again",
				week, rec.State, rec.MessageID)
		}
		rec.State = DigestSending
		rec.Attempts++
		rec.MessageID = messageID
		rec.To = slices.Clone(to)
		return nil
	})
}

// RecordDigest sets the outcome of the week's digest: state and last
// error (cleared when empty), keeping attempts, message id and recipients.
func (s *Store) RecordDigest(ctx context.Context, week string, state DigestState, lastError string) (DigestRecord, error) {
	return s.UpdateDigest(ctx, week, func(rec *DigestRecord, _ bool) error {
		rec.State = state
		rec.LastError = lastError
		return nil
	})
}

func getDigest(tx *bolt.Tx, week string) (DigestRecord, bool, error) {
	var rec DigestRecord
	b := tx.Bucket(bucketDigests)
	if b == nil {
		return rec, false, nil
	}
	v := b.Get([]byte(week))
	if v == nil {
		return rec, false, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		// A damaged record must not block the week forever, nor let it
		// be sent twice: treat it as sending (done) with the damage noted.
		return DigestRecord{Week: week, State: DigestSending, LastError: "damaged record: " + err.Error()}, true, nil
	}
	return rec, true, nil
}
