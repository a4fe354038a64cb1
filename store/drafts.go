package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// MinPrefix is the shortest draft id prefix Draft, Decide and EditText
// accept in place of a full id.
const MinPrefix = 4

// DraftFilter selects drafts. Zero fields match everything.
type DraftFilter struct {
	// Status: "" (or "all") for every status.
	Status model.Status
	// Category: "" for every category.
	Category string
	// Kind: "" for every kind (impact, activity, manual).
	Kind string
	// Since and Until bound the draft's ShiftAt, the time the metric moved:
	// Since <= ShiftAt < Until. Zero means unbounded.
	Since, Until time.Time
	// Order: "" lists the newest shift first, then by id; OrderCompetency
	// lists by competency (model.Categories' order, other categories after
	// them alphabetically), then by kind (impact, activity, manual), then
	// oldest shift first, then by id — the order of an export.
	Order string
}

// OrderCompetency is DraftFilter.Order for an export's order.
const OrderCompetency = "competency"

// SaveResult counts what SaveDrafts did.
type SaveResult struct {
	Added   int `json:"added"`   // new ids
	Updated int `json:"updated"` // pending drafts replaced
	Kept    int `json:"kept"`    // accepted or rejected drafts left as they were
}

// Drafts returns the drafts that match f, sorted by ShiftAt (newest first)
// then by id. It holds every matching draft in memory: to go through many,
// use EachDraft.
func (s *Store) Drafts(ctx context.Context, f DraftFilter) ([]model.Draft, error) {
	out := []model.Draft{}
	err := s.EachDraft(ctx, f, func(d model.Draft) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// DraftsJSON is Drafts returning each draft as the JSON it is stored as:
// the encoding/json encoding of model.Draft, compact, times in UTC. It skips
// decoding and re-encoding. To write many, use EachDraftJSON.
func (s *Store) DraftsJSON(ctx context.Context, f DraftFilter) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := s.EachDraftJSON(ctx, f, func(raw []byte) error {
		out = append(out, bytes.Clone(raw))
		return nil
	})
	return out, err
}

// eachChunk is how many drafts EachDraftJSON copies out of one read
// transaction at a time.
const eachChunk = 256

// EachDraftJSON calls fn with the stored JSON of each draft that matches f,
// in Drafts' order, holding only a small part of them in memory: a first
// read transaction reads the drafts' heads (status, kind, category and
// shift time: heads.go), later short ones copy the values out eachChunk at
// a time, and fn runs outside any transaction, so a slow reader (a pipe,
// an HTTP client) never holds the database open against writers. raw is
// only valid during the call. A draft deleted meanwhile is skipped; one
// changed meanwhile is given as it is now. An error from fn stops the walk
// and is returned as is.
func (s *Store) EachDraftJSON(ctx context.Context, f DraftFilter, fn func(raw []byte) error) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	var (
		ids []valueSpan
		// In a read-only store the values are read from the file, where
		// the first transaction found them (pages.go).
		inPlace bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		recs, names, err := s.readHeads(tx)
		if err != nil {
			return err
		}
		var spans []valueSpan
		if s.opts.ReadOnly {
			if spans, inPlace, err = s.draftSpans(tx, recs); err != nil {
				return err
			}
		}
		idx := f.selectSorted(recs, names)
		ids = make([]valueSpan, len(idx))
		for j, i := range idx {
			if inPlace {
				ids[j] = spans[i]
			} else {
				ids[j] = valueSpan{key: recs[i].key}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: listing drafts: %w", err)
	}
	give := func(buf []byte, ends []int) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: listing drafts: %w", err)
		}
		start := 0
		for _, end := range ends {
			if err := fn(buf[start:end:end]); err != nil {
				return err
			}
			start = end
		}
		return nil
	}
	if inPlace {
		if len(ids) == 0 {
			return nil
		}
		file, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("store: listing drafts: %w", err)
		}
		defer file.Close()
		return readAhead(file, ids, func(buf []byte, ends []int, err error) error {
			if err != nil {
				s.damaged.Store(true)
				return fmt.Errorf("store: listing drafts: %w", damaged(s.path, err))
			}
			return give(buf, ends)
		})
	}
	// Through the map, in an order unrelated to the file's: each read maps
	// the pages around it too (the kernel's fault-around), which later
	// reads find mapped, unless they were released meanwhile — then nearly
	// every read faults (a list of 100,000 drafts: 5 s instead of 1 s
	// here). Released once, at the end.
	defer s.view(func(*bolt.Tx) error { return nil })
	var (
		buf  []byte
		ends []int
	)
	for len(ids) > 0 {
		chunk := ids[:min(eachChunk, len(ids))]
		ids = ids[len(chunk):]
		buf, ends = buf[:0], ends[:0]
		err := s.viewKeep(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketDrafts)
			for _, id := range chunk {
				if v := b.Get([]byte(id.key)); v != nil {
					buf = append(buf, v...)
					ends = append(ends, len(buf))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: listing drafts: %w", err)
		}
		if err := give(buf, ends); err != nil {
			return err
		}
	}
	return nil
}

