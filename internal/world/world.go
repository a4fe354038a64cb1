// Package world holds a built-in history of a small engineering team — merged
// pull requests and hourly metric series with known, hand-designed shifts —
// and the drafts the drafter is expected to produce from it. `impact demo`
// serves it through fake vendor APIs (each source's exported fake,
// collectors/<name>/fake.go) to the real collectors; the end-to-end tests
// compare the drafts against Expect and MustNotMetrics.
//
// Everything is deterministic: the same end time gives the same world.
package world

import (
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Shift is a designed change of a series' true level.
type Shift struct {
	Metric string
	// At is the hour the new level starts.
	At time.Time
	// From and To are the true levels: the median level of the series
	// before and after, i.e. what a median over any whole week recovers.
	From, To float64
	// Cause lists the PR keys ("owner/repo#N") that caused the shift; empty
	// when no PR did.
	Cause []string
}

// Expect is a draft the drafter should produce.
type Expect struct {
	Metric string
	// PRs are the credited PR keys (mine only), sorted.
	PRs []string
	// Before and After are the true levels.
	Before, After float64
}

// File is one file a PR touched.
type File struct {
	Filename  string
	Status    string // added, modified, removed, renamed
	Additions int
	Deletions int
	Patch     string // optional unified diff hunk
}

// PRInfo is what a vendor knows about a PR beyond model.PR.
type PRInfo struct {
	CreatedAt time.Time
	UpdatedAt time.Time // a few minutes after closing
	ClosedAt  time.Time // = MergedAt for merged PRs
	HeadRef   string
	HeadSHA   string
	Body      string
	Files     []File
}

// World is a whole scenario.
type World struct {
	// Start and End bound the series; End is the scenario's "now",
	// hour-aligned. Series hold samples on [Start, End).
	Start, End time.Time
	// Me is the login whose work is "mine".
	Me    string
	Repos []string
	// PRs are the merged PRs of all authors (including a few merged before
	// Start, so a backfill has something to stop at), sorted by MergedAt.
	PRs []model.PR
	// ClosedUnmerged are PRs that were closed without merging. The fake
	// GitHub lists them among the closed PRs (merged_at null); a collector
	// must skip them. Their MergedAt is zero; Info has their ClosedAt.
	ClosedUnmerged []model.PR
	// Info holds vendor details per PR key, for PRs and ClosedUnmerged.
	Info map[string]PRInfo
	// Reviews are the reviews submitted on the PRs (served by the fake
	// GitHub's search and review endpoints); see reviews.go.
	Reviews []Review
	// Metrics are the `metrics:` entries.
	Metrics []config.Metric
	// Series maps a metric id to its hourly samples on [Start, End): the
	// truth the fake Datadog serves.
	Series map[string][]model.Sample
	// Incidents are PagerDuty incidents (served by the fake PagerDuty) of
	// Services; PagerDutyUser is the user id whose pages are "mine".
	Incidents     []model.Incident
	Services      []string
	PagerDutyUser string
	// Workflows and CIRuns are GitHub Actions workflows and their runs
	// (served by the fake GitHub's Actions endpoints).
	Workflows []Workflow
	CIRuns    []model.CIRun
	// Shifts are all designed level changes (wins, regressions, other
	// people's wins).
	Shifts []Shift
	// Expect lists the drafts that must appear.
	Expect []Expect
	// MustNot describes, for humans, drafts that must not appear;
	// MustNotMetrics are the metrics that must yield no draft for Me.
	MustNot        []string
	MustNotMetrics []string
	// Traps are, per metric id, series that move without a step a draft
	// could credit (organic growth, a win reverted within the after
	// window), in words; their whole weeks are not near one level.
	Traps map[string]string
	// Labels classify every designed shift, and every metric left flat,
	// for the attribution benchmark (bench/attribution/attrbench). Random fills
	// them; Demo leaves them empty.
	Labels []Label
	// Gaps are, per metric id, the spans in which the series has no data
	// (a scraper outage). Series already lacks the samples in them, so the
	// fake vendors, which serve Series as it is, serve no points there.
	Gaps map[string][]model.Window
}

// Metric returns the metric with the given id.
func (w *World) Metric(id string) (config.Metric, bool) {
	for _, m := range w.Metrics {
		if m.ID == id {
			return m, true
		}
	}
	return config.Metric{}, false
}

// SeriesMetric returns the metric of a series id: a `metrics:` entry, or
// one of the built-in series of the world's PagerDuty services and
// workflows (see internal/builtin: pagerduty.* series credit every repo,
// ci.* series the workflow's repo, dora.* series the deploy workflow's).
func (w *World) SeriesMetric(id string) (config.Metric, bool) {
	if m, ok := w.Metric(id); ok {
		return m, true
	}
	pd := func(unit, cat string) config.Metric {
		return config.Metric{ID: id, Source: "pagerduty", Unit: unit, Better: "lower", Repos: slices.Clone(w.Repos), Category: cat}
	}
	if id == "pagerduty.pages_to_me" && w.PagerDutyUser != "" {
		return pd("count", "reliability"), true
	}
	for _, svc := range w.Services {
		switch id {
		case "pagerduty.incidents/" + svc:
			return pd("count", "reliability"), true
		case "pagerduty.mttr/" + svc, "pagerduty.mtta/" + svc:
			return pd("min", "reliability"), true
		}
	}
	for _, wf := range w.Workflows {
		key := wf.Repo + "/" + wf.Workflow
		ci := config.Metric{ID: id, Source: "github_actions", Unit: "min", Better: "lower", Repos: []string{wf.Repo}, Category: "infrastructure"}
		switch id {
		case "ci.duration/" + key, "ci.queue/" + key:
			return ci, true
		case "ci.success_rate/" + key:
			ci.Unit, ci.Better = "percent", "higher"
			return ci, true
		}
		if !wf.Deploys {
			continue
		}
		// DORA's four keys of a repo with a deploy workflow (see
		// internal/builtin/dora.go).
		dora := config.Metric{ID: id, Source: "github_actions", Repos: []string{wf.Repo}, Category: "infrastructure"}
		switch id {
		case "dora.deploy_frequency/" + wf.Repo:
			dora.Unit, dora.Better = "count", "higher"
			return dora, true
		case "dora.lead_time/" + wf.Repo:
			dora.Unit, dora.Better = "min", "lower"
			return dora, true
		case "dora.change_failure_rate/" + wf.Repo:
			dora.Unit, dora.Better, dora.Category = "percent", "lower", "reliability"
			return dora, true
		case "dora.time_to_restore/" + wf.Repo:
			dora.Unit, dora.Better, dora.Category = "min", "lower", "reliability"
			return dora, true
		}
	}
	return config.Metric{}, false
}

// PR returns the merged or closed-unmerged PR with the given key.
func (w *World) PR(key string) (model.PR, bool) {
	for _, p := range w.PRs {
		if p.Key() == key {
			return p, true
		}
	}
	for _, p := range w.ClosedUnmerged {
		if p.Key() == key {
			return p, true
		}
	}
	return model.PR{}, false
}

// Workflow is one GitHub Actions workflow of the world (the fields of
// sources.github_actions.workflows; worldconfig converts it).
type Workflow struct {
	Repo     string
	Workflow string // file name (ci.yml)
	Branch   string
	Deploys  bool
}

// URLs locate the vendor servers a configuration points at
// (worldconfig.For builds it: the sources' config types live in their
// folders, which import this package's data for their fakes). An empty URL
// leaves that source out (and, for Datadog and Prometheus, the metrics
// that come from it).
type URLs struct {
	GitHub     string // pull requests
	Actions    string // GitHub Actions (the fake GitHub serves both); needs Workflows
	Datadog    string
	Prometheus string
	PagerDuty  string // needs Services
	// SQL is the DSN of the demo's orders database (sources.sql); the
	// demo's in-memory database stands in for the drivers, so it is never
	// dialled.
	SQL string
	// Honeycomb is the base URL of a fake Honeycomb Query Data API.
	Honeycomb string
}

// sha returns a stable fake git SHA for s.
func sha(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
