// Package ghapi holds what the github and github_actions collectors share
// about GitHub's API: turning go-github and transport errors into one-line
// messages that name the HTTP status.
package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors"
)

// Error is a failed GitHub call of the github or github_actions source: it
// names the source, the operation, the repo, PR, workflow or run, and what
// went wrong — the HTTP status and GitHub's message, or a malformed body —
// on one line, e.g. "github_actions: list runs acme/search-api/ci.yml: 404 Not Found".
type Error struct {
	Source string // "github", "github_actions"
	Op     string // "list pulls", "list files", "list runs", "run timing", "store"
	Target string // "acme/search-api", "acme/search-api#12", "acme/search-api/ci.yml#123"
	Page   int
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s %s: %s", e.Source, e.Op, e.Target, Describe(e.Err, e.Page))
}

func (e *Error) Unwrap() error { return e.Err }

// StatusCode is the HTTP status behind the error, or 0.
func (e *Error) StatusCode() int { return StatusCode(e.Err) }

// StatusCode is the HTTP status behind a go-github or transport error, or 0.
func StatusCode(err error) int {
	var he *collectors.HTTPError
	var er *gh.ErrorResponse
	var rle *gh.RateLimitError
	var are *gh.AbuseRateLimitError
	switch {
	case errors.As(err, &he):
		return he.StatusCode
	case errors.As(err, &er) && er.Response != nil:
		return er.Response.StatusCode
	case errors.As(err, &rle) && rle.Response != nil:
		return rle.Response.StatusCode
	case errors.As(err, &are) && are.Response != nil:
		return are.Response.StatusCode
	}
	return 0
}

// Describe turns a go-github or transport error into "401 Bad credentials",
// "503 Service Unavailable after 6 attempts", "malformed response: ...".
func Describe(err error, page int) string {
	var he *collectors.HTTPError
	var rle *gh.RateLimitError
	var are *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ue *url.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err.Error()
	case errors.As(err, &he):
		return he.Detail()
	case isTransport(err):
		d, _ := collectors.TransportDetail(err)
		return d
	case errors.As(err, &rle):
		return fmt.Sprintf("%s: rate limit of %d requests spent until %s", status(rle.Response, http.StatusForbidden), rle.Rate.Limit, rle.Rate.Reset.UTC().Format(time.RFC3339))
	case errors.As(err, &are):
		s := status(are.Response, http.StatusForbidden) + ": secondary rate limit"
		if are.RetryAfter != nil {
			s += fmt.Sprintf(", retry after %s", are.RetryAfter.Round(time.Second))
		}
		return s
	case errors.As(err, &er):
		code := http.StatusInternalServerError
		if er.Response != nil {
			code = er.Response.StatusCode
		}
		msg := OneLine(er.Message)
		if msg == "" {
			msg = http.StatusText(code)
		}
		s := fmt.Sprintf("%d %s", code, msg)
		for _, d := range er.Errors {
			if m := OneLine(d.Message); m != "" {
				s += ": " + m
			} else if d.Code != "" {
				s += fmt.Sprintf(": %s %s", d.Field, d.Code)
			}
		}
		return s
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		where := ""
		if page > 0 {
			where = fmt.Sprintf(" (page %d)", page)
		}
		return fmt.Sprintf("malformed response%s: %s", where, OneLine(err.Error()))
	case errors.As(err, &ue):
		return OneLine(ue.Err.Error())
	}
	return OneLine(err.Error())
}

// isTransport reports a refused redirect or a body over the size cap.
func isTransport(err error) bool {
	var re *collectors.RedirectError
	var tl *collectors.ResponseTooLargeError
	return errors.As(err, &re) || errors.As(err, &tl)
}

func status(resp *http.Response, def int) string {
	code := def
	if resp != nil && resp.StatusCode != 0 {
		code = resp.StatusCode
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// OneLine folds whitespace (GitHub messages may hold newlines) and bounds
// the length.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}

// Call runs one go-github call. The shared HTTP client retries what the
// server answers; this handles go-github refusing a call locally because an
// earlier answer said the budget is spent (X-RateLimit-Remaining: 0, or a
// secondary limit it remembers): it waits for the reset once, if that is no
// longer than maxWait, then tries again.
func Call(ctx context.Context, maxWait time.Duration, sleep func(<-chan struct{}, time.Duration) bool, log *slog.Logger,
	do func() (*gh.Response, error)) (*gh.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := do()
		if err == nil || attempt > 0 {
			return resp, err
		}
		var wait time.Duration
		var rle *gh.RateLimitError
		var are *gh.AbuseRateLimitError
		switch {
		case errors.As(err, &rle):
			// WaitUntil: a reset in 9999 would overflow into no wait.
			wait = collectors.WaitUntil(time.Now(), rle.Rate.Reset.Time) + time.Second
		case errors.As(err, &are) && are.RetryAfter != nil:
			wait = *are.RetryAfter
		default:
			return resp, err
		}
		if wait > maxWait {
			return resp, err
		}
		log.Info("rate limit spent, waiting for the reset", "wait", wait.Round(time.Second))
		if !sleep(ctx.Done(), max(wait, 0)) {
			return resp, ctx.Err()
		}
	}
}
