package drafter

import (
	"sort"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// attribute pairs the shift at tau with the PRs that went live shortly
// before it and records a draft, a regression or an unattributed
// improvement.
func (a *analysis) attribute(est shiftEst, prs []*prInfo, res *Result, cands *[]*candidate) {
	tau, tol := est.at, est.tol
	lo, hi := tau.Add(-a.p.Settle-tol), tau.Add(tol)
	i := sort.Search(len(prs), func(i int) bool { return !prs[i].live.Before(lo) })
	var cs []*prInfo
	for ; i < len(prs) && !prs[i].live.After(hi); i++ {
		if eligible(prs[i], a.m, a.p.MatchPath) {
			cs = append(cs, prs[i])
		}
	}
	dist := func(p *prInfo) time.Duration { return absDur(tau.Sub(p.live)) }
	// Closest first; equally close: the one live earlier, then by key.
	sort.SliceStable(cs, func(i, j int) bool {
		if di, dj := dist(cs[i]), dist(cs[j]); di != dj {
			return di < dj
		}
		if !cs[i].live.Equal(cs[j].live) {
			return cs[i].live.Before(cs[j].live)
		}
		return cs[i].key < cs[j].key
	})
	var mine, others []*prInfo
	for _, c := range cs {
		if c.mine {
			mine = append(mine, c)
		} else {
			others = append(others, c)
		}
	}

	if len(mine) > 0 && (cs[0].mine || dist(mine[0])-dist(cs[0]) <= tol) {
		credited := byLive(mine)
		first, last := credited[0].live, credited[len(credited)-1].live
		m, ok := a.measure(earlier(first, tau), last.Add(a.p.Settle))
		if !ok {
			return
		}
		if !m.improvement {
			res.Regressions = append(res.Regressions, a.shift(tau, m, cs))
			return
		}
		*cands = append(*cands, a.draft(est, m, credited, byLive(others), cs[0], lo, hi))
		return
	}

	// Nobody of mine is credited: an improvement goes to Unattributed,
	// measured around the likeliest cause (or the shift itself).
	var m measurement
	var ok bool
	if len(cs) == 0 {
		m, ok = a.measure(tau, tau.Add(a.p.Settle))
	} else {
		m, ok = a.measure(earlier(cs[0].live, tau), cs[0].live.Add(a.p.Settle))
	}
	if ok && m.improvement {
		res.Unattributed = append(res.Unattributed, a.shift(tau, m, cs))
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// byLive returns ps sorted by LiveAt, then key.
func byLive(ps []*prInfo) []*prInfo {
	out := append([]*prInfo(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].live.Equal(out[j].live) {
			return out[i].live.Before(out[j].live)
		}
		return out[i].key < out[j].key
	})
	return out
}

func refs(ps []*prInfo) []model.PRRef {
	out := make([]model.PRRef, len(ps))
	for i, p := range ps {
		out[i] = p.ref()
	}
	return out
}

// shift builds a Shift; cs are the candidates, closest first.
func (a *analysis) shift(tau time.Time, m measurement, cs []*prInfo) Shift {
	s := Shift{Metric: a.ref, At: tau.UTC(), Before: m.before, After: m.after, Change: m.change, PValue: m.p,
		BeforeWindow: m.bw, AfterWindow: m.aw, Improvement: m.improvement}
	if len(cs) > 0 {
		r := cs[0].ref()
		s.Cause = &r
		s.Others = refs(byLive(cs[1:]))
	}
	return s
}

// draft builds the draft for my credited PRs.
func (a *analysis) draft(est shiftEst, m measurement, credited, others []*prInfo, likeliest *prInfo, lo, hi time.Time) *candidate {
	tau := est.at
	keys := make([]string, len(credited))
	for i, p := range credited {
		keys[i] = p.key
	}
	conf := model.ConfidenceHigh
	switch {
	case len(others) > 0 && !likeliest.mine:
		conf = model.ConfidenceLow
	case len(others) > 0:
		conf = model.ConfidenceMedium
	}
	text := statement(a.ref, a.weekly, m.before, m.after, m.change, refs(credited), otherAuthors(others))
	d := model.Draft{
		ID:            draftID(a.m.ID, keys),
		Status:        model.StatusPending,
		Category:      a.m.Category,
		Text:          text,
		GeneratedText: text,
		Metric:        a.ref,
		Before:        m.before,
		After:         m.after,
		Change:        m.change,
		BeforeWindow:  m.bw,
		AfterWindow:   m.aw,
		ShiftAt:       tau.UTC(),
		PValue:        m.p,
		Confidence:    conf,
		PRs:           refs(credited),
		Others:        refs(others),
		Evidence:      a.evidence(est, m, credited, others, likeliest, lo, hi),
	}
	return &candidate{draft: d, keys: keys}
}

// otherAuthors lists the distinct authors of others, in order.
func otherAuthors(others []*prInfo) []string {
	var out []string
	seen := make(map[string]bool, len(others))
	for _, o := range others {
		k := o.pr.Author
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}
