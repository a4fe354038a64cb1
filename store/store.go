// Package store keeps impact's local history in a single bbolt file: series
// samples, merged PRs, deploys, drafts, collector cursors and run records.
// The layout is declared in schema.go; migrations between layouts run on
// Open after a backup copy of the file is taken.
//
// Every method takes a context first and returns errors that start with
// "store: ". A Store is safe for concurrent use; bbolt serialises writers.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/impact-dev/impact/internal/model"
)

// Errors callers may test for with errors.Is. The errors the store returns
// carry a full one-line message; these are only the sentinels they wrap.
var (
	// ErrLocked: another process (or another Store) holds the file.
	ErrLocked = errors.New("is in use by another process")
	// ErrNotFound: no draft (or other record) with that id.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: a draft id prefix matches more than one draft.
	ErrAmbiguous = errors.New("is ambiguous")
	// ErrNewerSchema: the file was written by a newer impact.
	ErrNewerSchema = errors.New("newer schema")
	// ErrNotDatabase: the file is not an impact (bbolt) database.
	ErrNotDatabase = errors.New("not an impact database")
	// ErrInvalid: a batch or draft failed validation; nothing was written.
	ErrInvalid = errors.New("invalid")
)

// DefaultTimeout is how long Open waits for the file lock.
const DefaultTimeout = 2 * time.Second

// Options for Open.
type Options struct {
	// Timeout is how long to wait for the file lock; 0 means DefaultTimeout.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock; it must exist and be at
	// the current schema version.
	ReadOnly bool
	// Now is the clock (created_at, backup names, default CreatedAt and
	// DecidedAt); nil means time.Now.
	Now func() time.Time
	// Logger receives migration and backup notices; nil discards them.
	Logger *slog.Logger
	// NoCheck skips the check (Check) Open runs on an existing file before
	// using it; for benchmarks and the tests of Check itself.
	NoCheck bool
	// Backups, when > 0, makes a read-write Open of an existing store take
	// the day's backup copy (DailyBackup) and keep that many; the store is
	// checked first, so a damaged one fails Open with ErrDamaged.
	Backups int

	// For tests: the schema version to migrate to and the migrations to use
	// instead of SchemaVersion and the package's migrations.
	schemaVersion int
	migrations    []migration
	// releaseEvery, when > 0, replaces the package's releaseEvery (tests
	// release the mapped pages after every read).
	releaseEvery int64
}

// Store is an open impact database.
type Store struct {
	db      *bolt.DB
	path    string
	opts    Options
	version int
	fresh   bool // Open created the file's buckets
	mapped  mapped
	// checked: Open checked every page. sound: the session began with a
	// sound store (checked, created, or unchanged since a sound session
	// left it). damaged: a read found damage.
	checked, sound bool
	damaged        atomic.Bool
	// canonical: every stored draft is this build's json.Marshal of it
	// (canonical.go).
	canonical bool
	closed    bool
}

// msgError is an error with a complete one-line message that still matches
// a sentinel (kind) and unwraps to its cause.
type msgError struct {
	msg   string
	kind  error
	cause error
}

func (e *msgError) Error() string        { return e.msg }
func (e *msgError) Is(target error) bool { return target == e.kind }
func (e *msgError) Unwrap() error        { return e.cause }