// readAhead reads the values of spans from the file eachChunk at a time,
// up to readAheadChunks chunks ahead of fn on goroutines of their own (one
// pread a draft: the reads of one chunk overlap fn's work on the one
// before), and calls fn with each chunk in order, or with the error that
// reading it gave. An error from fn stops it.
func readAhead(file *os.File, spans []valueSpan, fn func(buf []byte, ends []int, err error) error) error {
	type chunk struct {
		buf  []byte
		ends []int
		err  error
		done chan struct{}
	}
	var (
		queue = make(chan *chunk, readAheadChunks)
		free  = make(chan *chunk, readAheadChunks+1)
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	go func() {
		defer close(queue)
		for len(spans) > 0 {
			part := spans[:min(eachChunk, len(spans))]
			spans = spans[len(part):]
			var c *chunk
			select {
			case c = <-free:
			default:
				c = &chunk{}
			}
			c.buf, c.ends, c.err, c.done = c.buf[:0], c.ends[:0], nil, make(chan struct{})
			select {
			case queue <- c:
			case <-stop:
				return
			}
			wg.Go(func() {
				c.err = readSpans(file, part, &c.buf, &c.ends)
				close(c.done)
			})
		}
	}()
	var err error
	for c := range queue {
		<-c.done
		if err = fn(c.buf, c.ends, c.err); err != nil {
			break
		}
		select {
		case free <- c:
		default:
		}
	}
	close(stop)
	for c := range queue { // the reads already started
		<-c.done
	}
	wg.Wait()
	return err
}

// readAheadChunks is how many chunks readAhead reads ahead of their use.
const readAheadChunks = 3

// readSpans appends the values of spans, read from the file, to buf, and
// where each ends to ends.
func readSpans(f *os.File, spans []valueSpan, buf *[]byte, ends *[]int) error {
	for _, r := range spans {
		n := len(*buf)
		*buf = slices.Grow(*buf, int(r.len))[:n+int(r.len)]
		if _, err := f.ReadAt((*buf)[n:], r.off); err != nil {
			return fmt.Errorf("draft %q at byte %d: %w", r.key, r.off, err)
		}
		*ends = append(*ends, len(*buf))
	}
	return nil
}

// EachDraft is EachDraftJSON with each draft decoded.
func (s *Store) EachDraft(ctx context.Context, f DraftFilter, fn func(model.Draft) error) error {
	return s.EachDraftJSON(ctx, f, func(raw []byte) error {
		var d model.Draft
		if err := unmarshalDraft(raw, &d); err != nil {
			// It decoded when it was written.
			s.damaged.Store(true)
			return damaged(s.path, fmt.Sprintf("a stored draft does not decode: %v", err))
		}
		return fn(d)
	})
}

func (f *DraftFilter) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if f.Status == "all" {
		f.Status = ""
	}
	if f.Status != "" && !f.Status.Valid() {
		return errorf(ErrInvalid, nil, "store: unknown draft status %q (want pending, accepted, rejected or all)", f.Status)
	}
	if f.Order != "" && f.Order != OrderCompetency {
		return errorf(ErrInvalid, nil, "store: unknown draft order %q (want %q or none)", f.Order, OrderCompetency)
	}
	if f.Kind != "" && !model.ValidKind(f.Kind) {
		return errorf(ErrInvalid, nil, "store: unknown draft kind %q (want impact, activity or manual)", f.Kind)
	}
	return nil
}

