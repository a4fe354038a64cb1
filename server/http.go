package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/impact-dev/impact/internal/backend"
)

// Limits of every request the daemon's HTTP servers (the API and the review
// page) read, so that connections that never finish cannot pile up.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// BodyTimeout bounds reading a request's body.
	BodyTimeout = 30 * time.Second
	// MaxHeaderBytes caps a request's headers.
	MaxHeaderBytes = 64 << 10
	// MaxBodyBytes caps a request's body (the API's are small JSON).
	MaxBodyBytes = 1 << 20
	// IdleTimeout closes a kept-alive connection left unused.
	IdleTimeout = 2 * time.Minute
)

// HTTPOptions configure NewHTTPServer; zero values are the defaults above.
type HTTPOptions struct {
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	MaxBodyBytes      int64
	// BaseContext is every request's parent context; nil is Background.
	BaseContext func(net.Listener) context.Context
	Logger      *slog.Logger
}

// NewHTTPServer returns the http.Server the daemon serves h with: read-header
// and body timeouts, header and body size limits, an idle timeout.
//
// The body's deadline is set and lifted by the handler wrapper rather than
// with http.Server.ReadTimeout, which would stay on the connection while a
// long request (a collect) runs and cancel it when it expires.
func NewHTTPServer(h http.Handler, o HTTPOptions) *http.Server {
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = ReadHeaderTimeout
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = BodyTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = MaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           LimitBody(h, o.BodyTimeout, o.MaxBodyBytes),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		IdleTimeout:       IdleTimeout,
		BaseContext:       o.BaseContext,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
}

// LimitBody reads a request's body (at most max bytes, within timeout)
// before next sees it: a body that does not arrive in time answers 408 and
// closes the connection, a longer one 413.
func LimitBody(next http.Handler, timeout time.Duration, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestEntityTooLarge, backend.ErrorBody{Error: "request body too large", Kind: "usage"})
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			w.Header().Set("Connection", "close")
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeJSON(w, http.StatusRequestEntityTooLarge, backend.ErrorBody{Error: "request body too large", Kind: "usage"})
				return
			}
			writeJSON(w, http.StatusRequestTimeout, backend.ErrorBody{Error: "request body not received in time", Kind: "usage"})
			return
		}
		_ = rc.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