func errorf(kind, cause error, format string, args ...any) error {
	return &msgError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

// Open opens (creating if needed) the database at path. A new file gets mode
// 0600 and its missing parent directories 0700. When another process holds
// the file, Open fails after Options.Timeout with an error wrapping
// ErrLocked. An existing file is checked before use (Check, unless
// Options.NoCheck): an empty, truncated or corrupt file is an error wrapping
// ErrDamaged that names the newest backup — never a panic, never a new
// empty store. An older file is backed up to <path>.bak-v<N>-<timestamp> and
// migrated; a file from a newer impact is refused (ErrNewerSchema).
func Open(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: no database path given")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.releaseEvery <= 0 {
		o.releaseEvery = releaseEvery
	}
	if o.schemaVersion == 0 {
		o.schemaVersion = SchemaVersion
		o.migrations = migrations
	}

	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, errorf(ErrNotDatabase, nil, "store: %s is a directory, not an impact database", path)
	case err == nil:
		if err := precheck(path, fi.Size()); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if o.ReadOnly {
			return nil, errorf(fs.ErrNotExist, err, "store: %s does not exist (nothing collected yet?)", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: creating the directory for %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("store: %w", err)
	}

	db, err := openBolt(path, &bolt.Options{
		Timeout:      o.Timeout,
		ReadOnly:     o.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		switch {
		case errors.Is(err, ErrDamaged):
			return nil, err
		case errors.Is(err, berrors.ErrChecksum):
			return nil, damaged(path, err)
		case errors.Is(err, berrors.ErrTimeout):
			return nil, errorf(ErrLocked, err, "store: %s is in use by another process (is \"impact serve\" running?)", path)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), isBoltSizeError(err):
			return nil, errorf(ErrNotDatabase, err, "store: %s is not an impact database (%v)", path, err)
		}
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	s := &Store{db: db, path: path, opts: o}
	s.mapped.base = -1
	existed := fi != nil
	switch {
	case !existed:
		s.sound = true
	case s.unchangedSinceChecked():
		// As a sound session left it: no page changed since.
		s.sound = true
	case !o.NoCheck:
		// Before any use, and before a migration could rewrite it.
		if _, err := s.Check(context.Background()); err != nil {
			_ = db.Close()
			return nil, err
		}
		s.checked, s.sound = true, true
	}
	if err := s.initSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.initDraftEncoding(); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.sound = s.sound || s.fresh
	if o.Backups > 0 && !o.ReadOnly && existed && !s.fresh {
		// The day's backup checks the whole store unless Open just did.
		if _, err := s.dailyBackup(context.Background(), o.Backups, s.checked); errors.Is(err, ErrDamaged) {
			_ = db.Close()
			return nil, err
		} else if err != nil {
			o.Logger.Warn("store: no daily backup", "path", path, "err", err)
		}
	}
	return s, nil
}

// isBoltSizeError reports bbolt's complaint about a file too short to hold
// its meta pages, which is what a small non-bbolt file produces.
func isBoltSizeError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "file size too small") ||
		strings.Contains(msg, "invalid page size") ||
		strings.Contains(msg, "magic")
}

// Close releases the file. Calling it again is a no-op.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.opts.ReadOnly {
		// A read-only session leaves the directory as it found it.
		if s.sound && !s.damaged.Load() {
			s.leaveChecked()
		} else {
			_ = os.Remove(s.path + checkedSuffix)
		}
	}
	s.mapped.mu.Lock()
	s.mapped.rss.close()
	s.mapped.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: closing %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file's path as given to Open.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the schema version of the open file (after migration).
func (s *Store) SchemaVersion() int { return s.version }

