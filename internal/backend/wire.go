package backend

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// The daemon's local API (served by package server, used by Client). Every
// body is JSON; errors are ErrorBody with a matching HTTP status.
//
//	GET  /v1/info                        Info
//	GET  /v1/drafts?status=&category=&kind=&since=&until=   [draft...] (the stored JSON)
//	GET  /v1/drafts/{id}                 draft
//	POST /v1/drafts/{id}/accept          DecideRequest → draft
//	POST /v1/drafts/{id}/reject          DecideRequest → draft
//	POST /v1/drafts/{id}/text            EditRequest → draft
//	POST /v1/drafts/{id}/undo            {} → draft (its last decision taken back)
//	POST /v1/wins                        store.Win → draft (a manual win)
//	POST /v1/wins/{id}                   store.Win → draft (changes the given fields)
//	DELETE /v1/wins/{id}                 → the removed draft
//	GET  /v1/export?status=//	GET  /v1/export?status=&since=&until=   export document (groups by competency)since=//	GET  /v1/export?status=&since=&until=   export document (groups by competency)until=//	GET  /v1/export?status=&since=&until=   export document (groups by competency)period=//	GET  /v1/export?status=&since=&until=   export document (groups by competency)level=   export document (as `impact export -f json`)
//	GET  /v1/status                      Status
//	POST /v1/collect                     CollectRequest → CollectResponse
//	POST /v1/draft                       DraftSummary (runs the drafter)
//	GET  /v1/explain?metric=&at=         drafter.Explanation (every shift of one series, with its verdict)
//	GET  /v1/digest/preview?week=&command=&html=1   DigestPreview
//	POST /v1/digest/send                 DigestSendRequest → DigestSendResult
//	POST /v1/ui/login                    UILoginResponse (a one-time review page link)
//	GET  /v1/hello?nonce=                HelloResponse (no token: the daemon proves it holds the store)
const (
	PathInfo    = "/v1/info"
	PathDrafts  = "/v1/drafts"
	PathWins    = "/v1/wins"
	PathExport  = "/v1/export"
	PathStatus  = "/v1/status"
	PathCollect = "/v1/collect"
	PathDraft   = "/v1/draft"
	PathExplain = "/v1/explain"

	PathDigestPreview = "/v1/digest/preview"
	PathDigestSend    = "/v1/digest/send"
	PathUILogin       = "/v1/ui/login"
	PathHello         = "/v1/hello"
)

// HelloResponse is the answer of /v1/hello?nonce=N: Proof is
// daemonauth.Proof(the store's secret, N), which only a process that can
// read the store's secret can compute.
type HelloResponse struct {
	Proof string `json:"proof"`
}

// DecideRequest is the body of accept and reject.
type DecideRequest struct {
	Text   string    `json:"text,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// UILoginResponse is the answer of /v1/ui/login.
type UILoginResponse struct {
	URL string `json:"url"`
}

// EditRequest is the body of /text.
type EditRequest struct {
	Text string `json:"text"`
}

// CollectResponse is the answer of /v1/collect: every source's result and,
// when some failed, their joined errors.
type CollectResponse struct {
	Results []SourceResult `json:"results"`
	Error   string         `json:"error,omitempty"`
}

// ErrorBody is every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	// Kind is not_found, ambiguous, invalid, usage, config (the digest is
	// not configured), unauthorized, forbidden, unavailable (the mail
	// server failed) or internal.
	Kind string `json:"kind"`
}

// ErrorKind classifies err for ErrorBody and picks the HTTP status.
func ErrorKind(err error) (kind string, status int) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "not_found", http.StatusNotFound
	case errors.Is(err, store.ErrAmbiguous):
		return "ambiguous", http.StatusConflict
	case errors.Is(err, store.ErrInvalid):
		return "invalid", http.StatusUnprocessableEntity
	case errors.Is(err, ErrUsage):
		return "usage", http.StatusBadRequest
	case errors.Is(err, dg.ErrConfig):
		return "config", http.StatusBadRequest
	case errors.Is(err, ErrForbidden):
		return "forbidden", http.StatusForbidden
	}
	var se *dg.SendError
	if errors.As(err, &se) {
		return "unavailable", http.StatusBadGateway
	}
	return "internal", http.StatusInternalServerError
}

// RemoteError is an error the daemon answered with. Its text is the
// daemon's, unchanged; errors.Is matches the store's sentinels, ErrUsage
// and digest.ErrConfig by kind.
type RemoteError struct {
	Msg    string
	Kind   string
	Status int
}

func (e *RemoteError) Error() string { return e.Msg }

func (e *RemoteError) Is(target error) bool {
	switch e.Kind {
	case "not_found":
		return target == store.ErrNotFound
	case "ambiguous":
		return target == store.ErrAmbiguous
	case "invalid":
		return target == store.ErrInvalid
	case "usage":
		return target == ErrUsage
	case "config":
		return target == dg.ErrConfig
	case "forbidden":
		return target == ErrForbidden
	}
	return false
}

// EncodeFilter writes f as query parameters.
func EncodeFilter(f store.DraftFilter) url.Values {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Category != "" {
		q.Set("category", f.Category)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Order != "" {
		q.Set("order", f.Order)
	}
	return q
}

// DecodeFilter reads what EncodeFilter wrote; "all" is every status.
func DecodeFilter(q url.Values) (store.DraftFilter, error) {
	var f store.DraftFilter
	if s := q.Get("status"); s != "" && s != "all" {
		f.Status = model.Status(s)
		if !f.Status.Valid() {
			return f, Usage(errors.New("status " + s + ": want pending, accepted, rejected or all"))
		}
	}
	f.Category = q.Get("category")
	if f.Order = q.Get("order"); f.Order != "" && f.Order != store.OrderCompetency {
		return f, Usage(errors.New("order " + f.Order + ": want " + store.OrderCompetency))
	}
	if k := q.Get("kind"); k != "" {
		if !model.ValidKind(k) {
			return f, Usage(errors.New("kind " + k + ": want impact, activity or manual"))
		}
		f.Kind = k
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, Usage(errors.New(p.name + " " + v + ": want an RFC 3339 time"))
			}
			*p.dst = t.UTC()
		}
	}
	return f, nil
}
