// Package model holds the domain types shared by collectors, the store, the
// drafter and the commands. It has no I/O and no dependencies beyond the
// standard library, so every other package can import it.
package model

import (
	"fmt"
	"time"
)

// Sample is one point of a series: a time and a value in the series' unit.
type Sample struct {
	Time  time.Time
	Value float64
}

// PR is a merged pull request, stored under its natural id "owner/repo#123".
type PR struct {
	Repo     string    `json:"repo"`
	Number   int       `json:"number"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Author   string    `json:"author"`
	MergedAt time.Time `json:"merged_at"`
	// CreatedAt is when the PR was opened (zero for PRs stored before it
	// was collected).
	CreatedAt time.Time `json:"created_at,omitzero"`
	MergeSHA  string    `json:"merge_sha,omitempty"`
	Base      string    `json:"base,omitempty"`
	// Files is the list of paths the PR touched. It is only fetched for
	// repos whose metrics set `paths`; FilesFetched tells an empty list from
	// "not fetched".
	Files        []string `json:"files,omitempty"`
	FilesFetched bool     `json:"files_fetched,omitempty"`
}

// Key is the PR's natural id, e.g. "acme/search-api#1234".
func (p PR) Key() string { return fmt.Sprintf("%s#%d", p.Repo, p.Number) }

// Deploy is a successful run of a workflow marked `deploys: true`: the moment
// a commit went live.
type Deploy struct {
	Repo     string    `json:"repo"`
	Workflow string    `json:"workflow"`
	RunID    int64     `json:"run_id"`
	SHA      string    `json:"sha"`
	Time     time.Time `json:"time"`
}

// Key is the deploy's natural id.
func (d Deploy) Key() string { return fmt.Sprintf("%s/%s/%d", d.Repo, d.Workflow, d.RunID) }

// Incident is a PagerDuty incident. Open incidents are re-read until resolved;
// the store upserts by ID.
type Incident struct {
	ID        string    `json:"id"`
	Service   string    `json:"service"` // service id, e.g. PSEARCH1
	Title     string    `json:"title"`
	Urgency   string    `json:"urgency"` // high | low
	Status    string    `json:"status"`  // triggered | acknowledged | resolved
	URL       string    `json:"url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// AcknowledgedAt is the first acknowledgement, zero if never acknowledged.
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	// ResolvedAt is zero while the incident is open.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Assignees are PagerDuty user ids the incident was assigned to.
	Assignees []string `json:"assignees,omitempty"`
}

// Key is the incident's natural id.
func (i Incident) Key() string { return i.ID }

// CIRun is one GitHub Actions workflow run.
type CIRun struct {
	Repo       string    `json:"repo"`
	Workflow   string    `json:"workflow"` // as configured: file name or id
	RunID      int64     `json:"run_id"`
	Attempt    int       `json:"attempt"`
	Branch     string    `json:"branch"`
	SHA        string    `json:"sha"`
	Event      string    `json:"event,omitempty"`
	Status     string    `json:"status"`     // queued | in_progress | completed
	Conclusion string    `json:"conclusion"` // success | failure | cancelled | ...
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"` // run_started_at (latest attempt)
	// Duration is the run's wall time from start to finish, never inflated
	// by an updated_at that moved long after the run ended.
	Duration time.Duration `json:"duration"`
	Deploys  bool          `json:"deploys,omitempty"`
}

// Key is the run's natural id.
func (r CIRun) Key() string { return fmt.Sprintf("%s/%s/%d", r.Repo, r.Workflow, r.RunID) }

// Review is one review I (me.github) submitted on someone's pull request,
// stored under "owner/repo#123/<review id>". Comments counts the review
// comments (inline comments) that belong to it.
type Review struct {
	Repo        string    `json:"repo"`
	Number      int       `json:"number"`
	ID          int64     `json:"id"`
	Reviewer    string    `json:"reviewer"`
	State       string    `json:"state"` // APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
	SubmittedAt time.Time `json:"submitted_at"`
	// PRAuthor is the pull request's author ("ghost" for a deleted
	// account); PRCreatedAt when it was opened.
	PRAuthor    string    `json:"pr_author"`
	PRCreatedAt time.Time `json:"pr_created_at"`
	// RequestedAt is when my review was first requested on the PR (zero
	// when it never was: I reviewed unasked, or a team was asked).
	RequestedAt time.Time `json:"requested_at,omitzero"`
	Comments    int       `json:"comments"`
	URL         string    `json:"url,omitempty"`
}

// Key is the review's natural id.
func (r Review) Key() string { return fmt.Sprintf("%s#%d/%d", r.Repo, r.Number, r.ID) }

// WaitStart is when the wait for my review began: the review request,
// else the PR's opening.
func (r Review) WaitStart() time.Time {
	if !r.RequestedAt.IsZero() && !r.RequestedAt.After(r.SubmittedAt) {
		return r.RequestedAt
	}
	return r.PRCreatedAt
}

// PRKey is the reviewed PR's natural id.
func (r Review) PRKey() string { return fmt.Sprintf("%s#%d", r.Repo, r.Number) }

// Batch is what a collector hands to the store in one transaction: the data
// of one page or chunk and the cursor position that covers it. The store
// writes all of it or none of it.
type Batch struct {
	Source string
	// Samples by series id. Upserted by (series, time).
	Samples   map[string][]Sample
	PRs       []PR
	Deploys   []Deploy
	Incidents []Incident
	CIRuns    []CIRun
	Reviews   []Review
	// Cursors to set in the same transaction, key → opaque value.
	// Keys are scoped to Source by the store.
	Cursors map[string][]byte
}

