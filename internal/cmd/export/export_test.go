package export

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
)

// TestWriteJSONMatchesDocument: the streamed export is byte for byte the
// document render.JSON writes from the drafts grouped by render.ByCategory.
func TestWriteJSONMatchesDocument(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	since := base.Add(-24 * time.Hour)
	mk := func(n int) []model.Draft {
		ds := make([]model.Draft, n)
		for i := range ds {
			at := base.Add(time.Duration(i%7) * 13 * time.Hour) // ties on ShiftAt
			ds[i] = model.Draft{
				ID: fmt.Sprintf("%08x", i*2654435761%(1<<32)), Status: model.StatusAccepted, Category: model.Categories[(i*5)%len(model.Categories)],
				Text:   fmt.Sprintf("Cut p99 <latency> & errors by %d%% (acme/api#%d)", i, i),
				Metric: model.MetricRef{ID: "p99", Name: "p99", Unit: "ms", Better: "lower"},
				Before: 100, After: 80, Change: -0.2, ShiftAt: at, PValue: 0.001, Confidence: model.ConfidenceHigh,
				PRs:      []model.PRRef{{Repo: "acme/api", Number: i, Title: "t", URL: "https://github.com/acme/api/pull/1", Author: "alice", MergedAt: at, LiveAt: at}},
				Evidence: []string{"e"}, CreatedAt: at,
			}
			if i%3 == 0 {
				ds[i].Others, ds[i].Evidence = nil, nil
			}
			if i%4 == 1 {
				// What the two encoders could disagree on: escapes, line
				// separators, bad UTF-8, float forms, optional fields.
				d := &ds[i]
				decided := at.Add(time.Hour)
				d.Text = "Schnellere \"Suche\" — p99 ⟶ 80 ms\u2028next\u2029line\ttab\x00nul \xff bad <b>&amp;</b> 日本"
				d.Before, d.After, d.Change, d.PValue = 1e21, 1e-7, -0.000001, 123456789.125
				d.DecidedAt, d.Reason = &decided, "ok"
				d.History = []model.Decision{{Status: model.StatusAccepted, Reason: "r", At: decided, TextBefore: "t"}}
				d.Period = &model.Period{Start: since, End: base}
				d.Links = []string{"https://example.com/?a=1&b=<2>"}
			}
		}
		return ds
	}
	tests := []struct {
		name string
		ds   []model.Draft
		doc  Document
	}{
		{"none", nil, Document{Status: "accepted", GeneratedAt: base}},
		{"one", mk(1), Document{Status: "accepted", GeneratedAt: base, Since: &since}},
		{"many groups and ties", mk(40), Document{Status: "all", GeneratedAt: base, Since: &since, Until: &base}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.SaveDrafts(ctx, tt.ds); err != nil {
				t.Fatal(err)
			}
			ds, err := st.Drafts(ctx, store.DraftFilter{})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.doc
			want.Groups = render.ByCategory(ds)
			if want.Groups == nil {
				want.Groups = []render.Group{}
			}
			var wb bytes.Buffer
			if err := render.JSON(&wb, want); err != nil {
				t.Fatal(err)
			}
			if !st.CanonicalDrafts() {
				t.Error("a new store's drafts are not canonical")
			}
			for _, canonical := range []bool{false, true} {
				var gb bytes.Buffer
				err = WriteJSON(&gb, tt.doc, canonical, func(fn func(raw []byte) error) error {
					return st.EachDraftJSON(ctx, store.DraftFilter{Order: store.OrderCompetency}, fn)
				})
				if err != nil {
					t.Fatal(err)
				}
				if gb.String() != wb.String() {
					t.Errorf("streamed export (canonical %v) differs:\n got %s\nwant %s", canonical, gb.String(), wb.String())
				}
			}
		})
	}
}
