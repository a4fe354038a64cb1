package drafter

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/impact-dev/impact/internal/model"
)

// TestMergeOfPartsIsRun: analysing each series on its own (Analyse),
// keeping the parts (here through JSON, as a cache would) and merging them
// later gives what one Run gives — with no drafts stored, and with drafts
// accepted, rejected and edited since.
func TestMergeOfPartsIsRun(t *testing.T) {
	in := benchInput()
	in.Series = in.Series[:12]
	first := Run(in)
	if len(first.Drafts) < 3 {
		t.Fatalf("%d drafts: the test needs at least 3", len(first.Drafts))
	}
	decided := append([]model.Draft(nil), first.Drafts...)
	decided[0].Status = model.StatusAccepted
	decided[1].Status = model.StatusRejected
	decided[2].Text = "edited by hand"
	pp := Prepare(in.Params, in.PRs, in.Deploys)
	for _, c := range []struct {
		name     string
		existing []model.Draft
	}{
		{"nothing stored", nil},
		{"the first pass's drafts stored", first.Drafts},
		{"drafts decided and edited since", decided},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := pp.Run(in.Series, c.existing, in.Now)
			parts := make([]Part, len(in.Series))
			for i := range in.Series {
				parts[i] = pp.Analyse(&in.Series[i], in.Now)
			}
			b, err := json.Marshal(parts)
			if err != nil {
				t.Fatal(err)
			}
			var kept []Part
			if err := json.Unmarshal(b, &kept); err != nil {
				t.Fatal(err)
			}
			got := pp.Merge(kept, c.existing, in.Now)
			if !reflect.DeepEqual(norm(t, got), norm(t, want)) {
				t.Errorf("Merge of the kept parts differs from Run:\n got %s\nwant %s", norm(t, got), norm(t, want))
			}
		})
	}
}

// norm is r as JSON (times compared as instants).
func norm(t *testing.T, r Result) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
