// Package pagerduty collects the incidents of the configured PagerDuty
// services through the REST API v2 (go-pagerduty v1.8.0 over the shared
// HTTP client, which retries 5xx and 429 honouring PagerDuty's
// ratelimit-reset header). The built-in series pagerduty.incidents/<service>,
// pagerduty.pages_to_me, pagerduty.mttr/<service> and pagerduty.mtta/<service>
// are computed from the stored incidents by others; this package only
// fetches them.
//
// # Listing
//
// One query covers all services:
//
//	GET /incidents?service_ids[]=…&since=…&until=…&sort_by=created_at:asc&limit=100&offset=N&time_zone=UTC
//
// PagerDuty caps a since/until range at 6 months and classic pagination at
// offset+limit ≤ 10,000. The range to read is cut into windows of
// Options.Window (default and maximum MaxWindow, 180 days), oldest first.
// Within a window, pages come oldest incident first; when the next page
// would cross the offset cap, the window goes on from the created_at of the
// last incident read (offset 0 again, skipping the incidents at that very
// second already stored), so a window holds any number of incidents and no
// request is wasted. Should the API ever return a window out of order, that
// window is split in halves instead (recursively), re-reading it; nothing is
// ever dropped: a window that cannot be split further is an error.
//
// # Details
//
// PagerDuty empties an incident's `assignments` and `acknowledgements` once
// it is resolved. The first acknowledgement (MTTA) and the assignees ("pages
// to me") of resolved incidents come from the Analytics API in bulk
// (POST /analytics/raw/incidents, 1,000 incidents a page, asc by
// created_at, cursor `starting_after` = the answer's `last`; not wrapped
// by go-pagerduty, so sent on the same client with the token,
// `X-EARLY-ACCESS: analytics-v2` and JSON): one pass over each listing
// window, read page by page as the listing reaches the incidents, and
// acknowledged_at = created_at + seconds_to_first_ack, assignees =
// assigned_user_ids ∪ acknowledged_user_ids. Analytics trails real time by
// minutes to hours: a resolved incident it lacks that resolved less than
// PendingMax ago is stored as listed (resolved, without acknowledgement
// and assignees) and kept in the cursor's `pending` list; the next polls
// look those up again (one analytics stream over their range, at most a
// page per incident) and store them complete, and after PendingMax read
// their log entries instead. Log entries (GET /incidents/{id}/log_entries,
// once per incident, Options.Concurrency at once) are also the path for
// every resolved incident when the analytics endpoint answers 401, 402,
// 403 or 404 (not on the account's plan; said once at info, tried again
// after AnalyticsRetry) or refuses the request (400/422), and for the rare
// open incident listed without its acknowledgement. Open incidents take
// their details from the incident itself.
//
// # Cursor
//
// Key "incidents", JSON:
//
//	{"through": "2026-03-04T09:58:00Z", "services": ["PSEARCH1"],
//	 "open": [{"id": "Q1", "service": "PSEARCH1", "created_at": "…"}],
//	 "recent": [{"id": "Q2", "service": "PSEARCH1", "created_at": "…"}],
//	 "pending": [{"id": "Q3", "service": "PSEARCH1", "status": "resolved", …}]}
//
// through: every incident of `services` created before it is stored. It
// advances with every page (to the created_at of the page's last incident),
// in the same commit as the page, so a kill -9 loses at most the page in
// flight. At the end of a poll it stops Settle short of Run.Now: the next
// poll re-lists those minutes, in case an incident appears in the API a
// little late; `recent` lists the resolved incidents already stored from
// that stretch, so they are not read again. open: incidents not resolved
// yet, re-read on every poll until they resolve (one GET each when there
// are at most two, else one list of the open incidents since the oldest,
// plus a GET for each that left it). A service added to the config is read
// from Run.Since up to `through` on its own first (`catchup` records the
// progress); a service removed is forgotten. pending: resolved incidents
// stored without the analytics data they wait for (whole, so they can be
// stored again complete without another read); see Details. A backfill
// reads from Run.Since (or `through`, when older) to Run.Now.
package pagerduty

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name, used for Batch.Source, cursors and errors.
const Name = "pagerduty"

