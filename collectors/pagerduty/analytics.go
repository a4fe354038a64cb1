package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// AnalyticsLimit is the page size of POST /analytics/raw/incidents: its
// maximum.
const AnalyticsLimit = 1000

// PendingMax bounds how long a resolved incident the analytics data lacks
// waits for it (analytics trails the incidents by minutes to hours): until
// PendingMax after its resolve it is stored without acknowledgement and
// assignees and looked up again on the next polls; after that its log
// entries are read.
const PendingMax = 24 * time.Hour

// AnalyticsRetry is how long the collector keeps to the log entries after
// the analytics endpoint answered 401, 402, 403 or 404 (not on the plan).
const AnalyticsRetry = 24 * time.Hour

// anIncident is one incident of POST /analytics/raw/incidents (only the
// fields used; the documented example also has a `total_interruptions"`
// key, typo included, which is ignored).
type anIncident struct {
	ID                  string   `json:"id"`
	ServiceID           string   `json:"service_id"`
	CreatedAt           string   `json:"created_at"`
	ResolvedAt          *string  `json:"resolved_at"`
	Status              string   `json:"status"`
	SecondsToFirstAck   *float64 `json:"seconds_to_first_ack"`
	SecondsToResolve    *float64 `json:"seconds_to_resolve"`
	AssignedUserIDs     []string `json:"assigned_user_ids"`
	AcknowledgedUserIDs []string `json:"acknowledged_user_ids"`
	Urgency             string   `json:"urgency"`
	Description         string   `json:"description"`
}

type anResponse struct {
	Data  []anIncident `json:"data"`
	More  bool         `json:"more"`
	First *string      `json:"first"`
	Last  *string      `json:"last"`
	Limit int          `json:"limit"`
}

type anFilters struct {
	CreatedAtStart string   `json:"created_at_start"`
	CreatedAtEnd   string   `json:"created_at_end"`
	ServiceIDs     []string `json:"service_ids,omitempty"`
}

type anRequest struct {
	Filters       anFilters `json:"filters"`
	Limit         int       `json:"limit"`
	Order         string    `json:"order"`
	OrderBy       string    `json:"order_by"`
	StartingAfter string    `json:"starting_after,omitempty"`
	TimeZone      string    `json:"time_zone"`
}

// usable reports whether a is a resolved incident's analytics.
func (a anIncident) usable() bool {
	return a.Status == "resolved" || (a.ResolvedAt != nil && *a.ResolvedAt != "")
}

// apply completes the resolved incident m with its analytics a: the first
// acknowledgement (created_at + seconds_to_first_ack), the assignees
// (assigned ∪ acknowledged users) and, when m lacks it, the resolve time.
func (a anIncident) apply(m model.Incident) model.Incident {
	if a.SecondsToFirstAck != nil && *a.SecondsToFirstAck >= 0 {
		ack := m.CreatedAt.Add(time.Duration(math.Round(*a.SecondsToFirstAck)) * time.Second)
		if m.AcknowledgedAt.IsZero() || ack.Before(m.AcknowledgedAt) {
			m.AcknowledgedAt = ack
		}
	}
	m.Assignees = union(m.Assignees, union(a.AssignedUserIDs, a.AcknowledgedUserIDs))
	if m.Status == "resolved" && m.ResolvedAt.IsZero() {
		if a.ResolvedAt != nil {
			if t, err := parseTime(*a.ResolvedAt); err == nil && !t.Before(m.CreatedAt) {
				m.ResolvedAt = t
			}
		}
		if m.ResolvedAt.IsZero() && a.SecondsToResolve != nil && *a.SecondsToResolve >= 0 {
			m.ResolvedAt = m.CreatedAt.Add(time.Duration(math.Round(*a.SecondsToResolve)) * time.Second)
		}
	}
	return m
}

// analyticsOn reports whether the analytics endpoint is to be used at now.
func (c *Collector) analyticsOn(now time.Time) bool {
	until := c.anOffUntil.Load()
	return until == 0 || now.UnixNano() >= until
}

// analyticsOff records that the endpoint is not on the account's plan; the
// first time (and again after each AnalyticsRetry) it says so at info.
func (c *Collector) analyticsOff(now time.Time, e *Error) {
	old := c.anOffUntil.Load()
	if c.anOffUntil.CompareAndSwap(old, now.Add(AnalyticsRetry).UnixNano()) && (old == 0 || now.UnixNano() >= old) {
		c.log.Info("pagerduty: the analytics API is not available to this token; reading each resolved incident's log entries instead (slower)",
			"status", e.StatusCode, "error", e.Msg, "retry_after", AnalyticsRetry)
	}
}

