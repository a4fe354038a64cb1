package digest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/builtin"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/weblink"
	"github.com/impact-dev/impact/store"
)

// Analysis is the drafter's view of the store: the series it read
// (configured and built-in, the latter derived from events and not stored
// as samples) and what it found.
type Analysis struct {
	Series []drafter.Series
	Result drafter.Result
}

// Analyzer runs the drafter over everything stored. The digest uses the
// result's Regressions and Unattributed (they are not stored, so the digest
// recomputes them) and the series for the charts. The CLI and the daemon
// pass a function that loads the drafter's input the way the pipeline does
// and calls drafter.Run.
type Analyzer func(ctx context.Context) (Analysis, error)

// Gather loads what Build needs for week from the store: the drafts, the
// samples of the week's drafts (for the charts), the sources' events
// around the week, and the drafter's shifts from analyze (nil: none).
func Gather(ctx context.Context, cfg *config.Config, st *store.Store, week Week, now time.Time, analyze Analyzer) (Input, error) {
	in := Input{Week: week, Now: now, PeriodLength: cfg.Review.Period, Samples: map[string][]model.Sample{}, Weekly: map[string]bool{}, PageURL: cfg.UI.PublicURL, Links: weblink.ForConfig(cfg)}
	var err error
	if in.Drafts, err = st.Drafts(ctx, store.DraftFilter{}); err != nil {
		return in, fmt.Errorf("digest: %w", err)
	}
	series := map[string]drafter.Series{}
	if analyze != nil {
		a, err := analyze(ctx)
		if err != nil {
			return in, fmt.Errorf("digest: looking for shifts: %w", err)
		}
		in.Regressions, in.Unattributed = a.Result.Regressions, a.Result.Unattributed
		for _, s := range a.Series {
			series[s.Metric.ID] = s
		}
	}
	for _, d := range in.Drafts {
		if !listed(d, week) {
			continue
		}
		id := d.Metric.ID
		if s, ok := series[id]; ok {
			in.Weekly[id] = s.Metric.Weekly
			in.Samples[id] = s.Samples
			continue
		}
		in.Weekly[id] = weeklySeries(id)
		ss, err := st.Samples(ctx, id, d.BeforeWindow.Start, d.AfterWindow.End)
		if err != nil {
			return in, fmt.Errorf("digest: %w", err)
		}
		in.Samples[id] = mergeSamples(in.Samples[id], ss)
	}

	stats, err := st.Stats(ctx)
	if err != nil {
		return in, fmt.Errorf("digest: %w", err)
	}
	// One day of slack either side: the week is in me.timezone, the store
	// in UTC; Build keeps exactly the week.
	from, to := week.Start().Add(-24*time.Hour), week.End().Add(24*time.Hour)
	if stats.PRs > 0 {
		prs, err := st.PRs(ctx, from, to)
		if err != nil {
			return in, fmt.Errorf("digest: %w", err)
		}
		in.GitHub = &GitHubActivity{Me: cfg.Me.GitHub, PRs: prs}
	}
	if stats.Reviews > 0 {
		// Reviews are collected (the github source with me.github): the
		// week's count, zero included.
		rs, err := st.Reviews(ctx, from, to)
		if err != nil {
			return in, fmt.Errorf("digest: %w", err)
		}
		n := 0
		for _, r := range rs {
			if week.Contains(r.SubmittedAt) {
				n++
			}
		}
		if in.GitHub == nil {
			in.GitHub = &GitHubActivity{Me: cfg.Me.GitHub}
		}
		in.GitHub.Reviews = &n
	}
	if stats.Incidents > 0 {
		incs, err := st.Incidents(ctx, from, to)
		if err != nil {
			return in, fmt.Errorf("digest: %w", err)
		}
		in.PagerDuty = &PagerDutyActivity{Incidents: incs}
		if pd := config.SourceAs[pagerduty.Config](cfg, pagerduty.Name); pd != nil {
			in.PagerDuty.UserID = pd.UserID
		}
	}
	if stats.CIRuns > 0 {
		runs, err := st.CIRuns(ctx, from, to)
		if err != nil {
			return in, fmt.Errorf("digest: %w", err)
		}
		in.CI = &CIActivity{Runs: runs}
		if ga := config.SourceAs[githubactions.Config](cfg, githubactions.Name); ga != nil {
			for _, w := range ga.Workflows {
				in.CI.Workflows = append(in.CI.Workflows, w.Repo+"/"+w.Workflow)
			}
		}
	}
	return in, nil
}

// listed reports whether Build lists d as a draft to review in week.
func listed(d model.Draft, w Week) bool {
	return d.Status == model.StatusPending && (w.Contains(d.CreatedAt) || w.Contains(d.ShiftAt))
}

// weeklySeries reports whether a built-in series holds counts compared as
// per-week rates (when the drafter's own metric is not at hand).
func weeklySeries(id string) bool {
	return strings.HasPrefix(id, builtin.PrefixIncidents) || id == builtin.IDPagesToMe
}

// mergeSamples merges two time-sorted sample slices, dropping duplicates.
func mergeSamples(a, b []model.Sample) []model.Sample {
	if len(a) == 0 {
		return b
	}
	out := make([]model.Sample, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && a[i].Time.Before(b[j].Time):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j].Time.Before(a[i].Time):
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
