package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// TestWriteExportJSON checks the streamed export against render.JSON of the
// whole document, across several batches and groups, and that the first
// error in the drafts' order is the one returned.
func TestWriteExportJSON(t *testing.T) {
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	drafts := func(n int) []model.Draft {
		var ds []model.Draft
		for i := range n {
			d := model.Draft{
				ID: fmt.Sprintf("%08d", i), Status: model.StatusPending, Kind: model.KindImpact,
				Category: model.Categories[i*len(model.Categories)/n],
				Text:     fmt.Sprintf("Cut <p99> & more by %d%% (1e-7)", i), Before: 1800, After: 0.0000001 * float64(i),
				ShiftAt: at.Add(time.Duration(i) * time.Hour),
			}
			if i%3 == 0 {
				d.PRs = []model.PRRef{{Repo: "acme/api", Number: i, MergedAt: at}}
			}
			ds = append(ds, d)
		}
		return ds
	}
	stored := func(ds []model.Draft) func(fn func(raw []byte) error) error {
		return func(fn func(raw []byte) error) error {
			for _, d := range ds {
				raw, err := json.Marshal(d)
				if err != nil {
					return err
				}
				if err := fn(raw); err != nil {
					return err
				}
			}
			return nil
		}
	}
	decode := func(raw []byte, d *model.Draft) error { return json.Unmarshal(raw, d) }
	for _, n := range []int{0, 1, 7, exportBatchSize, 5*exportBatchSize + 3, 3 * exportInFlight * exportBatchSize} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ds := drafts(n)
			doc := ExportDocument{Status: "all", GeneratedAt: at}
			want := doc
			if want.Groups = ByCategory(ds); want.Groups == nil {
				want.Groups = []Group{}
			}
			var wb, gb bytes.Buffer
			if err := JSON(&wb, want); err != nil {
				t.Fatal(err)
			}
			if err := WriteExportJSON(&gb, doc, decode, stored(ds)); err != nil {
				t.Fatal(err)
			}
			if gb.String() != wb.String() {
				t.Errorf("streamed export differs:\n got %s\nwant %s", gb.String(), wb.String())
			}
		})
	}

	ds := drafts(10 * exportBatchSize)
	errBad, errRead := errors.New("bad draft"), errors.New("store failed")
	failures := []struct {
		name string
		bad  int // the draft decode fails on, or -1
		each func(fn func(raw []byte) error) error
		want error
	}{
		{"decode", 3*exportBatchSize + 5, stored(ds), errBad},
		{"first decode", 0, stored(ds), errBad},
		{"read", -1, func(fn func(raw []byte) error) error {
			if err := stored(ds[:200])(fn); err != nil {
				return err
			}
			return errRead
		}, errRead},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			dec := func(raw []byte, d *model.Draft) error {
				if err := decode(raw, d); err != nil {
					return err
				}
				if tt.bad >= 0 && d.ID == fmt.Sprintf("%08d", tt.bad) {
					return errBad
				}
				return nil
			}
			var gb bytes.Buffer
			if err := WriteExportJSON(&gb, ExportDocument{}, dec, tt.each); err != tt.want {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
