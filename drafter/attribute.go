package drafter

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// attribute pairs the shift at tau with the PRs that went live shortly
// before it and records a draft, a regression or an unattributed
// improvement, and the shift's Finding.
//
// Rule 2 of the spec: of the candidates (anyone's PRs to the metric's
// repos that went live in [tau − Settle − tol, tau + tol], the end capped
// at the latest plausible start, see shiftEst.late), the one live
// closest to tau is the likeliest cause. If it is someone else's, none of
// mine is credited (a PR of mine that went live at the same moment, in the
// same deploy, counts as equally close). Otherwise my candidates that went
// live within tol of the closest are credited together; other people's
// PRs within tol of it are named ("with @bob") and lower the confidence.
// My other candidates — live within settle, but farther from the shift
// than the tolerance allows — are not credited.
func (a *analysis) attribute(est shiftEst, prs []*prInfo, res *Result, cands *[]*Proposal) {
	tau, tol := est.at, est.tol
	// A PR that went live after the span of plausible start times — when
	// the samples already showed the new level — did not cause it.
	lo, hi := tau.Add(-a.p.Settle-tol), tau.Add(est.lateTol())
	i := sort.Search(len(prs), func(i int) bool { return !prs[i].live.Before(lo) })
	var cs []*prInfo
	for ; i < len(prs) && !prs[i].live.After(hi); i++ {
		if eligible(prs[i], a.m, a.p.MatchPath) {
			cs = append(cs, prs[i])
		}
	}
	dist := func(p *prInfo) time.Duration { return absDur(tau.Sub(p.live)) }
	// Closest first; equally close: mine first (the same deploy shipped
	// both), then the one live earlier, then by key.
	sort.SliceStable(cs, func(i, j int) bool {
		if di, dj := dist(cs[i]), dist(cs[j]); di != dj {
			return di < dj
		}
		if cs[i].mine != cs[j].mine {
			return cs[i].mine
		}
		if !cs[i].live.Equal(cs[j].live) {
			return cs[i].live.Before(cs[j].live)
		}
		return cs[i].key < cs[j].key
	})
	f := a.finding(est, cs)
	defer func() { res.Findings = append(res.Findings, f) }()

	if len(cs) > 0 && cs[0].mine {
		closest := cs[0]
		var credited, with, others []*prInfo
		for _, c := range cs {
			near := absDur(c.live.Sub(closest.live)) <= tol
			switch {
			case c.mine && near:
				credited = append(credited, c)
				f.setRole(c, RoleCredited)
			case !c.mine && near:
				with = append(with, c)
				others = append(others, c)
				f.setRole(c, RoleWith)
			case !c.mine:
				others = append(others, c)
			}
		}
		credited = byLive(credited)
		first, last := credited[0].live, credited[len(credited)-1].live
		m, why := a.measure(est, earlier(first, tau), last.Add(a.p.Settle))
		f.setMeasurement(m)
		// Not drafted: nothing is credited; mine closest is the likeliest
		// cause and my others near it go with it.
		uncredit := func() {
			for _, c := range credited {
				if c == closest {
					f.setRole(c, RoleLikeliest)
				} else {
					f.setRole(c, RoleWith)
				}
			}
		}
		if why != "" {
			uncredit()
			f.Verdict, f.Reason = why, m.why
			return
		}
		if !m.improvement {
			uncredit()
			res.Regressions = append(res.Regressions, a.shift(tau, m, cs))
			f.Verdict = VerdictRegression
			f.Reason = fmt.Sprintf("a change of %s in the worse direction after %s: never written as a win", signedPct(m.change), describeCause(tau, closest))
			return
		}
		c := a.draft(est, m, credited, byLive(others), byLive(with), closest, lo, hi)
		*cands = append(*cands, c)
		f.Verdict, f.DraftID = VerdictDrafted, c.Draft.ID
		f.Reason = fmt.Sprintf("a step of %s after %s", signedPct(m.change), describeCause(tau, closest))
		if len(credited) > 1 {
			f.Reason += fmt.Sprintf(", credited with %d more of mine within ± %s", len(credited)-1, humanDur(tol))
		}
		return
	}

	// Nobody of mine is credited: an improvement goes to Unattributed,
	// measured around the likeliest cause (or the shift itself).
	var m measurement
	var why string
	if len(cs) == 0 {
		m, why = a.measure(est, tau, tau.Add(a.p.Settle))
	} else {
		f.setRole(cs[0], RoleLikeliest)
		m, why = a.measure(est, earlier(cs[0].live, tau), cs[0].live.Add(a.p.Settle))
	}
	f.setMeasurement(m)
	if why != "" {
		f.Verdict, f.Reason = why, m.why
		return
	}
	switch {
	case m.improvement:
		res.Unattributed = append(res.Unattributed, a.shift(tau, m, cs))
		if len(cs) == 0 {
			f.Verdict = VerdictNoCause
			f.Reason = "no PR to " + a.where() + " went live within settle before it"
		} else {
			f.Verdict = VerdictCredited
			f.CreditedTo = strings.TrimPrefix(cs[0].pr.Author, "@")
			f.Reason = "the likeliest cause is " + describeCause(tau, cs[0])
			if mine := a.closestMine(cs); mine != nil {
				f.Reason += fmt.Sprintf("; %s of mine went live %s, farther from the shift", mine.key, relative(tau, mine))
			}
		}
	default:
		f.Verdict = VerdictRegression
		if len(cs) == 0 {
			f.Reason = fmt.Sprintf("a change of %s in the worse direction; no PR went live before it", signedPct(m.change))
		} else {
			f.CreditedTo = strings.TrimPrefix(cs[0].pr.Author, "@")
			f.Reason = fmt.Sprintf("a change of %s in the worse direction after %s", signedPct(m.change), describeCause(tau, cs[0]))
		}
	}
}

// closestMine is the first of cs (sorted closest first) that is mine.
func (a *analysis) closestMine(cs []*prInfo) *prInfo {
	for _, c := range cs {
		if c.mine {
			return c
		}
	}
	return nil
}

// where names the metric's repos for sentences.
func (a *analysis) where() string {
	if len(a.m.Repos) > 0 {
		return cleanLine(strings.Join(a.m.Repos, ", "))
	}
	return "any repo"
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

// draft builds the draft for my credited PRs; others are other people's
// candidates, with those of them within the tolerance of the closest
// (named in the statement).
func (a *analysis) draft(est shiftEst, m measurement, credited, others, with []*prInfo, likeliest *prInfo, lo, hi time.Time) *Proposal {
	tau := est.at
	keys := make([]string, len(credited))
	for i, p := range credited {
		keys[i] = p.key
	}
	conf := model.ConfidenceHigh
	if len(others) > 0 {
		conf = model.ConfidenceMedium
	}
	text := statement(a.ref, a.weekly, m.before, m.after, m.change, refs(credited), otherAuthors(with))
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
	return &Proposal{Draft: d, PRKeys: keys}
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