// selectSorted returns the indexes of the heads that match f, ordered by
// ShiftAt descending, then id (or in the export's order).
func (f DraftFilter) selectSorted(heads []headRec, names []string) []int {
	idx := make([]int, 0, len(heads))
	for i := range heads {
		d := &heads[i]
		if f.Status != "" && names[d.status] != string(f.Status) ||
			f.Category != "" && names[d.category] != f.Category ||
			f.Kind != "" && cmp.Or(names[d.kind], model.KindImpact) != f.Kind ||
			!f.Since.IsZero() && d.shiftAt.Before(f.Since) ||
			!f.Until.IsZero() && !d.shiftAt.Before(f.Until) {
			continue
		}
		idx = append(idx, i)
	}
	if f.Order == OrderCompetency {
		// Each name's ranks once, not in every comparison.
		catRank, kRank := make([]int, len(names)), make([]int, len(names))
		for i, n := range names {
			if catRank[i] = slices.Index(model.Categories, n); catRank[i] < 0 {
				catRank[i] = len(model.Categories)
			}
			kRank[i] = kindRank(n)
		}
		slices.SortFunc(idx, func(a, b int) int {
			ha, hb := &heads[a], &heads[b]
			if ha.category != hb.category {
				if c := cmp.Compare(catRank[ha.category], catRank[hb.category]); c != 0 {
					return c
				}
				if c := cmp.Compare(names[ha.category], names[hb.category]); c != 0 {
					return c
				}
			}
			if c := cmp.Compare(kRank[ha.kind], kRank[hb.kind]); c != 0 {
				return c
			}
			if c := ha.shiftAt.Compare(hb.shiftAt); c != 0 {
				return c
			}
			return cmp.Compare(ha.key, hb.key)
		})
		return idx
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := heads[b].shiftAt.Compare(heads[a].shiftAt); c != 0 {
			return c
		}
		return cmp.Compare(heads[a].key, heads[b].key)
	})
	return idx
}

// kindRank orders kinds within a competency: measured (impact, or no kind
// yet), then activity, then manual.
func kindRank(k string) int {
	if k == "" {
		return 0
	}
	if i := slices.Index(model.Kinds, k); i >= 0 {
		return i
	}
	return len(model.Kinds)
}

// unmarshalDraft decodes a stored draft. Drafts are written with
// encoding/json and read with github.com/goccy/go-json, which decodes the
// same JSON into the same struct about three times faster: listing 10,000
// drafts is what `impact drafts list` does on every call.
func unmarshalDraft(data []byte, d *model.Draft) error {
	if err := gojson.Unmarshal(data, d); err != nil {
		return err
	}
	if d.Kind == "" {
		d.Kind = model.KindImpact // a v2 file read before its migration
	}
	return nil
}

// draftStatuses counts the drafts of each status.
func (s *Store) draftStatuses(tx *bolt.Tx) (map[model.Status]int, error) {
	recs, names, err := s.readHeads(tx)
	if err != nil {
		return nil, err
	}
	out := map[model.Status]int{}
	for i := range recs {
		out[model.Status(names[recs[i].status])]++
	}
	return out, nil
}

// Draft returns the draft with the given id, or with the only id that starts
// with it when it is at least MinPrefix characters long. An unknown id gives
// an error wrapping ErrNotFound (`store: draft "abc123" not found`), a prefix
// of several drafts one wrapping ErrAmbiguous.
func (s *Store) Draft(ctx context.Context, id string) (model.Draft, error) {
	if err := ctx.Err(); err != nil {
		return model.Draft{}, fmt.Errorf("store: %w", err)
	}
	var d model.Draft
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		d, err = getDraft(tx, id)
		return err
	})
	return d, wrap(err)
}

// getDraft resolves id (or a unique prefix) and decodes the draft.
func getDraft(tx *bolt.Tx, id string) (model.Draft, error) {
	var d model.Draft
	b := tx.Bucket(bucketDrafts)
	if id == "" {
		return d, fmt.Errorf("store: no draft id given: %w", ErrNotFound)
	}
	if b == nil {
		return d, fmt.Errorf("store: draft %q %w", id, ErrNotFound)
	}
	key := []byte(id)
	v := b.Get(key)
	if v == nil && len(id) >= MinPrefix {
		var (
			matches []string
			found   []byte
		)
		c := b.Cursor()
		for k, kv := c.Seek(key); k != nil && bytes.HasPrefix(k, key); k, kv = c.Next() {
			if len(matches) == 0 {
				v, found = kv, bytes.Clone(k)
			}
			matches = append(matches, string(k))
			if len(matches) > 5 {
				break
			}
		}
		if len(matches) > 1 {
			list := strings.Join(matches[:min(len(matches), 5)], ", ")
			if len(matches) > 5 {
				list += ", …"
			}
			return d, errorf(ErrAmbiguous, nil, "store: draft id prefix %q is ambiguous: it matches %s; give more characters", id, list)
		}
		if found != nil {
			key = found
		}
	}
	if v == nil {
		return d, fmt.Errorf("store: draft %q %w", id, ErrNotFound)
	}
	if err := unmarshalDraft(v, &d); err != nil {
		return d, fmt.Errorf("store: draft %q: %w", key, err)
	}
	return d, nil
}

