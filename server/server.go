// Package server is the daemon's local HTTP API: JSON endpoints for what the
// CLI does (see internal/backend's wire.go for the routes), /metrics for
// Prometheus, and /healthz and /readyz for supervisors.
//
// The API is for this machine's user only. It listens on a unix socket
// (mode 0600) by default; any TCP address, loopback included, needs a
// bearer token, and /v1/hello lets the CLI check that the daemon holds its
// store before it sends that token. Requests that look like they come from a web page (an
// Origin header, or a Host that is not the loopback address the daemon
// listens on) are refused, so a page in the user's browser cannot drive
// the API (CSRF, DNS rebinding).
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/daemonauth"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/period"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
)

// Options configure the handler.
type Options struct {
	// Backend answers the API (the daemon's backend.Local).
	Backend backend.Backend
	// Info is what /v1/info answers.
	Info func() backend.Info
	// Token, when non-empty, is required as "Authorization: Bearer <token>"
	// on everything but /healthz and /readyz. It is read on each request,
	// so a reloaded config takes effect at once.
	Token func() string
	// CheckHost refuses requests whose Host is not a loopback name or
	// address (TCP on loopback; not for unix sockets or public addresses).
	CheckHost bool
	// Gatherer serves /metrics; nil answers 404.
	Gatherer prometheus.Gatherer
	// Registerer receives the API's own request metrics; may be nil.
	Registerer prometheus.Registerer
	// Ready reports whether the daemon is ready (/readyz); nil is always ready.
	Ready func() error
	// Logger logs requests at debug level and failures at warn.
	Logger *slog.Logger
	// Now is the clock of the export document; default time.Now.
	Now func() time.Time
	// UILogin, when set, mints a one-time login link to the review page
	// (POST /v1/ui/login, for `impact review`); nil answers 404.
	UILogin func() (string, error)
	// Location is the user's time zone (me.timezone): a review period
	// (/v1/export?period=2026-H2) starts and ends at its midnights.
	// nil is UTC.
	Location func() *time.Location
	// StoreSecret is the store's secret (daemonauth.Ensure): GET /v1/hello
	// answers a client's challenge with it, so the CLI can tell this
	// daemon holds its store before it sends a token. nil answers 404.
	StoreSecret []byte
	// Recipients returns digest.to: POST /v1/digest/send refuses (403) a
	// "to" address that is not among them. nil refuses every "to".
	Recipients func() []string
}

type handler struct {
	o        Options
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns the HTTP handler of the local API.
func New(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &handler{o: o}
	if o.Registerer != nil {
		h.requests, h.duration = newAPIMetrics(o.Registerer)
	}
	mux := http.NewServeMux()
	api := func(pattern, name string, fn func(w http.ResponseWriter, r *http.Request) error) {
		var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				h.fail(w, r, err)
			}
		})
		hh = h.instrument(name, hh)
		mux.Handle(pattern, h.auth(hh))
	}
	api("GET "+backend.PathInfo, "info", h.info)
	api("GET "+backend.PathDrafts, "drafts_list", h.list)
	api("GET "+backend.PathDrafts+"/{id}", "drafts_show", h.show)
	api("POST "+backend.PathDrafts+"/{id}/accept", "drafts_accept", h.decide(model.StatusAccepted))
	api("POST "+backend.PathDrafts+"/{id}/reject", "drafts_reject", h.decide(model.StatusRejected))
	api("POST "+backend.PathDrafts+"/{id}/text", "drafts_edit", h.edit)
	api("POST "+backend.PathDrafts+"/{id}/undo", "drafts_undo", h.undo)
	api("POST "+backend.PathWins, "wins_add", h.addWin)
	api("POST "+backend.PathWins+"/{id}", "wins_edit", h.updateWin)
	api("DELETE "+backend.PathWins+"/{id}", "wins_rm", h.deleteWin)
	api("GET "+backend.PathExport, "export", h.export)
	api("GET "+backend.PathStatus, "status", h.status)
	api("POST "+backend.PathCollect, "collect", h.collect)
	api("POST "+backend.PathDraft, "draft", h.draft)
	api("GET "+backend.PathExplain, "explain", h.explain)
	api("GET "+backend.PathDigestPreview, "digest_preview", h.digestPreview)
	api("POST "+backend.PathDigestSend, "digest_send", h.digestSend)
	api("POST "+backend.PathUILogin, "ui_login", h.uiLogin)
	// No token: the client checks the daemon before it sends one.
	mux.Handle("GET "+backend.PathHello, h.instrument("hello", http.HandlerFunc(h.hello)))
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", h.auth(h.instrument("metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{
			ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
			ErrorHandling:     promhttp.ContinueOnError,
			Timeout:           10 * time.Second,
			EnableOpenMetrics: true,
		}))))
	}
	mux.Handle("GET /healthz", h.instrument("healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", h.instrument("readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if o.Ready != nil {
			if err := o.Ready(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "not ready: %v\n", err)
				return
			}
		}
		io.WriteString(w, "ready\n")
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, backend.ErrorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path, Kind: "not_found"})
	})
	return h.guard(mux)
}