// CursorKey is the key of the collector's one cursor.
const CursorKey = "incidents"

// DefaultAPIURL is PagerDuty's US service region (the EU one is
// https://api.eu.pagerduty.com).
const DefaultAPIURL = "https://api.pagerduty.com"

const (
	// MaxWindow is the longest since/until range of one listing: PagerDuty
	// accepts at most 6 months, and 180 days is less than any 6 months.
	MaxWindow = 180 * 24 * time.Hour
	// DefaultWindow is used when Options.Window is zero. Longer windows mean
	// fewer part-filled pages; the offset cap is handled within a window.
	DefaultWindow = MaxWindow
	// MinWindow is the shortest accepted Options.Window.
	MinWindow = time.Hour
	// DefaultSince is how far back a first collection reaches when Run.Since
	// is zero.
	DefaultSince = 90 * 24 * time.Hour
	// PageLimit is the page size: PagerDuty's maximum.
	PageLimit = 100
	// MaxOffset is PagerDuty's cap on offset+limit.
	MaxOffset = 10_000
	// DefaultConcurrency is the default number of log-entry reads in flight.
	DefaultConcurrency = 4
	// Settle is how far behind Run.Now a poll's cursor stops: the next poll
	// lists those minutes again.
	Settle = 2 * time.Minute
)

// Options tune the collector.
type Options struct {
	// HTTPClient carries every request. Default:
	// collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: "pagerduty"}).
	HTTPClient *http.Client
	// Logger is used when Run.Logger is nil; default: discarded.
	Logger *slog.Logger
	// Window is the since/until range of one listing, between MinWindow and
	// MaxWindow; default DefaultWindow.
	Window time.Duration
	// Concurrency bounds the log-entry (and open incident) reads in flight;
	// default DefaultConcurrency. The shared client still paces them by the
	// rate-limit budget.
	Concurrency int
}

// Ref names a stored incident in the cursor.
type Ref struct {
	ID        string    `json:"id"`
	Service   string    `json:"service"`
	CreatedAt time.Time `json:"created_at"`
}

// Catchup is the progress of reading a newly configured service's history.
type Catchup struct {
	Services []string `json:"services"`
	// Through: the services' incidents created before it are stored.
	Through time.Time `json:"through"`
}

// Cursor is what the collector stores under CursorKey; see the package
// comment.
type Cursor struct {
	Through  time.Time `json:"through"`
	Services []string  `json:"services,omitempty"`
	Open     []Ref     `json:"open"`
	Recent   []Ref     `json:"recent,omitempty"`
	Catchup  *Catchup  `json:"catchup,omitempty"`
	// Pending are resolved incidents stored without the acknowledgement
	// and assignees the analytics data did not have yet.
	Pending []model.Incident `json:"pending,omitempty"`
}

// Error is a failed PagerDuty call, on one line: "pagerduty: list
// incidents: 401 Unauthorized: Unauthenticated".
type Error struct {
	Op         string // "list incidents", "get incident Q1", "list log entries of Q1"
	StatusCode int    // the HTTP status, 0 when none (network, malformed body)
	Msg        string
	Err        error
}

