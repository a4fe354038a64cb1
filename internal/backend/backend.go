// Package backend is what the CLI commands that read or change the store
// talk to: the store itself when this process can open it (Local), or the
// running daemon's local API when `impact serve` holds the file (Client).
// Both give the same answers, so a command prints the same thing either way.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/impact-dev/impact/collectors"
	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Backend is the set of operations the CLI needs from the store and the
// pipeline. Every method takes a context first; implementations are safe
// for concurrent use.
type Backend interface {
	// DraftsJSON returns the drafts that match f as their stored JSON.
	DraftsJSON(ctx context.Context, f store.DraftFilter) ([]json.RawMessage, error)
	// Drafts returns the drafts that match f, newest shift first.
	Drafts(ctx context.Context, f store.DraftFilter) ([]model.Draft, error)
	// EachDraftJSON calls fn with the stored JSON of each draft that
	// matches f, in Drafts' order, without holding them all in memory;
	// raw is only valid during the call.
	EachDraftJSON(ctx context.Context, f store.DraftFilter, fn func(raw []byte) error) error
	// Draft returns one draft by id or unique prefix.
	Draft(ctx context.Context, id string) (model.Draft, error)
	// Decide accepts or rejects a draft (see store.Store.Decide).
	Decide(ctx context.Context, id string, status model.Status, text, reason string, at time.Time) (model.Draft, error)
	// Undo takes back a draft's last decision (see store.Store.Undo).
	Undo(ctx context.Context, id string) (model.Draft, error)
	// EditText replaces a draft's statement.
	EditText(ctx context.Context, id, text string) (model.Draft, error)
	// AddWin stores a manual win (`impact wins add`, see store.Store.AddWin).
	AddWin(ctx context.Context, w store.Win) (model.Draft, error)
	// UpdateWin changes a manual win (`impact wins edit`).
	UpdateWin(ctx context.Context, id string, w store.Win) (model.Draft, error)
	// DeleteWin removes a manual win (`impact wins rm`).
	DeleteWin(ctx context.Context, id string) (model.Draft, error)
	// Status describes the store and the collectors' last runs.
	Status(ctx context.Context) (Status, error)
	// Collect polls the configured sources once (or req.Source). When
	// nothing could be started (unknown source, none configured) it returns
	// nil results and an error wrapping ErrUsage; otherwise every source's
	// result and the joined errors of the failed ones.
	Collect(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error)
	// RunDrafter runs a drafter pass and saves its drafts: incremental
	// (the series that changed), or over everything with req.Full.
	RunDrafter(ctx context.Context, req DraftRequest) (DraftSummary, error)
	// Explain runs the drafter without saving anything and returns every
	// shift it finds in one series with its verdict (`impact explain`,
	// see app.Pipeline.Explain). An unknown metric wraps ErrUsage.
	Explain(ctx context.Context, req ExplainRequest) (drafter.Explanation, error)
	// DigestPreview builds and renders a week's digest without sending or
	// recording anything (`impact digest preview`).
	DigestPreview(ctx context.Context, req DigestPreviewRequest) (DigestPreview, error)
	// SendDigest sends a week's digest at most once (`impact digest send`,
	// see digest.SendWeek). Errors wrapping digest.ErrConfig mean the
	// digest cannot be sent as configured.
	SendDigest(ctx context.Context, req DigestSendRequest) (DigestSendResult, error)
	// Where says what answers: the store's path, or "the daemon at ADDR".
	Where() string
	// Close releases the store or the connections.
	Close() error
}

// ErrUsage marks errors caused by the request (an unknown source, no
// sources configured): the CLI exits with code 2 for them.
var ErrUsage = errors.New("bad request")

// ErrForbidden marks requests the API never does, whoever asks (a digest
// to a recipient that is not in digest.to).
var ErrForbidden = errors.New("forbidden")

// Status is what `impact status` shows.
type Status struct {
	// Path is the store file.
	Path  string                     `json:"path"`
	Stats store.Stats                `json:"stats"`
	Runs  map[string]store.RunRecord `json:"runs"`
	// Digest is the newest week's digest record; nil when no digest was
	// ever sent, tried or skipped.
	Digest *store.DigestRecord `json:"digest"`
	// Daemon is set when a daemon answered.
	Daemon *Info `json:"daemon,omitempty"`
}

// Info identifies a running daemon.
type Info struct {
	Version string    `json:"version"`
	PID     int       `json:"pid"`
	Store   string    `json:"store"`
	Started time.Time `json:"started"`
	Config  string    `json:"config"`
}

