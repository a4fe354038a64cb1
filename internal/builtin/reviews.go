package builtin

import (
	"slices"
	"time"

	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// Ids of the reviews-given series (github source).
//
//	github.reviews_given       one sample per UTC day (at 00:00) from the day
//	                           of the first stored review to the last whole
//	                           day before now: reviews I submitted that day,
//	                           zeros included. Weekly (per-week rate).
//	github.authors_reviewed    one sample per whole ISO week (Monday 00:00 UTC)
//	                           in the same span: distinct authors of the PRs
//	                           I reviewed that week ("ghost", a deleted
//	                           account, counts as one author).
//	github.review_response     one sample per PR I reviewed, at my first review
//	                           of it: minutes from the request for my review
//	                           (else the PR's opening) to that review.
//
// These series measure my own activity, not a system that a PR changed:
// they are not handed to the drafter's attribution (a metric without repos
// may be credited to any repo's PR); activity statements and the digest
// read them.
const (
	IDReviewsGiven    = github.SeriesPrefix + "reviews_given"
	IDAuthorsReviewed = github.SeriesPrefix + "authors_reviewed"
	IDReviewResponse  = github.SeriesPrefix + "review_response"
)

const categoryReviews = "leadership"

// FirstReviews returns, per reviewed PR (by key), my first review of it.
func FirstReviews(rs []model.Review) map[string]model.Review {
	first := map[string]model.Review{}
	for _, r := range rs {
		k := r.PRKey()
		if f, ok := first[k]; !ok || r.SubmittedAt.Before(f.SubmittedAt) {
			first[k] = r
		}
	}
	return first
}

// ReviewSeries derives the three series from the reviews (any order).
func ReviewSeries(rs []model.Review, now time.Time) []drafter.Series {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b model.Review) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	days := coveredDays(model.Window{Start: rs[0].SubmittedAt.UTC().Truncate(day), End: now}, now)
	var perDay []model.Sample
	if len(days) > 0 {
		perDay = make([]model.Sample, len(days))
		for i, d := range days {
			perDay[i] = model.Sample{Time: d}
		}
		for _, r := range rs {
			i := int(r.SubmittedAt.Sub(days[0]) / day)
			if r.SubmittedAt.Before(days[0]) || i >= len(perDay) {
				continue
			}
			perDay[i].Value++
		}
	}
	// Whole ISO weeks inside the covered days.
	var weekly []model.Sample
	if len(days) > 0 {
		first := days[0]
		for first.Weekday() != time.Monday {
			first = first.Add(day)
		}
		end := daysEnd(days)
		for wk := first; !wk.Add(7 * day).After(end); wk = wk.Add(7 * day) {
			authors := map[string]bool{}
			for _, r := range rs {
				if !r.SubmittedAt.Before(wk) && r.SubmittedAt.Before(wk.Add(7*day)) {
					authors[r.PRAuthor] = true
				}
			}
			weekly = append(weekly, model.Sample{Time: wk, Value: float64(len(authors))})
		}
	}
	var resp []model.Sample
	for _, r := range FirstReviews(rs) {
		start := r.WaitStart()
		if start.IsZero() || r.SubmittedAt.Before(start) {
			continue
		}
		resp = append(resp, model.Sample{Time: r.SubmittedAt.UTC(), Value: r.SubmittedAt.Sub(start).Minutes()})
	}
	sortSamples(resp)
	metric := func(id, name, unit, better string, weeklyRate bool) model.Metric {
		return model.Metric{ID: id, Name: name, Source: "github", Unit: unit, Better: better, Category: categoryReviews, Weekly: weeklyRate}
	}
	return []drafter.Series{
		{Metric: metric(IDReviewsGiven, "reviews given", "count", "higher", true), Samples: perDay, End: daysEnd(days)},
		{Metric: metric(IDAuthorsReviewed, "distinct authors reviewed per week", "count", "higher", false), Samples: weekly},
		{Metric: metric(IDReviewResponse, "time from PR opened to my first review", "min", "lower", false), Samples: resp},
	}
}
