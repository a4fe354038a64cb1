package drafter

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Verdicts: what the drafter made of a shift it found (Finding.Verdict).
const (
	// VerdictDrafted: a draft credits my PRs (Finding.DraftID).
	VerdictDrafted = "drafted"
	// VerdictRegression: a real shift in the worse direction; never a win.
	VerdictRegression = "regression"
	// VerdictCredited: a real improvement whose likeliest cause (the
	// candidate PR that went live closest to it) is someone else's.
	VerdictCredited = "credited-to-other"
	// VerdictNoCause: a real improvement, but no PR to the metric's repos
	// went live within settle before it.
	VerdictNoCause = "no-cause"
	// VerdictDrift: the windows differ, but the change is not concentrated
	// at one point in time (growth, decay, a random walk).
	VerdictDrift = "drift"
	// VerdictTooSmall: the change is under min_change.
	VerdictTooSmall = "too-small"
	// VerdictNotSignificant: the change is not significant at alpha.
	VerdictNotSignificant = "not-significant"
	// VerdictNotSustained: the new level did not hold (a spike, a revert,
	// or the shift began after the settle).
	VerdictNotSustained = "not-sustained"
	// VerdictTooLittleData: the windows do not hold enough data yet.
	VerdictTooLittleData = "too-little-data"
	// VerdictOverlap: my PRs are credited by another, larger draft of the
	// same metric, or by a draft already accepted or rejected.
	VerdictOverlap = "overlap"
)

// VerdictText is a verdict in words, as tables and the demo show it.
func VerdictText(v string) string {
	switch v {
	case VerdictCredited:
		return "credited to someone else"
	case VerdictNoCause:
		return "no PR went live before it"
	case VerdictDrift:
		return "drift, not a step"
	case VerdictTooSmall:
		return "too small"
	case VerdictNotSignificant:
		return "not significant"
	case VerdictNotSustained:
		return "not sustained"
	case VerdictTooLittleData:
		return "too little data"
	case VerdictOverlap:
		return "credited by another draft"
	}
	return v
}

// Candidate roles (Candidate.Role).
const (
	RoleCredited  = "credited"    // mine, credited by the draft
	RoleLikeliest = "likeliest"   // the closest, the likeliest cause: someone else's, or mine when nothing was drafted
	RoleWith      = "with"        // within the tolerance of the closest: someone else's, named ("with @bob"); or mine when nothing was drafted
	RoleLess      = "less-likely" // went live within settle, but farther from the shift than the tolerance allows
)

// Candidate is a PR that went live within settle before a shift (or
// within its tolerance after it).
type Candidate struct {
	PR   model.PRRef `json:"pr"`
	Mine bool        `json:"mine"`
	// OffsetSeconds is LiveAt − the shift's time: negative when the PR
	// went live before the shift.
	OffsetSeconds int64 `json:"offset_seconds"`
	// Role is "credited", "likeliest", "with" or "less-likely".
	Role string `json:"role"`
}

// Finding is one shift the detector found in a series and what the
// drafter made of it. Explain returns them; Result.Findings holds all.
type Finding struct {
	Metric model.MetricRef `json:"metric"`
	// At is where the detector places the start of the shift;
	// ToleranceSeconds how far off that may be.
	At               time.Time `json:"at"`
	ToleranceSeconds int64     `json:"tolerance_seconds"`
	// Before, After and Change as in model.Draft (zero when the windows
	// could not be measured); Change is the step at the go-live when a
	// trend was removed (Detrended).
	Before       float64      `json:"before"`
	After        float64      `json:"after"`
	Change       float64      `json:"change"`
	PValue       float64      `json:"p_value"`
	BeforeWindow model.Window `json:"before_window"`
	AfterWindow  model.Window `json:"after_window"`
	// Step is the change between the windows minus the change the same
	// windows typically measure elsewhere in the series (the median of
	// Placebos placebo changes; see the drafter's step test), and StepZ
	// that step in robust standard deviations of the placebo changes: the
	// step's sharpness (|StepZ| must reach the normal quantile of alpha,
	// 2.58 at 0.01). TrendPerDay is the trend removed from Before and After
	// when the placebos show one (Detrended). Zero when the history was
	// too short to judge, and for weekly counts.
	Step        float64 `json:"step"`
	StepZ       float64 `json:"step_z"`
	Placebos    int     `json:"placebos"`
	TrendPerDay float64 `json:"trend_per_day"`
	Detrended   bool    `json:"detrended"`
	Improvement bool    `json:"improvement"`
	// Candidates are the PRs that went live within settle before the shift
	// (and within its tolerance after it), closest first.
	Candidates []Candidate `json:"candidates"`
	// Verdict is one of the Verdict* constants; Reason says why in a
	// sentence.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// DraftID is the draft (VerdictDrafted, VerdictOverlap).
	DraftID string `json:"draft_id,omitempty"`
	// CreditedTo is the login of the likeliest cause's author when it is
	// not mine (VerdictCredited, and regressions after someone else's PR).
	CreditedTo string `json:"credited_to,omitempty"`
}

