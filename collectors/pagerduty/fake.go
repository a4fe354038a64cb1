package pagerduty

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// PagerDuty limits the fake enforces, as PagerDuty documents them.
const (
	// FakeMaxLimit is the largest page size; a larger limit is cut to it.
	FakeMaxLimit = 100
	// FakeDefaultLimit is the page size when the request names none.
	FakeDefaultLimit = 25
	// FakeMaxOffset bounds classic pagination: offset+limit may not
	// exceed it.
	FakeMaxOffset = 10_000
	// FakeRateLimit is the requests allowed per minute (the REST API's
	// per-token limit; error_429.meta.json carries ratelimit-limit: 960).
	FakeRateLimit = 960
)

// FakeHTMLBase is where the fake's html_url links point.
const FakeHTMLBase = "https://impact-demo.pagerduty.com"

// NewFake is the fake PagerDuty, the one the collector's tests, the demo,
// the hostile-vendor table and the benchmarks serve: it serves the world's
// incidents in the shape of PagerDuty's REST API v2 (as go-pagerduty
// v1.8.0 reads it; shapes follow the documented examples in
// /work/shared/fixtures/vendor/pagerduty, testdata/SOURCES.md):
//
//	GET /incidents                       service_ids[], since, until, date_range=all, statuses[], urgencies[],
//	                                     sort_by (created_at|incident_number[:asc|desc]), limit, offset, total, time_zone, include[]
//	GET /incidents/{id}
//	GET /incidents/{id}/log_entries      limit, offset, total, time_zone, is_overview
//	POST /analytics/raw/incidents        see NewFakeWith and FakeOptions
//
// "Now" is o.Now when set, else w.End: incidents created after it do not
// exist yet, and an incident's status is resolved once its ResolvedAt has
// passed, acknowledged once its AcknowledgedAt has, else triggered. As in
// PagerDuty, `assignments` and `acknowledgements` are filled only while an
// incident is open (acknowledgements only while acknowledged): a resolved
// incident shows neither, and its first acknowledgement and assignees are
// only in its log entries (trigger, assign, notify per assignee, acknowledge
// by the first assignee, resolve; newest first). Since/until filter on
// created_at as [since, until); the range may not exceed 6 months, and
// offset+limit may not exceed 10,000: both answer 400 Invalid Input Provided
// (code 2001), as does an unknown status, sort or time zone. The default
// range is the last month, the default order incident_number ascending
// (which is creation order here).
//
// Every request needs `Authorization: Token token=<non-empty>` (or an OAuth
// `Bearer` token), else 401 {"error":{"message":"Unauthenticated","code":2006}}.
// Answers carry the lower-case ratelimit-limit, ratelimit-remaining and
// ratelimit-reset (seconds until the per-minute budget refills) headers; past
// FakeRateLimit requests a minute the answer is 429 Rate Limit Exceeded
// (code 2020), without Retry-After, as PagerDuty sends it. o.Fault answers
// with PagerDuty's error body for the status; a faulted 429 carries the
// documented headers (limit 960, remaining 0, reset 1) and no Retry-After,
// a faulted 503 carries Retry-After: 1. o.Counter counts under vendor
// "pagerduty".
func NewFake(w *world.World, o collectorstest.FakeOptions) http.Handler {
	return NewFakeWith(w, o, FakeOptions{})
}

// NewFakeWith is NewFake with the PagerDuty-only options po (see
// fake_analytics.go for POST /analytics/raw/incidents).
func NewFakeWith(w *world.World, o collectorstest.FakeOptions, po FakeOptions) http.Handler {
	p := &pdServer{w: w, o: o, po: po, lim: &pdLimiter{limit: FakeRateLimit}, byID: map[string]int{}}
	p.incs = slices.Clone(w.Incidents)
	slices.SortStableFunc(p.incs, func(a, b model.Incident) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for i, in := range p.incs {
		p.byID[in.ID] = i
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /incidents", p.list)
	mux.HandleFunc("GET /incidents/{id}", p.get)
	mux.HandleFunc("GET /incidents/{id}/log_entries", p.logEntries)
	mux.HandleFunc("POST /analytics/raw/incidents", p.analyticsRaw)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		if !p.auth(rw, r) {
			return
		}
		p.send(rw, http.StatusNotFound, pdError("Not Found", 2100))
	})
	return collectorstest.Wrap("pagerduty", mux, o, func(rw http.ResponseWriter, code int) {
		h := rw.Header()
		var body any
		switch {
		case code == http.StatusTooManyRequests:
			h["ratelimit-limit"] = []string{strconv.Itoa(FakeRateLimit)}
			h["ratelimit-remaining"] = []string{"0"}
			h["ratelimit-reset"] = []string{"1"}
			body = pdError("Rate Limit Exceeded", 2020)
		case code == http.StatusServiceUnavailable:
			h.Set("Retry-After", "1")
			body = pdError("Service Unavailable", 2000)
		case code >= 500:
			body = pdError("Internal Error", 2000)
		case code == http.StatusUnauthorized:
			body = pdError("Unauthenticated", 2006)
		case code == http.StatusForbidden:
			body = pdError("Access Denied", 2010)
		case code == http.StatusNotFound:
			body = pdError("Not Found", 2100)
		default:
			body = pdError(http.StatusText(code), 2001)
		}
		collectorstest.WriteJSON(rw, code, body)
	})
}

