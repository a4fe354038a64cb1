package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/storetest"
)

// goodStore writes a store with a few months of samples, events and drafts
// and returns its path, closed.
func goodStore(t *testing.T) string {
	t.Helper()
	s, path := openTest(t, Options{})
	ctx := context.Background()
	for day := range 120 {
		b := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}}
		for i := range 4 {
			for h := range 24 {
				tm := t0.Add(time.Duration(day*24+h) * time.Hour)
				b.Samples["m"+string(rune('a'+i))] = append(b.Samples["m"+string(rune('a'+i))], model.Sample{Time: tm, Value: float64(h)})
			}
		}
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	ds := make([]model.Draft, 300)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	if _, err := s.SaveDrafts(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCorruptStore: with or without the mapped pages released after each
// read, every kind of damage to the file is one clear error
// (ErrDamaged, one line, naming the file and the newest backup), at Open
// or — for damage no check sees, such as a flipped bit inside a value —
// when the value is read; never a panic. A 0-byte file is never re-created.
func TestCorruptStore(t *testing.T) {
	good := goodStore(t)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range storetest.Kinds {
		for seed := range uint64(kind.Seeds) {
			t.Run(kind.Name+"/"+string(rune('0'+seed)), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "impact.db")
				if err := os.WriteFile(path, storetest.Corrupt(data, kind.Name, seed), 0o600); err != nil {
					t.Fatal(err)
				}
				backup := path + ".bak-daily-20261205"
				if err := os.WriteFile(backup, data, 0o600); err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct{ ro, release bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
					ro := c.ro
					o := Options{ReadOnly: ro, Timeout: time.Second}
					if c.release {
						o.releaseEvery = 1 // every read drops the mapped pages
					}
					err := exercise(t, path, o)
					if err == nil {
						if kind.MustDetect {
							t.Errorf("read-only %v, released %v: no error on a %s store", ro, c.release, kind.Name)
						}
						continue
					}
					msg := err.Error()
					if !errors.Is(err, ErrDamaged) {
						t.Errorf("read-only %v, released %v: %v, want ErrDamaged", ro, c.release, err)
					}
					if errors.Is(err, ErrDamaged) && (!strings.Contains(msg, path+" is damaged") || !strings.Contains(msg, "restore from the backup at "+backup)) {
						t.Errorf("read-only %v, released %v: %q does not name the file and its backup", ro, c.release, msg)
					}
					if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "store: ") {
						t.Errorf("read-only %v, released %v: not one store line: %q", ro, c.release, msg)
					}
				}
				if fi, err := os.Stat(path); kind.Name == "zero-length" && (err != nil || fi.Size() != 0) {
					t.Errorf("the empty file was re-created or removed: %v", err)
				}
			})
		}
	}
}

