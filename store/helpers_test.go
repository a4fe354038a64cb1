package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// openTest opens a new store in a temporary directory.
func openTest(tb testing.TB, o Options) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "impact.db")
	s, err := Open(path, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s, path
}

// sampleDraft is a realistic draft: about the size the drafter writes.
func sampleDraft(i int) model.Draft {
	shift := t0.Add(time.Duration(i) * 37 * time.Minute)
	pr := func(n int, author string) model.PRRef {
		return model.PRRef{
			Repo: "acme/search-api", Number: 1000 + n,
			Title:    fmt.Sprintf("perf(query): move Elasticsearch query construction off the request path (SEARCH-%d)", n),
			URL:      fmt.Sprintf("https://github.com/acme/search-api/pull/%d", 1000+n),
			Author:   author,
			MergedAt: shift.Add(-20 * time.Hour),
			LiveAt:   shift.Add(-18 * time.Hour),
		}
	}
	text := fmt.Sprintf("Moved Elasticsearch query construction off the request path, reducing search API p99 latency from 1.8 s to 210 ms (−88%%). (acme/search-api#%d)", 1000+i)
	cats := model.Categories
	statuses := []model.Status{model.StatusPending, model.StatusAccepted, model.StatusRejected}
	return model.Draft{
		ID:       fmt.Sprintf("%012x", uint64(i)*0x9E3779B97F4A7C15>>16),
		Status:   statuses[i%3],
		Kind:     model.KindImpact,
		Category: cats[i%len(cats)],
		Text:     text,
		Metric:   model.MetricRef{ID: "search-p99", Name: "search API p99 latency", Unit: "ms", Better: "lower"},
		Before:   1800, After: 210, Change: -0.883,
		BeforeWindow: model.Window{Start: shift.Add(-7 * 24 * time.Hour), End: shift},
		AfterWindow:  model.Window{Start: shift.Add(24 * time.Hour), End: shift.Add(8 * 24 * time.Hour)},
		ShiftAt:      shift,
		PValue:       0.00012,
		Confidence:   model.ConfidenceMedium,
		PRs:          []model.PRRef{pr(i, "alice")},
		Others:       []model.PRRef{pr(i+1, "bob")},
		Evidence: []string{
			"search API p99 latency fell from 1.8 s to 210 ms on 2025-03-04 (p = 0.0001, Mann-Whitney U).",
			"acme/search-api#1234 by @alice went live 18 h before the shift.",
			"acme/search-api#1235 by @bob went live in the same span.",
		},
		GeneratedText: text,
		CreatedAt:     shift.Add(9 * 24 * time.Hour),
	}
}
