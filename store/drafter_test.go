package store

import (
	"testing"

	"github.com/impact-dev/impact/internal/model"
)

// TestChangeLog: a commit stamps what it changed (samples per series, PRs
// and deploys per repo, any event) with one sequence number; committing
// the same data again stamps nothing; series states round-trip, and a
// reset drops the states not given.
func TestChangeLog(t *testing.T) {
	s, _ := openTest(t, Options{})
	must(t, s.Commit(ctx, sampleBatch()))
	st, err := s.DrafterState(ctx)
	must(t, err)
	first := st.Seq
	for _, k := range []string{"search-p99", "error-rate", ChangeEvents, ChangePRs, ChangeRepo("ACME/Search-API")} {
		if st.Changes[k] != first || first == 0 {
			t.Errorf("change %q = %d, want %d", k, st.Changes[k], first)
		}
	}
	tests := []struct {
		name    string
		batch   model.Batch
		changed []string
		same    []string
	}{
		{"same data again", sampleBatch(), nil, []string{"search-p99", "error-rate", ChangeEvents}},
		{"one new sample", model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"error-rate": {{Time: h(6), Value: 0.4}}}},
			[]string{"error-rate"}, []string{"search-p99", ChangeEvents, ChangePRs}},
		{"a new PR", model.Batch{Source: "github", PRs: []model.PR{pr(9, h(40))}},
			[]string{ChangeEvents, ChangePRs, ChangeRepo("acme/search-api")}, []string{"search-p99", "error-rate"}},
	}
	for _, tt := range tests {
		before, err := s.DrafterState(ctx)
		must(t, err)
		must(t, s.Commit(ctx, tt.batch))
		after, err := s.DrafterState(ctx)
		must(t, err)
		for _, k := range tt.changed {
			if !after.Changed(before.Seq, k) {
				t.Errorf("%s: %q not stamped", tt.name, k)
			}
		}
		for _, k := range tt.same {
			if after.Changed(before.Seq, k) {
				t.Errorf("%s: %q stamped", tt.name, k)
			}
		}
	}

	must(t, s.SetSeriesStates(ctx, map[string]SeriesState{"a": {Seq: 3, Fingerprint: "x", Clock: true}, "b": {Seq: 4}}, false))
	must(t, s.SetSeriesStates(ctx, map[string]SeriesState{"b": {Seq: 5, Fingerprint: "y"}}, false))
	st, err = s.DrafterState(ctx)
	must(t, err)
	if st.Series["a"] != (SeriesState{Seq: 3, Fingerprint: "x", Clock: true}) || st.Series["b"] != (SeriesState{Seq: 5, Fingerprint: "y"}) {
		t.Errorf("states %+v", st.Series)
	}
	must(t, s.SetSeriesStates(ctx, map[string]SeriesState{"c": {Seq: 6}}, true))
	st, err = s.DrafterState(ctx)
	must(t, err)
	if len(st.Series) != 1 || st.Series["c"].Seq != 6 {
		t.Errorf("after a reset: %+v", st.Series)
	}
}