// putDraft stores a draft (and its head).
func putDraft(tx *bolt.Tx, d model.Draft) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("draft %q: %w", d.ID, err)
	}
	return putDraftData(tx, d.ID, data, headOf(&d))
}

// utcDraft stores every time of a draft in UTC so JSON output is stable.
func utcDraft(d *model.Draft) {
	d.BeforeWindow = model.Window{Start: d.BeforeWindow.Start.UTC(), End: d.BeforeWindow.End.UTC()}
	d.AfterWindow = model.Window{Start: d.AfterWindow.Start.UTC(), End: d.AfterWindow.End.UTC()}
	d.ShiftAt = d.ShiftAt.UTC()
	d.CreatedAt = d.CreatedAt.UTC()
	if d.DecidedAt != nil {
		t := d.DecidedAt.UTC()
		d.DecidedAt = &t
	}
	utcRefs := func(rs []model.PRRef) []model.PRRef {
		if rs == nil {
			return nil
		}
		out := make([]model.PRRef, len(rs))
		for i, r := range rs {
			r.MergedAt, r.LiveAt = r.MergedAt.UTC(), r.LiveAt.UTC()
			out[i] = r
		}
		return out
	}
	d.PRs, d.Others = utcRefs(d.PRs), utcRefs(d.Others)
	if d.Period != nil {
		p := *d.Period
		p.Start, p.End, p.AsOf = p.Start.UTC(), p.End.UTC(), p.AsOf.UTC()
		d.Period = &p
	}
}

// SaveDrafts stores what the drafter produced, in one transaction:
//   - a new id is inserted (status pending when empty, CreatedAt now when
//     zero): Added;
//   - an existing pending draft is replaced, except that its CreatedAt is
//     kept, and so is its Text when the user edited it (Text differs from
//     GeneratedText): Updated;
//   - an existing accepted or rejected draft is never overwritten: Kept.
func (s *Store) SaveDrafts(ctx context.Context, ds []model.Draft) (SaveResult, error) {
	var res SaveResult
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("store: %w", err)
	}
	for _, d := range ds {
		if d.ID == "" || len(d.ID) > maxIDLen {
			return res, errorf(ErrInvalid, nil, "store: saving drafts: draft with id %.40q: bad id", d.ID)
		}
		if d.Status != "" && !d.Status.Valid() {
			return res, errorf(ErrInvalid, nil, "store: saving drafts: draft %q: unknown status %q", d.ID, d.Status)
		}
		if d.Kind != "" && !model.ValidKind(d.Kind) {
			return res, errorf(ErrInvalid, nil, "store: saving drafts: draft %q: unknown kind %q", d.ID, d.Kind)
		}
	}
	now := s.opts.Now()
	err := s.update(func(tx *bolt.Tx) error {
		res = SaveResult{}
		b := tx.Bucket(bucketDrafts)
		for _, d := range ds {
			if d.Status == "" {
				d.Status = model.StatusPending
			}
			if d.Kind == "" {
				d.Kind = model.KindImpact // the drafter's measured drafts
			}
			old := b.Get([]byte(d.ID))
			if old == nil {
				if d.CreatedAt.IsZero() {
					d.CreatedAt = now
				}
				utcDraft(&d)
				if err := putDraft(tx, d); err != nil {
					return err
				}
				res.Added++
				continue
			}
			var prev model.Draft
			if err := unmarshalDraft(old, &prev); err != nil {
				return fmt.Errorf("draft %q: %w", d.ID, err)
			}
			if prev.Status != model.StatusPending {
				res.Kept++
				continue
			}
			d.CreatedAt = prev.CreatedAt
			d.History = prev.History // a reopened draft keeps its decisions
			if prev.Text != prev.GeneratedText {
				d.Text = prev.Text // the user's edit survives a re-draft
			}
			utcDraft(&d)
			data, err := json.Marshal(d)
			if err != nil {
				return fmt.Errorf("draft %q: %w", d.ID, err)
			}
			if !bytes.Equal(old, data) {
				if err := putDraftData(tx, d.ID, data, headOf(&d)); err != nil {
					return err
				}
			}
			res.Updated++
		}
		return nil
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("store: saving drafts: %w", err)
	}
	return res, nil
}

