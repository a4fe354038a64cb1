package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// TestMigrateDraftKinds: a v1 file's drafts (written without a kind)
// become kind impact on open; the v1 file is backed up.
func TestMigrateDraftKinds(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "impact.db")
	s, err := Open(path, Options{Now: clock, schemaVersion: 1})
	must(t, err)
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDrafts)
		if err := b.Put([]byte("aaaa0001"), []byte(`{"id":"aaaa0001","status":"accepted","category":"api","text":"t","generated_text":"t"}`)); err != nil {
			return err
		}
		return b.Put([]byte("aaaa0002"), []byte(`{"id":"aaaa0002","status":"pending","category":"api","text":"u","generated_text":"u"}`))
	}))
	must(t, s.Close())

	s, err = Open(path, Options{Now: clock})
	must(t, err)
	defer s.Close()
	if s.SchemaVersion() != SchemaVersion || SchemaVersion < 2 {
		t.Fatalf("schema v%d after open", s.SchemaVersion())
	}
	ds, err := s.Drafts(ctx, DraftFilter{Kind: model.KindImpact})
	must(t, err)
	if len(ds) != 2 || ds[0].Kind != model.KindImpact || ds[1].Kind != model.KindImpact || ds[0].Text == "" {
		t.Errorf("migrated drafts: %+v", ds)
	}
	if len(backups(t, path)) != 1 {
		t.Errorf("backups: %v", backups(t, path))
	}
}

func TestWins(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{Now: clock})
	must(t, s.Commit(ctx, sampleBatch()))
	saveDrafts(t, s, draftWith("d0000001", model.StatusPending, h(1), "api"))

	date := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	w, err := s.AddWin(ctx, Win{Text: "  Led the failover  ", Category: "leadership", Date: date,
		Links: []string{"https://wiki.example.com/pm/42"}, PRs: []string{"acme/x#9"}})
	must(t, err)
	if w.ID != WinID("Led the failover", date, clock()) || w.Kind != model.KindManual || w.Status != model.StatusAccepted ||
		w.Text != "Led the failover" || !w.ShiftAt.Equal(date) || w.DecidedAt == nil || len(w.PRs) != 1 ||
		w.PRs[0].URL != "https://github.com/acme/x/pull/9" {
		t.Errorf("added win: %+v", w)
	}
	if _, err := s.AddWin(ctx, Win{Text: "Led the failover", Category: "leadership", Date: date}); !errors.Is(err, ErrInvalid) {
		t.Errorf("same win twice in the same instant: %v", err)
	}
	if _, err := s.AddWin(ctx, Win{Text: " ", Category: "leadership"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty text: %v", err)
	}
	if _, err := s.AddWin(ctx, Win{Text: "x", Category: "api", PRs: []string{"nope"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad PR: %v", err)
	}

	manual, err := s.Drafts(ctx, DraftFilter{Kind: model.KindManual})
	must(t, err)
	impact, err := s.Drafts(ctx, DraftFilter{Kind: model.KindImpact})
	must(t, err)
	if len(manual) != 1 || len(impact) != 1 || impact[0].ID != "d0000001" {
		t.Errorf("filter by kind: manual %d, impact %d", len(manual), len(impact))
	}

	u, err := s.UpdateWin(ctx, w.ID[:5], Win{Text: "Led it", Links: []string{}, Metric: model.MetricRef{ID: "search-p99"}})
	must(t, err)
	if u.Text != "Led it" || u.GeneratedText != "Led it" || len(u.Links) != 0 || u.Category != "leadership" || u.Metric.ID != "search-p99" || len(u.PRs) != 1 {
		t.Errorf("updated win: %+v", u)
	}
	u, err = s.UpdateWin(ctx, w.ID, Win{Metric: model.MetricRef{ID: "-"}})
	must(t, err)
	if u.Metric.ID != "" {
		t.Errorf("metric not removed: %+v", u.Metric)
	}
	if e, err := s.SetWinEvidence(ctx, w.ID, []string{"a", "b"}); err != nil || len(e.Evidence) != 2 {
		t.Errorf("SetWinEvidence: %v %v", err, e.Evidence)
	}
	if _, err := s.SetWinEvidence(ctx, "d0000001", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetWinEvidence of an impact draft: %v", err)
	}
	for _, id := range []string{"d0000001"} {
		if _, err := s.UpdateWin(ctx, id, Win{Text: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpdateWin of an impact draft: %v", err)
		}
		if _, err := s.DeleteWin(ctx, id); !errors.Is(err, ErrInvalid) {
			t.Errorf("DeleteWin of an impact draft: %v", err)
		}
	}
	if _, err := s.DeleteWin(ctx, "wfffffff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteWin unknown: %v", err)
	}
	if _, err := s.DeleteWin(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Draft(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted win still there: %v", err)
	}
	// The drafter's drafts get kind impact when saved without one.
	d, err := s.Draft(ctx, "d0000001")
	must(t, err)
	if d.Kind != model.KindImpact {
		t.Errorf("saved draft kind %q", d.Kind)
	}
}

func TestParsePRKey(t *testing.T) {
	for k, ok := range map[string]bool{"acme/x#1": true, " acme/x#12 ": true, "acme#1": false, "a/b/c#1": false,
		"acme/x#0": false, "acme/x#-1": false, "acme/x#01": false, "acme/x#": false, "/x#1": false, "acme/x#1a": false} {
		if _, _, got := ParsePRKey(k); got != ok {
			t.Errorf("ParsePRKey(%q) = %v", k, got)
		}
	}
}
