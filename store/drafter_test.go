package store

import (
	"slices"
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
	day0 := uint32(h(0).Unix() / 86400)
	if st.Events != first || first == 0 {
		t.Errorf("events %d, want %d", st.Events, first)
	}
	for _, id := range []string{"search-p99", "error-rate"} {
		if c := st.SeriesChanges[id]; c.Seq != first || c.MinDay != day0 {
			t.Errorf("series %s: %+v, want seq %d day %d", id, c, first, day0)
		}
	}
	if !st.RepoChanged("ACME/Search-API", 0, day0+1) || !st.RepoChanged("", 0, day0+1) || st.RepoChanged("acme/search-api", 0, day0) {
		t.Errorf("repo changes %+v", st.Repos)
	}
	tests := []struct {
		name      string
		batch     model.Batch
		series    []string // changed series
		minDay    uint32
		events    bool
		repoDay   uint32 // a PR or deploy of acme/search-api changed that day (0: none)
		drafterAt bool   // the drafter analysed everything before this commit
	}{
		{"same data again", sampleBatch(), nil, 0, false, 0, false},
		{"a sample on the second day", model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"error-rate": {{Time: h(30), Value: 0.4}}}},
			[]string{"error-rate"}, day0, false, 0, false}, // the first day's change is not analysed yet: still the earliest
		{"after a drafter pass, a sample on the second day", model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"error-rate": {{Time: h(31), Value: 0.4}}}},
			[]string{"error-rate"}, day0 + 1, false, 0, true},
		{"a new PR", model.Batch{Source: "github", PRs: []model.PR{pr(9, h(40))}},
			nil, 0, true, day0 + 1, false},
	}
	for _, tt := range tests {
		before, err := s.DrafterState(ctx)
		must(t, err)
		if tt.drafterAt {
			must(t, s.SetSeriesStates(ctx, map[string]SeriesState{"error-rate": {Seq: before.Seq}}, false))
		}
		must(t, s.Commit(ctx, tt.batch))
		after, err := s.DrafterState(ctx)
		must(t, err)
		for _, id := range []string{"search-p99", "error-rate"} {
			c := after.SeriesChanges[id]
			if want := slices.Contains(tt.series, id); (c.Seq > before.Seq) != want {
				t.Errorf("%s: series %s changed = %v, want %v", tt.name, id, c.Seq > before.Seq, want)
			} else if want && c.MinDay != tt.minDay {
				t.Errorf("%s: series %s earliest day %d, want %d", tt.name, id, c.MinDay, tt.minDay)
			}
		}
		if (after.Events > before.Seq) != tt.events {
			t.Errorf("%s: events changed = %v", tt.name, after.Events > before.Seq)
		}
		if got := after.RepoChanged("acme/search-api", before.Seq, tt.repoDay+1); got != (tt.repoDay != 0) {
			t.Errorf("%s: repo changed = %v", tt.name, got)
		}
		if tt.repoDay != 0 && after.RepoChanged("acme/search-api", before.Seq, tt.repoDay) {
			t.Errorf("%s: repo changed before day %d", tt.name, tt.repoDay)
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
