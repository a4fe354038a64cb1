package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultBackups is how many daily backup copies Open keeps when
// Options.Backups asks for them.
const DefaultBackups = 7

// Backup names, all beside the store: <path>.bak-v<N>-<time> (taken before
// a migration from schema vN; never rotated) and <path>.bak-daily-<day>
// (one a day, the newest Options.Backups kept). Restore keeps the file it
// replaces as <path>.replaced-<time>.
const (
	backupInfix = ".bak-"
	dailyInfix  = ".bak-daily-"
)

// Backup is one backup copy of a store.
type Backup struct {
	Path    string    `json:"path"`
	ModTime time.Time `json:"mod_time"`
	Size    int64     `json:"size_bytes"`
}

// Backups lists the backup copies beside the store at path, newest first.
func Backups(path string) ([]Backup, error) {
	names, err := filepath.Glob(globEscape(path) + backupInfix + "*")
	if err != nil {
		return nil, fmt.Errorf("store: listing the backups of %s: %w", path, err)
	}
	var bs []Backup
	for _, n := range names {
		if strings.HasSuffix(n, ".tmp") {
			continue
		}
		fi, err := os.Stat(n)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		bs = append(bs, Backup{Path: n, ModTime: fi.ModTime().UTC(), Size: fi.Size()})
	}
	sort.Slice(bs, func(i, j int) bool {
		if !bs[i].ModTime.Equal(bs[j].ModTime) {
			return bs[i].ModTime.After(bs[j].ModTime)
		}
		return bs[i].Path > bs[j].Path
	})
	return bs, nil
}

// NewestBackup is the newest backup copy of the store at path, "" if none.
func NewestBackup(path string) string {
	bs, _ := Backups(path)
	if len(bs) == 0 {
		return ""
	}
	return bs[0].Path
}

func globEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(p)
}

// DailyBackup copies the store to <path>.bak-daily-<UTC day> unless
// today's copy exists, and then removes all but the newest keep daily
// copies (DefaultBackups when keep ≤ 0). It checks the store first
// (Check): a damaged store is never copied over a good backup, and the
// error wraps ErrDamaged. It returns the new copy's path, "" when today's
// existed.
func (s *Store) DailyBackup(ctx context.Context, keep int) (string, error) {
	return s.dailyBackup(ctx, keep, false)
}

// dailyBackup is DailyBackup; checked says Open has just checked the store.
func (s *Store) dailyBackup(ctx context.Context, keep int, checked bool) (string, error) {
	if keep <= 0 {
		keep = DefaultBackups
	}
	name := s.path + dailyInfix + s.opts.Now().UTC().Format("20060102")
	if _, err := os.Stat(name); err == nil {
		return "", nil
	}
	if !checked {
		if _, err := s.Check(ctx); err != nil {
			return "", err
		}
	}
	if err := s.writeCopy(name); err != nil {
		return "", err
	}
	daily, err := filepath.Glob(globEscape(s.path) + dailyInfix + "*")
	if err != nil {
		return name, nil
	}
	var old []string
	for _, n := range daily {
		if !strings.HasSuffix(n, ".tmp") {
			old = append(old, n)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(old))) // day order: newest first
	for _, n := range old[min(keep, len(old)):] {
		if err := os.Remove(n); err != nil {
			s.opts.Logger.Warn("store: removing an old backup", "path", n, "err", err)
		}
	}
	s.opts.Logger.Info("store: daily backup", "path", name)
	return name, nil
}

// writeCopy writes a consistent copy of the store to name (through a .tmp
// file renamed into place, so a copy is whole or absent).
func (s *Store) writeCopy(name string) error {
	tmp := name + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backing up %s: %w", s.path, err)
	}
	err = s.copyTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, ErrDamaged) {
			return err
		}
		return fmt.Errorf("store: backing up %s to %s: %w", s.path, name, err)
	}
	return nil
}

// CheckFile opens the store at path read-only and checks it (Check), once:
// Open's own check is left to it. It never creates or changes the file.
func CheckFile(ctx context.Context, path string, o Options) (CheckReport, error) {
	o.ReadOnly, o.NoCheck = true, true
	st, err := Open(path, o)
	if err != nil {
		return CheckReport{Path: path, NewestBackup: NewestBackup(path)}, err
	}
	defer st.Close()
	return st.Check(ctx)
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Path string `json:"path"`
	From string `json:"from"`
	// Kept is where the replaced file now is ("" when there was none).
	Kept   string      `json:"kept,omitempty"`
	Report CheckReport `json:"check"`
}

// Restore replaces the store at path with a copy of backup ("" means the
// newest backup that passes Check). The backup is checked before anything
// moves; the file it replaces is kept as <path>.replaced-<time>, never
// deleted. Another process holding path gives an error wrapping ErrLocked.
func Restore(ctx context.Context, path, backup string, now time.Time) (RestoreResult, error) {
	res := RestoreResult{Path: path}
	unlock, err := lockFile(path)
	if err != nil {
		return res, err
	}
	defer unlock()

	opts := Options{Timeout: time.Second}
	if backup == "" {
		bs, err := Backups(path)
		if err != nil {
			return res, err
		}
		if len(bs) == 0 {
			return res, fmt.Errorf("store: %s has no backups beside it (%s%s*)", path, path, backupInfix)
		}
		var why []string
		for _, b := range bs {
			rep, err := CheckFile(ctx, b.Path, opts)
			if err == nil {
				backup, res.Report = b.Path, rep
				break
			}
			why = append(why, err.Error())
		}
		if backup == "" {
			return res, fmt.Errorf("store: none of the %d backups of %s is sound (newest: %s)", len(bs), path, why[0])
		}
	} else {
		rep, err := CheckFile(ctx, backup, opts)
		if err != nil {
			return res, &msgError{msg: "store: not restoring from " + backup + ": " + strings.TrimPrefix(err.Error(), "store: "), cause: err}
		}
		res.Report = rep
	}
	res.From = backup
	res.Report.Path = path

	stamp := now.UTC().Format("20060102T150405Z")
	tmp := path + ".restore-" + stamp
	if err := copyFile(tmp, backup); err != nil {
		return res, fmt.Errorf("store: copying %s: %w", backup, err)
	}
	if _, err := os.Lstat(path); err == nil {
		res.Kept = path + ".replaced-" + stamp
		if err := os.Rename(path, res.Kept); err != nil {
			_ = os.Remove(tmp)
			return res, fmt.Errorf("store: moving %s aside: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return res, fmt.Errorf("store: putting the copy of %s in place: %w", backup, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return res, nil
}

func copyFile(dst, src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// lockFile takes the exclusive lock bbolt uses on path (when the file
// exists), so no daemon or command uses the store while it is replaced.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, errorf(ErrLocked, err, "store: %s is in use by another process (stop \"impact serve\" first)", path)
	}
	return func() { f.Close() }, nil
}
