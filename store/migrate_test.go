package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// v1File makes a schema v1 file holding some data and returns its path.
func v1File(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "impact.db")
	s, err := Open(path, Options{Now: clock, schemaVersion: 1})
	must(t, err)
	must(t, s.Commit(ctx, sampleBatch()))
	saveDrafts(t, s, draftWith("keep0001", model.StatusAccepted, h(1), "api"))
	must(t, s.Close())
	return path
}

func backups(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + ".bak-*")
	must(t, err)
	return m
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	path := v1File(t)
	orig, err := os.ReadFile(path)
	must(t, err)

	var ran []string
	step := func(name string) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			ran = append(ran, name)
			b, err := tx.CreateBucketIfNotExists([]byte("widgets"))
			if err != nil {
				return err
			}
			return b.Put([]byte(name), []byte("x"))
		}
	}
	// Listed out of order on purpose: they run by version.
	ms := []migration{{from: 2, name: "two", up: step("two")}, {from: 1, name: "one", up: step("one")}}
	s, err := Open(path, Options{Now: clock, schemaVersion: 3, migrations: ms})
	must(t, err)
	if !slices.Equal(ran, []string{"one", "two"}) {
		t.Errorf("migrations ran %v", ran)
	}
	if s.SchemaVersion() != 3 {
		t.Errorf("version after migration = %d", s.SchemaVersion())
	}
	// Data survives, the migration's writes are there.
	if got := samplesOf(t, s, "search-p99", time.Time{}, time.Time{}); len(got) != 3 {
		t.Errorf("samples after migration: %v", got)
	}
	must(t, s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("widgets")); b == nil || b.Get([]byte("two")) == nil {
			t.Error("migration writes missing")
		}
		return nil
	}))
	must(t, s.Close())

	// The backup is the old file, named after its version and the time.
	bs := backups(t, path)
	want := path + ".bak-v1-20250601T120000Z"
	if len(bs) != 1 || bs[0] != want {
		t.Fatalf("backups = %v, want [%s]", bs, want)
	}
	b, err := Open(bs[0], Options{ReadOnly: true, schemaVersion: 1})
	must(t, err)
	if b.SchemaVersion() != 1 {
		t.Errorf("backup version %d", b.SchemaVersion())
	}
	if d, err := b.Draft(ctx, "keep0001"); err != nil || d.Status != model.StatusAccepted {
		t.Errorf("backup draft: %v %v", d, err)
	}
	must(t, b.Close())
	if fi, _ := os.Stat(bs[0]); fi.Mode().Perm() != 0o600 || fi.Size() > int64(len(orig)) {
		t.Errorf("backup mode %v size %d (original %d)", fi.Mode(), fi.Size(), len(orig))
	}

	// Re-opening at the same version migrates nothing and backs up nothing.
	ran = nil
	s, err = Open(path, Options{Now: clock, schemaVersion: 3, migrations: ms})
	must(t, err)
	must(t, s.Close())
	if len(ran) != 0 || len(backups(t, path)) != 1 {
		t.Errorf("second open ran %v, backups %v", ran, backups(t, path))
	}
}

func TestFailingMigrationLeavesFileUnchanged(t *testing.T) {
	t.Parallel()
	path := v1File(t)
	ms := []migration{
		{from: 1, name: "one", up: func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(bucketDrafts); err != nil {
				return err
			}
			_, err := tx.CreateBucket([]byte("widgets"))
			return err
		}},
		{from: 2, name: "two", up: func(tx *bolt.Tx) error { return errors.New("disk on fire") }},
	}
	_, err := Open(path, Options{Now: clock, schemaVersion: 3, migrations: ms})
	wantErr(t, err, nil, `from schema v2 to v3 (two) failed, file left at v1`)
	wantErr(t, err, nil, "disk on fire")

	s, err := Open(path, Options{Now: clock, schemaVersion: 1})
	must(t, err)
	defer s.Close()
	if s.SchemaVersion() != 1 {
		t.Errorf("version = %d", s.SchemaVersion())
	}
	if _, err := s.Draft(ctx, "keep0001"); err != nil {
		t.Errorf("the first migration's delete was not rolled back: %v", err)
	}
	must(t, s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("widgets")) != nil {
			t.Error("the first migration's bucket was not rolled back")
		}
		return nil
	}))
	if len(backups(t, path)) != 1 {
		t.Errorf("backups = %v", backups(t, path))
	}
}

func TestMigrationRefusals(t *testing.T) {
	t.Parallel()
	path := v1File(t)

	// A gap in the migration list.
	_, err := Open(path, Options{schemaVersion: 3, migrations: []migration{{from: 1, name: "one", up: func(*bolt.Tx) error { return nil }}}})
	wantErr(t, err, nil, "no migration from v2 to v3")
	if len(backups(t, path)) != 0 {
		t.Errorf("backup made although nothing can migrate: %v", backups(t, path))
	}

	// Read-only opens cannot migrate.
	_, err = Open(path, Options{ReadOnly: true, schemaVersion: 2, migrations: []migration{{from: 1, name: "one", up: func(*bolt.Tx) error { return nil }}}})
	wantErr(t, err, nil, "needs migrating to v2")

	// Newer than this binary.
	var noops []migration
	for v := 1; v <= SchemaVersion; v++ {
		noops = append(noops, migration{from: v, name: "noop", up: func(*bolt.Tx) error { return nil }})
	}
	s, err := Open(path, Options{schemaVersion: SchemaVersion + 1, migrations: noops})
	must(t, err)
	must(t, s.Close())
	_, err = Open(path, Options{})
	wantErr(t, err, ErrNewerSchema, fmt.Sprintf("(schema v%d; this binary knows up to v%d); upgrade impact", SchemaVersion+1, SchemaVersion))
	_, err = Open(path, Options{ReadOnly: true})
	wantErr(t, err, ErrNewerSchema, "upgrade impact")
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message does not name the file: %v", err)
	}
}
