package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// SchemaVersion is the layout this binary reads and writes. Bump it together
// with a new entry in migrations.
const SchemaVersion = 5

// The schema. Every bucket the store uses is declared in this file; keys and
// values are raw bytes, all integers big-endian so that keys sort by value.
//
//	meta/
//	    schema_version      → uint32
//	    created_at          → RFC 3339 UTC text
//	    demo                → "1" when "impact demo" made the file (its data
//	                          is made up; the demo writes only to such files)
//	    draft_encoding      → the encoding the drafts are in, NUL, "1" when
//	                          every draft is exactly in it (canonical.go)
//	series/                 (one nested bucket per series id)
//	    <series id>/
//	        <day uint32>    → packed samples of that UTC day, sorted by time:
//	                          repeated { uint32 seconds since 00:00 UTC,
//	                                     uint64 IEEE-754 bits of the value }
//	                          (12 bytes a sample; day = unix seconds / 86400)
//	prs/
//	    <owner/repo#123>    → JSON model.PR
//	prs_by_merged/
//	    <uint64 unix s><owner/repo#123> → empty  (index on merged_at)
//	deploys/
//	    <repo/workflow/run> → JSON model.Deploy
//	deploys_by_time/
//	    <uint64 unix s><repo/workflow/run> → empty  (index on time)
//	incidents/
//	    <incident id>       → JSON model.Incident
//	incidents_by_created/
//	    <uint64 unix s><incident id> → empty  (index on created_at)
//	ci_runs/
//	    <repo/workflow/run> → JSON model.CIRun
//	ci_runs_by_created/
//	    <uint64 unix s><repo/workflow/run> → empty  (index on created_at)
//	reviews/
//	    <owner/repo#123/review id> → JSON model.Review (reviews I gave)
//	reviews_by_submitted/
//	    <uint64 unix s><owner/repo#123/review id> → empty  (index on submitted_at)
//	drafts/
//	    <draft id>          → JSON model.Draft (v2: with its decision history;
//	                          v3: every draft has a kind — manual wins and
//	                          activity drafts live here too)
//	cursors/
//	    <source>\x00<key>   → opaque collector bytes
//	runs/
//	    <source>            → JSON RunRecord
//	digests/
//	    <ISO week "2026-W48"> → JSON DigestRecord (state sending|sent|failed|skipped)
//	changes/                (v4; the bucket's sequence is the latest change)
//	    <series id>         → uint64 sequence of the commit that last changed its
//	                          samples, uint32 earliest day changed since the drafter
//	                          last analysed it
//	    \x00events          → uint64 … that last changed any event
//	    \x00repo\x00<repo>\x00<day uint32> → uint64 … that last changed a PR
//	                          merged or a deploy run that day in repo (lower case;
//	                          empty repo: any repo)
//	drafted/                (v4)
//	    <series id>         → JSON SeriesState: the change sequence the drafter
//	                          last analysed the series at (store/drafter.go)
//	draft_heads/            (v5; written with every draft: heads.go)
//	    <draft id>          → int64 unix seconds, uint32 nanoseconds of the
//	                          draft's shift_at, then its status, kind and
//	                          category, each a uvarint length and its bytes
//
// Event tables (prs, deploys) are a pair of buckets: natural id → JSON, and a
// time index whose keys are the 8-byte unix seconds followed by the natural
// id. A new kind of event (incidents, ci_runs) is one more eventTable value
// plus its typed accessors; Open creates missing buckets on every read-write
// open, so adding an empty bucket needs no migration.
var (
	bucketMeta    = []byte("meta")
	bucketSeries  = []byte("series")
	bucketDrafts  = []byte("drafts")
	bucketCursors = []byte("cursors")
	bucketRuns    = []byte("runs")
	bucketDigests = []byte("digests")
	bucketChanges = []byte("changes")
	bucketDrafted = []byte("drafted")
	// bucketDraftHeads is not in buckets(): it is made with the drafts'
	// heads in it (rebuildDraftHeads), never empty beside drafts.
	bucketDraftHeads = []byte("draft_heads")

	keySchemaVersion = []byte("schema_version")
	keyCreatedAt     = []byte("created_at")
	keyDemo          = []byte("demo")
	keyDraftEncoding = []byte("draft_encoding")
)

// Event tables.
var (
	tablePRs = eventTable[model.PR]{
		name:  []byte("prs"),
		index: []byte("prs_by_merged"),
		kind:  "PR",
		key:   model.PR.Key,
		time:  func(p model.PR) time.Time { return p.MergedAt },
		validate: func(p model.PR) error {
			if p.Repo == "" || p.Number <= 0 {
				return fmt.Errorf("PR %q: repo and number are required", p.Key())
			}
			return nil
		},
		normalize: func(p *model.PR) { p.MergedAt = p.MergedAt.UTC() },
	}
	tableDeploys = eventTable[model.Deploy]{
		name:  []byte("deploys"),
		index: []byte("deploys_by_time"),
		kind:  "deploy",
		key:   model.Deploy.Key,
		time:  func(d model.Deploy) time.Time { return d.Time },
		validate: func(d model.Deploy) error {
			if d.Repo == "" || d.Workflow == "" {
				return fmt.Errorf("deploy %q: repo and workflow are required", d.Key())
			}
			return nil
		},
		normalize: func(d *model.Deploy) { d.Time = d.Time.UTC() },
	}
)

