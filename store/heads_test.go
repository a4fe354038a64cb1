package store

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// checkHeads fails unless the heads bucket holds exactly one head per
// draft, equal to the draft's own status, kind, category and shift time.
func checkHeads(t *testing.T, s *Store) {
	t.Helper()
	must(t, s.db.View(func(tx *bolt.Tx) error {
		hb, b := tx.Bucket(bucketDraftHeads), tx.Bucket(bucketDrafts)
		if hb == nil {
			t.Fatal("no heads bucket")
		}
		n := 0
		must(t, b.ForEach(func(k, v []byte) error {
			n++
			var d model.Draft
			must(t, json.Unmarshal(v, &d))
			hv := hb.Get(k)
			if hv == nil {
				t.Fatalf("draft %s has no head", k)
			}
			at, names, err := decodeHead(hv)
			must(t, err)
			if !at.Equal(d.ShiftAt) || string(names[0]) != string(d.Status) || string(names[1]) != d.Kind || string(names[2]) != d.Category {
				t.Fatalf("draft %s: head %v %q, draft %v %s %s %s", k, at, names, d.ShiftAt, d.Status, d.Kind, d.Category)
			}
			return nil
		}))
		if heads := hb.Stats().KeyN; heads != n {
			t.Fatalf("%d heads for %d drafts", heads, n)
		}
		return nil
	}))
}

// TestDraftHeadsFollowEveryWrite: every way a draft is written, changed or
// removed keeps its head in step, and lists (by head) see the change.
func TestDraftHeadsFollowEveryWrite(t *testing.T) {
	s, _ := openTest(t, Options{Now: clock})
	ds := make([]model.Draft, 300)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	saveDrafts(t, s, ds...)
	checkHeads(t, s)
	pending := ds[0] // sampleDraft(0) is pending
	steps := []struct {
		name string
		run  func() error
	}{
		{"re-draft with another category", func() error {
			d := pending
			d.Category = "leadership"
			d.ShiftAt = d.ShiftAt.Add(time.Hour)
			_, err := s.SaveDrafts(ctx, []model.Draft{d})
			return err
		}},
		{"accept", func() error {
			_, err := s.Decide(ctx, pending.ID, model.StatusAccepted, "", "", time.Time{})
			return err
		}},
		{"undo", func() error { _, err := s.Undo(ctx, pending.ID); return err }},
		{"edit", func() error { _, err := s.EditText(ctx, ds[3].ID, "Edited."); return err }},
		{"delete superseded", func() error { _, err := s.DeleteDrafts(ctx, []string{ds[6].ID, ds[9].ID}); return err }},
		{"add, change and delete a win", func() error {
			w, err := s.AddWin(ctx, Win{Text: "Led the incident review", Category: "leadership", Date: t0})
			if err != nil {
				return err
			}
			checkHeads(t, s)
			if _, err := s.UpdateWin(ctx, w.ID, Win{Category: "reliability", Date: t0.AddDate(0, 1, 0)}); err != nil {
				return err
			}
			checkHeads(t, s)
			_, err = s.DeleteWin(ctx, w.ID)
			return err
		}},
	}
	for _, st := range steps {
		must(t, st.run())
		checkHeads(t, s)
	}
	got, err := s.Drafts(ctx, DraftFilter{Category: "leadership", Status: model.StatusPending})
	must(t, err)
	found := false
	for _, d := range got {
		found = found || d.ID == pending.ID
	}
	if !found {
		t.Errorf("the re-drafted draft is not listed under its new category")
	}
}

// TestDraftHeadsMigration: a v4 file (no heads) lists correctly read-only,
// from the drafts themselves, and its first read-write open builds every
// head; a v5 file that lost its heads gets them back.
func TestDraftHeadsMigration(t *testing.T) {
	s, path := openTest(t, Options{Now: clock, schemaVersion: 4, migrations: migrations[:3]})
	ds := make([]model.Draft, 400)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	saveDrafts(t, s, ds...)
	want, err := s.Drafts(ctx, DraftFilter{Order: OrderCompetency})
	must(t, err)
	dropHeads := func() {
		must(t, s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketDraftHeads) }))
	}
	dropHeads()
	must(t, s.Close())
	same := func(s *Store) {
		t.Helper()
		got, err := s.Drafts(ctx, DraftFilter{Order: OrderCompetency})
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("%d drafts, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("draft %d = %s, want %s", i, got[i].ID, want[i].ID)
			}
		}
	}

	s, err = Open(path, Options{ReadOnly: true})
	must(t, err)
	if s.SchemaVersion() != 4 {
		t.Fatalf("version %d", s.SchemaVersion())
	}
	same(s)
	must(t, s.Close())

	s, err = Open(path, Options{Now: clock})
	must(t, err)
	if s.SchemaVersion() != SchemaVersion {
		t.Fatalf("version %d after migrating", s.SchemaVersion())
	}
	checkHeads(t, s)
	same(s)
	dropHeads()
	must(t, s.Close())
	s, err = Open(path, Options{Now: clock})
	must(t, err)
	checkHeads(t, s)
	must(t, s.Close())
}