// CollectRequest selects what Collect does.
type CollectRequest struct {
	// Source limits the run to one source ("" = every configured source).
	Source string `json:"source,omitempty"`
	// Since backfills from that time even where a cursor is further along;
	// zero collects incrementally.
	Since time.Time `json:"since,omitzero"`
}

// SourceResult is one source's outcome of a Collect.
type SourceResult struct {
	Source   string        `json:"source"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Samples  int           `json:"samples"`
	Events   int           `json:"events"`
	// Error is the failure's text; empty on success.
	Error string `json:"error,omitempty"`
}

// FromResults converts the pipeline's results.
func FromResults(rs []collectors.Result) []SourceResult {
	if rs == nil {
		return nil
	}
	out := make([]SourceResult, len(rs))
	for i, r := range rs {
		out[i] = SourceResult{Source: r.Source, Start: r.Start.UTC(), Duration: r.Duration, Samples: r.Samples, Events: r.Events}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out
}

// DigestPreviewRequest selects the digest DigestPreview renders.
type DigestPreviewRequest struct {
	// Week is the ISO week ("2026-W48") in me.timezone; "" is the current
	// week, so far.
	Week string `json:"week,omitempty"`
	// Command starts the accept/reject commands in the digest ("impact",
	// or "impact --config FILE"); "" is "impact".
	Command string `json:"command,omitempty"`
	// HTML asks for the standalone HTML (charts embedded) too.
	HTML bool `json:"html,omitempty"`
}

// DigestPreview is a rendered digest.
type DigestPreview struct {
	Week    string `json:"week"`
	Subject string `json:"subject"`
	// Text is the plain-text digest, what `digest preview` prints.
	Text string `json:"text"`
	// HTML is the standalone HTML page, charts embedded; only when asked.
	HTML string `json:"html,omitempty"`
}

// DigestSendRequest selects what SendDigest sends.
type DigestSendRequest struct {
	// Week is the ISO week in me.timezone; "" is the last complete week.
	Week string `json:"week,omitempty"`
	// To replaces digest.to. Through the API every address must be one
	// of digest.to's (the API never mails anyone else).
	To []string `json:"to,omitempty"`
	// Force sends a week that was already sent (or left "sending").
	Force bool `json:"force,omitempty"`
	// Command starts the accept/reject commands in the mail.
	Command string `json:"command,omitempty"`

	// Mailer and BackOff replace the SMTP mailer from the config and the
	// backoff between attempts (tests). Local only: they do not travel
	// through the API, where the daemon's own settings apply.
	Mailer  dg.Mailer       `json:"-"`
	BackOff backoff.BackOff `json:"-"`
}

// DigestSendResult is what SendDigest did.
type DigestSendResult struct {
	Week string `json:"week"`
	// Outcome is sent, skipped (an empty week: recorded, not sent) or
	// already-sent (nothing done).
	Outcome dg.Outcome `json:"outcome"`
	// Record is the week's record in the store after the call.
	Record    store.DigestRecord `json:"record"`
	Subject   string             `json:"subject,omitempty"`
	MessageID string             `json:"message_id,omitempty"`
	To        []string           `json:"to,omitempty"`
	// EmptyLine is the line that says nothing moved (skipped weeks).
	EmptyLine string `json:"empty_line,omitempty"`
}

// ExplainRequest selects what Explain explains.
type ExplainRequest struct {
	// Metric is a configured metric's id or a built-in series' id.
	Metric string `json:"metric"`
	// At, when set, keeps the shifts within a window of it.
	At time.Time `json:"at,omitzero"`
}

// DraftSummary is what one drafter pass did.
type DraftSummary struct {
	Added        int `json:"added"`
	Updated      int `json:"updated"`
	Kept         int `json:"kept"`
	Regressions  int `json:"regressions"`
	Unattributed int `json:"unattributed"`
	// Examined counts the series analysed (an incremental pass skips
	// the unchanged ones; Regressions and Unattributed are theirs).
	Examined int `json:"examined"`
}

// DraftRequest is a drafter pass's options (POST /v1/draft's body).
type DraftRequest struct {
	// Full analyses every series (collect --redraft), not only those
	// that changed since the last pass.
	Full bool `json:"full,omitempty"`
}

// usageError wraps a message so that errors.Is(err, ErrUsage) holds while
// the text stays the original one.
type usageError struct{ err error }

func (e *usageError) Error() string        { return e.err.Error() }
func (e *usageError) Unwrap() error        { return e.err }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usage marks err as caused by the request.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}