func (e *Error) Error() string { return Name + ": " + e.Op + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Collector collects incidents. It implements collectors.Collector.
type Collector struct {
	client   *pd.Client
	services []string
	window   time.Duration
	conc     int
	log      *slog.Logger

	// for the analytics endpoint, which go-pagerduty does not wrap
	api, token string
	hc         *http.Client
	// anOffUntil: the analytics endpoint is not used before this time
	// (UnixNano; 0: use it).
	anOffUntil atomic.Int64
}

var _ collectors.Collector = (*Collector)(nil)

// New checks the source config and returns its collector.
func New(src Config, opt Options) (*Collector, error) {
	token := strings.TrimSpace(src.Token.Value())
	if token == "" {
		return nil, errors.New("pagerduty: token is not set")
	}
	api := strings.TrimSpace(src.APIURL)
	if api == "" {
		api = DefaultAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty: api_url %q is not an http(s) URL", src.APIURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("pagerduty: api_url %q must not carry credentials, a query or a fragment (put the token in token:)", u.Redacted())
	}
	// go-pagerduty appends "/incidents": a trailing slash would make "//incidents".
	api = strings.TrimRight(u.String(), "/")

	c := &Collector{window: opt.Window, conc: opt.Concurrency, log: opt.Logger}
	seen := map[string]bool{}
	for _, s := range src.Services {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errors.New("pagerduty: a service id is empty")
		}
		if !seen[s] {
			seen[s] = true
			c.services = append(c.services, s)
		}
	}
	if len(c.services) == 0 {
		return nil, errors.New("pagerduty: no services configured")
	}
	slices.Sort(c.services)
	if c.window == 0 {
		c.window = DefaultWindow
	}
	if c.window < MinWindow || c.window > MaxWindow {
		return nil, fmt.Errorf("pagerduty: window %v must be between %v and %v (PagerDuty lists at most 6 months at once)", opt.Window, MinWindow, MaxWindow)
	}
	if c.conc <= 0 {
		c.conc = DefaultConcurrency
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := opt.HTTPClient
	if hc == nil {
		hc = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit})
	}
	c.api, c.token, c.hc = api, token, hc
	c.client = pd.NewClient(token, pd.WithAPIEndpoint(api))
	c.client.HTTPClient = capturing{hc}
	return c, nil
}

// Name is "pagerduty".
func (c *Collector) Name() string { return Name }

// Services are the configured service ids, sorted.
func (c *Collector) Services() []string { return slices.Clone(c.services) }

// capturing hands go-pagerduty our client and keeps the transport error
// for the caller: go-pagerduty formats it with %v, so errors.As could not
// find the *collectors.HTTPError (status, attempts) in what it returns.
type capturing struct{ hc *http.Client }

type captureKey struct{}

func (c capturing) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		if p, ok := req.Context().Value(captureKey{}).(*error); ok {
			*p = err
		}
	}
	return resp, err
}

// call runs one API call and turns its failure into an *Error.
func (c *Collector) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	var transportErr error
	err := f(context.WithValue(ctx, captureKey{}, &transportErr))
	if err == nil {
		return nil
	}
	return describe(ctx, op, err, transportErr)
}

// describe builds the one-line error of a failed call.
func describe(ctx context.Context, op string, err, transportErr error) *Error {
	if ctx.Err() != nil {
		return &Error{Op: op, Msg: ctx.Err().Error(), Err: ctx.Err()}
	}
	var ae pd.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("%d %s", ae.StatusCode, http.StatusText(ae.StatusCode))
		if ae.APIError.Valid {
			eo := ae.APIError.ErrorObject
			if m := oneLine(eo.Message); m != "" && !strings.EqualFold(m, http.StatusText(ae.StatusCode)) {
				msg += ": " + m
			}
			if len(eo.Errors) > 0 {
				msg += ": " + oneLine(strings.Join(eo.Errors, "; "))
			}
		}
		return &Error{Op: op, StatusCode: ae.StatusCode, Msg: msg, Err: err}
	}
	if transportErr != nil {
		var he *collectors.HTTPError
		if errors.As(transportErr, &he) {
			return &Error{Op: op, StatusCode: he.StatusCode, Msg: he.Detail(), Err: transportErr}
		}
		inner := transportErr
		var ue *url.Error
		if errors.As(transportErr, &ue) {
			inner = ue.Err
		}
		return &Error{Op: op, Msg: oneLine(inner.Error()), Err: transportErr}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Op: op, Msg: "malformed response: " + oneLine(err.Error()), Err: err}
	}
	return &Error{Op: op, Msg: oneLine(err.Error()), Err: err}
}

// oneLine folds whitespace and bounds the length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}