// exercise opens path and reads and writes what the commands do; it
// returns the first error. A panic fails the test.
func exercise(t *testing.T, path string, o Options) error {
	ctx := context.Background()
	readOnly := o.ReadOnly
	s, err := Open(path, o)
	if err != nil {
		return err
	}
	defer s.Close()
	steps := []func() error{
		func() error { _, err := s.Stats(ctx); return err },
		func() error { _, err := s.Drafts(ctx, DraftFilter{}); return err },
		func() error { _, err := s.SeriesStats(ctx); return err },
		func() error { _, err := s.Samples(ctx, "ma", t0, t0.AddDate(1, 0, 0)); return err },
		func() error { _, err := s.Runs(ctx); return err },
	}
	if !readOnly {
		steps = append(steps, func() error {
			return s.Commit(ctx, model.Batch{Source: "x", Samples: map[string][]model.Sample{"mz": {{Time: t0, Value: 1}}}})
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func TestCheckAndRestore(t *testing.T) {
	ctx := context.Background()
	good := goodStore(t)
	data, _ := os.ReadFile(good)
	dir := t.TempDir()
	path := filepath.Join(dir, "impact.db")
	os.WriteFile(path, storetest.Corrupt(data, "random-pages", 1), 0o600)

	// No backup: the error says so.
	if _, err := CheckFile(ctx, path, Options{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "no backup of it exists") {
		t.Fatalf("check without backups: %v", err)
	}
	if _, err := Restore(ctx, path, "", time.Now()); err == nil || !strings.Contains(err.Error(), "has no backups") {
		t.Fatalf("restore without backups: %v", err)
	}
	// A damaged newer backup is passed over for a sound older one.
	older, newer := path+".bak-daily-20261204", path+".bak-daily-20261205"
	os.WriteFile(older, data, 0o600)
	os.WriteFile(newer, storetest.Corrupt(data, "truncated", 0), 0o600)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(older, old, old)
	if _, err := Restore(ctx, path, newer, time.Now()); !errors.Is(err, ErrDamaged) {
		t.Errorf("restoring from a damaged backup: %v", err)
	}
	damagedBytes, _ := os.ReadFile(path)
	res, err := Restore(ctx, path, "", time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	if err != nil || res.From != older || res.Kept != path+".replaced-20261206T100000Z" {
		t.Fatalf("restore: %v %+v", err, res)
	}
	if kept, _ := os.ReadFile(res.Kept); string(kept) != string(damagedBytes) {
		t.Errorf("the damaged file was not kept as it was")
	}
	rep, err := CheckFile(ctx, path, Options{})
	if err != nil || rep.Keys == 0 {
		t.Errorf("check after restore: %v %+v", err, rep)
	}
	// A store in use cannot be restored.
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, path, older, time.Now()); !errors.Is(err, ErrLocked) {
		t.Errorf("restore of a store in use: %v", err)
	}
	s.Close()
}

func TestDailyBackups(t *testing.T) {
	good := goodStore(t)
	day := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for i := range 10 {
		now := day.AddDate(0, 0, i)
		s, err := Open(good, Options{Backups: 3, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		// A second open the same day takes no second copy.
		s, err = Open(good, Options{Backups: 3, Now: func() time.Time { return now.Add(time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	bs, err := Backups(good)
	if err != nil || len(bs) != 3 {
		t.Fatalf("backups: %v %d %+v", err, len(bs), bs)
	}
	want := good + ".bak-daily-20261210"
	if NewestBackup(good) != want {
		t.Errorf("newest %s, want %s", NewestBackup(good), want)
	}
	if _, err := CheckFile(context.Background(), want, Options{}); err != nil {
		t.Errorf("the backup is not sound: %v", err)
	}
	// A damaged store is never copied over the backups.
	data, _ := os.ReadFile(good)
	os.WriteFile(good, storetest.Corrupt(data, "random-pages", 2), 0o600)
	now := day.AddDate(0, 0, 20)
	if _, err := Open(good, Options{Backups: 3, Now: func() time.Time { return now }}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("open of a damaged store: %v", err)
	}
	if bs2, _ := Backups(good); len(bs2) != 3 || bs2[0].Path != want {
		t.Errorf("backups changed: %+v", bs2)
	}
}

// A fresh store takes no backup of its empty self.
func TestNoBackupOfANewStore(t *testing.T) {
	_, path := openTest(t, Options{Backups: 3})
	if bs, _ := Backups(path); len(bs) != 0 {
		t.Errorf("backups of a new store: %+v", bs)
	}
}

// TestPrecheckOfALiveStore: precheck reads without bbolt's lock, while
// another process (here: a goroutine) commits, grows the file and reuses
// pages; a live, sound store is never called damaged.
func TestPrecheckOfALiveStore(t *testing.T) {
	s, path := openTest(t, Options{})
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for day := range 60 {
			b := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}}
			for i := range 8 {
				id := "m" + string(rune('a'+i))
				for h := range 24 {
					b.Samples[id] = append(b.Samples[id], model.Sample{Time: t0.Add(time.Duration(day*24+h) * time.Hour), Value: float64(h)})
				}
			}
			if err := s.Commit(ctx, b); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for checks := 0; ; checks++ {
		select {
		case <-done:
			if checks < 10 {
				t.Logf("only %d prechecks ran during the writes", checks)
			}
			return
		default:
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := precheck(path, fi.Size()); err != nil {
			t.Fatalf("a live store: %v", err)
		}
	}
}

// TestReleasedPagesReadBack: with the mapped pages released after every
// read (and every key of a check), what a writer commits meanwhile is read
// back whole by concurrent readers, and the store checks sound.
func TestReleasedPagesReadBack(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{releaseEvery: 1})
	const days = 40
	done := make(chan error, 1)
	go func() {
		for day := range days {
			b := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}}
			for i := range 4 {
				id := "m" + string(rune('a'+i))
				for h := range 24 {
					b.Samples[id] = append(b.Samples[id], model.Sample{Time: t0.Add(time.Duration(day*24+h) * time.Hour), Value: float64(day*100 + h)})
				}
			}
			if err := s.Commit(ctx, b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	check := func() {
		for _, id := range []string{"ma", "md"} {
			got, err := s.Samples(ctx, id, t0, t0.AddDate(1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range got {
				if want := float64(i/24*100 + i%24); p.Value != want || !p.Time.Equal(t0.Add(time.Duration(i)*time.Hour)) {
					t.Fatalf("%s sample %d: %v %v, want %v", id, i, p.Time, p.Value, want)
				}
			}
		}
		if _, err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		check()
	}
	if got, _ := s.Samples(ctx, "mb", t0, t0.AddDate(1, 0, 0)); len(got) != days*24 {
		t.Errorf("%d samples, want %d", len(got), days*24)
	}
}

// TestCheckSkippedWhenUnchanged: a store a sound read-write session closed
// opens without the full check while nothing wrote to it; a write by
// anything else (in place, at once, the same size), a crash after a write,
// and damage found in a session each make the next Open check every page.
func TestCheckSkippedWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	path := goodStore(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := func(o Options) *Store {
		t.Helper()
		s, err := Open(path, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	commit := func(s *Store, v float64) {
		t.Helper()
		if err := s.Commit(ctx, model.Batch{Source: "x", Samples: map[string][]model.Sample{"mz": {{Time: t0, Value: v}}}}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name        string
		before      func()
		readOnly    bool
		wantChecked bool
		during      func(s *Store)
	}{
		{name: "closed by the session that made it", wantChecked: false},
		{name: "read-only", readOnly: true, wantChecked: false},
		{name: "after a write and a close", wantChecked: false, during: func(s *Store) { commit(s, 1) }},
		{name: "unchanged again", wantChecked: false},
		{name: "rewritten in place at once", before: func() {
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b, 0o600)
		}, wantChecked: true},
		{name: "crashed after a write", during: func(s *Store) {
			commit(s, 2)
			s.db.Close() // no Close: what a killed process leaves
			s.closed = true
		}},
		{name: "after the crash", wantChecked: true},
		{name: "damage found in a session", during: func(s *Store) { s.damaged.Store(true) }},
		{name: "after damage was found", wantChecked: true},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		s := open(Options{ReadOnly: st.readOnly})
		if s.checked != st.wantChecked {
			t.Errorf("%s: checked %v, want %v", st.name, s.checked, st.wantChecked)
		}
		if st.during != nil {
			st.during(s)
		}
		s.Close()
	}

	// Damage written over a cleanly closed store at once, the same size
	// and the same last transaction: found at the next Open.
	s := open(Options{})
	s.Close()
	os.WriteFile(path, storetest.Corrupt(good, "random-pages", 3), 0o600)
	for _, ro := range []bool{true, false, true} {
		if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, ErrDamaged) {
			t.Errorf("read-only %v: damage written after a clean close: %v", ro, err)
		}
	}
}
