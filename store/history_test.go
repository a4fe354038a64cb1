package store

import (
	"slices"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// TestDecisionHistory: every decision is kept, the one it replaced is
// readable, and Undo goes back one decision at a time.
func TestDecisionHistory(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{Now: clock})
	saveDrafts(t, s, draftWith("hist0001", model.StatusPending, h(1), "api"))

	type step struct {
		name   string
		do     func() (model.Draft, error)
		status model.Status
		reason string
		text   string
		hist   []model.Status
		prev   string // "status: reason" of Previous, "" for none
	}
	at := func(n int) time.Time { return fixedNow.Add(time.Duration(n) * time.Minute) }
	steps := []step{
		{"reject", func() (model.Draft, error) {
			return s.Decide(ctx, "hist0001", model.StatusRejected, "", "not mine", at(1))
		}, model.StatusRejected, "not mine", "gen hist0001", []model.Status{"rejected"}, ""},
		{"accept with text", func() (model.Draft, error) {
			return s.Decide(ctx, "hist", model.StatusAccepted, "Edited.", "", at(2))
		}, model.StatusAccepted, "", "Edited.", []model.Status{"rejected", "accepted"}, "rejected: not mine"},
		{"reject again", func() (model.Draft, error) {
			return s.Decide(ctx, "hist0001", model.StatusRejected, "", "dup", at(3))
		}, model.StatusRejected, "dup", "Edited.", []model.Status{"rejected", "accepted", "rejected"}, "accepted: "},
		{"undo the second reject", func() (model.Draft, error) { return s.Undo(ctx, "hist0001") },
			model.StatusAccepted, "", "Edited.", []model.Status{"rejected", "accepted"}, "rejected: not mine"},
		{"undo the accept restores the text", func() (model.Draft, error) { return s.Undo(ctx, "hist0001") },
			model.StatusRejected, "not mine", "gen hist0001", []model.Status{"rejected"}, ""},
		{"undo the first reject: pending", func() (model.Draft, error) { return s.Undo(ctx, "hist0001") },
			model.StatusPending, "", "gen hist0001", nil, ""},
	}
	for _, st := range steps {
		d, err := st.do()
		must(t, err)
		stored, err := s.Draft(ctx, "hist0001")
		must(t, err)
		for _, got := range []model.Draft{d, stored} {
			var hist []model.Status
			for _, e := range got.History {
				hist = append(hist, e.Status)
			}
			if got.Status != st.status || got.Reason != st.reason || got.Text != st.text || !slices.Equal(hist, st.hist) {
				t.Errorf("%s: got %s %q %q history %v; want %s %q %q %v", st.name, got.Status, got.Reason, got.Text, hist, st.status, st.reason, st.text, st.hist)
			}
			prev := ""
			if p, ok := got.Previous(); ok {
				prev = string(p.Status) + ": " + p.Reason
			}
			if prev != st.prev {
				t.Errorf("%s: previous = %q, want %q", st.name, prev, st.prev)
			}
			if (got.Status == model.StatusPending) != (got.DecidedAt == nil) {
				t.Errorf("%s: status %s with decided_at %v", st.name, got.Status, got.DecidedAt)
			}
		}
	}
	_, err := s.Undo(ctx, "hist0001")
	wantErr(t, err, ErrInvalid, "has no decision to undo")

	// A re-draft of a reopened draft keeps its history.
	_, err = s.Decide(ctx, "hist0001", model.StatusAccepted, "", "", at(4))
	must(t, err)
	_, err = s.Decide(ctx, "hist0001", model.StatusPending, "", "", at(5))
	must(t, err)
	saveDrafts(t, s, draftWith("hist0001", "", h(1), "api"))
	d, err := s.Draft(ctx, "hist0001")
	must(t, err)
	if len(d.History) != 2 || d.History[0].Status != model.StatusAccepted || d.History[1].Status != model.StatusPending {
		t.Errorf("history after a re-draft: %+v", d.History)
	}
}

// TestDecisionHistoryMigration: a v1 file's decided drafts get their
// decision as history; a read-only open reads the v1 file without it.
func TestDecisionHistoryMigration(t *testing.T) {
	t.Parallel()
	path := v1File(t) // keep0001 accepted at v1 (by SaveDrafts: no decided_at)

	ro, err := Open(path, Options{ReadOnly: true})
	must(t, err)
	if ro.SchemaVersion() != 1 {
		t.Errorf("read-only open: version %d", ro.SchemaVersion())
	}
	d, err := ro.Draft(ctx, "keep0001")
	must(t, err)
	if d.Status != model.StatusAccepted || len(d.History) != 0 {
		t.Errorf("v1 draft read-only: %s %+v", d.Status, d.History)
	}
	must(t, ro.Close())

	s, err := Open(path, Options{Now: clock})
	must(t, err)
	defer s.Close()
	if s.SchemaVersion() != SchemaVersion {
		t.Errorf("version %d", s.SchemaVersion())
	}
	if len(backups(t, path)) != 1 {
		t.Errorf("backups: %v", backups(t, path))
	}
	d, err = s.Draft(ctx, "keep0001")
	must(t, err)
	if len(d.History) != 1 || d.History[0].Status != model.StatusAccepted || d.DecidedAt != nil || !d.History[0].At.IsZero() {
		t.Errorf("migrated history: %+v (decided %v)", d.History, d.DecidedAt)
	}
	d, err = s.Decide(ctx, "keep0001", model.StatusRejected, "", "not mine", time.Time{})
	must(t, err)
	if p, ok := d.Previous(); !ok || p.Status != model.StatusAccepted {
		t.Errorf("previous after migration: %+v %v", p, ok)
	}
}
