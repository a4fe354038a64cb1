package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

var (
	ctx      = context.Background()
	fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

func clock() time.Time { return fixedNow }

func h(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

func pr(n int, merged time.Time) model.PR {
	return model.PR{Repo: "acme/search-api", Number: n, Title: "t", URL: "u", Author: "alice", MergedAt: merged}
}

func deploy(run int64, at time.Time) model.Deploy {
	return model.Deploy{Repo: "acme/search-api", Workflow: "deploy.yml", RunID: run, SHA: "abc", Time: at}
}

func sampleBatch() model.Batch {
	return model.Batch{
		Source: "datadog",
		Samples: map[string][]model.Sample{
			"search-p99": {{Time: h(0), Value: 1800}, {Time: h(1), Value: 1750}, {Time: h(30), Value: 210}},
			"error-rate": {{Time: h(5), Value: 0.5}},
		},
		PRs:     []model.PR{pr(1, h(2)), pr(2, h(3))},
		Deploys: []model.Deploy{deploy(7, h(4))},
		Cursors: map[string][]byte{"search-p99": []byte("h30")},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, kind error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", text)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q does not wrap %v", err, kind)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("error %q does not contain %q", err, text)
	}
	if !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("error %q does not start with \"store: \"", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}

func samplesOf(t *testing.T, s *Store, series string, from, to time.Time) []model.Sample {
	t.Helper()
	got, err := s.Samples(ctx, series, from, to)
	must(t, err)
	return got
}

func saveDrafts(t *testing.T, s *Store, ds ...model.Draft) SaveResult {
	t.Helper()
	res, err := s.SaveDrafts(ctx, ds)
	must(t, err)
	return res
}

func draftWith(id string, status model.Status, shift time.Time, cat string) model.Draft {
	return model.Draft{ID: id, Status: status, Category: cat, Text: "gen " + id, GeneratedText: "gen " + id, ShiftAt: shift}
}

func TestStore(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store, path string)
	}{
		{"commit is idempotent", func(t *testing.T, s *Store, _ string) {
			must(t, s.Commit(ctx, sampleBatch()))
			st1, err := s.Stats(ctx)
			must(t, err)
			must(t, s.Commit(ctx, sampleBatch()))
			st2, err := s.Stats(ctx)
			must(t, err)
			st1.FileSize, st2.FileSize = 0, 0
			if !reflect.DeepEqual(st1, st2) {
				t.Errorf("stats changed on a repeated commit:\n%+v\n%+v", st1, st2)
			}
			if st2.Samples != 4 || st2.Series != 2 || st2.PRs != 2 || st2.Deploys != 1 {
				t.Errorf("stats = %+v", st2)
			}
			prs, err := s.PRs(ctx, time.Time{}, time.Time{})
			must(t, err)
			if len(prs) != 2 {
				t.Errorf("PRs = %v", prs)
			}
		}},

		{"samples across days and out of order", func(t *testing.T, s *Store, _ string) {
			day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			b1 := model.Batch{Source: "p", Samples: map[string][]model.Sample{"m": {
				{Time: day.Add(25 * time.Hour), Value: 3}, // next day 01:00
				{Time: day.Add(23 * time.Hour), Value: 1},
				{Time: day.Add(-time.Second), Value: -1}, // previous day 23:59:59
			}}}
			b2 := model.Batch{Source: "p", Samples: map[string][]model.Sample{"m": {
				{Time: day.Add(24 * time.Hour), Value: 2},                                   // midnight, between
				{Time: day.Add(23*time.Hour + 500*time.Millisecond), Value: 10},             // same second as 23:00: replaces
				{Time: day.Add(12 * time.Hour).In(time.FixedZone("CET", 3600)), Value: 0.5}, // zone does not matter
				{Time: day.Add(48 * time.Hour), Value: 4},
				{Time: day.Add(48 * time.Hour), Value: 5}, // later in the batch wins
			}}}
			must(t, s.Commit(ctx, b1))
			must(t, s.Commit(ctx, b2))
			got := samplesOf(t, s, "m", time.Time{}, time.Time{})
			want := []model.Sample{
				{Time: day.Add(-time.Second), Value: -1},
				{Time: day.Add(12 * time.Hour), Value: 0.5},
				{Time: day.Add(23 * time.Hour), Value: 10},
				{Time: day.Add(24 * time.Hour), Value: 2},
				{Time: day.Add(25 * time.Hour), Value: 3},
				{Time: day.Add(48 * time.Hour), Value: 5},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("samples:\n got %v\nwant %v", got, want)
			}
			for _, smp := range got {
				if smp.Time.Location() != time.UTC {
					t.Errorf("sample time %v is not UTC", smp.Time)
				}
			}
			// Special values survive.
			must(t, s.Commit(ctx, model.Batch{Samples: map[string][]model.Sample{"x": {
				{Time: day, Value: math.Inf(1)}, {Time: day.Add(time.Second), Value: math.Copysign(0, -1)}}}}))
			if got := samplesOf(t, s, "x", time.Time{}, time.Time{}); !math.IsInf(got[0].Value, 1) || !math.Signbit(got[1].Value) {
				t.Errorf("special values = %v", got)
			}
		}},

		{"samples range bounds", func(t *testing.T, s *Store, _ string) {
			var ss []model.Sample
			for i := range 72 { // three days, hourly
				ss = append(ss, model.Sample{Time: h(i), Value: float64(i)})
			}
			must(t, s.Commit(ctx, model.Batch{Samples: map[string][]model.Sample{"m": ss}}))
			cases := []struct {
				from, to   time.Time
				first, len int
			}{
				{time.Time{}, time.Time{}, 0, 72},
				{h(10), h(20), 10, 10},                                    // [from, to)
				{h(10).Add(time.Millisecond), h(20), 11, 9},               // from is inclusive to the nanosecond
				{h(10), h(20).Add(time.Millisecond), 10, 11},              // so is to exclusive
				{h(23), h(25), 23, 2},                                     // across midnight
				{h(50), time.Time{}, 50, 22},                              // no upper bound
				{h(20), h(20), 0, 0},                                      // empty
				{h(30), h(10), 0, 0},                                      // reversed
				{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), h(2), 0, 2}, // before 1970
				{h(100), h(200), 0, 0},                                    // after the data
			}
			for _, c := range cases {
				got := samplesOf(t, s, "m", c.from, c.to)
				if len(got) != c.len || (c.len > 0 && got[0].Value != float64(c.first)) {
					t.Errorf("Samples(%v, %v) = %d samples from %v; want %d from %d", c.from, c.to, len(got), got, c.len, c.first)
				}
				if !slices.IsSortedFunc(got, func(a, b model.Sample) int { return a.Time.Compare(b.Time) }) {
					t.Errorf("Samples(%v, %v) not sorted", c.from, c.to)
				}
			}
			if got := samplesOf(t, s, "unknown", time.Time{}, time.Time{}); len(got) != 0 {
				t.Errorf("unknown series: %v", got)
			}
		}},

		{"series ids and stats", func(t *testing.T, s *Store, _ string) {
			must(t, s.Commit(ctx, sampleBatch()))
			ids, err := s.SeriesIDs(ctx)
			must(t, err)
			if want := []string{"error-rate", "search-p99"}; !slices.Equal(ids, want) {
				t.Errorf("SeriesIDs = %v, want %v", ids, want)
			}
			st, err := s.SeriesStats(ctx)
			must(t, err)
			want := map[string]SeriesStat{
				"search-p99": {Count: 3, First: h(0), Last: h(30)},
				"error-rate": {Count: 1, First: h(5), Last: h(5)},
			}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("SeriesStats = %v, want %v", st, want)
			}
		}},

		{"cursor advances atomically with its data", func(t *testing.T, s *Store, _ string) {
			c, err := s.Cursor(ctx, "datadog", "search-p99")
			must(t, err)
			if c != nil {
				t.Errorf("cursor of a new store = %q", c)
			}
			must(t, s.Commit(ctx, sampleBatch()))
			c, err = s.Cursor(ctx, "datadog", "search-p99")
			must(t, err)
			if string(c) != "h30" {
				t.Errorf("cursor = %q", c)
			}
			// Scoped by source.
			if c, _ := s.Cursor(ctx, "prometheus", "search-p99"); c != nil {
				t.Errorf("cursor leaked across sources: %q", c)
			}
			before, err := s.Stats(ctx)
			must(t, err)
			bad := []model.Batch{
				{Source: "datadog", Cursors: map[string][]byte{"search-p99": []byte("h99")},
					Samples: map[string][]model.Sample{"search-p99": {{Time: h(99), Value: 1}}, "": {{Time: h(99), Value: 1}}}},
				{Source: "datadog", Cursors: map[string][]byte{"search-p99": []byte("h99")},
					Samples: map[string][]model.Sample{"search-p99": {{Time: h(99), Value: 1}}},
					PRs:     []model.PR{pr(9, time.Time{})}},
				{Source: "datadog", Cursors: map[string][]byte{"search-p99": []byte("h99")},
					Samples: map[string][]model.Sample{"search-p99": {{Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), Value: 1}}}},
				{Source: "datadog", Cursors: map[string][]byte{"search-p99": []byte("h99")},
					Deploys: []model.Deploy{{Repo: "acme/x", RunID: 1, Time: h(1)}}},
				{Cursors: map[string][]byte{"k": []byte("v")}}, // cursors need a source
			}
			for i, b := range bad {
				err := s.Commit(ctx, b)
				wantErr(t, err, ErrInvalid, "invalid batch")
				if i == 0 {
					wantErr(t, err, ErrInvalid, "series id is empty")
				}
			}
			c, _ = s.Cursor(ctx, "datadog", "search-p99")
			after, err := s.Stats(ctx)
			must(t, err)
			after.FileSize, before.FileSize = 0, 0
			if string(c) != "h30" || !reflect.DeepEqual(before, after) {
				t.Errorf("a rejected batch changed the store: cursor %q, stats %+v → %+v", c, before, after)
			}
			// A nil value deletes the cursor.
			must(t, s.Commit(ctx, model.Batch{Source: "datadog", Cursors: map[string][]byte{"search-p99": nil}}))
			if c, _ := s.Cursor(ctx, "datadog", "search-p99"); c != nil {
				t.Errorf("deleted cursor = %q", c)
			}
		}},

		{"PRs by merged_at", func(t *testing.T, s *Store, _ string) {
			must(t, s.Commit(ctx, model.Batch{Source: "github", PRs: []model.PR{
				pr(30, h(5)), pr(10, h(1)), pr(2, h(5)), pr(4, h(3).In(time.FixedZone("X", -7200))),
			}}))
			keys := func(ps []model.PR) (ks []string) {
				for _, p := range ps {
					ks = append(ks, p.Key())
				}
				return ks
			}
			all, err := s.PRs(ctx, time.Time{}, time.Time{})
			must(t, err)
			if want := []string{"acme/search-api#10", "acme/search-api#4", "acme/search-api#2", "acme/search-api#30"}; !slices.Equal(keys(all), want) {
				t.Errorf("PRs = %v, want %v", keys(all), want)
			}
			if all[1].MergedAt.Location() != time.UTC || !all[1].MergedAt.Equal(h(3)) {
				t.Errorf("merged_at = %v", all[1].MergedAt)
			}
			got, err := s.PRs(ctx, h(1), h(5))
			must(t, err)
			if want := []string{"acme/search-api#10", "acme/search-api#4"}; !slices.Equal(keys(got), want) {
				t.Errorf("PRs[h1,h5) = %v, want %v", keys(got), want)
			}
			// Re-collected with a new merge time (and title): moved, not duplicated.
			moved := pr(10, h(9))
			moved.Title = "new title"
			must(t, s.Commit(ctx, model.Batch{Source: "github", PRs: []model.PR{moved}}))
			all, err = s.PRs(ctx, time.Time{}, time.Time{})
			must(t, err)
			if want := []string{"acme/search-api#4", "acme/search-api#2", "acme/search-api#30", "acme/search-api#10"}; !slices.Equal(keys(all), want) {
				t.Errorf("after move PRs = %v, want %v", keys(all), want)
			}
			if all[3].Title != "new title" {
				t.Errorf("upsert kept the old title: %+v", all[3])
			}
		}},

		{"deploys by time", func(t *testing.T, s *Store, _ string) {
			must(t, s.Commit(ctx, model.Batch{Source: "github_actions", Deploys: []model.Deploy{deploy(3, h(3)), deploy(1, h(1)), deploy(2, h(2))}}))
			must(t, s.Commit(ctx, model.Batch{Source: "github_actions", Deploys: []model.Deploy{deploy(1, h(1))}}))
			got, err := s.Deploys(ctx, h(1), h(3))
			must(t, err)
			if len(got) != 2 || got[0].RunID != 1 || got[1].RunID != 2 {
				t.Errorf("Deploys = %+v", got)
			}
			all, err := s.Deploys(ctx, time.Time{}, time.Time{})
			must(t, err)
			if len(all) != 3 {
				t.Errorf("all deploys = %+v", all)
			}
		}},

		{"save drafts never overwrites decisions", func(t *testing.T, s *Store, _ string) {
			created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			a, b, c := draftWith("aaaa1111", "", h(1), "api"), draftWith("bbbb2222", "", h(2), "api"), draftWith("cccc3333", "", h(3), "api")
			a.CreatedAt = created
			if res := saveDrafts(t, s, a, b, c); res != (SaveResult{Added: 3}) {
				t.Errorf("first save = %+v", res)
			}
			got, err := s.Draft(ctx, "bbbb2222")
			must(t, err)
			if got.Status != model.StatusPending || !got.CreatedAt.Equal(fixedNow) {
				t.Errorf("new draft: status %q created %v; want pending, now", got.Status, got.CreatedAt)
			}
			_, err = s.Decide(ctx, "bbbb2222", model.StatusAccepted, "", "", time.Time{})
			must(t, err)
			_, err = s.Decide(ctx, "cccc3333", model.StatusRejected, "", "not mine", time.Time{})
			must(t, err)

			// The drafter runs again with new numbers.
			for _, d := range []*model.Draft{&a, &b, &c} {
				d.Before, d.Text, d.GeneratedText = 99, "regenerated", "regenerated"
				d.CreatedAt = fixedNow.Add(time.Hour)
			}
			if res := saveDrafts(t, s, a, b, c); res != (SaveResult{Updated: 1, Kept: 2}) {
				t.Errorf("second save = %+v", res)
			}
			ga, _ := s.Draft(ctx, "aaaa1111")
			if ga.Before != 99 || ga.Text != "regenerated" || !ga.CreatedAt.Equal(created) {
				t.Errorf("pending draft not updated or CreatedAt lost: %+v", ga)
			}
			for _, id := range []string{"bbbb2222", "cccc3333"} {
				g, _ := s.Draft(ctx, id)
				if g.Before == 99 || g.Text != "gen "+id || g.Status == model.StatusPending {
					t.Errorf("decided draft %s overwritten: %+v", id, g)
				}
			}
			// An edited pending draft keeps the user's text, takes the new numbers.
			_, err = s.EditText(ctx, "aaaa1111", "my words")
			must(t, err)
			a.Before = 42
			if res := saveDrafts(t, s, a); res != (SaveResult{Updated: 1}) {
				t.Errorf("third save = %+v", res)
			}
			ga, _ = s.Draft(ctx, "aaaa1111")
			if ga.Text != "my words" || ga.GeneratedText != "regenerated" || ga.Before != 42 {
				t.Errorf("edited draft after re-draft: %+v", ga)
			}
			// Bad input is rejected as a whole.
			_, err = s.SaveDrafts(ctx, []model.Draft{draftWith("dddd4444", "", h(1), "api"), {}})
			wantErr(t, err, ErrInvalid, "bad id")
			_, err = s.SaveDrafts(ctx, []model.Draft{draftWith("dddd4444", "maybe", h(1), "api")})
			wantErr(t, err, ErrInvalid, `unknown status "maybe"`)
			if _, err := s.Draft(ctx, "dddd4444"); !errors.Is(err, ErrNotFound) {
				t.Errorf("rejected save stored a draft: %v", err)
			}
		}},

		{"drafts filter and order", func(t *testing.T, s *Store, _ string) {
			saveDrafts(t, s,
				draftWith("id-b", model.StatusPending, h(5), "api"),
				draftWith("id-a", model.StatusPending, h(5), "performance"),
				draftWith("id-c", model.StatusAccepted, h(9), "api"),
				draftWith("id-d", model.StatusRejected, h(1), "reliability"),
			)
			ids := func(f DraftFilter) []string {
				ds, err := s.Drafts(ctx, f)
				must(t, err)
				var out []string
				for _, d := range ds {
					out = append(out, d.ID)
				}
				return out
			}
			cases := []struct {
				f    DraftFilter
				want []string
			}{
				{DraftFilter{}, []string{"id-c", "id-a", "id-b", "id-d"}},
				{DraftFilter{Status: "all"}, []string{"id-c", "id-a", "id-b", "id-d"}},
				{DraftFilter{Status: model.StatusPending}, []string{"id-a", "id-b"}},
				{DraftFilter{Category: "api"}, []string{"id-c", "id-b"}},
				{DraftFilter{Since: h(5)}, []string{"id-c", "id-a", "id-b"}},
				{DraftFilter{Until: h(5)}, []string{"id-d"}},
				{DraftFilter{Since: h(2), Until: h(9)}, []string{"id-a", "id-b"}},
				{DraftFilter{Status: model.StatusAccepted, Category: "reliability"}, nil},
			}
			for _, c := range cases {
				if got := ids(c.f); !slices.Equal(got, c.want) {
					t.Errorf("Drafts(%+v) = %v, want %v", c.f, got, c.want)
				}
			}
			_, err := s.Drafts(ctx, DraftFilter{Status: "done"})
			wantErr(t, err, ErrInvalid, `unknown draft status "done"`)
		}},

		{"draft lookup by id and prefix", func(t *testing.T, s *Store, _ string) {
			saveDrafts(t, s,
				draftWith("abcdef01", "", h(1), "api"),
				draftWith("abcdef02", "", h(1), "api"),
				draftWith("f00d1234", "", h(1), "api"),
			)
			for _, id := range []string{"abcdef01", "f00d", "f00d1234", "abcdef02"} {
				d, err := s.Draft(ctx, id)
				must(t, err)
				if !strings.HasPrefix(d.ID, id) {
					t.Errorf("Draft(%q) = %q", id, d.ID)
				}
			}
			_, err := s.Draft(ctx, "abc123")
			wantErr(t, err, ErrNotFound, `store: draft "abc123" not found`)
			_, err = s.Draft(ctx, "f00") // shorter than MinPrefix
			wantErr(t, err, ErrNotFound, `draft "f00" not found`)
			_, err = s.Draft(ctx, "abcdef")
			wantErr(t, err, ErrAmbiguous, `draft id prefix "abcdef" is ambiguous: it matches abcdef01, abcdef02`)
		}},

		{"decide", func(t *testing.T, s *Store, _ string) {
			saveDrafts(t, s, draftWith("dec00001", "", h(1), "api"), draftWith("dec00002", "", h(2), "api"))
			at := time.Date(2025, 5, 5, 5, 5, 5, 0, time.FixedZone("X", 3600))
			d, err := s.Decide(ctx, "dec00001", model.StatusAccepted, "  Edited statement.\n", "", at)
			must(t, err)
			if d.Status != model.StatusAccepted || d.Text != "Edited statement." || d.GeneratedText != "gen dec00001" ||
				d.DecidedAt == nil || !d.DecidedAt.Equal(at) || d.DecidedAt.Location() != time.UTC {
				t.Errorf("accepted draft = %+v", d)
			}
			stored, _ := s.Draft(ctx, "dec00001")
			if !reflect.DeepEqual(stored, d) {
				t.Errorf("stored %+v\nreturned %+v", stored, d)
			}
			d, err = s.Decide(ctx, "dec00002", model.StatusRejected, "", "coincidence", time.Time{})
			must(t, err)
			if d.Status != model.StatusRejected || d.Reason != "coincidence" || d.Text != "gen dec00002" || !d.DecidedAt.Equal(fixedNow) {
				t.Errorf("rejected draft = %+v", d)
			}
			d, err = s.Decide(ctx, "dec00002", model.StatusPending, "", "", time.Time{})
			must(t, err)
			if d.Status != model.StatusPending || d.DecidedAt != nil {
				t.Errorf("reopened draft = %+v", d)
			}
			_, err = s.Decide(ctx, "abc123", model.StatusAccepted, "", "", time.Time{})
			wantErr(t, err, ErrNotFound, `store: draft "abc123" not found`)
			_, err = s.Decide(ctx, "dec0", model.StatusAccepted, "", "", time.Time{})
			wantErr(t, err, ErrAmbiguous, "ambiguous")
			_, err = s.Decide(ctx, "dec00001", "maybe", "", "", time.Time{})
			wantErr(t, err, ErrInvalid, `unknown status "maybe"`)
		}},

		{"edit text", func(t *testing.T, s *Store, _ string) {
			saveDrafts(t, s, draftWith("edit0001", "", h(1), "api"))
			d, err := s.EditText(ctx, "edit", "Better words.\n")
			must(t, err)
			if d.Text != "Better words." || d.GeneratedText != "gen edit0001" || d.Status != model.StatusPending {
				t.Errorf("edited = %+v", d)
			}
			_, err = s.EditText(ctx, "edit0001", " \n")
			wantErr(t, err, ErrInvalid, "empty")
			_, err = s.EditText(ctx, "nope0000", "x")
			wantErr(t, err, ErrNotFound, `draft "nope0000" not found`)
		}},

		{"run records", func(t *testing.T, s *Store, _ string) {
			start := h(0)
			must(t, s.RecordRun(ctx, "github", RunRecord{LastStart: start, LastDuration: time.Minute, Samples: 5, Events: 2}))
			must(t, s.RecordRun(ctx, "github", RunRecord{LastStart: h(1), LastDuration: time.Second, LastError: "HTTP 401"}))
			must(t, s.RecordRun(ctx, "github", RunRecord{LastStart: h(2), LastDuration: time.Second, LastError: "HTTP 401"}))
			must(t, s.RecordRun(ctx, "pagerduty", RunRecord{LastStart: h(2), LastDuration: time.Second, RateLimitRemaining: 10}))
			runs, err := s.Runs(ctx)
			must(t, err)
			g := runs["github"]
			if len(runs) != 2 || g.ConsecutiveFailures != 2 || !g.LastSuccess.Equal(start.Add(time.Minute)) ||
				g.LastError != "HTTP 401" || !g.LastStart.Equal(h(2)) || g.Samples != 0 {
				t.Errorf("runs = %+v", runs)
			}
			must(t, s.RecordRun(ctx, "github", RunRecord{LastStart: h(3), LastDuration: time.Second}))
			runs, _ = s.Runs(ctx)
			if g := runs["github"]; g.ConsecutiveFailures != 0 || !g.LastSuccess.Equal(h(3).Add(time.Second)) || g.LastError != "" {
				t.Errorf("after success = %+v", g)
			}
			if runs["pagerduty"].RateLimitRemaining != 10 {
				t.Errorf("pagerduty = %+v", runs["pagerduty"])
			}
			wantErr(t, s.RecordRun(ctx, "", RunRecord{}), ErrInvalid, "bad source")
		}},

		{"stats", func(t *testing.T, s *Store, path string) {
			must(t, s.Commit(ctx, sampleBatch()))
			saveDrafts(t, s, draftWith("s1", "", h(1), "api"), draftWith("s2", model.StatusAccepted, h(1), "api"))
			st, err := s.Stats(ctx)
			must(t, err)
			fi, err := os.Stat(path)
			must(t, err)
			want := Stats{
				Path: path, FileSize: fi.Size(), SchemaVersion: SchemaVersion, Series: 2, Samples: 4, PRs: 2, Deploys: 1,
				Drafts: map[model.Status]int{model.StatusPending: 1, model.StatusAccepted: 1, model.StatusRejected: 0},
			}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("Stats = %+v\nwant %+v", st, want)
			}
			if s.Path() != path || s.SchemaVersion() != SchemaVersion {
				t.Errorf("Path %q SchemaVersion %d", s.Path(), s.SchemaVersion())
			}
		}},

		{"reopen persists everything", func(t *testing.T, s *Store, path string) {
			must(t, s.Commit(ctx, sampleBatch()))
			saveDrafts(t, s, sampleDraft(1), sampleDraft(2))
			_, err := s.Decide(ctx, sampleDraft(1).ID, model.StatusAccepted, "", "", time.Time{})
			must(t, err)
			must(t, s.RecordRun(ctx, "datadog", RunRecord{LastStart: h(1), Samples: 4}))
			snapshot := func(s *Store) []any {
				samples, _ := s.Samples(ctx, "search-p99", time.Time{}, time.Time{})
				prs, _ := s.PRs(ctx, time.Time{}, time.Time{})
				deploys, _ := s.Deploys(ctx, time.Time{}, time.Time{})
				drafts, _ := s.Drafts(ctx, DraftFilter{})
				runs, _ := s.Runs(ctx)
				cur, _ := s.Cursor(ctx, "datadog", "search-p99")
				st, _ := s.Stats(ctx)
				st.FileSize = 0
				return []any{samples, prs, deploys, drafts, runs, cur, st}
			}
			before := snapshot(s)
			must(t, s.Close())
			must(t, s.Close()) // twice is fine
			s2, err := Open(path, Options{Now: clock})
			must(t, err)
			defer s2.Close()
			after := snapshot(s2)
			if !reflect.DeepEqual(before, after) {
				t.Errorf("reopened store differs:\n%+v\n%+v", before, after)
			}
			if len(after[3].([]model.Draft)) != 2 || len(after[0].([]model.Sample)) != 3 {
				t.Errorf("snapshot is missing data: %+v", after)
			}
		}},

		{"lock timeout", func(t *testing.T, s *Store, path string) {
			start := time.Now()
			_, err := Open(path, Options{})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("second Open took %v", el)
			}
			wantErr(t, err, ErrLocked, path+` is in use by another process (is "impact serve" running?)`)
			_, err = Open(path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
			wantErr(t, err, ErrLocked, "in use")
		}},

		{"read-only", func(t *testing.T, s *Store, path string) {
			must(t, s.Commit(ctx, sampleBatch()))
			must(t, s.Close())
			r1, err := Open(path, Options{ReadOnly: true})
			must(t, err)
			defer r1.Close()
			r2, err := Open(path, Options{ReadOnly: true}) // readers share the file
			must(t, err)
			defer r2.Close()
			if got := samplesOf(t, r2, "search-p99", time.Time{}, time.Time{}); len(got) != 3 {
				t.Errorf("read-only samples = %v", got)
			}
			err = r1.Commit(ctx, sampleBatch())
			wantErr(t, err, nil, "read-only")
			_, err = Open(filepath.Join(filepath.Dir(path), "missing.db"), Options{ReadOnly: true})
			wantErr(t, err, fs.ErrNotExist, "does not exist")
		}},

		{"many drafts decode in parallel", func(t *testing.T, s *Store, _ string) {
			ds := make([]model.Draft, 1000)
			for i := range ds {
				ds[i] = sampleDraft(i)
			}
			if res := saveDrafts(t, s, ds...); res.Added != len(ds) {
				t.Fatalf("save = %+v", res)
			}
			got, err := s.Drafts(ctx, DraftFilter{})
			must(t, err)
			if len(got) != len(ds) {
				t.Fatalf("%d drafts", len(got))
			}
			if !slices.IsSortedFunc(got, func(a, b model.Draft) int { return b.ShiftAt.Compare(a.ShiftAt) }) {
				t.Error("not sorted by ShiftAt descending")
			}
			if want := sampleDraft(999); !reflect.DeepEqual(got[0], want) {
				t.Errorf("first draft:\n got %+v\nwant %+v", got[0], want)
			}
			pending, err := s.Drafts(ctx, DraftFilter{Status: model.StatusPending, Category: "api"})
			must(t, err)
			// DraftsJSON: same drafts, same order, as encoding/json writes them.
			for _, f := range []DraftFilter{{}, {Status: model.StatusPending, Category: "api"}, {Since: h(100), Until: h(200)}} {
				ds, err := s.Drafts(ctx, f)
				must(t, err)
				raw, err := s.DraftsJSON(ctx, f)
				must(t, err)
				if len(raw) != len(ds) {
					t.Fatalf("DraftsJSON(%+v): %d drafts, Drafts: %d", f, len(raw), len(ds))
				}
				for i := range ds {
					want, _ := json.Marshal(ds[i])
					if string(raw[i]) != string(want) {
						t.Fatalf("DraftsJSON(%+v)[%d] =\n%s\nwant\n%s", f, i, raw[i], want)
					}
				}
			}
			_, err = s.DraftsJSON(ctx, DraftFilter{Status: "x"})
			wantErr(t, err, ErrInvalid, "unknown draft status")
			st, err := s.Stats(ctx)
			must(t, err)
			if st.Drafts[model.StatusPending] != 334 || st.Drafts[model.StatusAccepted] != 333 || len(pending) != 167 {
				t.Errorf("drafts by status %v, pending api %d", st.Drafts, len(pending))
			}
		}},

		{"cancelled context", func(t *testing.T, s *Store, _ string) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			wantErr(t, s.Commit(c, sampleBatch()), context.Canceled, "canceled")
			_, err := s.Drafts(c, DraftFilter{})
			wantErr(t, err, context.Canceled, "canceled")
			_, err = s.Samples(c, "x", time.Time{}, time.Time{})
			wantErr(t, err, context.Canceled, "canceled")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, path := openTest(t, Options{Now: clock})
			tc.run(t, s, path)
		})
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "impact.db")
	s, err := Open(path, Options{})
	must(t, err)
	defer s.Close()
	for p, want := range map[string]fs.FileMode{dir: 0o700 | fs.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		must(t, err)
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestOpenRejectsNonDatabase(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"text.db":  "hello, this is not a database\n",
		"large.db": strings.Repeat("not bbolt ", 2000),
		"zeros.db": string(make([]byte, 5000)),
	} {
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := Open(path, Options{})
		wantErr(t, err, ErrNotDatabase, "store: "+path+" is not an impact database")
	}
	_, err := Open(dir, Options{})
	wantErr(t, err, ErrNotDatabase, dir+" is a directory")

	// A bbolt file of some other program.
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("things")); return err }))
	must(t, db.Close())
	_, err = Open(other, Options{})
	wantErr(t, err, ErrNotDatabase, other+" is a bbolt file but not an impact database")
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "impact.db")
	s, err := Open(path, Options{schemaVersion: 9})
	must(t, err)
	must(t, s.Close())
	want := fmt.Sprintf("store: %s was written by a newer impact (schema v9; this binary knows up to v%d); upgrade impact", path, SchemaVersion)
	_, err = Open(path, Options{})
	wantErr(t, err, ErrNewerSchema, want)
	if err.Error() != want {
		t.Errorf("message = %q", err)
	}
}

// The fast JSON decoder used for drafts must read exactly what
// encoding/json wrote.
func TestDraftJSONRoundTrip(t *testing.T) {
	d := sampleDraft(7)
	d.Text = "<script>alert(1)</script> & \"quotes\" \u2028 ünïcødé −88% \t\n\x00 \xff"
	d.Evidence = append(d.Evidence, "", `back\slash`)
	d.Reason = "emoji 🚀"
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	d.DecidedAt = &at
	d.Change = -0.8833333333333333
	d.PValue = 1e-300
	d.Others = nil
	data, err := json.Marshal(d)
	must(t, err)
	var want, got model.Draft
	must(t, json.Unmarshal(data, &want))
	must(t, unmarshalDraft(data, &got))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fast decoder differs:\n got %+v\nwant %+v", got, want)
	}
}