type pdServer struct {
	w    *world.World
	o    collectorstest.FakeOptions
	po   FakeOptions
	lim  *pdLimiter
	incs []model.Incident // sorted by CreatedAt, then ID
	byID map[string]int
}

// now is the fake's present: collectorstest.FakeOptions.Now, else the world's end.
func (p *pdServer) now() time.Time {
	if p.o.Now != nil {
		return p.o.Now()
	}
	return p.w.End
}

// pdLimiter is PagerDuty's per-minute request budget.
type pdLimiter struct {
	mu    sync.Mutex
	limit int
	used  int
	reset time.Time
}

func (l *pdLimiter) take(now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reset.IsZero() || !now.Before(l.reset) {
		l.used = 0
		l.reset = now.Add(time.Minute).Truncate(time.Second)
	}
	ok = l.used < l.limit
	if ok {
		l.used++
	}
	return l.limit, l.limit - l.used, l.reset, ok
}

// pdErrorBody is PagerDuty's error envelope.
type pdErrorBody struct {
	Error pdErrorObject `json:"error"`
}

type pdErrorObject struct {
	Message string   `json:"message"`
	Code    int      `json:"code"`
	Errors  []string `json:"errors,omitempty"`
}

func pdError(msg string, code int, errs ...string) pdErrorBody {
	return pdErrorBody{Error: pdErrorObject{Message: msg, Code: code, Errors: errs}}
}

func pdInvalid(errs ...string) pdErrorBody { return pdError("Invalid Input Provided", 2001, errs...) }

// auth checks the Authorization header and spends one request of the
// budget; it answers 401 or 429 itself and reports whether to go on.
func (p *pdServer) auth(rw http.ResponseWriter, r *http.Request) bool {
	a := strings.TrimSpace(r.Header.Get("Authorization"))
	token, ok := strings.CutPrefix(a, "Token token=")
	if !ok {
		token, ok = strings.CutPrefix(a, "Bearer ")
	}
	if !ok || strings.TrimSpace(token) == "" {
		p.send(rw, http.StatusUnauthorized, pdError("Unauthenticated", 2006))
		return false
	}
	now := p.o.Clock()
	limit, remaining, reset, ok := p.lim.take(now)
	h := rw.Header()
	h["ratelimit-limit"] = []string{strconv.Itoa(limit)}
	h["ratelimit-remaining"] = []string{strconv.Itoa(remaining)}
	h["ratelimit-reset"] = []string{strconv.Itoa(max(1, int(math.Ceil(reset.Sub(now).Seconds()))))}
	if !ok {
		p.send(rw, http.StatusTooManyRequests, pdError("Rate Limit Exceeded", 2020))
		return false
	}
	return true
}

func (p *pdServer) send(rw http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	rw.Write(body)
}

// pdPage is the classic pagination of a request.
type pdPage struct {
	limit, offset int
	total         bool
}

// page reads limit, offset and total; it answers 400 itself when they are
// invalid or exceed PagerDuty's offset cap.
func (p *pdServer) page(rw http.ResponseWriter, r *http.Request) (pdPage, bool) {
	q := r.URL.Query()
	pg := pdPage{limit: FakeDefaultLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			p.send(rw, http.StatusBadRequest, pdInvalid("Limit must be a positive integer."))
			return pg, false
		}
		pg.limit = min(n, FakeMaxLimit)
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			p.send(rw, http.StatusBadRequest, pdInvalid("Offset must be a non-negative integer."))
			return pg, false
		}
		pg.offset = n
	}
	if pg.offset+pg.limit > FakeMaxOffset {
		p.send(rw, http.StatusBadRequest, pdInvalid(fmt.Sprintf(
			"Offset+limit must be at most %d (offset %d, limit %d); narrow the since/until range.", FakeMaxOffset, pg.offset, pg.limit)))
		return pg, false
	}
	pg.total = q.Get("total") == "true"
	return pg, true
}

