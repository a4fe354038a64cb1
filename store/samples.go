package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// maxIDLen bounds series ids, sources and cursor keys (bbolt allows 32 KiB
// keys; nothing legitimate comes close to this).
const maxIDLen = 1024

// SeriesStat summarises one series.
type SeriesStat struct {
	Count int       `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// rec is one stored sample: seconds since the start of its UTC day and the
// value's bits.
type rec struct {
	off  uint32
	bits uint64
}

func decodeRecs(v []byte, dst []rec) []rec {
	for i := 0; i+sampleSize <= len(v); i += sampleSize {
		dst = append(dst, rec{
			off:  binary.BigEndian.Uint32(v[i:]),
			bits: binary.BigEndian.Uint64(v[i+4:]),
		})
	}
	return dst
}

func encodeRecs(rs []rec) []byte {
	b := make([]byte, len(rs)*sampleSize)
	for i, r := range rs {
		binary.BigEndian.PutUint32(b[i*sampleSize:], r.off)
		binary.BigEndian.PutUint64(b[i*sampleSize+4:], r.bits)
	}
	return b
}

// mergeDay merges the new records (sorted by off, unique) into the stored
// value of a day; on equal times the new record wins.
func mergeDay(old []byte, add []rec) []byte {
	if len(old) == 0 {
		return encodeRecs(add)
	}
	// Fast path: everything new comes after the last stored sample.
	lastOff := binary.BigEndian.Uint32(old[len(old)-sampleSize:])
	if add[0].off > lastOff {
		out := make([]byte, len(old), len(old)+len(add)*sampleSize)
		copy(out, old)
		return append(out, encodeRecs(add)...)
	}
	have := decodeRecs(old, make([]rec, 0, len(old)/sampleSize+len(add)))
	merged := make([]rec, 0, len(have)+len(add))
	i, j := 0, 0
	for i < len(have) || j < len(add) {
		switch {
		case j == len(add) || (i < len(have) && have[i].off < add[j].off):
			merged = append(merged, have[i])
			i++
		case i == len(have) || add[j].off < have[i].off:
			merged = append(merged, add[j])
			j++
		default: // same second: the newer value replaces the stored one
			merged = append(merged, add[j])
			i++
			j++
		}
	}
	return encodeRecs(merged)
}

// Cursor returns the cursor stored under key for source, or nil.
func (s *Store) Cursor(ctx context.Context, source, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCursors); b != nil {
			if v := b.Get(cursorKey(source, key)); v != nil {
				out = bytes.Clone(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading cursor %s/%s: %w", source, key, err)
	}
	return out, nil
}

// Commit writes a batch in one transaction: samples upserted by (series,
// second), PRs and deploys upserted by natural id, and the source's cursors
// (a nil cursor value deletes the cursor). Either all of it is written or,
// when anything in it is invalid (an empty series id, a sample before 1970,
// a PR without repo or merge time, ...), none of it, and the error wraps
// ErrInvalid. Committing the same batch twice stores the same data once.
func (s *Store) Commit(ctx context.Context, b model.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := validateBatch(b); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error { return writeBatch(tx, b) })
	if err != nil {
		return fmt.Errorf("store: commit from %s: %w", sourceName(b.Source), err)
	}
	return nil
}

// writeBatch writes a validated batch inside tx; any error rolls it all back.
func writeBatch(tx *bolt.Tx, b model.Batch) error {
	cl := newChangeLog(tx)
	if err := putSamples(tx, b.Samples, cl); err != nil {
		return err
	}
	// PRs and deploys: a change is news to the series of their repo.
	for _, p := range b.PRs {
		if err := putEvent(tablePRs, tx, cl, p, p.Repo); err != nil {
			return err
		}
	}
	for _, d := range b.Deploys {
		if err := putEvent(tableDeploys, tx, cl, d, d.Repo); err != nil {
			return err
		}
	}
	for _, i := range b.Incidents {
		if err := putEvent(tableIncidents, tx, cl, i, ""); err != nil {
			return err
		}
	}
	for _, r := range b.CIRuns {
		if err := putEvent(tableCIRuns, tx, cl, r, ""); err != nil {
			return err
		}
	}
	for _, r := range b.Reviews {
		if err := putEvent(tableReviews, tx, cl, r, ""); err != nil {
			return err
		}
	}
	cb := tx.Bucket(bucketCursors)
	for k, v := range b.Cursors {
		var err error
		if v == nil {
			err = cb.Delete(cursorKey(b.Source, k))
		} else {
			err = cb.Put(cursorKey(b.Source, k), bytes.Clone(v))
		}
		if err != nil {
			return fmt.Errorf("cursor %s/%s: %w", b.Source, k, err)
		}
	}
	return nil
}

// putEvent upserts one event and stamps the change log when it changed:
// ChangeEvents always, and for a PR or deploy (repo non-empty) the repo's
// day of the event (the earlier of its old and new time).
func putEvent[T any](t eventTable[T], tx *bolt.Tx, cl *changeLog, v T, repo string) error {
	changed, sec, err := t.put(tx, v)
	if err != nil || !changed {
		return err
	}
	if err := cl.mark(ChangeEvents); err != nil || repo == "" {
		return err
	}
	return cl.markRepo(repo, uint32(max(sec, 0)/secondsPerDay))
}

func sourceName(s string) string {
	if s == "" {
		return "(no source)"
	}
	return s
}

func invalidf(format string, args ...any) error {
	return errorf(ErrInvalid, nil, "store: invalid batch: %s", fmt.Sprintf(format, args...))
}

// validateBatch checks the whole batch before the transaction starts.
func validateBatch(b model.Batch) error {
	if len(b.Source) > maxIDLen || bytes.IndexByte([]byte(b.Source), 0) >= 0 {
		return invalidf("bad source name %q", b.Source)
	}
	if len(b.Cursors) > 0 && b.Source == "" {
		return invalidf("cursors need a source")
	}
	for k := range b.Cursors {
		if k == "" || len(k) > maxIDLen {
			return invalidf("bad cursor key %q for source %s", k, b.Source)
		}
	}
	for id, ss := range b.Samples {
		if id == "" {
			return invalidf("series id is empty (%d samples)", len(ss))
		}
		if len(id) > maxIDLen {
			return invalidf("series id %.40q… is too long", id)
		}
		for _, smp := range ss {
			if sec := smp.Time.Unix(); sec < 0 || sec >= math.MaxUint32*secondsPerDay {
				return invalidf("series %q: sample time %s is out of range", id, smp.Time.UTC().Format(time.RFC3339))
			}
		}
	}
	for _, p := range b.PRs {
		if err := tablePRs.check(p); err != nil {
			return invalidf("%v", err)
		}
	}
	for _, d := range b.Deploys {
		if err := tableDeploys.check(d); err != nil {
			return invalidf("%v", err)
		}
	}
	for _, i := range b.Incidents {
		if err := tableIncidents.check(i); err != nil {
			return invalidf("%v", err)
		}
	}
	for _, r := range b.CIRuns {
		if err := tableCIRuns.check(r); err != nil {
			return invalidf("%v", err)
		}
	}
	for _, r := range b.Reviews {
		if err := tableReviews.check(r); err != nil {
			return invalidf("%v", err)
		}
	}
	return nil
}

// putSamples upserts samples, one day key at a time.
func putSamples(tx *bolt.Tx, series map[string][]model.Sample, cl *changeLog) error {
	ids := make([]string, 0, len(series))
	for id, ss := range series {
		if len(ss) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	root := tx.Bucket(bucketSeries)
	days := map[uint32][]rec{}
	for _, id := range ids {
		b, err := root.CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return fmt.Errorf("series %q: %w", id, err)
		}
		b.FillPercent = fillAppend

		clear(days)
		changed, minDay := false, uint32(math.MaxUint32)
		for _, smp := range series[id] {
			sec := smp.Time.Unix()
			day := uint32(sec / secondsPerDay)
			days[day] = append(days[day], rec{off: uint32(sec % secondsPerDay), bits: math.Float64bits(smp.Value)})
		}
		keys := make([]uint32, 0, len(days))
		for d := range days {
			keys = append(keys, d)
		}
		slices.Sort(keys)
		for _, d := range keys {
			add := sortUnique(days[d])
			k := dayKey(d)
			old := b.Get(k)
			v := mergeDay(old, add)
			if bytes.Equal(old, v) {
				continue // re-collected data: leave the page alone
			}
			if err := b.Put(k, v); err != nil {
				return fmt.Errorf("series %q: %w", id, err)
			}
			changed = true
			minDay = min(minDay, d)
		}
		if changed {
			if err := cl.markSeries(id, minDay); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortUnique sorts records by time; for equal times the last one (the
// newest in the batch) is kept.
func sortUnique(rs []rec) []rec {
	if !slices.IsSortedFunc(rs, func(a, b rec) int { return int(a.off) - int(b.off) }) {
		slices.SortStableFunc(rs, func(a, b rec) int { return int(a.off) - int(b.off) })
	}
	out := rs[:0]
	for i, r := range rs {
		if i+1 < len(rs) && rs[i+1].off == r.off {
			continue
		}
		out = append(out, r)
	}
	return out
}

// ceilSec is the first whole second at or after t, clamped to [0, max].
func ceilSec(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return max(sec, 0)
}

// Samples returns the samples of series in [from, to), sorted by time. A
// zero to means no upper bound; an unknown series has no samples.
func (s *Store) Samples(ctx context.Context, series string, from, to time.Time) ([]model.Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	lo := ceilSec(from)
	hi := int64(math.MaxInt64)
	if !to.IsZero() {
		hi = ceilSec(to) // exclusive
	}
	if hi <= lo {
		return nil, nil
	}
	var out []model.Sample
	err := s.view(func(tx *bolt.Tx) error {
		b := seriesBucket(tx, series)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		loDay := lo / secondsPerDay
		if loDay > math.MaxUint32 {
			return nil
		}
		// Count first (the values are read in place), so the slice is
		// allocated once at its size rather than grown by copying.
		n := 0
		for k, v := c.Seek(dayKey(uint32(loDay))); k != nil; k, v = c.Next() {
			if int64(binary.BigEndian.Uint32(k))*secondsPerDay >= hi {
				break
			}
			n += len(v) / sampleSize
		}
		if n == 0 {
			return nil
		}
		out = make([]model.Sample, 0, n)
		for k, v := c.Seek(dayKey(uint32(loDay))); k != nil; k, v = c.Next() {
			start := int64(binary.BigEndian.Uint32(k)) * secondsPerDay
			if start >= hi {
				break
			}
			for i := 0; i+sampleSize <= len(v); i += sampleSize {
				sec := start + int64(binary.BigEndian.Uint32(v[i:]))
				if sec < lo {
					continue
				}
				if sec >= hi {
					break
				}
				out = append(out, model.Sample{
					Time:  time.Unix(sec, 0).UTC(),
					Value: math.Float64frombits(binary.BigEndian.Uint64(v[i+4:])),
				})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: samples of %q: %w", series, err)
	}
	return out, nil
}

func seriesBucket(tx *bolt.Tx, id string) *bolt.Bucket {
	root := tx.Bucket(bucketSeries)
	if root == nil || id == "" {
		return nil
	}
	return root.Bucket([]byte(id))
}

// SeriesIDs lists the ids of every series with samples, sorted.
func (s *Store) SeriesIDs(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketSeries)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(k []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: listing series: %w", err)
	}
	return ids, nil
}

// SeriesStats returns the sample count and first and last sample time of
// every series.
func (s *Store) SeriesStats(ctx context.Context) (map[string]SeriesStat, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out := map[string]SeriesStat{}
	err := s.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketSeries)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(name []byte) error {
			var st SeriesStat
			c := root.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				n := len(v) / sampleSize
				if n == 0 {
					continue
				}
				start := int64(binary.BigEndian.Uint32(k)) * secondsPerDay
				if st.Count == 0 {
					st.First = time.Unix(start+int64(binary.BigEndian.Uint32(v)), 0).UTC()
				}
				st.Last = time.Unix(start+int64(binary.BigEndian.Uint32(v[(n-1)*sampleSize:])), 0).UTC()
				st.Count += n
			}
			out[string(name)] = st
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: series stats: %w", err)
	}
	return out, nil
}

// FirstSample returns the time of the first sample of series; ok is false
// when it has none.
func (s *Store) FirstSample(ctx context.Context, series string) (first time.Time, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("store: %w", err)
	}
	err = s.view(func(tx *bolt.Tx) error {
		b := seriesBucket(tx, series)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) >= sampleSize {
				first = time.Unix(int64(binary.BigEndian.Uint32(k))*secondsPerDay+int64(binary.BigEndian.Uint32(v)), 0).UTC()
				ok = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: first sample of %q: %w", series, err)
	}
	return first, ok, nil
}
