package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestDigests(t *testing.T) {
	s, path := openTest(t, Options{Now: clock})

	if _, err := s.Digest(ctx, "2026-W48"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Digest of an unknown week: %v, want ErrNotFound", err)
	}
	recs, err := s.Digests(ctx)
	must(t, err)
	if len(recs) != 0 {
		t.Fatalf("Digests on a new store = %v", recs)
	}

	// Bad week keys are refused.
	for _, w := range []string{"", "2026-48", "2026-W54", "2026-W00", "2026-W48\r\n", "../x"} {
		_, err := s.ClaimDigest(ctx, w, "id", nil, false)
		wantErr(t, err, ErrInvalid, "ISO week")
	}

	// Claim → sending, attempts 1.
	rec, err := s.ClaimDigest(ctx, "2026-W48", "m1@impact", []string{"a@example.com"}, false)
	must(t, err)
	if rec.State != DigestSending || rec.Attempts != 1 || rec.MessageID != "m1@impact" || !rec.UpdatedAt.Equal(fixedNow) {
		t.Fatalf("claimed record = %+v", rec)
	}
	// A second claim of a week in "sending" is refused: a crash mid-send
	// must not lead to a second message.
	_, err = s.ClaimDigest(ctx, "2026-W48", "m1@impact", nil, false)
	wantErr(t, err, ErrDigestDone, "already sending")

	// Failed → may be claimed again; attempts counts up.
	rec, err = s.RecordDigest(ctx, "2026-W48", DigestFailed, "smtp: 451 try later")
	must(t, err)
	if rec.State != DigestFailed || rec.LastError != "smtp: 451 try later" || rec.Attempts != 1 || rec.MessageID != "m1@impact" {
		t.Fatalf("failed record = %+v", rec)
	}
	rec, err = s.ClaimDigest(ctx, "2026-W48", "m1@impact", []string{"a@example.com"}, false)
	must(t, err)
	if rec.Attempts != 2 || rec.State != DigestSending {
		t.Fatalf("re-claimed record = %+v", rec)
	}
	_, err = s.RecordDigest(ctx, "2026-W48", DigestSent, "")
	must(t, err)

	// Sent → refused without force, allowed with force.
	_, err = s.ClaimDigest(ctx, "2026-W48", "m1@impact", nil, false)
	wantErr(t, err, ErrDigestDone, "already sent")
	rec, err = s.ClaimDigest(ctx, "2026-W48", "m1@impact", nil, true)
	must(t, err)
	if rec.Attempts != 3 {
		t.Fatalf("forced claim = %+v", rec)
	}
	_, err = s.RecordDigest(ctx, "2026-W48", DigestSent, "")
	must(t, err)

	_, err = s.RecordDigest(ctx, "2026-W47", DigestSkipped, "")
	must(t, err)
	_, err = s.RecordDigest(ctx, "2026-W49", "bogus", "")
	wantErr(t, err, ErrInvalid, "unknown state")

	// The records survive a reopen, newest week first.
	must(t, s.Close())
	s2, err := Open(path, Options{Now: clock})
	must(t, err)
	defer s2.Close()
	recs, err = s2.Digests(ctx)
	must(t, err)
	if len(recs) != 2 || recs[0].Week != "2026-W48" || recs[0].State != DigestSent || recs[0].LastError != "" ||
		recs[1].Week != "2026-W47" || recs[1].State != DigestSkipped {
		t.Fatalf("Digests after reopen = %+v", recs)
	}
	_, err = s2.ClaimDigest(ctx, "2026-W48", "m1@impact", nil, false)
	wantErr(t, err, ErrDigestDone, "already sent")
}

// Two concurrent claims of the same week: exactly one wins.
func TestClaimDigestConcurrent(t *testing.T) {
	s, _ := openTest(t, Options{})
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.ClaimDigest(ctx, "2026-W01", "x", nil, false); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, ErrDigestDone) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
}

// A damaged record counts as "sending": never sent again automatically.
func TestDigestDamagedRecord(t *testing.T) {
	s, _ := openTest(t, Options{})
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDigests).Put([]byte("2026-W02"), []byte("{not json"))
	}))
	_, err := s.ClaimDigest(ctx, "2026-W02", "x", nil, false)
	wantErr(t, err, ErrDigestDone, "already sending")
	rec, err := s.Digest(ctx, "2026-W02")
	must(t, err)
	if rec.State != DigestSending || rec.LastError == "" {
		t.Fatalf("damaged record read as %+v", rec)
	}
}
