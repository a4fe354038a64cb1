package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// migrateDraftKinds (schema v2 → v3) gives every stored draft a kind:
// before v3 the drafter wrote the only drafts there were, so they are all
// measured ones, kind impact. A v2 file reads correctly without it (the
// store reads a missing kind as impact), hence readable.
func migrateDraftKinds(tx *bolt.Tx) error {
	b := tx.Bucket(bucketDrafts)
	if b == nil {
		return nil
	}
	type kv struct {
		k, v []byte
		h    draftHead
	}
	var todo []kv
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var d model.Draft
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("draft %q: %w", k, err)
		}
		if d.Kind != "" {
			continue
		}
		d.Kind = model.KindImpact
		data, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("draft %q: %w", k, err)
		}
		todo = append(todo, kv{append([]byte(nil), k...), data, headOf(&d)})
	}
	for _, e := range todo { // not while the cursor walks the bucket
		if err := putDraftData(tx, string(e.k), e.v, e.h); err != nil {
			return err
		}
	}
	return nil
}

// Win is what the user says about a manual win (`impact wins add|edit`).
// Zero fields are "not given": AddWin leaves them empty, UpdateWin keeps
// the stored value.
type Win struct {
	Text     string    `json:"text,omitempty"`
	Category string    `json:"category,omitempty"`
	Date     time.Time `json:"date,omitzero"`
	// Links are URLs; on UpdateWin a non-nil list replaces the stored one.
	Links []string `json:"links,omitempty"`
	// PRs are "owner/repo#123" keys; on UpdateWin a non-nil list replaces
	// the stored one.
	PRs []string `json:"prs,omitempty"`
	// Metric is a series id the drafter may later attach a measured shift
	// of as evidence; "-" on UpdateWin removes it.
	Metric MetricLink `json:"metric,omitzero"`
}

// MetricLink is the metric a win names, as the caller resolved it from the
// config (the store does not know the config).
type MetricLink = model.MetricRef

// AddWin stores a manual win as an accepted draft of kind manual and
// returns it. Its id is derived from the text, the date and the time it
// was added; its ShiftAt is the win's date (now when zero), so --since,
// --until and --period select it by when it happened. PR keys found in the
// store are filled in from the stored PR (title, URL, author, merge time).
func (s *Store) AddWin(ctx context.Context, w Win) (model.Draft, error) {
	if err := ctx.Err(); err != nil {
		return model.Draft{}, fmt.Errorf("store: %w", err)
	}
	now := s.opts.Now().UTC()
	w.Text = strings.TrimSpace(w.Text)
	if w.Text == "" {
		return model.Draft{}, errorf(ErrInvalid, nil, "store: adding a win: the text is empty")
	}
	if w.Category == "" {
		return model.Draft{}, errorf(ErrInvalid, nil, "store: adding a win: no category")
	}
	date := w.Date
	if date.IsZero() {
		date = now
	}
	d := model.Draft{
		ID:            WinID(w.Text, date, now),
		Status:        model.StatusAccepted,
		Kind:          model.KindManual,
		Category:      w.Category,
		Text:          w.Text,
		GeneratedText: w.Text,
		Metric:        w.Metric,
		ShiftAt:       date.UTC(),
		CreatedAt:     now,
		DecidedAt:     &now,
		Links:         w.Links,
		Evidence:      []string{"Written by you (impact wins add); no number in it was measured by impact."},
	}
	seedHistory(&d)
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDrafts)
		if b.Get([]byte(d.ID)) != nil {
			return errorf(ErrInvalid, nil, "store: adding a win: a draft with id %s already exists; try again", d.ID)
		}
		prs, err := winPRs(tx, w.PRs)
		if err != nil {
			return err
		}
		d.PRs = prs
		return putDraft(tx, d)
	})
	if err != nil {
		return model.Draft{}, wrap(err)
	}
	return d, nil
}

// WinID is the id AddWin gives a win with this text and date added at
// now: "w" and 7 hex digits of a hash, so it never equals a drafter id
// (8 hex digits).
func WinID(text string, date, now time.Time) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(text) + "\n" + date.UTC().Format(time.RFC3339Nano) + "\n" + now.UTC().Format(time.RFC3339Nano)))
	return "w" + hex.EncodeToString(h[:])[:7]
}

