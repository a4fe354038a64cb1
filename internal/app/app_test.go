package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// TestDraftRemovesSuperseded: a pending, unedited draft the drafter no
// longer proposes is deleted; accepted and edited ones stay.
func TestDraftRemovesSuperseded(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A flat hourly series: nothing to draft.
	var samples []model.Sample
	for h := 0; h < 60*24; h++ {
		samples = append(samples, model.Sample{Time: now.Add(-time.Duration(60*24-h) * time.Hour), Value: 100 + float64(h%7)})
	}
	if err := st.Commit(ctx, model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"m": samples}}); err != nil {
		t.Fatal(err)
	}
	draft := func(id string, status model.Status, text string) model.Draft {
		return model.Draft{ID: id, Status: status, Category: "performance", Text: text, GeneratedText: "Generated.",
			Metric: model.MetricRef{ID: "m", Name: "m", Unit: "ms", Better: "lower"}, ShiftAt: now.Add(-20 * 24 * time.Hour)}
	}
	stale := draft("0000aaaa", model.StatusPending, "Generated.")
	edited := draft("0000bbbb", model.StatusPending, "My words.")
	accepted := draft("0000cccc", model.StatusAccepted, "Generated.")
	other := draft("0000dddd", model.StatusPending, "Generated.")
	other.Metric.ID = "no-longer-configured"
	if _, err := st.SaveDrafts(ctx, []model.Draft{stale, edited, accepted, other}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Me:      config.Me{GitHub: config.StringList{"alice"}},
		Metrics: []config.Metric{{ID: "m", Name: "m", Source: "datadog", Unit: "ms", Better: "lower"}},
		Drafter: config.DefaultDrafterConfig,
	}
	p := &Pipeline{Config: cfg, Store: st, Now: func() time.Time { return now }}
	rep, err := p.Draft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 || len(rep.Result.Superseded) != 1 || rep.Result.Superseded[0] != stale.ID {
		t.Errorf("removed %d, superseded %v", rep.Removed, rep.Result.Superseded)
	}
	if _, err := st.Draft(ctx, stale.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("stale draft: %v", err)
	}
	for _, id := range []string{edited.ID, accepted.ID, other.ID} {
		if _, err := st.Draft(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestDrafterInputBuiltins: PagerDuty and GitHub Actions events become
// built-in series; count series stop at the collector's cursor.
func TestDrafterInputBuiltins(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day := 24 * time.Hour
	start := now.Add(-30 * day).Truncate(day)
	var incs []model.Incident
	for d := 0; d < 25; d++ {
		at := start.Add(time.Duration(d)*day + 10*time.Hour)
		incs = append(incs, model.Incident{ID: "Q" + at.Format("0102"), Service: "P1", CreatedAt: at,
			AcknowledgedAt: at.Add(3 * time.Minute), ResolvedAt: at.Add(40 * time.Minute), Assignees: []string{"PME"}})
	}
	through := start.Add(25*day + 12*time.Hour)
	runs := []model.CIRun{{Repo: "acme/a", Workflow: "ci.yml", RunID: 1, Attempt: 1, Branch: "main", Status: "completed",
		Conclusion: "success", CreatedAt: start.Add(time.Hour), StartedAt: start.Add(time.Hour + time.Minute), Duration: 10 * time.Minute}}
	if err := st.Commit(ctx, model.Batch{Source: "pagerduty", Incidents: incs,
		Cursors: map[string][]byte{"incidents": []byte(`{"through":"` + through.Format(time.RFC3339) + `","open":[]}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, model.Batch{Source: "github_actions", CIRuns: runs}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Me:      config.Me{GitHub: config.StringList{"alice"}},
		Drafter: config.DefaultDrafterConfig,
	}
	cfg.Sources.Set(github.Name, &github.Config{Repos: []string{"acme/a"}})
	cfg.Sources.Set(pagerduty.Name, &pagerduty.Config{Services: []string{"P1"}, UserID: "PME"})
	cfg.Sources.Set(githubactions.Name, &githubactions.Config{Workflows: []githubactions.Workflow{{Repo: "acme/a", Workflow: "ci.yml", Branch: "main"}}})
	p := &Pipeline{Config: cfg, Store: st, Now: func() time.Time { return now }}
	in, err := p.DrafterInput(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range in.Series {
		got[s.Metric.ID] = len(s.Samples)
		if s.Metric.ID == "pagerduty.incidents/P1" && !s.End.Equal(start.Add(25*day)) {
			t.Errorf("incidents end %v, want the cursor's day %v", s.End, start.Add(25*day))
		}
	}
	want := map[string]int{"pagerduty.incidents/P1": 25, "pagerduty.mttr/P1": 25, "pagerduty.mtta/P1": 25,
		"pagerduty.pages_to_me": 25, "ci.duration/acme/a/ci.yml": 1, "ci.queue/acme/a/ci.yml": 1, "ci.success_rate/acme/a/ci.yml": 1}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("%s: %d samples, want %d (all: %v)", id, got[id], n, got)
		}
	}
}

// stub is a collector whose Collect the test scripts.
type stub struct {
	f func(ctx context.Context, run collectors.Run) error
}

func (stub) Name() string                                            { return "stub" }
func (s stub) Collect(ctx context.Context, run collectors.Run) error { return s.f(ctx, run) }

// TestInterruptedBackfillResumes: Ctrl-C during `collect --since 1y` is not
// a failure, and the next plain collect reads the year, not 90 days; once
// the backfill completes, collects are incremental again.
func TestInterruptedBackfillResumes(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	year := now.AddDate(-1, 0, 0)
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got collectors.Run
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := stub{}
	reg := collectors.NewRegistry()
	reg.Register("stub", func(*config.Config, collectors.Env) (collectors.Collector, error) { return &s, nil })
	p := &Pipeline{Config: &config.Config{File: "test.yaml"}, Store: st, Registry: reg, Now: func() time.Time { return now }}

	// 1. collect --since 1y, interrupted.
	s.f = func(ctx context.Context, run collectors.Run) error {
		got = run
		cancel()
		return fmt.Errorf("stub: %w", ctx.Err())
	}
	res, _ := p.Collect(ctx, CollectOptions{Since: year})
	if len(res) != 1 || !res[0].Canceled {
		t.Fatalf("results %+v: want one cancelled run", res)
	}
	runs, err := st.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := runs["stub"]; ok && (r.LastError != "" || r.ConsecutiveFailures != 0) {
		t.Errorf("a cancelled run was recorded as a failure: %+v", r)
	}

	// 2. A plain collect resumes the year.
	s.f = func(ctx context.Context, run collectors.Run) error { got = run; return nil }
	if _, err := p.Collect(context.Background(), CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	if !got.Since.Equal(year) || !got.Backfill {
		t.Errorf("the collect after the interrupted backfill read from %v (backfill %v), want %v", got.Since, got.Backfill, year)
	}

	// 3. Done: the next collect is incremental.
	if _, err := p.Collect(context.Background(), CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.Backfill || !got.Since.Equal(now.Add(-DefaultHistory)) {
		t.Errorf("after the backfill completed: Since %v backfill %v, want an incremental run", got.Since, got.Backfill)
	}
}