// guard refuses browser-originated requests and foreign Host headers.
func (h *handler) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			writeJSON(w, http.StatusForbidden, backend.ErrorBody{Error: "cross-origin requests are not allowed", Kind: "forbidden"})
			return
		}
		if h.o.CheckHost && !loopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, backend.ErrorBody{Error: "the API answers only requests addressed to a loopback host", Kind: "forbidden"})
			return
		}
		if r.Method == http.MethodPost && r.ContentLength != 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeJSON(w, http.StatusUnsupportedMediaType, backend.ErrorBody{Error: "POST bodies must be application/json", Kind: "usage"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// auth checks the bearer token when one is configured.
func (h *handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.o.Token != nil {
			if want := h.o.Token(); want != "" {
				got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
					w.Header().Set("WWW-Authenticate", `Bearer realm="impact"`)
					writeJSON(w, http.StatusUnauthorized, backend.ErrorBody{Error: "missing or wrong bearer token (server.token)", Kind: "unauthorized"})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// instrument counts requests by handler and code, and times them.
func (h *handler) instrument(name string, next http.Handler) http.Handler {
	if h.requests == nil {
		return next
	}
	return promhttp.InstrumentHandlerCounter(h.requests.MustCurryWith(prometheus.Labels{"handler": name}),
		promhttp.InstrumentHandlerDuration(h.duration.MustCurryWith(prometheus.Labels{"handler": name}), next))
}

// newAPIMetrics registers the API's request metrics with r (or finds them
// there when a handler already registered them).
func newAPIMetrics(r prometheus.Registerer) (*prometheus.CounterVec, *prometheus.HistogramVec) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "impact_api_requests_total",
		Help: "Requests to the daemon's local API, by handler and HTTP status code.",
	}, []string{"handler", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "impact_api_request_duration_seconds",
		Help:    "Time to answer a request to the daemon's local API, by handler.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
	}, []string{"handler"})
	if err := r.Register(requests); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			requests = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	if err := r.Register(duration); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			duration = are.ExistingCollector.(*prometheus.HistogramVec)
		}
	}
	return requests, duration
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	kind, status := backend.ErrorKind(err)
	if status >= 500 {
		h.o.Logger.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, backend.ErrorBody{Error: err.Error(), Kind: kind})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return backend.Usage(fmt.Errorf("bad request body: %w", err))
	}
	return nil
}

func (h *handler) info(w http.ResponseWriter, r *http.Request) error {
	var info backend.Info
	if h.o.Info != nil {
		info = h.o.Info()
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	f, err := backend.DecodeFilter(r.URL.Query())
	if err != nil {
		return err
	}
	// Streamed: the store is read a chunk at a time and nothing holds the
	// whole list. An error before the first draft is answered as usual;
	// one after it cuts the array short, which the client reports.
	var out *render.ArrayWriter
	err = h.o.Backend.EachDraftJSON(r.Context(), f, func(raw []byte) error {
		if out == nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			out = render.NewArrayWriter(w)
		}
		return out.Add(raw)
	})
	if err != nil {
		if out != nil {
			h.o.Logger.Warn("listing drafts: stopped mid-answer", "err", err)
			return nil
		}
		return err
	}
	if out == nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		out = render.NewArrayWriter(w)
	}
	return out.Close()
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	d, err := h.o.Backend.Draft(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) decide(status model.Status) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req backend.DecideRequest
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		if req.At.IsZero() {
			req.At = h.o.Now().UTC()
		}
		// Once started, a decision is not abandoned because the client left.
		d, err := h.o.Backend.Decide(context.WithoutCancel(r.Context()), r.PathValue("id"), status, req.Text, req.Reason, req.At)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, decided{Draft: d, Replaces: replaces(d)})
		return nil
	}
}

