package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/impact-dev/impact/internal/model"
)

func TestEachDraftJSON(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	ds := make([]model.Draft, 2*eachChunk+7) // across chunk boundaries
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	if _, err := s.SaveDrafts(ctx, ds); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	tests := []struct {
		name   string
		filter DraftFilter
		stopAt int // fn fails on this draft (0: never)
	}{
		{name: "all", filter: DraftFilter{}},
		{name: "pending", filter: DraftFilter{Status: model.StatusPending}},
		{name: "one category", filter: DraftFilter{Category: model.Categories[1]}},
		{name: "stopped by fn", filter: DraftFilter{}, stopAt: eachChunk + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := s.Drafts(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = s.EachDraftJSON(ctx, tt.filter, func(raw []byte) error {
				var d model.Draft
				if err := json.Unmarshal(raw, &d); err != nil {
					return err
				}
				got = append(got, d.ID)
				if len(got) == tt.stopAt {
					return stop
				}
				return nil
			})
			if tt.stopAt > 0 {
				if !errors.Is(err, stop) || len(got) != tt.stopAt {
					t.Fatalf("err %v after %d drafts, want stop after %d", err, len(got), tt.stopAt)
				}
				want = want[:tt.stopAt]
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d drafts, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Fatalf("draft %d = %s, want %s (Drafts' order)", i, got[i], want[i].ID)
				}
			}
		})
	}
}

// TestEachDraftJSONInBatches: drafts read a few at a time (the pages read
// released after each batch), and read from the file in a read-only store,
// come out as when read at once through the map, in both orders.
func TestEachDraftJSONInBatches(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t, Options{})
	ds := make([]model.Draft, 500)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	if _, err := s.SaveDrafts(ctx, ds); err != nil {
		t.Fatal(err)
	}
	list := func(s *Store, f DraftFilter) []string {
		var ids []string
		err := s.EachDraftJSON(ctx, f, func(raw []byte) error {
			var d model.Draft
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			ids = append(ids, d.ID+" "+string(d.Status)+" "+d.Category)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	filters := []DraftFilter{{}, {Order: OrderCompetency}, {Status: model.StatusPending, Order: OrderCompetency}}
	var want [][]string
	for _, f := range filters {
		want = append(want, list(s, f))
	}
	s.Close()
	for _, o := range []Options{{releaseEvery: 4096}, {ReadOnly: true}, {ReadOnly: true, releaseEvery: 4096}} {
		s, err := Open(path, o)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range filters {
			got := list(s, f)
			if len(got) == 0 || len(got) != len(want[i]) {
				t.Fatalf("%+v, filter %+v: %d drafts, want %d", o, f, len(got), len(want[i]))
			}
			for j := range got {
				if got[j] != want[i][j] {
					t.Fatalf("%+v, filter %+v: draft %d = %s, want %s", o, f, j, got[j], want[i][j])
				}
			}
		}
		s.Close()
	}
}
