package pagerduty

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// FakeAnalyticsMaxLimit is the largest page of POST
// /analytics/raw/incidents; a larger limit answers 400.
const FakeAnalyticsMaxLimit = 1000

// FakeAnalyticsDefaultLimit is its page size when the request names
// none.
const FakeAnalyticsDefaultLimit = 100

// FakeAnalyticsMaxRange is the longest created_at range one analytics
// request may filter on.
const FakeAnalyticsMaxRange = 366 * 24 * time.Hour

// FakeOptions are the fake PagerDuty's own options.
type FakeOptions struct {
	// AnalyticsStatus, when non-zero, is the status POST
	// /analytics/raw/incidents answers with (with PagerDuty's error body),
	// e.g. 403 for an account whose plan lacks Analytics.
	AnalyticsStatus int
	// AnalyticsLag leaves out of the analytics answers the incidents
	// resolved less than AnalyticsLag before now: PagerDuty's analytics
	// data trails the incidents by minutes to hours.
	AnalyticsLag time.Duration
}

// pdAnalyticsRequest is the body of POST /analytics/raw/incidents.
type pdAnalyticsRequest struct {
	Filters struct {
		CreatedAtStart string   `json:"created_at_start"`
		CreatedAtEnd   string   `json:"created_at_end"`
		ServiceIDs     []string `json:"service_ids"`
		Urgency        string   `json:"urgency"`
	} `json:"filters"`
	Limit         *int    `json:"limit"`
	Order         string  `json:"order"`
	OrderBy       string  `json:"order_by"`
	StartingAfter *string `json:"starting_after"`
	EndingBefore  *string `json:"ending_before"`
	TimeZone      string  `json:"time_zone"`
}

// pdAnalyticsIncident is one incident of the answer, with the keys of the
// documented example (including its `total_interruptions"` typo).
type pdAnalyticsIncident struct {
	AcknowledgedUserIDs      []string `json:"acknowledged_user_ids"`
	AcknowledgedUserNames    []string `json:"acknowledged_user_names"`
	AcknowledgementCount     int      `json:"acknowledgement_count"`
	ActiveUserCount          int      `json:"active_user_count"`
	AssignedUserIDs          []string `json:"assigned_user_ids"`
	AssignedUserNames        []string `json:"assigned_user_names"`
	AssignmentCount          int      `json:"assignment_count"`
	AutoResolved             bool     `json:"auto_resolved"`
	BusinessHourInterrupts   int      `json:"business_hour_interruptions"`
	CreatedAt                string   `json:"created_at"`
	UpdatedAt                string   `json:"updated_at"`
	Description              string   `json:"description"`
	EngagedSeconds           int      `json:"engaged_seconds"`
	EngagedUserCount         int      `json:"engaged_user_count"`
	EscalationCount          int      `json:"escalation_count"`
	EscalationPolicyID       string   `json:"escalation_policy_id"`
	EscalationPolicyName     string   `json:"escalation_policy_name"`
	ID                       string   `json:"id"`
	IncidentNumber           int      `json:"incident_number"`
	IncidentTypeID           string   `json:"incident_type_id"`
	IncidentTypeName         string   `json:"incident_type_name"`
	JoinedUserIDs            []string `json:"joined_user_ids"`
	JoinedUserNames          []string `json:"joined_user_names"`
	Major                    bool     `json:"major"`
	ManualEscalationCount    int      `json:"manual_escalation_count"`
	OffHourInterruptions     int      `json:"off_hour_interruptions"`
	PriorityID               *string  `json:"priority_id"`
	PriorityName             *string  `json:"priority_name"`
	PriorityOrder            *int     `json:"priority_order"`
	ReassignmentCount        int      `json:"reassignment_count"`
	ResolvedAt               *string  `json:"resolved_at"`
	ResolvedByUserID         *string  `json:"resolved_by_user_id"`
	ResolvedByUserName       *string  `json:"resolved_by_user_name"`
	SecondsToEngage          *int     `json:"seconds_to_engage"`
	SecondsToFirstAck        *int     `json:"seconds_to_first_ack"`
	SecondsToMobilize        *int     `json:"seconds_to_mobilize"`
	SecondsToResolve         *int     `json:"seconds_to_resolve"`
	ServiceID                string   `json:"service_id"`
	ServiceName              string   `json:"service_name"`
	SleepHourInterruptions   int      `json:"sleep_hour_interruptions"`
	SnoozedSeconds           int      `json:"snoozed_seconds"`
	Status                   string   `json:"status"`
	TeamID                   *string  `json:"team_id"`
	TeamName                 *string  `json:"team_name"`
	TimeoutEscalationCount   int      `json:"timeout_escalation_count"`
	TotalNotifications       int      `json:"total_notifications"`
	Urgency                  string   `json:"urgency"`
	UserDefinedEffortSeconds *int     `json:"user_defined_effort_seconds"`
}