// Collect lists the configured services' incidents from the cursor (or
// Run.Since) to Run.Now and re-reads the open ones.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	if run.Sink == nil {
		return errors.New("pagerduty: no sink")
	}
	run = run.WithDefaults(c.log)
	log, progress := run.Logger, run.Progress
	now := run.Now.Truncate(time.Second)
	since := run.Since
	if since.IsZero() {
		since = now.Add(-DefaultSince)
	}
	since = since.UTC().Truncate(time.Second)

	j := &job{c: c, sink: run.Sink, log: log, prog: &collectors.PageProgress{Source: Name, Progress: progress}, now: now,
		open: map[string]Ref{}, recent: map[string]Ref{}, done: map[string]Ref{}, tail: map[string]Ref{}, backfill: run.Backfill,
		pending: map[string]model.Incident{}}
	defer j.prog.Finish()

	raw, err := run.Sink.Cursor(ctx, Name, CursorKey)
	if err != nil {
		return fmt.Errorf("pagerduty: read cursor: %w", err)
	}
	var cur Cursor
	have := raw != nil
	if have {
		if err := json.Unmarshal(raw, &cur); err != nil || cur.Through.IsZero() {
			log.Warn("pagerduty: unreadable cursor, reading again from since", "since", since)
			have = false
			cur = Cursor{}
		}
	}
	configured := map[string]bool{}
	for _, s := range c.services {
		configured[s] = true
	}
	for _, r := range cur.Open {
		if configured[r.Service] {
			j.open[r.ID] = r
		}
	}
	for _, r := range cur.Recent {
		if configured[r.Service] {
			j.recent[r.ID] = r
		}
	}
	var pending []model.Incident
	for _, m := range cur.Pending {
		if configured[m.Service] && m.ID != "" {
			j.pending[m.ID] = m
			pending = append(pending, m)
		}
	}

	var catchup *segment
	var mainFrom time.Time
	switch {
	case !have:
		j.through, j.services = since, c.services
		mainFrom = since
	case run.Backfill:
		mainFrom = since
		if cur.Through.Before(since) {
			mainFrom = cur.Through // never leave a gap
		}
		j.through, j.services = mainFrom, c.services
	default:
		j.through = cur.Through.UTC()
		mainFrom = j.through
		covered := cur.Services
		if len(covered) == 0 {
			covered = c.services
		}
		var pending []string
		for _, s := range c.services {
			if slices.Contains(covered, s) {
				j.services = append(j.services, s)
			} else {
				pending = append(pending, s)
			}
		}
		if len(pending) > 0 {
			from := since
			if cur.Catchup != nil && slices.Equal(cur.Catchup.Services, pending) && !cur.Catchup.Through.IsZero() {
				from = cur.Catchup.Through.UTC()
			}
			j.catchup = &Catchup{Services: pending, Through: from}
			catchup = &segment{kind: segCatchup, services: pending, from: from, to: j.through}
		}
	}

	// 0. Resolved incidents the analytics data lacked last time.
	if err := j.complete(ctx, pending); err != nil {
		return err
	}
	// 1. Open incidents listed before this poll's range: re-read them.
	if err := j.reread(ctx, mainFrom); err != nil {
		return err
	}
	// 2. Newly configured services, up to the main cursor.
	if catchup != nil {
		if err := j.walk(ctx, catchup); err != nil {
			return err
		}
		j.services = slices.Clone(c.services)
		j.catchup = nil
	}
	// 3. Everything created since the cursor.
	main := &segment{kind: segMain, services: c.services, from: mainFrom, to: now, limit: now.Add(-Settle)}
	if err := j.walk(ctx, main); err != nil {
		return err
	}
	log.Info("pagerduty: collected", "incidents", j.stored, "analytics_pages", j.anPages.Load(), "log_entry_reads", j.logReads.Load(),
		"open", len(j.open), "pending", len(j.pending), "through", j.through)
	return nil
}

// --- one run ----------------------------------------------------------------

type segKind int

const (
	segMain segKind = iota
	segCatchup
	segReread
)

