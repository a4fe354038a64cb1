package world

import (
	"slices"
	"strings"
	"time"
)

// Review is one submitted review of a PR. Reviewer "" is a deleted account
// (GitHub answers user: null).
type Review struct {
	Repo        string
	Number      int
	ID          int64
	Reviewer    string
	State       string // APPROVED | CHANGES_REQUESTED | COMMENTED
	SubmittedAt time.Time
	// Comments is the number of inline review comments in the review.
	Comments int
	// RequestedAt, on a review, is when the reviewer's review was
	// requested on the PR (served as a review_requested issue event);
	// zero: never requested by name.
	RequestedAt time.Time
}

// DemoReviews derives reviews from the world's PRs, deterministically:
// Me reviews about two thirds of the other authors' merged PRs created in
// the world's span (first response 1–20 hours after the PR opened, before
// it merged), sometimes twice (changes requested, then approved); another
// reviewer ("bob", or "carol" on bob's PRs) reviews many PRs too, and a
// deleted account left a review on a few.
func DemoReviews(w *World) []Review {
	var out []Review
	var id int64 = 2_000_000_000
	for _, p := range w.PRs {
		in, ok := w.Info[p.Key()]
		if !ok || in.CreatedAt.Before(w.Start) || in.CreatedAt.After(w.End) || p.MergedAt.After(w.End) ||
			strings.HasSuffix(p.Author, "[bot]") {
			continue
		}
		h := stableHash(p.Key() + "/review")
		open := p.MergedAt.Sub(in.CreatedAt)
		if open < 2*time.Hour {
			continue
		}
		at := func(frac uint64) time.Time {
			return in.CreatedAt.Add(time.Duration(float64(open) * float64(frac%90+5) / 100)).Truncate(time.Second)
		}
		if p.Author != w.Me && h%3 != 0 {
			first := in.CreatedAt.Add(time.Hour + time.Duration(h%(19*60))*time.Minute).Truncate(time.Second)
			if !first.Before(p.MergedAt) {
				first = at(h >> 8)
			}
			var asked time.Time
			if h%4 != 1 { // most of the time alice was asked, 5–50 minutes after opening
				asked = in.CreatedAt.Add(time.Duration(5+h>>20%46) * time.Minute).Truncate(time.Second)
				if !asked.Before(first) {
					asked = time.Time{}
				}
			}
			id++
			if h%5 == 0 {
				out = append(out, Review{Repo: p.Repo, Number: p.Number, ID: id, Reviewer: w.Me, State: "CHANGES_REQUESTED",
					SubmittedAt: first, Comments: int(h>>4%4) + 1, RequestedAt: asked})
				id++
				second := first.Add(p.MergedAt.Sub(first) / 2).Truncate(time.Second)
				out = append(out, Review{Repo: p.Repo, Number: p.Number, ID: id, Reviewer: w.Me, State: "APPROVED", SubmittedAt: second})
			} else {
				out = append(out, Review{Repo: p.Repo, Number: p.Number, ID: id, Reviewer: w.Me, State: "APPROVED",
					SubmittedAt: first, Comments: int(h >> 6 % 3), RequestedAt: asked})
			}
		}
		other := "bob"
		if p.Author == "bob" {
			other = "carol"
		}
		if h%2 == 0 {
			id++
			out = append(out, Review{Repo: p.Repo, Number: p.Number, ID: id, Reviewer: other, State: "APPROVED", SubmittedAt: at(h >> 12)})
		}
		if h%11 == 0 {
			id++
			out = append(out, Review{Repo: p.Repo, Number: p.Number, ID: id, Reviewer: "", State: "COMMENTED", SubmittedAt: at(h >> 16), Comments: 1})
		}
	}
	slices.SortStableFunc(out, func(a, b Review) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	return out
}

// stableHash is FNV-1a of s.
func stableHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