// MarshalJSON adds the documented example's `total_interruptions"` key
// (typo included; a struct tag cannot spell it).
func (a pdAnalyticsIncident) MarshalJSON() ([]byte, error) {
	type plain pdAnalyticsIncident
	b, err := json.Marshal(plain(a))
	if err != nil || len(b) < 2 {
		return b, err
	}
	return append(b[:len(b)-1], `,"total_interruptions\"":null}`...), nil
}

type pdAnalyticsResponse struct {
	Data          []pdAnalyticsIncident `json:"data"`
	EndingBefore  *string               `json:"ending_before"`
	Filters       json.RawMessage       `json:"filters"`
	First         *string               `json:"first"`
	Last          *string               `json:"last"`
	Limit         int                   `json:"limit"`
	More          bool                  `json:"more"`
	Order         string                `json:"order"`
	OrderBy       string                `json:"order_by"`
	StartingAfter *string               `json:"starting_after"`
	TimeZone      string                `json:"time_zone"`
}

// analyticsRaw serves POST /analytics/raw/incidents: the resolved
// incidents (analytics has no open ones) created in
// [created_at_start, created_at_end) of the service_ids (all when empty),
// ordered by created_at (then id), with cursor pagination: starting_after
// (or ending_before) names the last (first) incident of the page before;
// the answer's `first` and `last` are its page's first and last ids. Times
// are in time_zone without an offset, as PagerDuty writes them. Both
// created_at filters are required and may span at most
// FakeAnalyticsMaxRange; limit is at most 1,000; order_by only
// created_at. Incidents resolved less than FakeOptions.AnalyticsLag
// ago are not there yet.
func (p *pdServer) analyticsRaw(rw http.ResponseWriter, r *http.Request) {
	if !p.auth(rw, r) {
		return
	}
	if code := p.po.AnalyticsStatus; code != 0 {
		switch code {
		case http.StatusForbidden:
			p.send(rw, code, pdError("Access Denied", 2010, "Your account does not have access to Analytics."))
		case http.StatusPaymentRequired:
			p.send(rw, code, pdError("Payment Required", 2012))
		case http.StatusNotFound:
			p.send(rw, code, pdError("Not Found", 2100))
		default:
			p.send(rw, code, pdError(http.StatusText(code), 2000))
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req pdAnalyticsRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		p.send(rw, http.StatusBadRequest, pdInvalid("The request body is not valid JSON."))
		return
	}
	zone := cmp.Or(req.TimeZone, "Etc/UTC")
	loc := time.UTC
	if zone != "UTC" && zone != "Etc/UTC" {
		if loc, err = time.LoadLocation(zone); err != nil {
			p.send(rw, http.StatusBadRequest, pdInvalid("Time zone is not a valid time zone."))
			return
		}
	}
	start, ok1 := pdTimeParam(req.Filters.CreatedAtStart, loc)
	end, ok2 := pdTimeParam(req.Filters.CreatedAtEnd, loc)
	if !ok1 || !ok2 {
		p.send(rw, http.StatusBadRequest, pdInvalid("filters.created_at_start and filters.created_at_end are required ISO 8601 times."))
		return
	}
	if end.Before(start) || end.Sub(start) > FakeAnalyticsMaxRange {
		p.send(rw, http.StatusBadRequest, pdInvalid("The created_at range must be ascending and at most a year."))
		return
	}
	limit := FakeAnalyticsDefaultLimit
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 1 || limit > FakeAnalyticsMaxLimit {
		p.send(rw, http.StatusBadRequest, pdInvalid(fmt.Sprintf("Limit must be between 1 and %d.", FakeAnalyticsMaxLimit)))
		return
	}
	order := cmp.Or(req.Order, "desc")
	if (order != "asc" && order != "desc") || (req.OrderBy != "" && req.OrderBy != "created_at") {
		p.send(rw, http.StatusBadRequest, pdInvalid("order must be asc or desc; order_by created_at."))
		return
	}
	if req.StartingAfter != nil && req.EndingBefore != nil {
		p.send(rw, http.StatusBadRequest, pdInvalid("Use starting_after or ending_before, not both."))
		return
	}

	now := p.now()
	var sel []int
	for i, in := range p.incs {
		if in.CreatedAt.After(now) {
			break
		}
		if in.CreatedAt.Before(start) || !in.CreatedAt.Before(end) {
			continue
		}
		if len(req.Filters.ServiceIDs) > 0 && !slices.Contains(req.Filters.ServiceIDs, in.Service) {
			continue
		}
		if req.Filters.Urgency != "" && cmp.Or(in.Urgency, "high") != req.Filters.Urgency {
			continue
		}
		if pdStatus(in, now) != "resolved" || in.ResolvedAt.After(now.Add(-p.po.AnalyticsLag)) {
			continue
		}
		sel = append(sel, i)
	}
	if order == "desc" {
		slices.Reverse(sel)
	}
	lo, hi := 0, len(sel)
	pos := func(id string) (int, bool) {
		k := slices.IndexFunc(sel, func(i int) bool { return p.incs[i].ID == id })
		return k, k >= 0
	}
	switch {
	case req.StartingAfter != nil:
		k, ok := pos(*req.StartingAfter)
		if !ok {
			p.send(rw, http.StatusBadRequest, pdInvalid("starting_after is not a known cursor."))
			return
		}
		lo = k + 1
		hi = min(lo+limit, len(sel))
	case req.EndingBefore != nil:
		k, ok := pos(*req.EndingBefore)
		if !ok {
			p.send(rw, http.StatusBadRequest, pdInvalid("ending_before is not a known cursor."))
			return
		}
		hi = k
		lo = max(0, hi-limit)
	default:
		hi = min(limit, len(sel))
	}
	services := req.Filters.ServiceIDs
	if services == nil {
		services = []string{}
	}
	filters, _ := json.Marshal(map[string]any{
		"created_at_start": req.Filters.CreatedAtStart, "created_at_end": req.Filters.CreatedAtEnd,
		"service_ids": services,
	})
	resp := pdAnalyticsResponse{Data: []pdAnalyticsIncident{}, Filters: filters, Limit: limit, Order: order,
		OrderBy: "created_at", StartingAfter: req.StartingAfter, EndingBefore: req.EndingBefore, TimeZone: zone}
	for _, i := range sel[lo:hi] {
		resp.Data = append(resp.Data, p.analyticsIncident(i, loc))
	}
	if len(resp.Data) > 0 {
		first, last := resp.Data[0].ID, resp.Data[len(resp.Data)-1].ID
		resp.First, resp.Last = &first, &last
	}
	if req.EndingBefore != nil {
		resp.More = lo > 0
	} else {
		resp.More = hi < len(sel)
	}
	p.send(rw, http.StatusOK, resp)
}

// pdAnalyticsTime is an analytics time: in loc, without an offset.
func pdAnalyticsTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05")
}