// segment is a range of created_at to list for some services.
type segment struct {
	kind     segKind
	services []string
	from, to time.Time
	// limit caps the main cursor (Run.Now - Settle); zero: none.
	limit time.Time
}

// job is the state of one Collect.
type job struct {
	c        *Collector
	sink     collectors.Sink
	log      *slog.Logger
	prog     *collectors.PageProgress
	now      time.Time
	backfill bool

	// cursor state
	through  time.Time
	services []string
	catchup  *Catchup
	open     map[string]Ref
	recent   map[string]Ref // resolved, stored, created at/after through (previous polls)

	// done: resolved incidents stored by this run; tail: those of them
	// created in the last Settle before now, which the next poll lists
	// again (the cursor's `recent`).
	done, tail map[string]Ref
	// pending: resolved incidents stored without the analytics data (the
	// cursor's `pending`).
	pending map[string]model.Incident

	stored   int
	logReads atomic.Int64
	anPages  atomic.Int64
}

func (j *job) cursor() []byte {
	cur := Cursor{Through: j.through.UTC(), Services: j.services, Open: []Ref{}, Catchup: j.catchup}
	for _, r := range j.open {
		cur.Open = append(cur.Open, r)
	}
	byCreated := func(a, b Ref) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) }
	slices.SortFunc(cur.Open, byCreated)
	rec := map[string]Ref{}
	for id, r := range j.recent {
		if !r.CreatedAt.Before(j.through) {
			rec[id] = r
		}
	}
	for id, r := range j.tail {
		if !r.CreatedAt.Before(j.through) {
			rec[id] = r
		}
	}
	cur.Recent = slices.SortedFunc(maps.Values(rec), byCreated)
	cur.Pending = slices.SortedFunc(maps.Values(j.pending), func(a, b model.Incident) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	b, err := json.Marshal(cur)
	if err != nil {
		panic(err) // strings and times only
	}
	return b
}

// advance moves the cursor of seg's kind to t (never backwards).
func (j *job) advance(seg *segment, t time.Time) {
	switch seg.kind {
	case segMain:
		if !seg.limit.IsZero() && t.After(seg.limit) {
			t = seg.limit // a poll's last minutes are listed again next time
		}
		if t.After(j.through) {
			j.through = t
		}
	case segCatchup:
		if j.catchup != nil && t.After(j.catchup.Through) {
			j.catchup.Through = t
		}
	}
}

// window is a [from, to) range of created_at.
type window struct{ from, to time.Time }

func split(from, to time.Time, size time.Duration) []window {
	var out []window
	for t := from; t.Before(to); t = t.Add(size) {
		end := t.Add(size)
		if end.After(to) {
			end = to
		}
		out = append(out, window{t, end})
	}
	return out
}

const timeLayout = "2006-01-02T15:04:05Z"

// walk lists seg's range window by window, oldest first.
func (j *job) walk(ctx context.Context, seg *segment) error {
	queue := split(seg.from, seg.to, j.c.window)
	if len(queue) == 0 {
		// Nothing to list; still record the position (and the open set).
		j.advance(seg, seg.to)
		return j.commit(ctx, nil)
	}
	j.prog.Announce(int64(len(queue)))
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		halves, err := j.window(ctx, seg, w)
		if err != nil {
			return err
		}
		if len(halves) > 0 {
			j.prog.Announce(int64(len(halves)))
			queue = append(halves, queue...)
		}
	}
	return nil
}