// Metric describes one series for the drafter: from a `metrics:` entry of the
// config or a built-in series.
type Metric struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Source   string   `json:"source,omitempty"`
	Query    string   `json:"query,omitempty"`
	Unit     string   `json:"unit"`   // ms, s, min, percent, count, rps, bytes, usd
	Better   string   `json:"better"` // lower | higher
	Repos    []string `json:"repos,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Category string   `json:"category"`
	// Weekly marks count series whose samples are per-event counts; the
	// drafter compares per-week rates instead of medians.
	Weekly bool `json:"weekly,omitempty"`
}

// MetricRef is the part of a metric a draft carries.
type MetricRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	Better string `json:"better"`
}

// Ref returns the draft-facing part of m.
func (m Metric) Ref() MetricRef {
	return MetricRef{ID: m.ID, Name: m.Name, Unit: m.Unit, Better: m.Better}
}

// Window is a half-open time span [Start, End).
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Status of a draft.
type Status string

const (
	StatusPending  Status = "pending"
	StatusAccepted Status = "accepted"
	StatusRejected Status = "rejected"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusPending || s == StatusAccepted || s == StatusRejected
}

// Confidence of a draft's attribution.
const (
	ConfidenceHigh   = "high"   // only my PRs went live near the shift
	ConfidenceMedium = "medium" // others' PRs went live in the same span
	ConfidenceLow    = "low"
)

// PRRef is a PR as a draft credits it.
type PRRef struct {
	Repo     string    `json:"repo"`
	Number   int       `json:"number"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Author   string    `json:"author"`
	MergedAt time.Time `json:"merged_at"`
	// LiveAt is when the PR went live: its deploy time when known, else its
	// merge time.
	LiveAt time.Time `json:"live_at"`
}

// Kinds of draft (SPEC.md: a draft's kind is always visible).
const (
	// KindImpact is a measured shift credited to my PRs (the drafter's).
	KindImpact = "impact"
	// KindActivity is a count over a review period, e.g. reviews given.
	KindActivity = "activity"
	// KindManual is a win the user wrote (`impact wins add`).
	KindManual = "manual"
)

// Kinds lists the draft kinds in the order an export lists them within a
// competency: measured first, then activity, then manual.
var Kinds = []string{KindImpact, KindActivity, KindManual}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k string) bool {
	return k == KindImpact || k == KindActivity || k == KindManual
}

// Draft is a suggested accomplishment statement.
type Draft struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Kind is impact, activity or manual; the store fills impact in for
	// drafts saved without one.
	Kind     string    `json:"kind"`
	Category string    `json:"category"`
	Text     string    `json:"text"`
	Metric   MetricRef `json:"metric"`
	// Before and After are in the metric's unit: the median of the samples
	// in each window, or the per-week rate for weekly counts.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Change is the relative change (After-Before)/Before, e.g. -0.883.
	Change       float64 `json:"change"`
	BeforeWindow Window  `json:"before_window"`
	AfterWindow  Window  `json:"after_window"`
	// ShiftAt is when the detector places the start of the shift.
	ShiftAt    time.Time `json:"shift_at"`
	PValue     float64   `json:"p_value"`
	Confidence string    `json:"confidence"`
	PRs        []PRRef   `json:"prs"`
	// Others are PRs by other authors that went live in the same span.
	Others []PRRef `json:"others"`
	// Evidence says, in sentences, why the draft was credited and what else
	// could explain the shift.
	Evidence []string `json:"evidence"`
	// GeneratedText is the drafter's own text; Text differs from it when the
	// user edited the statement.
	GeneratedText string     `json:"generated_text"`
	CreatedAt     time.Time  `json:"created_at"`
	DecidedAt     *time.Time `json:"decided_at"`
	Reason        string     `json:"reason"`
	// History lists every decision taken on the draft, oldest first; the
	// last entry is the current one. It is absent while the draft was never
	// decided.
	History []Decision `json:"history,omitempty"`
	// Period is the review period an activity draft counts over (e.g.
	// 2026-H2); nil for other kinds.
	Period *Period `json:"period,omitempty"`
	// Links are URLs the user attached to a manual win.
	Links []string `json:"links,omitempty"`
}

// Decision is one entry of a draft's history: what the draft was set to,
// when, and why.
type Decision struct {
	// Status is accepted, rejected, or pending (the draft was reopened).
	Status Status    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	// TextBefore is the statement this decision replaced; set only when
	// the decision changed it (accept --text), so undoing it restores it.
	TextBefore string `json:"text_before,omitempty"`
}

// Previous is the decision the current one replaced; ok is false when
// there is none (the draft was pending before).
func (d Draft) Previous() (Decision, bool) {
	if len(d.History) < 2 {
		return Decision{}, false
	}
	return d.History[len(d.History)-2], true
}

// Period is a named review period, [Start, End).
type Period struct {
	Name  string    `json:"name"` // 2026-H2, 2026-Q3
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// AsOf is when an activity draft's counts were taken: they cover
	// [Start, AsOf]. AsOf at End's last second means final.
	AsOf time.Time `json:"as_of,omitzero"`
}

// Categories are the six competencies, in the order exports list them.
var Categories = []string{"api", "database", "performance", "reliability", "infrastructure", "leadership"}

// CategoryTitle is the heading a reviewer knows a category by.
func CategoryTitle(c string) string {
	switch c {
	case "api":
		return "API & service development"
	case "database":
		return "Database & data engineering"
	case "performance":
		return "Performance & scalability"
	case "reliability":
		return "Security & reliability"
	case "infrastructure":
		return "Infrastructure & DevOps"
	case "leadership":
		return "Technical leadership"
	}
	return c
}