// Decide accepts or rejects a draft (id or unique prefix). A non-empty text
// replaces Text (GeneratedText keeps the drafter's); DecidedAt is set to at
// (now when zero) and Reason to reason. Status pending reopens a decided
// draft and clears DecidedAt. Every call appends the decision to History,
// so the decision it replaces stays readable (Draft.Previous). It returns
// the updated draft.
func (s *Store) Decide(ctx context.Context, id string, st model.Status, text, reason string, at time.Time) (model.Draft, error) {
	if !st.Valid() {
		return model.Draft{}, errorf(ErrInvalid, nil, "store: deciding draft %q: unknown status %q (want accepted or rejected)", id, st)
	}
	if at.IsZero() {
		at = s.opts.Now()
	}
	return s.updateDraft(ctx, id, func(d *model.Draft) error {
		seedHistory(d)
		entry := model.Decision{Status: st, Reason: reason, At: at.UTC()}
		d.Status = st
		if t := strings.TrimSpace(text); t != "" && t != d.Text {
			entry.TextBefore = d.Text
			d.Text = t
		}
		d.Reason = reason
		if st == model.StatusPending {
			d.DecidedAt = nil
		} else {
			t := at.UTC()
			d.DecidedAt = &t
		}
		d.History = append(d.History, entry)
		return nil
	})
}

// seedHistory gives a draft decided before histories were kept (schema v1)
// the one decision it is known to have had.
func seedHistory(d *model.Draft) {
	if len(d.History) > 0 || d.Status == model.StatusPending || d.Status == "" {
		return
	}
	e := model.Decision{Status: d.Status, Reason: d.Reason}
	if d.DecidedAt != nil {
		e.At = d.DecidedAt.UTC()
	}
	d.History = []model.Decision{e}
}

// Undo takes back a draft's last decision: the draft gets the status,
// reason and decision time of the decision before it (pending when there
// was none), and its text back when the undone decision changed it. The
// undone decision leaves History. A draft with no decision to undo gives an
// error wrapping ErrInvalid.
func (s *Store) Undo(ctx context.Context, id string) (model.Draft, error) {
	return s.updateDraft(ctx, id, func(d *model.Draft) error {
		seedHistory(d)
		if len(d.History) == 0 {
			return errorf(ErrInvalid, nil, "store: draft %s has no decision to undo", d.ID)
		}
		last := d.History[len(d.History)-1]
		d.History = d.History[:len(d.History)-1]
		if last.TextBefore != "" {
			d.Text = last.TextBefore
		}
		d.Status, d.Reason, d.DecidedAt = model.StatusPending, "", nil
		if n := len(d.History); n > 0 {
			prev := d.History[n-1]
			d.Status, d.Reason = prev.Status, prev.Reason
			if prev.Status != model.StatusPending {
				t := prev.At
				d.DecidedAt = &t
			}
		}
		if len(d.History) == 0 {
			d.History = nil
		}
		return nil
	})
}

// EditText replaces a draft's Text (surrounding white space trimmed) and
// keeps its status; GeneratedText keeps the drafter's text, so the edit
// survives later SaveDrafts.
func (s *Store) EditText(ctx context.Context, id, text string) (model.Draft, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return model.Draft{}, errorf(ErrInvalid, nil, "store: editing draft %q: the text is empty", id)
	}
	return s.updateDraft(ctx, id, func(d *model.Draft) error {
		d.Text = text
		return nil
	})
}

func (s *Store) updateDraft(ctx context.Context, id string, fn func(*model.Draft) error) (model.Draft, error) {
	if err := ctx.Err(); err != nil {
		return model.Draft{}, fmt.Errorf("store: %w", err)
	}
	var d model.Draft
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		d, err = getDraft(tx, id)
		if err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return err
		}
		return putDraft(tx, d)
	})
	if err != nil {
		return model.Draft{}, wrap(err)
	}
	return d, nil
}