// initSchema creates a new file's buckets, or checks and migrates an
// existing file's version.
func (s *Store) initSchema() error {
	target := s.opts.schemaVersion
	var (
		version int
		fresh   bool
		missing bool
		noHeads bool // at v5 or later: rebuilt on a read-write open
	)
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			any := false
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { any = true; return nil })
			if any {
				return errorf(ErrNotDatabase, nil, "store: %s is a bbolt file but not an impact database (no meta bucket)", s.path)
			}
			fresh = true
			return nil
		}
		v := meta.Get(keySchemaVersion)
		if len(v) != 4 {
			return errorf(ErrNotDatabase, nil, "store: %s has no valid schema version; not an impact database", s.path)
		}
		version = int(binary.BigEndian.Uint32(v))
		for _, name := range buckets() {
			if tx.Bucket(name) == nil {
				missing = true
			}
		}
		noHeads = tx.Bucket(bucketDraftHeads) == nil
		return nil
	})
	if err != nil {
		return err
	}

	switch {
	case fresh:
		if s.opts.ReadOnly {
			return errorf(ErrNotDatabase, nil, "store: %s is empty (nothing collected yet?)", s.path)
		}
		err := s.update(func(tx *bolt.Tx) error {
			if err := createBuckets(tx); err != nil {
				return err
			}
			if err := rebuildDraftHeads(tx); err != nil {
				return err
			}
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(keyCreatedAt, []byte(s.opts.Now().UTC().Format(time.RFC3339))); err != nil {
				return err
			}
			return putVersion(tx, target)
		})
		if err != nil {
			return fmt.Errorf("store: initialising %s: %w", s.path, err)
		}
		s.version, s.fresh = target, true
		return nil

	case version > target:
		return errorf(ErrNewerSchema, nil,
			"store: %s was written by a newer impact (schema v%d; this binary knows up to v%d); upgrade impact",
			s.path, version, target)

	case version < target:
		if s.opts.ReadOnly {
			if s.readableAt(version, target) {
				s.version = version
				return nil
			}
			return fmt.Errorf("store: %s has schema v%d and needs migrating to v%d; open it read-write once (e.g. run \"impact collect\")",
				s.path, version, target)
		}
		if err := s.migrate(version, target); err != nil {
			return err
		}
		s.version = target
		return nil
	}

	s.version = version
	if noHeads && version >= 5 {
		missing = true
	}
	if missing && !s.opts.ReadOnly {
		if err := s.update(func(tx *bolt.Tx) error {
			if err := createBuckets(tx); err != nil {
				return err
			}
			if tx.Bucket(bucketDraftHeads) == nil {
				return rebuildDraftHeads(tx)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("store: creating buckets in %s: %w", s.path, err)
		}
	}
	return nil
}

// readableAt reports whether every migration from version to target is
// marked readable: the older file then reads correctly as it is.
func (s *Store) readableAt(version, target int) bool {
	for v := version; v < target; v++ {
		ok := false
		for _, m := range s.opts.migrations {
			if m.from == v && m.readable {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func createBuckets(tx *bolt.Tx) error {
	for _, name := range buckets() {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

func putVersion(tx *bolt.Tx, v int) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(v))
	return tx.Bucket(bucketMeta).Put(keySchemaVersion, b[:])
}

// migrate backs the file up, then runs the migrations from → to in one
// transaction.
func (s *Store) migrate(from, to int) error {
	var plan []migration
	for v := from; v < to; v++ {
		found := false
		for _, m := range s.opts.migrations {
			if m.from == v {
				plan = append(plan, m)
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("store: %s has schema v%d but this binary has no migration from v%d to v%d", s.path, from, v, v+1)
		}
	}

	backup, err := s.backup(from)
	if err != nil {
		return err
	}
	s.opts.Logger.Info("store: migrating", "path", s.path, "from", from, "to", to, "backup", backup)

	err = s.update(func(tx *bolt.Tx) error {
		for _, m := range plan {
			if err := m.up(tx); err != nil {
				return fmt.Errorf("store: migrating %s from schema v%d to v%d (%s) failed, file left at v%d (backup %s): %w",
					s.path, m.from, m.from+1, m.name, from, backup, err)
			}
			s.opts.Logger.Info("store: migration done", "from", m.from, "to", m.from+1, "name", m.name)
		}
		if err := createBuckets(tx); err != nil {
			return fmt.Errorf("store: migrating %s: %w", s.path, err)
		}
		return putVersion(tx, to)
	})
	return wrap(err)
}

// backup copies the whole database to <path>.bak-v<from>-<timestamp> and
// returns the copy's path. It runs in a read transaction while Open holds
// the file lock, so the copy is consistent.
func (s *Store) backup(from int) (string, error) {
	stamp := s.opts.Now().UTC().Format("20060102T150405Z")
	base := fmt.Sprintf("%s.bak-v%d-%s", s.path, from, stamp)
	var f *os.File
	name := base
	for i := 1; ; i++ {
		var err error
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return "", fmt.Errorf("store: backing up %s before migrating: %w", s.path, err)
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	err := s.view(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(f)
		return err
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("store: backing up %s to %s: %w", s.path, name, err)
	}
	return name, nil
}

// Stats describes the database for `impact status`.
type Stats struct {
	Path          string               `json:"path"`
	FileSize      int64                `json:"file_size_bytes"`
	SchemaVersion int                  `json:"schema_version"`
	Series        int                  `json:"series"`
	Samples       int64                `json:"samples"`
	PRs           int                  `json:"prs"`
	Deploys       int                  `json:"deploys"`
	Incidents     int                  `json:"incidents"`
	CIRuns        int                  `json:"ci_runs"`
	Reviews       int                  `json:"reviews"`
	Drafts        map[model.Status]int `json:"drafts"`
}

// Stats counts what the database holds.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{
		Path:          s.path,
		SchemaVersion: s.version,
		Drafts:        map[model.Status]int{model.StatusPending: 0, model.StatusAccepted: 0, model.StatusRejected: 0},
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("store: %w", err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		st.FileSize = tx.Size()
		if sb := tx.Bucket(bucketSeries); sb != nil {
			err := sb.ForEachBucket(func(name []byte) error {
				st.Series++
				c := sb.Bucket(name).Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					st.Samples += int64(len(v) / sampleSize)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		st.PRs = countKeys(tx.Bucket(tablePRs.name))
		st.Deploys = countKeys(tx.Bucket(tableDeploys.name))
		st.Incidents = countKeys(tx.Bucket(tableIncidents.name))
		st.CIRuns = countKeys(tx.Bucket(tableCIRuns.name))
		st.Reviews = countKeys(tx.Bucket(tableReviews.name))
		statuses, err := s.draftStatuses(tx)
		if err != nil {
			return err
		}
		for status, n := range statuses {
			st.Drafts[status] += n
		}
		return nil
	})
	if err != nil {
		return st, wrap(err)
	}
	if fi, err := os.Stat(s.path); err == nil {
		st.FileSize = fi.Size()
	}
	return st, nil
}

func countKeys(b *bolt.Bucket) int {
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

// wrap prefixes err with "store: " unless it already carries the prefix.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if strings.HasPrefix(err.Error(), "store: ") {
		return err
	}
	return fmt.Errorf("store: %w", err)
}