// window lists one window. It returns two halves to list instead when the
// API answered out of order and the window is too full for the offset cap.
func (j *job) window(ctx context.Context, seg *segment, w window) ([]window, error) {
	sub := w.from // since of the current listing; moves past the offset cap
	offset := 0
	first := true
	sorted := true
	var last time.Time          // newest created_at read in this window
	atLast := map[string]bool{} // ids read with created_at == last
	read := map[string]bool{}   // ids read in this window: a page of nothing new that says "more" loops
	prev := w.from              // created_at of the previous incident, for the order check
	an := j.stream(seg.services, w.from, w.to, -1)
	for {
		opts := pd.ListIncidentsOptions{
			Limit:      PageLimit,
			Offset:     uint(offset),
			Total:      first,
			Since:      sub.UTC().Format(timeLayout),
			Until:      w.to.UTC().Format(timeLayout),
			ServiceIDs: seg.services,
			TimeZone:   "UTC",
			SortBy:     "created_at:asc",
		}
		var resp *pd.ListIncidentsResponse
		err := j.c.call(ctx, "list incidents", func(ctx context.Context) (err error) {
			resp, err = j.c.client.ListIncidentsWithContext(ctx, opts)
			return err
		})
		j.prog.Done(1)
		if err != nil {
			return nil, err
		}
		if resp.Incidents == nil {
			// PagerDuty always sends "incidents" (empty when there are
			// none): a 200 without it must not pass for an empty page,
			// which would move the cursor past every incident not read.
			return nil, &Error{Op: "list incidents", Msg: "malformed response: 200 OK without incidents"}
		}
		if first && resp.Total > 0 {
			j.prog.Announce(int64(pages(int(resp.Total)) - 1))
		}
		first = false
		if resp.More && len(resp.Incidents) == 0 {
			return nil, &Error{Op: "list incidents", Msg: fmt.Sprintf("malformed response: an empty page at offset %d says there are more", offset)}
		}
		var page []pd.Incident
		fresh := 0
		for _, in := range resp.Incidents {
			created, err := parseTime(in.CreatedAt)
			if err != nil || in.ID == "" {
				return nil, &Error{Op: "list incidents", Msg: fmt.Sprintf("malformed response: incident %q: created_at %q", in.ID, in.CreatedAt), Err: err}
			}
			if collectors.Future(created, j.now) {
				// Listed for a window that ends by now: the answer is wrong,
				// and what else it says cannot be trusted to move the cursor.
				return nil, &Error{Op: "list incidents", Msg: fmt.Sprintf("malformed response: incident %s created in the future (%s)", in.ID, in.CreatedAt)}
			}
			if !read[in.ID] {
				read[in.ID] = true
				fresh++
			}
			if created.Before(prev) {
				sorted = false
			}
			prev = created
			if created.Before(w.from) || !created.Before(w.to) {
				continue // outside the window: another window has it
			}
			if atLast[in.ID] {
				continue // read before the listing moved past the offset cap
			}
			switch {
			case created.After(last):
				last = created
				clear(atLast)
				atLast[in.ID] = true
			case created.Equal(last):
				atLast[in.ID] = true
			}
			page = append(page, in)
		}
		if resp.More && fresh == 0 && offset > 0 {
			return nil, &Error{Op: "list incidents", Msg: fmt.Sprintf("pagination loops: the page at offset %d holds only incidents already read, and says there are more", offset)}
		}
		switch {
		case !resp.More:
			j.advance(seg, w.to)
		case sorted && !last.IsZero():
			j.advance(seg, last)
		}
		if err := j.process(ctx, seg, page, an); err != nil {
			return nil, err
		}
		if !resp.More {
			return nil, nil
		}
		next := int(resp.Offset + resp.Limit)
		if resp.Limit == 0 || next <= offset {
			next = offset + len(resp.Incidents)
		}
		if next+PageLimit <= MaxOffset {
			offset = next
			continue
		}
		// The next page would cross the offset cap.
		switch {
		case sorted && last.After(sub):
			j.log.Debug("pagerduty: offset cap reached, listing on from the last incident read", "since", last)
			sub, offset, prev = last, 0, last
		case !sorted && w.to.Sub(w.from) > time.Second:
			mid := w.from.Add(w.to.Sub(w.from) / 2).Truncate(time.Second)
			if !mid.After(w.from) {
				mid = w.from.Add(time.Second)
			}
			j.log.Warn("pagerduty: incidents listed out of order and more than the offset cap allows; splitting the window",
				"from", w.from, "to", w.to)
			return []window{{w.from, mid}, {mid, w.to}}, nil
		default:
			return nil, &Error{Op: "list incidents", Msg: fmt.Sprintf("more than %d incidents created at %s; PagerDuty cannot list them all", MaxOffset, sub.Format(time.RFC3339))}
		}
	}
}