// Tolerance is ToleranceSeconds as a duration.
func (f Finding) Tolerance() time.Duration { return time.Duration(f.ToleranceSeconds) * time.Second }

// Explanation is every shift found in one series.
type Explanation struct {
	Metric model.MetricRef `json:"metric"`
	// From and To span the series' samples; Samples counts them.
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Samples int       `json:"samples"`
	// Findings are the shifts, in time order (with At set: the ones
	// within a window of it, nearest first).
	Findings []Finding `json:"findings"`
}

// Explain runs the drafter on the one series of in whose metric id is
// metricID and returns every shift it found there with its verdict. With
// at non-zero only the shifts within Params.Window of at are kept,
// nearest first. It is as pure as Run; ok is false when no series has
// that id.
func Explain(in Input, metricID string, at time.Time) (Explanation, bool) {
	var one []Series
	for _, s := range in.Series {
		if s.Metric.ID == metricID {
			one = append(one, s)
			break
		}
	}
	if len(one) == 0 {
		return Explanation{}, false
	}
	se := one[0]
	ex := Explanation{Metric: se.Metric.Ref(), Samples: len(se.Samples), Findings: []Finding{}}
	if ex.Metric.Name == "" {
		ex.Metric.Name = ex.Metric.ID
	}
	if n := len(se.Samples); n > 0 {
		ex.From, ex.To = se.Samples[0].Time.UTC(), se.Samples[n-1].Time.UTC()
	}
	in.Series = one
	return ExplainResult(ex, Run(in).Findings, in.Params, at), true
}

// ExplainResult is what Explain returns for the series of ex from the
// findings of an analysis of it made otherwise (a caller that analyses a
// long series in parts): all of them, or, with at non-zero, the ones
// within Params.Window of at, nearest first.
func ExplainResult(ex Explanation, fs []Finding, p Params, at time.Time) Explanation {
	ex.Findings = []Finding{}
	if !at.IsZero() {
		w := p.withDefaults().Window
		var near []Finding
		for _, f := range fs {
			if absDur(f.At.Sub(at)) <= w+f.Tolerance() {
				near = append(near, f)
			}
		}
		sort.SliceStable(near, func(i, j int) bool { return absDur(near[i].At.Sub(at)) < absDur(near[j].At.Sub(at)) })
		fs = near
	}
	if fs != nil {
		ex.Findings = fs
	}
	return ex
}

// finding starts the Finding of the shift est with its candidates.
func (a *analysis) finding(est shiftEst, cs []*prInfo) Finding {
	f := Finding{Metric: a.ref, At: est.at.UTC(), ToleranceSeconds: int64(est.tol / time.Second), Candidates: []Candidate{}}
	for _, c := range cs {
		f.Candidates = append(f.Candidates, Candidate{PR: c.ref(), Mine: c.mine, OffsetSeconds: int64(c.live.Sub(est.at) / time.Second), Role: RoleLess})
	}
	return f
}

// setMeasurement copies a measurement's numbers into f.
func (f *Finding) setMeasurement(m measurement) {
	f.Before, f.After, f.Change, f.PValue = m.before, m.after, m.change, m.p
	if math.IsNaN(f.Before) || math.IsInf(f.Before, 0) {
		f.Before = 0
	}
	if math.IsNaN(f.After) || math.IsInf(f.After, 0) {
		f.After = 0
	}
	if math.IsNaN(f.Change) || math.IsInf(f.Change, 0) {
		f.Change = 0
	}
	f.BeforeWindow, f.AfterWindow = m.bw, m.aw
	if m.step.ok {
		f.Step = math.Expm1(m.step.d - m.step.trend)
		f.StepZ = finite(m.step.z)
		f.TrendPerDay = math.Expm1(m.step.perDayLog)
		f.Placebos = m.step.n
	}
	f.Detrended = m.detrended
	f.Improvement = m.improvement
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// setRole sets the role of the candidate for p.
func (f *Finding) setRole(p *prInfo, role string) {
	for i := range f.Candidates {
		c := &f.Candidates[i]
		if c.PR.Repo == p.pr.Repo && c.PR.Number == p.pr.Number {
			c.Role = role
		}
	}
}

// describeCause names a PR for a reason sentence.
func describeCause(tau time.Time, p *prInfo) string {
	return fmt.Sprintf("%s by @%s, %s", p.key, strings.TrimPrefix(p.pr.Author, "@"), relative(tau, p))
}