// zone reads time_zone (default UTC).
func (p *pdServer) zone(rw http.ResponseWriter, r *http.Request) (*time.Location, bool) {
	name := r.URL.Query().Get("time_zone")
	if name == "" || name == "UTC" || name == "Etc/UTC" {
		return time.UTC, true
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.send(rw, http.StatusBadRequest, pdInvalid("Time zone is not a valid time zone."))
		return nil, false
	}
	return loc, true
}

// pdTimeParam parses since/until: ISO 8601 with an offset, or without one
// (then in the requested zone), or a plain date.
func pdTimeParam(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// status is an incident's status at now.
func pdStatus(in model.Incident, now time.Time) string {
	switch {
	case !in.ResolvedAt.IsZero() && !in.ResolvedAt.After(now):
		return "resolved"
	case !in.AcknowledgedAt.IsZero() && !in.AcknowledgedAt.After(now):
		return "acknowledged"
	}
	return "triggered"
}

var pdStatuses = []string{"triggered", "acknowledged", "resolved"}

func (p *pdServer) list(rw http.ResponseWriter, r *http.Request) {
	if !p.auth(rw, r) {
		return
	}
	loc, ok := p.zone(rw, r)
	if !ok {
		return
	}
	pg, ok := p.page(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := p.now()

	// Range over created_at: [since, until).
	var since, until time.Time
	all := q.Get("date_range") == "all"
	if !all {
		until = now
		if s := q.Get("until"); s != "" {
			if until, ok = pdTimeParam(s, loc); !ok {
				p.send(rw, http.StatusBadRequest, pdInvalid("Until is not a valid date."))
				return
			}
		}
		since = until.AddDate(0, -1, 0)
		if s := q.Get("since"); s != "" {
			if since, ok = pdTimeParam(s, loc); !ok {
				p.send(rw, http.StatusBadRequest, pdInvalid("Since is not a valid date."))
				return
			}
		}
		if since.After(until) {
			p.send(rw, http.StatusBadRequest, pdInvalid("Since must be before until."))
			return
		}
		if since.AddDate(0, 6, 0).Before(until) {
			p.send(rw, http.StatusBadRequest, pdInvalid("The date range cannot exceed 6 months."))
			return
		}
	}
	statuses := q["statuses[]"]
	for _, s := range statuses {
		if !slices.Contains(pdStatuses, s) {
			p.send(rw, http.StatusBadRequest, pdInvalid("Statuses must be one of triggered, acknowledged, resolved."))
			return
		}
	}
	services := q["service_ids[]"]
	urgencies := q["urgencies[]"]
	desc := false
	if s := q.Get("sort_by"); s != "" {
		field, dir, _ := strings.Cut(s, ":")
		if (field != "incident_number" && field != "created_at") || (dir != "" && dir != "asc" && dir != "desc") {
			p.send(rw, http.StatusBadRequest, pdInvalid("Sort by is not a supported field."))
			return
		}
		// incident_number follows created_at here: both sort alike.
		desc = dir == "desc"
	}

	var sel []int
	for i, in := range p.incs {
		if in.CreatedAt.After(now) {
			break
		}
		if !all && (in.CreatedAt.Before(since) || !in.CreatedAt.Before(until)) {
			continue
		}
		if len(services) > 0 && !slices.Contains(services, in.Service) {
			continue
		}
		if len(statuses) > 0 && !slices.Contains(statuses, pdStatus(in, now)) {
			continue
		}
		if len(urgencies) > 0 && !slices.Contains(urgencies, cmp.Or(in.Urgency, "high")) {
			continue
		}
		sel = append(sel, i)
	}
	if desc {
		slices.Reverse(sel)
	}
	lo := min(pg.offset, len(sel))
	hi := min(lo+pg.limit, len(sel))
	out := make([]pdIncident, 0, hi-lo)
	for _, i := range sel[lo:hi] {
		out = append(out, p.incident(r, i, now, loc))
	}
	resp := pdIncidentList{Incidents: out, Limit: pg.limit, Offset: pg.offset, More: hi < len(sel)}
	if pg.total {
		n := len(sel)
		resp.Total = &n
	}
	p.send(rw, http.StatusOK, resp)
}

// find returns the index of the incident named in the path, or answers 404.
func (p *pdServer) find(rw http.ResponseWriter, r *http.Request, now time.Time) (int, bool) {
	i, ok := p.byID[r.PathValue("id")]
	if !ok || p.incs[i].CreatedAt.After(now) {
		p.send(rw, http.StatusNotFound, pdError("Not Found", 2100))
		return 0, false
	}
	return i, true
}

func (p *pdServer) get(rw http.ResponseWriter, r *http.Request) {
	if !p.auth(rw, r) {
		return
	}
	loc, ok := p.zone(rw, r)
	if !ok {
		return
	}
	now := p.now()
	i, ok := p.find(rw, r, now)
	if !ok {
		return
	}
	p.send(rw, http.StatusOK, map[string]pdIncident{"incident": p.incident(r, i, now, loc)})
}

func (p *pdServer) logEntries(rw http.ResponseWriter, r *http.Request) {
	if !p.auth(rw, r) {
		return
	}
	loc, ok := p.zone(rw, r)
	if !ok {
		return
	}
	pg, ok := p.page(rw, r)
	if !ok {
		return
	}
	now := p.now()
	i, ok := p.find(rw, r, now)
	if !ok {
		return
	}
	entries := p.entries(r, i, now, loc, r.URL.Query().Get("is_overview") == "true")
	lo := min(pg.offset, len(entries))
	hi := min(lo+pg.limit, len(entries))
	resp := pdLogEntryList{LogEntries: entries[lo:hi], Limit: pg.limit, Offset: pg.offset, More: hi < len(entries)}
	if pg.total {
		n := len(entries)
		resp.Total = &n
	}
	p.send(rw, http.StatusOK, resp)
}

// --- JSON shapes (field order as in the documented examples) ---------------

type pdRef struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

type pdAssignment struct {
	At       string `json:"at"`
	Assignee pdRef  `json:"assignee"`
}

type pdAcknowledgement struct {
	At           string `json:"at"`
	Acknowledger pdRef  `json:"acknowledger"`
}

type pdAlertCounts struct {
	All       int `json:"all"`
	Triggered int `json:"triggered"`
	Resolved  int `json:"resolved"`
}

type pdIncident struct {
	ID                   string              `json:"id"`
	Type                 string              `json:"type"`
	Summary              string              `json:"summary"`
	Self                 string              `json:"self"`
	HTMLURL              string              `json:"html_url"`
	IncidentNumber       int                 `json:"incident_number"`
	Title                string              `json:"title"`
	CreatedAt            string              `json:"created_at"`
	UpdatedAt            string              `json:"updated_at"`
	Status               string              `json:"status"`
	IncidentKey          string              `json:"incident_key"`
	Service              pdRef               `json:"service"`
	Assignments          []pdAssignment      `json:"assignments"`
	AssignedVia          string              `json:"assigned_via"`
	LastStatusChangeAt   string              `json:"last_status_change_at"`
	ResolvedAt           *string             `json:"resolved_at"`
	FirstTriggerLogEntry pdRef               `json:"first_trigger_log_entry"`
	AlertCounts          pdAlertCounts       `json:"alert_counts"`
	IsMergeable          bool                `json:"is_mergeable"`
	IncidentType         map[string]string   `json:"incident_type"`
	EscalationPolicy     pdRef               `json:"escalation_policy"`
	Teams                []pdRef             `json:"teams"`
	PendingActions       []any               `json:"pending_actions"`
	Acknowledgements     []pdAcknowledgement `json:"acknowledgements"`
	AlertGrouping        any                 `json:"alert_grouping"`
	LastStatusChangeBy   pdRef               `json:"last_status_change_by"`
	Priority             any                 `json:"priority"`
	ResolveReason        any                 `json:"resolve_reason"`
	ConferenceBridge     any                 `json:"conference_bridge"`
	IncidentsResponders  []any               `json:"incidents_responders"`
	ResponderRequests    []any               `json:"responder_requests"`
	Urgency              string              `json:"urgency"`
}

type pdIncidentList struct {
	Incidents []pdIncident `json:"incidents"`
	Limit     int          `json:"limit"`
	Offset    int          `json:"offset"`
	More      bool         `json:"more"`
	Total     *int         `json:"total"`
}

type pdLogEntry struct {
	ID                     string            `json:"id"`
	Type                   string            `json:"type"`
	Summary                string            `json:"summary"`
	Self                   string            `json:"self"`
	HTMLURL                string            `json:"html_url"`
	CreatedAt              string            `json:"created_at"`
	Agent                  pdRef             `json:"agent"`
	Channel                map[string]string `json:"channel"`
	Service                *pdRef            `json:"service,omitempty"`
	Incident               pdRef             `json:"incident"`
	Teams                  []pdRef           `json:"teams"`
	Contexts               []any             `json:"contexts"`
	EventDetails           map[string]string `json:"event_details,omitempty"`
	Assignees              []pdRef           `json:"assignees,omitempty"`
	User                   *pdRef            `json:"user,omitempty"`
	AcknowledgementTimeout *int              `json:"acknowledgement_timeout,omitempty"`

	at time.Time // for sorting
}

type pdLogEntryList struct {
	LogEntries []pdLogEntry `json:"log_entries"`
	Limit      int          `json:"limit"`
	Offset     int          `json:"offset"`
	More       bool         `json:"more"`
	Total      *int         `json:"total"`
}

func pdFormat(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.RFC3339)
}

func (p *pdServer) user(r *http.Request, id string) pdRef {
	return pdRef{ID: id, Type: "user_reference", Summary: id,
		Self: collectorstest.BaseURL(r) + "/users/" + id, HTMLURL: FakeHTMLBase + "/users/" + id}
}

func (p *pdServer) service(r *http.Request, id string) pdRef {
	return pdRef{ID: id, Type: "service_reference", Summary: id,
		Self: collectorstest.BaseURL(r) + "/services/" + id, HTMLURL: FakeHTMLBase + "/service-directory/" + id}
}

// pdLogID is a stable 14-character log entry id.
func pdLogID(incident, kind string, n int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", incident, kind, n)
	s := strings.ToUpper(strconv.FormatUint(h.Sum64(), 36))
	return ("R" + s + "0000000000000")[:14]
}

func (p *pdServer) incident(r *http.Request, i int, now time.Time, loc *time.Location) pdIncident {
	in := p.incs[i]
	base := collectorstest.BaseURL(r)
	status := pdStatus(in, now)
	htmlURL := cmp.Or(in.URL, FakeHTMLBase+"/incidents/"+in.ID)
	out := pdIncident{
		ID:             in.ID,
		Type:           "incident",
		Summary:        fmt.Sprintf("[#%d] %s", i+1, in.Title),
		Self:           base + "/incidents/" + in.ID,
		HTMLURL:        htmlURL,
		IncidentNumber: i + 1,
		Title:          in.Title,
		CreatedAt:      pdFormat(in.CreatedAt, loc),
		Status:         status,
		IncidentKey:    fmt.Sprintf("%032x", collectorstest.StableID(in.ID, 0)),
		Service:        p.service(r, in.Service),
		Assignments:    []pdAssignment{},
		AssignedVia:    "escalation_policy",
		FirstTriggerLogEntry: pdRef{ID: pdLogID(in.ID, "trigger", 0), Type: "trigger_log_entry_reference",
			Summary: "Triggered through the API", Self: base + "/log_entries/" + pdLogID(in.ID, "trigger", 0) + "?incident_id=" + in.ID,
			HTMLURL: htmlURL + "/log_entries/" + pdLogID(in.ID, "trigger", 0)},
		AlertCounts:  pdAlertCounts{All: 1, Triggered: 1},
		IsMergeable:  true,
		IncidentType: map[string]string{"name": "incident_default"},
		EscalationPolicy: pdRef{ID: "PDEMOEP", Type: "escalation_policy_reference", Summary: "Default",
			Self: base + "/escalation_policies/PDEMOEP", HTMLURL: FakeHTMLBase + "/escalation_policies/PDEMOEP"},
		Teams:               []pdRef{},
		PendingActions:      []any{},
		Acknowledgements:    []pdAcknowledgement{},
		IncidentsResponders: []any{},
		ResponderRequests:   []any{},
		Urgency:             cmp.Or(in.Urgency, "high"),
	}
	updated := in.CreatedAt
	out.LastStatusChangeAt = pdFormat(in.CreatedAt, loc)
	out.LastStatusChangeBy = p.service(r, in.Service)
	switch status {
	case "resolved":
		s := pdFormat(in.ResolvedAt, loc)
		out.ResolvedAt = &s
		out.LastStatusChangeAt = s
		if len(in.Assignees) > 0 {
			out.LastStatusChangeBy = p.user(r, in.Assignees[0])
		}
		out.AlertCounts = pdAlertCounts{All: 1, Resolved: 1}
		updated = in.ResolvedAt
	default:
		for _, a := range in.Assignees {
			out.Assignments = append(out.Assignments, pdAssignment{At: pdFormat(in.CreatedAt, loc), Assignee: p.user(r, a)})
		}
		if status == "acknowledged" {
			by := p.service(r, in.Service)
			if len(in.Assignees) > 0 {
				by = p.user(r, in.Assignees[0])
			}
			out.Acknowledgements = []pdAcknowledgement{{At: pdFormat(in.AcknowledgedAt, loc), Acknowledger: by}}
			out.LastStatusChangeAt = pdFormat(in.AcknowledgedAt, loc)
			out.LastStatusChangeBy = by
			updated = in.AcknowledgedAt
		}
	}
	out.UpdatedAt = pdFormat(updated, loc)
	return out
}

// entries are the incident's log entries at now, newest first; the
// overview leaves out the notifications.
func (p *pdServer) entries(r *http.Request, i int, now time.Time, loc *time.Location, overview bool) []pdLogEntry {
	in := p.incs[i]
	base := collectorstest.BaseURL(r)
	htmlURL := cmp.Or(in.URL, FakeHTMLBase+"/incidents/"+in.ID)
	incRef := pdRef{ID: in.ID, Type: "incident_reference", Summary: fmt.Sprintf("[#%d] %s", i+1, in.Title),
		Self: base + "/incidents/" + in.ID, HTMLURL: htmlURL}
	svc := p.service(r, in.Service)
	mk := func(kind string, n int, at time.Time, summary string, agent pdRef) pdLogEntry {
		id := pdLogID(in.ID, kind, n)
		return pdLogEntry{ID: id, Type: kind + "_log_entry", Summary: summary,
			Self: base + "/log_entries/" + id + "?incident_id=" + in.ID, HTMLURL: htmlURL + "/log_entries/" + id,
			CreatedAt: pdFormat(at, loc), at: at, Agent: agent, Channel: map[string]string{"type": "auto"},
			Service: &svc, Incident: incRef, Teams: []pdRef{}, Contexts: []any{}}
	}
	trig := mk("trigger", 0, in.CreatedAt, "Triggered through the API", svc)
	trig.Channel = map[string]string{"type": "api"}
	trig.EventDetails = map[string]string{"description": in.Title}
	out := []pdLogEntry{trig}
	if len(in.Assignees) > 0 {
		as := mk("assign", 0, in.CreatedAt, "Assigned to "+strings.Join(in.Assignees, ", ")+".", svc)
		for _, a := range in.Assignees {
			as.Assignees = append(as.Assignees, p.user(r, a))
		}
		out = append(out, as)
		if !overview {
			for n, a := range in.Assignees {
				u := p.user(r, a)
				nt := mk("notify", n, in.CreatedAt.Add(time.Duration(n+1)*time.Second), "Notified "+a+" via push notification.", svc)
				nt.User = &u
				out = append(out, nt)
			}
		}
	}
	if !in.AcknowledgedAt.IsZero() && !in.AcknowledgedAt.After(now) && (in.ResolvedAt.IsZero() || !in.AcknowledgedAt.After(in.ResolvedAt)) {
		by := svc
		if len(in.Assignees) > 0 {
			by = p.user(r, in.Assignees[0])
		}
		ack := mk("acknowledge", 0, in.AcknowledgedAt, "Acknowledged by "+by.Summary+".", by)
		ack.Channel = map[string]string{"type": "mobile"}
		timeout := 1800
		ack.AcknowledgementTimeout = &timeout
		out = append(out, ack)
	}
	if pdStatus(in, now) == "resolved" {
		by := svc
		if len(in.Assignees) > 0 {
			by = p.user(r, in.Assignees[0])
		}
		out = append(out, mk("resolve", 0, in.ResolvedAt, "Resolved by "+by.Summary+".", by))
	}
	// Oldest first (stable: a trigger precedes the assignment of the same
	// second), then reversed.
	slices.SortStableFunc(out, func(a, b pdLogEntry) int { return a.at.Compare(b.at) })
	slices.Reverse(out)
	return out
}