// decided is the answer to accept and reject: the draft, and the decision
// the new one replaced (absent when the draft was pending), so a client
// sees "was rejected: not mine" without reading the history.
type decided struct {
	model.Draft
	Replaces *model.Decision `json:"replaces,omitempty"`
}

func replaces(d model.Draft) *model.Decision {
	prev, ok := d.Previous()
	if !ok || prev.Status == model.StatusPending {
		return nil
	}
	return &prev
}

func (h *handler) undo(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return err
	}
	d, err := h.o.Backend.Undo(context.WithoutCancel(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) edit(w http.ResponseWriter, r *http.Request) error {
	var req backend.EditRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	d, err := h.o.Backend.EditText(context.WithoutCancel(r.Context()), r.PathValue("id"), req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) addWin(w http.ResponseWriter, r *http.Request) error {
	var req store.Win
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	d, err := h.o.Backend.AddWin(context.WithoutCancel(r.Context()), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) updateWin(w http.ResponseWriter, r *http.Request) error {
	var req store.Win
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	d, err := h.o.Backend.UpdateWin(context.WithoutCancel(r.Context()), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) deleteWin(w http.ResponseWriter, r *http.Request) error {
	d, err := h.o.Backend.DeleteWin(context.WithoutCancel(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// ExportDocument is /v1/export's answer; `impact export -f json` prints the
// same document.
type ExportDocument = render.ExportDocument

// export answers what `impact export -f json` prints: status (default
// accepted), since/until or period, and level.
func (h *handler) export(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("status") == "" {
		q.Set("status", string(model.StatusAccepted))
	}
	per, level := q.Get("period"), q.Get("level")
	if level != "" && !slices.Contains(render.Levels, level) {
		return backend.Usage(fmt.Errorf("level %q: want mid, senior or staff", level))
	}
	var p *model.Period
	if per != "" {
		if q.Get("since") != "" || q.Get("until") != "" {
			return backend.Usage(errors.New("period and since/until select the same thing; give one or the other"))
		}
		var loc *time.Location
		if h.o.Location != nil {
			loc = h.o.Location()
		}
		pp, err := period.Parse(per, loc)
		if err != nil {
			return backend.Usage(err)
		}
		p = &pp
		q.Del("period")
		q.Set("since", pp.Start.Format(time.RFC3339))
		q.Set("until", pp.End.Format(time.RFC3339))
	}
	q.Del("level")
	f, err := backend.DecodeFilter(q)
	if err != nil {
		return err
	}
	doc := ExportDocument{Status: q.Get("status"), Period: p, Level: level, GeneratedAt: h.o.Now().UTC().Truncate(time.Second)}
	if !f.Since.IsZero() {
		doc.Since = &f.Since
	}
	if !f.Until.IsZero() {
		doc.Until = &f.Until
	}
	if level != "" {
		// A level reorders and picks highlights: the period's statements
		// are held at once.
		ds, err := h.o.Backend.Drafts(r.Context(), f)
		if err != nil {
			return err
		}
		doc.SetDrafts(ds)
		writeJSON(w, http.StatusOK, doc)
		return nil
	}
	// Streamed in the export's order, as `impact export -f json` writes
	// it. An error before anything was sent is answered as usual; one
	// after it cuts the document short, which a client's decoder reports.
	f.Order = store.OrderCompetency
	var decode func(raw []byte, d *model.Draft) error // nil: canonical
	if c, ok := h.o.Backend.(interface{ CanonicalDrafts() bool }); !ok || !c.CanonicalDrafts() {
		decode = func(raw []byte, d *model.Draft) error { return json.Unmarshal(raw, d) }
	}
	out := &lazyHeader{w: w}
	err = render.WriteExportJSON(out, doc, decode, func(fn func(raw []byte) error) error {
		return h.o.Backend.EachDraftJSON(r.Context(), f, fn)
	})
	if err != nil && out.sent {
		h.o.Logger.Warn("export: stopped mid-answer", "err", err)
		return nil
	}
	return err
}

// lazyHeader writes a JSON answer's header with its first byte.
type lazyHeader struct {
	w    http.ResponseWriter
	sent bool
}

func (l *lazyHeader) Write(p []byte) (int, error) {
	if !l.sent {
		l.sent = true
		l.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		l.w.Header().Set("Cache-Control", "no-store")
	}
	return l.w.Write(p)
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) error {
	s, err := h.o.Backend.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) collect(w http.ResponseWriter, r *http.Request) error {
	var req backend.CollectRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	results, err := h.o.Backend.Collect(r.Context(), req, nil)
	if results == nil && err != nil {
		if !errors.Is(err, backend.ErrUsage) && !errors.Is(err, context.Canceled) {
			err = backend.Usage(err)
		}
		return err
	}
	resp := backend.CollectResponse{Results: results}
	if resp.Results == nil {
		resp.Results = []backend.SourceResult{}
	}
	if err != nil {
		resp.Error = err.Error()
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (h *handler) draft(w http.ResponseWriter, r *http.Request) error {
	var req backend.DraftRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	s, err := h.o.Backend.RunDrafter(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) explain(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := backend.ExplainRequest{Metric: q.Get("metric")}
	if req.Metric == "" {
		return backend.Usage(errors.New("metric is required"))
	}
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return backend.Usage(fmt.Errorf("at %q: want an RFC 3339 time", v))
		}
		req.At = t
	}
	ex, err := h.o.Backend.Explain(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

func (h *handler) digestPreview(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := backend.DigestPreviewRequest{Week: q.Get("week"), Command: q.Get("command")}
	switch v := q.Get("html"); v {
	case "", "0", "false":
	case "1", "true":
		req.HTML = true
	default:
		return backend.Usage(errors.New("html " + v + ": want 1 or 0"))
	}
	p, err := h.o.Backend.DigestPreview(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (h *handler) digestSend(w http.ResponseWriter, r *http.Request) error {
	var req backend.DigestSendRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := h.checkRecipients(req.To); err != nil {
		return err
	}
	res, err := h.o.Backend.SendDigest(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *handler) uiLogin(w http.ResponseWriter, r *http.Request) error {
	if h.o.UILogin == nil {
		writeJSON(w, http.StatusNotFound, backend.ErrorBody{Error: "the daemon serves no review page (ui.listen is off, or it could not listen)", Kind: "not_found"})
		return nil
	}
	u, err := h.o.UILogin()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, backend.UILoginResponse{URL: u})
	return nil
}

// hello answers a client's challenge: the proof that this daemon can read
// the store's secret (see internal/daemonauth).
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	if h.o.StoreSecret == nil {
		writeJSON(w, http.StatusNotFound, backend.ErrorBody{Error: "this server holds no store secret", Kind: "not_found"})
		return
	}
	nonce := r.URL.Query().Get("nonce")
	if !daemonauth.ValidNonce(nonce) {
		writeJSON(w, http.StatusBadRequest, backend.ErrorBody{Error: "nonce: want 64 hex digits", Kind: "usage"})
		return
	}
	writeJSON(w, http.StatusOK, backend.HelloResponse{Proof: daemonauth.Proof(h.o.StoreSecret, nonce)})
}

// checkRecipients refuses any address of to that is not in digest.to:
// whoever can reach the API must not be able to mail the digest (or use
// the SMTP credentials) elsewhere.
func (h *handler) checkRecipients(to []string) error {
	if len(to) == 0 {
		return nil
	}
	allowed := map[string]bool{}
	if h.o.Recipients != nil {
		for _, a := range h.o.Recipients() {
			for _, addr := range mailAddrs(a) {
				allowed[addr] = true
			}
		}
	}
	for _, a := range to {
		addrs := mailAddrs(a)
		if len(addrs) == 0 {
			return backend.Usage(fmt.Errorf("digest send: %q is not an email address", a))
		}
		for _, addr := range addrs {
			if !allowed[addr] {
				return fmt.Errorf("digest send: %s is not in digest.to, and the API sends the digest to digest.to's recipients only (%w)", addr, backend.ErrForbidden)
			}
		}
	}
	return nil
}

// mailAddrs are the addresses (lower case) of a list like
// "Alice <alice@example.com>, bob@example.com"; nil when it does not parse.
func mailAddrs(s string) []string {
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}