// TestPagedValues: read by pread from the file, a bucket's keys and values
// (drafts bigger than a page among them) are the cursor's, in its order.
func TestPagedValues(t *testing.T) {
	s, path := openTest(t, Options{})
	ds := make([]model.Draft, 1500)
	for i := range ds {
		ds[i] = sampleDraft(i)
		if i%97 == 0 {
			ds[i].Evidence = append(ds[i].Evidence, strings.Repeat("a long piece of evidence ", 1000))
		}
	}
	saveDrafts(t, s, ds...)
	must(t, s.Close())
	s, err := Open(path, Options{ReadOnly: true})
	must(t, err)
	defer s.Close()
	file, err := os.ReadFile(path)
	must(t, err)
	for _, name := range [][]byte{bucketDrafts, bucketDraftHeads} {
		must(t, s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(name)
			c := b.Cursor()
			k, v := c.First()
			n := 0
			ok, err := s.pagedValues(tx, b, true, func(pk, pv []byte, off, size int64) error {
				if !bytes.Equal(pk, k) || !bytes.Equal(pv, v) || !bytes.Equal(file[off:off+size], v) {
					t.Fatalf("%s: element %d: %q at %d, want %q", name, n, pk, off, k)
				}
				n++
				k, v = c.Next()
				return nil
			})
			must(t, err)
			if !ok || k != nil || n != len(ds) {
				t.Fatalf("%s: ok %v, %d of %d values", name, ok, n, len(ds))
			}
			return nil
		}))
	}
}

// TestCanonicalDrafts: a store whose drafts another build wrote gets them
// re-encoded as this build's json.Marshal, except a draft with fields this
// build does not know, which is kept as it is (and the store then says
// its drafts are not canonical).
func TestCanonicalDrafts(t *testing.T) {
	s, path := openTest(t, Options{Now: clock})
	if !s.CanonicalDrafts() {
		t.Fatal("a new store's drafts are not canonical")
	}
	a, b := sampleDraft(1), sampleDraft(2)
	a.Text = "Cut <p99> & more"
	saveDrafts(t, s, a, b)
	other := func(id string, raw string) {
		must(t, s.db.Update(func(tx *bolt.Tx) error {
			var d model.Draft
			must(t, json.Unmarshal([]byte(raw), &d))
			if err := putDraftData(tx, id, []byte(raw), headOf(&d)); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyDraftEncoding, []byte("another build\x001"))
		}))
	}
	// As another encoder wrote it: no HTML escapes, spaces.
	stored, err := json.Marshal(a)
	must(t, err)
	var loose bytes.Buffer
	must(t, json.Indent(&loose, stored, "", " "))
	other(a.ID, strings.ReplaceAll(loose.String(), `\u003c`, "<"))
	must(t, s.Close())

	raw := func(s *Store, id string) []byte {
		var v []byte
		must(t, s.db.View(func(tx *bolt.Tx) error { v = bytes.Clone(tx.Bucket(bucketDrafts).Get([]byte(id))); return nil }))
		return v
	}
	s, err = Open(path, Options{ReadOnly: true})
	must(t, err)
	if s.CanonicalDrafts() {
		t.Error("read-only, another build's drafts are taken for canonical")
	}
	must(t, s.Close())
	s, err = Open(path, Options{Now: clock})
	must(t, err)
	if !s.CanonicalDrafts() {
		t.Error("not canonical after a read-write open")
	}
	if got := raw(s, a.ID); !bytes.Equal(got, stored) {
		t.Errorf("re-encoded:\n%s\nwant\n%s", got, stored)
	}

	// A field this build does not know.
	future := strings.Replace(string(stored), `{"id":`, `{"future":{"x":1},"id":`, 1)
	other(a.ID, future)
	must(t, s.Close())
	s, err = Open(path, Options{Now: clock})
	must(t, err)
	if s.CanonicalDrafts() {
		t.Error("a draft with an unknown field is taken for canonical")
	}
	if got := raw(s, a.ID); string(got) != future {
		t.Errorf("a draft with an unknown field was rewritten: %s", got)
	}
	checkHeads(t, s)
	must(t, s.Close())
}