// UpdateWin changes the fields of a manual win that w gives (see Win).
// Drafts of other kinds are refused: the drafter owns their numbers.
func (s *Store) UpdateWin(ctx context.Context, id string, w Win) (model.Draft, error) {
	return s.updateDraftTx(ctx, id, func(tx *bolt.Tx, d *model.Draft) error {
		if d.Kind != model.KindManual {
			return errorf(ErrInvalid, nil, "store: draft %s is a %s draft, not a manual win; use impact drafts edit", d.ID, kindOf(*d))
		}
		if t := strings.TrimSpace(w.Text); t != "" {
			d.Text, d.GeneratedText = t, t
		}
		if w.Category != "" {
			d.Category = w.Category
		}
		if !w.Date.IsZero() {
			d.ShiftAt = w.Date.UTC()
		}
		if w.Links != nil {
			d.Links = nonEmpty(w.Links)
		}
		if w.PRs != nil {
			prs, err := winPRs(tx, nonEmpty(w.PRs))
			if err != nil {
				return err
			}
			d.PRs = prs
		}
		switch w.Metric.ID {
		case "":
		case "-":
			d.Metric = model.MetricRef{}
		default:
			d.Metric = w.Metric
		}
		return nil
	})
}

// SetWinEvidence replaces a manual win's evidence lines (the drafter
// attaching a measured shift of the metric the win names). Other kinds are
// refused.
func (s *Store) SetWinEvidence(ctx context.Context, id string, evidence []string) (model.Draft, error) {
	return s.updateDraftTx(ctx, id, func(_ *bolt.Tx, d *model.Draft) error {
		if d.Kind != model.KindManual {
			return errorf(ErrInvalid, nil, "store: draft %s is a %s draft, not a manual win", d.ID, kindOf(*d))
		}
		d.Evidence = evidence
		return nil
	})
}

// DeleteWin removes a manual win and returns it. Drafts of other kinds are
// refused: reject them instead, so the drafter never proposes them again.
func (s *Store) DeleteWin(ctx context.Context, id string) (model.Draft, error) {
	if err := ctx.Err(); err != nil {
		return model.Draft{}, fmt.Errorf("store: %w", err)
	}
	var d model.Draft
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if d, err = getDraft(tx, id); err != nil {
			return err
		}
		if d.Kind != model.KindManual {
			return errorf(ErrInvalid, nil, "store: draft %s is a %s draft, not a manual win; reject it instead (impact drafts reject %s)", d.ID, kindOf(d), d.ID)
		}
		return deleteDraft(tx, d.ID)
	})
	if err != nil {
		return model.Draft{}, wrap(err)
	}
	return d, nil
}

func kindOf(d model.Draft) string {
	if d.Kind == "" {
		return model.KindImpact
	}
	return d.Kind
}

func nonEmpty(ss []string) []string {
	out := []string{}
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// winPRs resolves "owner/repo#123" keys: from the stored PR when there is
// one, else a reference with the GitHub URL only.
func winPRs(tx *bolt.Tx, keys []string) ([]model.PRRef, error) {
	if keys == nil {
		return nil, nil
	}
	out := make([]model.PRRef, 0, len(keys))
	b := tx.Bucket(tablePRs.name)
	for _, k := range keys {
		repo, num, ok := ParsePRKey(k)
		if !ok {
			return nil, errorf(ErrInvalid, nil, "store: PR %q: want owner/repo#123", k)
		}
		ref := model.PRRef{Repo: repo, Number: num, URL: fmt.Sprintf("https://github.com/%s/pull/%d", repo, num)}
		if v := b.Get([]byte(fmt.Sprintf("%s#%d", repo, num))); v != nil {
			var p model.PR
			if err := json.Unmarshal(v, &p); err == nil {
				ref = model.PRRef{Repo: p.Repo, Number: p.Number, Title: p.Title, URL: p.URL, Author: p.Author, MergedAt: p.MergedAt, LiveAt: p.MergedAt}
			}
		}
		out = append(out, ref)
	}
	return out, nil
}

// ParsePRKey splits "owner/repo#123".
func ParsePRKey(k string) (repo string, number int, ok bool) {
	repo, n, found := strings.Cut(strings.TrimSpace(k), "#")
	if !found || strings.Count(repo, "/") != 1 || strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(n, "%d", &number); err != nil || number <= 0 || fmt.Sprint(number) != n {
		return "", 0, false
	}
	return repo, number, true
}

// updateDraftTx is updateDraft with the transaction at hand.
func (s *Store) updateDraftTx(ctx context.Context, id string, fn func(*bolt.Tx, *model.Draft) error) (model.Draft, error) {
	if err := ctx.Err(); err != nil {
		return model.Draft{}, fmt.Errorf("store: %w", err)
	}
	var d model.Draft
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if d, err = getDraft(tx, id); err != nil {
			return err
		}
		if err := fn(tx, &d); err != nil {
			return err
		}
		return putDraft(tx, d)
	})
	if err != nil {
		return model.Draft{}, wrap(err)
	}
	return d, nil
}