// analyticsIncident is what analytics says of a resolved incident: its
// first acknowledgement (when one came before the resolve, as in the log
// entries), assignees and acknowledger (the first assignee) agree with
// the incident's log entries.
func (p *pdServer) analyticsIncident(i int, loc *time.Location) pdAnalyticsIncident {
	in := p.incs[i]
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	resolved := pdAnalyticsTime(in.ResolvedAt, loc)
	out := pdAnalyticsIncident{
		AcknowledgedUserIDs:   []string{},
		AcknowledgedUserNames: []string{},
		AssignedUserIDs:       slices.Clone(in.Assignees),
		AssignedUserNames:     slices.Clone(in.Assignees),
		AssignmentCount:       len(in.Assignees),
		CreatedAt:             pdAnalyticsTime(in.CreatedAt, loc),
		UpdatedAt:             resolved,
		Description:           in.Title,
		EscalationPolicyID:    "PDEMOEP",
		EscalationPolicyName:  "Default",
		ID:                    in.ID,
		IncidentNumber:        i + 1,
		IncidentTypeID:        "PIJ90N7",
		IncidentTypeName:      "incident_default",
		JoinedUserIDs:         slices.Clone(in.Assignees),
		JoinedUserNames:       slices.Clone(in.Assignees),
		ResolvedAt:            &resolved,
		SecondsToResolve:      num(int(in.ResolvedAt.Sub(in.CreatedAt) / time.Second)),
		ServiceID:             in.Service,
		ServiceName:           in.Service,
		Status:                "resolved",
		TotalNotifications:    len(in.Assignees),
		Urgency:               cmp.Or(in.Urgency, "high"),
		AutoResolved:          len(in.Assignees) == 0,
	}
	if out.AssignedUserIDs == nil {
		out.AssignedUserIDs, out.AssignedUserNames, out.JoinedUserIDs, out.JoinedUserNames = []string{}, []string{}, []string{}, []string{}
	}
	out.ActiveUserCount = len(in.Assignees)
	out.EngagedUserCount = len(in.Assignees)
	if !in.AcknowledgedAt.IsZero() && !in.AcknowledgedAt.After(in.ResolvedAt) {
		out.SecondsToFirstAck = num(int(in.AcknowledgedAt.Sub(in.CreatedAt) / time.Second))
		out.AcknowledgementCount = 1
		if len(in.Assignees) > 0 {
			out.AcknowledgedUserIDs = []string{in.Assignees[0]}
			out.AcknowledgedUserNames = []string{in.Assignees[0]}
		}
	}
	if len(in.Assignees) > 0 {
		out.ResolvedByUserID, out.ResolvedByUserName = str(in.Assignees[0]), str(in.Assignees[0])
	}
	out.Description = strings.TrimSpace(out.Description)
	return out
}