// analyticsPage makes one POST /analytics/raw/incidents.
func (c *Collector) analyticsPage(ctx context.Context, body anRequest) (*anResponse, error) {
	const op = "analytics raw incidents"
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/analytics/raw/incidents", bytes.NewReader(b))
	if err != nil {
		return nil, &Error{Op: op, Msg: err.Error(), Err: err}
	}
	req.Header.Set("Authorization", "Token token="+c.token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-EARLY-ACCESS", "analytics-v2")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, describe(ctx, op, err, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, describe(ctx, op, err, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		var eb struct {
			Error struct {
				Message string   `json:"message"`
				Errors  []string `json:"errors"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil {
			if m := oneLine(eb.Error.Message); m != "" && m != http.StatusText(resp.StatusCode) {
				msg += ": " + m
			}
			for _, e := range eb.Error.Errors {
				msg += ": " + oneLine(e)
			}
		}
		return nil, &Error{Op: op, StatusCode: resp.StatusCode, Msg: oneLine(msg)}
	}
	var out anResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &Error{Op: op, StatusCode: resp.StatusCode, Msg: "malformed response: " + oneLine(err.Error()), Err: err}
	}
	return &out, nil
}

// anResult is what an analytics lookup found.
type anResult int

const (
	anFound       anResult = iota
	anMissing              // not (yet) in the analytics data
	anUnavailable          // no analytics: read the log entries
)

// anStream reads the analytics of services' incidents created in wins
// (consecutive windows, oldest first), page by page as lookups need them:
// a lookup of an incident created at t reads on until the stream has
// passed t. budget bounds the pages (negative: no bound); once spent,
// lookups of what was not read yet find nothing.
type anStream struct {
	j        *job
	services []string
	wins     []window
	budget   int

	pos     int       // current window
	started bool      // a page of wins[pos] was read
	after   string    // starting_after for the next page of wins[pos]
	last    time.Time // created_at of the last incident read in wins[pos]
	done    bool
	off     bool // the endpoint failed: everything is unavailable
	recs    map[string]anIncident
}

// stream returns a stream over [from, to) for services, or nil when the
// analytics endpoint is off.
func (j *job) stream(services []string, from, to time.Time, budget int) *anStream {
	if !j.c.analyticsOn(j.now) || !from.Before(to) {
		return nil
	}
	return &anStream{j: j, services: services, wins: split(from, to, MaxWindow), budget: budget, recs: map[string]anIncident{}}
}

// find looks up incident id, created at created.
func (s *anStream) find(ctx context.Context, id string, created time.Time) (anIncident, anResult, error) {
	if s == nil {
		return anIncident{}, anUnavailable, nil
	}
	for {
		if r, ok := s.recs[id]; ok {
			delete(s.recs, id)
			return r, anFound, nil
		}
		if s.off {
			return anIncident{}, anUnavailable, nil
		}
		if s.done || s.pos >= len(s.wins) || created.Before(s.wins[s.pos].from) || (s.started && s.last.After(created)) {
			return anIncident{}, anMissing, nil
		}
		if s.budget == 0 {
			s.done = true
			continue
		}
		if err := s.next(ctx); err != nil {
			return anIncident{}, anMissing, err
		}
	}
}

// next reads the next page.
func (s *anStream) next(ctx context.Context) error {
	w := s.wins[s.pos]
	body := anRequest{
		Filters: anFilters{CreatedAtStart: w.from.UTC().Format(timeLayout), CreatedAtEnd: w.to.UTC().Format(timeLayout),
			ServiceIDs: s.services},
		Limit: AnalyticsLimit, Order: "asc", OrderBy: "created_at", StartingAfter: s.after, TimeZone: "Etc/UTC",
	}
	if s.budget > 0 {
		s.budget--
	}
	s.j.prog.Announce(1)
	resp, err := s.j.c.analyticsPage(ctx, body)
	s.j.prog.Done(1)
	s.j.anPages.Add(1)
	if err != nil {
		e, ok := err.(*Error)
		switch {
		case ok && (e.StatusCode == 401 || e.StatusCode == 402 || e.StatusCode == 403 || e.StatusCode == 404):
			s.j.c.analyticsOff(s.j.now, e)
			s.off = true
			return nil
		case ok && ctx.Err() == nil && (e.StatusCode == 400 || e.StatusCode == 422 || (e.StatusCode/100 == 2)):
			// Refused or unreadable: not worth failing the collection for.
			s.j.log.Warn("pagerduty: analytics answer unusable; reading log entries instead", "error", e.Error())
			s.off = true
			return nil
		}
		return err
	}
	s.started = true
	for _, r := range resp.Data {
		if r.ID == "" {
			continue
		}
		if t, err := parseTime(r.CreatedAt); err == nil && t.After(s.last) {
			s.last = t
		}
		s.recs[r.ID] = r
	}
	next := ""
	if resp.Last != nil {
		next = *resp.Last
	} else if n := len(resp.Data); n > 0 {
		next = resp.Data[n-1].ID
	}
	if !resp.More || len(resp.Data) == 0 || next == "" || next == s.after {
		s.pos++
		s.started, s.after, s.last = false, "", time.Time{}
		return nil
	}
	s.after = next
	return nil
}
