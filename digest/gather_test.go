package digest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Gather charts built-in series from the drafter's input (they are derived
// from events, not stored as samples) and stored series from the store;
// it reads only the sources that have data.
func TestGather(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	pages := mkDraft("pa9e5000", model.MetricRef{ID: "pagerduty.pages_to_me", Name: "pages to me", Unit: "count", Better: "lower"},
		f.week.Start().Add(30*time.Hour), f.week.Start().Add(50*time.Hour), 4, 1, "Fix the flaky health check")
	stored := f.in.Drafts[0] // search-p99
	if _, err := st.SaveDrafts(ctx, []model.Draft{pages, stored}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"search-p99": f.in.Samples["search-p99"]}}); err != nil {
		t.Fatal(err)
	}
	var daily []model.Sample
	for d := pages.BeforeWindow.Start.Truncate(24 * time.Hour); d.Before(pages.AfterWindow.End); d = d.Add(24 * time.Hour) {
		daily = append(daily, model.Sample{Time: d, Value: 1})
	}
	analyze := func(context.Context) (Analysis, error) {
		return Analysis{
			Series: []drafter.Series{{Metric: model.Metric{ID: "pagerduty.pages_to_me", Weekly: true}, Samples: daily}},
			Result: drafter.Result{Regressions: f.in.Regressions},
		}, nil
	}
	in, err := Gather(ctx, testConfig(f.loc), st, f.week, f.in.Now, analyze)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Samples["pagerduty.pages_to_me"]) != len(daily) || !in.Weekly["pagerduty.pages_to_me"] {
		t.Errorf("built-in series: %d samples, weekly %v", len(in.Samples["pagerduty.pages_to_me"]), in.Weekly["pagerduty.pages_to_me"])
	}
	if len(in.Samples["search-p99"]) < 100 || in.Weekly["search-p99"] {
		t.Errorf("stored series: %d samples", len(in.Samples["search-p99"]))
	}
	if len(in.Regressions) != 2 || in.GitHub != nil || in.PagerDuty != nil || in.CI != nil {
		t.Errorf("gathered %+v", in)
	}
	d := Build(in)
	r, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Drafts) != 2 || len(r.Images) != 2 {
		t.Errorf("%d drafts, %d charts; want 2 and 2", len(d.Drafts), len(r.Images))
	}

	// An analyzer failure is reported, naming what failed.
	_, err = Gather(ctx, testConfig(f.loc), st, f.week, f.in.Now, func(context.Context) (Analysis, error) {
		return Analysis{}, errors.New("boom")
	})
	if err == nil || err.Error() != "digest: looking for shifts: boom" {
		t.Errorf("err = %v", err)
	}
}