// Event tables added with the PagerDuty and GitHub Actions sources.
var (
	tableIncidents = eventTable[model.Incident]{
		name:  []byte("incidents"),
		index: []byte("incidents_by_created"),
		kind:  "incident",
		key:   model.Incident.Key,
		time:  func(i model.Incident) time.Time { return i.CreatedAt },
		validate: func(i model.Incident) error {
			if i.ID == "" || i.Service == "" {
				return fmt.Errorf("incident %q: id and service are required", i.ID)
			}
			return nil
		},
		normalize: func(i *model.Incident) {
			i.CreatedAt, i.AcknowledgedAt, i.ResolvedAt = i.CreatedAt.UTC(), i.AcknowledgedAt.UTC(), i.ResolvedAt.UTC()
		},
	}
	tableCIRuns = eventTable[model.CIRun]{
		name:  []byte("ci_runs"),
		index: []byte("ci_runs_by_created"),
		kind:  "CI run",
		key:   model.CIRun.Key,
		time:  func(r model.CIRun) time.Time { return r.CreatedAt },
		validate: func(r model.CIRun) error {
			if r.Repo == "" || r.Workflow == "" || r.RunID <= 0 {
				return fmt.Errorf("CI run %q: repo, workflow and run id are required", r.Key())
			}
			return nil
		},
		normalize: func(r *model.CIRun) { r.CreatedAt, r.StartedAt = r.CreatedAt.UTC(), r.StartedAt.UTC() },
	}
)

// The event table added with reviews given (github source).
var tableReviews = eventTable[model.Review]{
	name:  []byte("reviews"),
	index: []byte("reviews_by_submitted"),
	kind:  "review",
	key:   model.Review.Key,
	time:  func(r model.Review) time.Time { return r.SubmittedAt },
	validate: func(r model.Review) error {
		if r.Repo == "" || r.Number <= 0 || r.ID <= 0 || r.Reviewer == "" {
			return fmt.Errorf("review %q: repo, number, id and reviewer are required", r.Key())
		}
		return nil
	},
	normalize: func(r *model.Review) {
		r.SubmittedAt, r.PRCreatedAt, r.RequestedAt = r.SubmittedAt.UTC(), r.PRCreatedAt.UTC(), r.RequestedAt.UTC()
	},
}

// buckets lists every top-level bucket. Open creates the missing ones.
func buckets() [][]byte {
	bs := [][]byte{bucketMeta, bucketSeries, bucketDrafts, bucketCursors, bucketRuns, bucketDigests, bucketChanges, bucketDrafted}
	for _, t := range []interface{ buckets() [][]byte }{tablePRs, tableDeploys, tableIncidents, tableCIRuns, tableReviews} {
		bs = append(bs, t.buckets()...)
	}
	return bs
}

// Fill percentages for buckets written mostly in key order: pages are filled
// to the brim instead of split in half.
const (
	fillAppend = 1.0 // series day keys: appended to, day after day
	fillIndex  = 0.9 // time indexes: mostly appended, sometimes backfilled
)

// ---- key encodings ----

const (
	secondsPerDay = 86400
	sampleSize    = 12 // uint32 offset + uint64 value bits
)

// dayKey is the key of one UTC day in a series bucket.
func dayKey(day uint32) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], day)
	return k[:]
}

// timeKey is the 8-byte unix-seconds prefix of a time index key.
func timeKey(sec int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(sec))
	return k[:]
}

// indexKey is timeKey(t) followed by the natural id.
func indexKey(sec int64, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(sec))
	copy(k[8:], id)
	return k
}

// cursorKey scopes a collector's cursor key to its source.
func cursorKey(source, key string) []byte {
	k := make([]byte, 0, len(source)+1+len(key))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, key...)
}

// ---- migrations ----

// migration moves a file from schema version from to from+1. It runs inside
// the single read-write transaction that also sets the new version, so a
// failing migration leaves the file as it was.
type migration struct {
	from int
	name string
	up   func(tx *bolt.Tx) error
	// readable: a file still at version from reads correctly with this
	// binary (the migration only adds data), so a read-only open of it
	// works without migrating.
	readable bool
}

// migrations is the ordered list of every migration this binary knows.
// Append to it when bumping SchemaVersion, e.g.
//
//	{from: 1, name: "add incidents", up: func(tx *bolt.Tx) error { ... }},
var migrations = []migration{
	{from: 1, name: "decision history", readable: true, up: seedDecisionHistory},
	{from: 2, name: "drafts get a kind (existing drafts are impact)", readable: true, up: migrateDraftKinds},
	{from: 3, name: "drafter change log (incremental drafting)", readable: true, up: addChangeLog},
	{from: 4, name: "draft heads (lists read them, not every draft)", readable: true, up: rebuildDraftHeads},
}

// rebuildDraftHeads (v4 → v5) is in heads.go. A v4 file reads correctly
// as it is (a list decodes the heads from the drafts), hence readable.

// addChangeLog (v3 → v4) adds the change log and the drafter's series
// states, both empty: a series without a state is analysed by the next
// pass, so the first pass after the upgrade is a full one. The version
// bump is what matters: a v3 binary would commit without stamping the
// change log, and the drafter would miss what it wrote. A v3 file reads
// correctly as it is, hence readable.
func addChangeLog(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketChanges, bucketDrafted} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// seedDecisionHistory (v1 → v2) gives every decided draft a history holding
// its current decision, so that the next decision can say what it replaces.
// A v1 file reads correctly without it (no history), hence readable.
func seedDecisionHistory(tx *bolt.Tx) error {
	b := tx.Bucket(bucketDrafts)
	if b == nil {
		return nil
	}
	var ds []model.Draft
	err := b.ForEach(func(k, v []byte) error {
		var d model.Draft
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("draft %q: %w", k, err)
		}
		if len(d.History) == 0 && d.Status != model.StatusPending && d.Status != "" {
			seedHistory(&d)
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := putDraft(tx, d); err != nil {
			return err
		}
	}
	return nil
}