func pages(n int) int { return max(1, (n+PageLimit-1)/PageLimit) }

// process converts a page of incidents, completes the resolved ones from
// their analytics (an; nil: none), reads the log entries of those it lacks
// (unless they resolved less than PendingMax ago: those are stored as they
// are and looked up again on the next poll), and commits the page with the
// cursor.
func (j *job) process(ctx context.Context, seg *segment, page []pd.Incident, an *anStream) error {
	type item struct {
		m       model.Incident
		need    bool
		pending bool
	}
	items := make([]item, 0, len(page))
	for _, in := range page {
		if _, ok := j.done[in.ID]; ok {
			continue // stored by this run already
		}
		if _, ok := j.recent[in.ID]; ok && !j.backfill && in.Status == "resolved" {
			continue // resolved and stored by the previous poll
		}
		m, need, err := convert(in)
		if err != nil {
			return &Error{Op: "list incidents", Msg: "malformed response: " + err.Error(), Err: err}
		}
		items = append(items, item{m: m, need: need})
	}
	var need []int
	for i, it := range items {
		if !it.need {
			continue
		}
		if it.m.Status == "resolved" {
			rec, res, err := an.find(ctx, it.m.ID, it.m.CreatedAt)
			if err != nil {
				return err
			}
			if res == anFound && rec.usable() {
				items[i].m = rec.apply(it.m)
				continue
			}
			if res != anUnavailable && j.recentlyResolved(it.m) {
				items[i].pending = true
				continue
			}
		}
		need = append(need, i)
	}
	if len(need) > 0 {
		j.prog.Announce(int64(len(need)))
		dets := make([]detail, len(need))
		err := j.parallel(ctx, len(need), func(ctx context.Context, k int) error {
			d, err := j.details(ctx, items[need[k]].m.ID)
			dets[k] = d
			return err
		})
		if err != nil {
			return err
		}
		for k, i := range need {
			items[i].m = dets[k].apply(items[i].m)
		}
	}
	incs := make([]model.Incident, 0, len(items))
	for _, it := range items {
		incs = append(incs, it.m)
		j.settled(it.m, it.pending)
	}
	return j.commit(ctx, incs)
}

// recentlyResolved reports whether m resolved less than PendingMax ago, so
// the analytics data may not have it yet.
func (j *job) recentlyResolved(m model.Incident) bool {
	return !m.ResolvedAt.IsZero() && j.now.Sub(m.ResolvedAt) < PendingMax
}

// settled records in the cursor state that m is being stored; pending:
// resolved, still waiting for its analytics.
func (j *job) settled(m model.Incident, pending bool) {
	ref := Ref{ID: m.ID, Service: m.Service, CreatedAt: m.CreatedAt}
	if pending {
		j.pending[m.ID] = m
	} else {
		delete(j.pending, m.ID)
	}
	if m.Status == "resolved" {
		delete(j.open, m.ID)
		j.done[m.ID] = ref
		if !m.CreatedAt.Before(j.now.Add(-Settle)) {
			j.tail[m.ID] = ref
		}
	} else {
		j.open[m.ID] = ref
	}
}

func (j *job) commit(ctx context.Context, incs []model.Incident) error {
	b := model.Batch{Source: Name, Incidents: incs, Cursors: map[string][]byte{CursorKey: j.cursor()}}
	if err := j.sink.Commit(ctx, b); err != nil {
		return fmt.Errorf("pagerduty: store incidents: %w", err)
	}
	j.stored += len(incs)
	return nil
}

// parallel runs f(0..n-1) with at most Concurrency in flight; the first
// error cancels the rest and is returned.
func (j *job) parallel(ctx context.Context, n int, f func(ctx context.Context, k int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, j.c.conc)
	for k := 0; k < n; k++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := f(ctx, k)
			j.prog.Done(1)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	return nil
}
