package activity

import (
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
)

var h2 = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

func rv(repo string, n int, id int64, author string, opened, at time.Time) model.Review {
	return model.Review{Repo: repo, Number: n, ID: id, Reviewer: "alice", State: "APPROVED", SubmittedAt: at, PRAuthor: author, PRCreatedAt: opened}
}

func TestReviewsStatement(t *testing.T) {
	d := func(days, hours float64) time.Time {
		return h2.Add(time.Duration((days*24 + hours) * float64(time.Hour)))
	}
	reviews := []model.Review{
		rv("acme/a", 1, 1, "bob", d(1, 0), d(1, 2)),     // first response 2 h
		rv("acme/a", 1, 2, "bob", d(1, 0), d(2, 0)),     // second review of #1: not a first response
		rv("acme/a", 2, 3, "carol", d(3, 0), d(3, 4)),   // 4 h
		rv("acme/b", 7, 4, "ghost", d(10, 0), d(10, 1)), // 1 h
		rv("acme/c", 9, 5, "bob", d(20, 0), d(21, 0)),   // 24 h
		rv("acme/a", 3, 6, "dave", d(-5, 0), d(-4, 0)),  // H1: another period
		rv("acme/a", 4, 7, "erin", d(-1, 0), d(0, 1)),   // opened in H1, first reviewed in H2: 25 h
		rv("acme/a", 5, 8, "bob", d(200, 0), d(200, 1)), // after now
	}
	now := d(150, 0)
	ds := Run(Input{Me: []string{"alice"}, Now: now, Reviews: reviews})
	var h2d *model.Draft
	for i := range ds {
		if ds[i].Period.Name == "2026-H2" {
			h2d = &ds[i]
		}
	}
	if len(ds) != 2 || h2d == nil {
		t.Fatalf("drafts: %+v", ds)
	}
	// 5 PRs (#1, #2, #7, #9, #4), 5 authors (bob, carol, ghost, erin... and
	// bob again), 3 repos; first responses 2, 4, 1, 24, 25 h: median 4 h.
	want := "Reviewed 5 pull requests from 4 engineers across 3 repos in H2 2026 so far, with a median first response of 4.0 hours."
	if h2d.Text != want || h2d.Kind != model.KindActivity || h2d.Category != "leadership" || h2d.ID != ID(StatementReviews, "2026-H2") ||
		!h2d.ShiftAt.Equal(h2) || !h2d.Period.AsOf.Equal(now) || h2d.Status != model.StatusPending {
		t.Errorf("H2 draft:\n got %q %+v\nwant %q", h2d.Text, h2d, want)
	}

	// H1 is closed: its draft says so, without "so far", dated its last second.
	for _, x := range ds {
		if x.Period.Name == "2026-H1" {
			if x.Text != "Reviewed 1 pull request from 1 engineer across 1 repo in H1 2026, with a median first response of 24.0 hours." ||
				!x.Period.AsOf.Equal(h2.Add(-time.Second)) {
				t.Errorf("H1 draft %q as of %s", x.Text, x.Period.AsOf)
			}
			// Stored and final: frozen, even when more data arrives.
			late := append(reviews, rv("acme/a", 6, 9, "zed", d(-3, 0), d(-2, 0)))
			again := Run(Input{Me: []string{"alice"}, Now: now.Add(time.Hour), Reviews: late, Existing: []model.Draft{x}})
			for _, y := range again {
				if y.Period.Name == "2026-H1" {
					t.Errorf("a closed period's final draft was proposed again: %q", y.Text)
				}
			}
		}
	}

	// The open period's draft written before it closed is refreshed once
	// after, with the final counts.
	after := Run(Input{Me: []string{"alice"}, Now: d(190, 0), Reviews: reviews, Existing: []model.Draft{*h2d}})
	var final *model.Draft
	for i := range after {
		if after[i].ID == h2d.ID {
			final = &after[i]
		}
	}
	if final == nil || strings.Contains(final.Text, "so far") || !final.Period.AsOf.Equal(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("final refresh: %+v", final)
	}
	if again := Run(Input{Me: []string{"alice"}, Now: d(191, 0), Reviews: reviews, Existing: []model.Draft{*final}}); len(again) != 1 || again[0].Period.Name != "2026-H1" { // H1 was not stored in this call
		t.Errorf("after the final refresh: %d drafts", len(again))
	}
}

func TestDocsStatement(t *testing.T) {
	pr := func(n int, author string, merged time.Time, fetched bool, files ...string) model.PR {
		return model.PR{Repo: "acme/ops", Number: n, Author: author, MergedAt: merged, Files: files, FilesFetched: fetched, URL: "https://github.com/acme/ops/pull/1"}
	}
	at := h2.Add(48 * time.Hour)
	prs := []model.PR{
		pr(1, "alice", at, true, "runbooks/search.md", "runbooks/checkout.md", "main.go"),
		pr(2, "alice", at.Add(time.Hour), true, "runbooks/search.md", "docs/adr/0007-queues.md", "docs/runbooks/db.md"),
		pr(3, "bob", at, true, "runbooks/other.md"), // not mine
		pr(4, "alice", at, false),                          // files unknown
		pr(5, "alice", at, true, "docs/adr/0008-cache.md"), // second ADR
		pr(6, "alice", at, true, "internal/x.go"),          // no document
	}
	docs := []DocKind{{Name: "runbook", Globs: []string{"runbooks/**", "docs/runbooks/**"}}, {Name: "architecture decision record", Globs: []string{"docs/adr/**"}}}
	ds := Run(Input{Me: []string{"alice"}, Now: at.Add(24 * time.Hour), PRs: prs, Docs: docs, DocsCategory: "infrastructure", Match: glob.Match})
	if len(ds) != 1 {
		t.Fatalf("%d drafts", len(ds))
	}
	d := ds[0]
	if d.Text != "Wrote or updated 3 runbooks and 2 architecture decision records in H2 2026 so far." || d.Category != "infrastructure" || len(d.PRs) != 3 ||
		!strings.Contains(strings.Join(d.Evidence, " "), "1 of your merged pull requests in the period have no collected file list") {
		t.Errorf("docs draft: %q %s %d PRs %v", d.Text, d.Category, len(d.PRs), d.Evidence)
	}
}

func TestWinEvidence(t *testing.T) {
	day := 24 * time.Hour
	win := model.Draft{ID: "w1234567", Kind: model.KindManual, Status: model.StatusAccepted, ShiftAt: h2, Metric: model.MetricRef{ID: "search-p99"},
		Evidence: []string{"Written by you."}}
	measured := []model.Draft{
		{ID: "aaaa0001", Kind: model.KindImpact, Status: model.StatusPending, ShiftAt: h2.Add(3 * day), Metric: model.MetricRef{ID: "search-p99"}, GeneratedText: "Cut p99."},
		{ID: "aaaa0002", Kind: model.KindImpact, Status: model.StatusRejected, ShiftAt: h2, Metric: model.MetricRef{ID: "search-p99"}},
		{ID: "aaaa0003", Kind: model.KindImpact, ShiftAt: h2.Add(30 * day), Metric: model.MetricRef{ID: "search-p99"}},
		{ID: "aaaa0004", Kind: model.KindImpact, ShiftAt: h2, Metric: model.MetricRef{ID: "other"}},
	}
	got := WinEvidence([]model.Draft{win, {ID: "w2", Kind: model.KindManual}}, measured)
	want := []string{"Written by you.", "Measured (draft aaaa0001, pending): Cut p99."}
	if len(got) != 1 || strings.Join(got["w1234567"], "|") != strings.Join(want, "|") {
		t.Errorf("evidence: %v", got)
	}
	win.Evidence = want
	if again := WinEvidence([]model.Draft{win}, measured); len(again) != 0 {
		t.Errorf("unchanged evidence reported again: %v", again)
	}
}
