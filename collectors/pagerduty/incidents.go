package pagerduty

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/impact-dev/impact/internal/model"
)

// --- open incidents ---------------------------------------------------------

// rereadListMin is the number of open incidents from which one listing of
// the open incidents is cheaper than a GET each.
const rereadListMin = 3

// reread reads again the open incidents created before `before` (those
// after it are listed by the main walk anyway) and commits what changed.
func (j *job) reread(ctx context.Context, before time.Time) error {
	var refs []Ref
	for _, r := range j.open {
		if r.CreatedAt.Before(before) {
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	slices.SortFunc(refs, func(a, b Ref) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	fresh := map[string]pd.Incident{}
	missing := refs
	if len(refs) >= rereadListMin {
		var err error
		if fresh, err = j.listOpen(ctx, refs[0].CreatedAt, before); err != nil {
			return err
		}
		missing = nil
		for _, r := range refs {
			if _, ok := fresh[r.ID]; !ok {
				missing = append(missing, r) // resolved since, most likely
			}
		}
	}
	gone := 0
	if len(missing) > 0 {
		j.prog.Announce(int64(len(missing)))
		got := make([]*pd.Incident, len(missing))
		err := j.parallel(ctx, len(missing), func(ctx context.Context, k int) error {
			id := missing[k].ID
			var in *pd.Incident
			err := j.c.call(ctx, "get incident "+id, func(ctx context.Context) (err error) {
				in, err = j.c.client.GetIncidentWithContext(ctx, id)
				return err
			})
			if notFound(err) {
				j.log.Warn("pagerduty: open incident no longer exists; forgetting it", "incident", id)
				return nil
			}
			if err == nil && (in == nil || in.ID == "") {
				err = &Error{Op: "get incident " + id, Msg: "malformed response: no incident in the body"}
			}
			got[k] = in
			return err
		})
		if err != nil {
			return err
		}
		for k, in := range got {
			if in == nil {
				delete(j.open, missing[k].ID)
				gone++
			} else {
				fresh[in.ID] = *in
			}
		}
	}
	list := make([]pd.Incident, 0, len(fresh))
	for _, in := range fresh {
		list = append(list, in)
	}
	slices.SortFunc(list, func(a, b pd.Incident) int { return cmp.Compare(a.ID, b.ID) })
	// The analytics of those resolved since: one stream over their range,
	// at most a page per incident (else the log entries are cheaper).
	var from, to time.Time
	resolved := 0
	for _, in := range list {
		created, err := parseTime(in.CreatedAt)
		if in.Status != "resolved" || err != nil {
			continue
		}
		resolved++
		if from.IsZero() || created.Before(from) {
			from = created
		}
		if created.Add(time.Second).After(to) {
			to = created.Add(time.Second)
		}
	}
	var an *anStream
	if resolved > 0 {
		an = j.stream(j.c.services, from, to, resolved)
	}
	seg := &segment{kind: segReread}
	for len(list) > 0 {
		n := min(len(list), PageLimit)
		if err := j.process(ctx, seg, list[:n], an); err != nil {
			return err
		}
		list = list[n:]
	}
	if gone > 0 && len(fresh) == 0 {
		return j.commit(ctx, nil)
	}
	return nil
}

// listOpen lists the triggered and acknowledged incidents of the services
// created in [from, to). It stops early, without error, at the offset cap:
// whatever it did not list is read one by one.
func (j *job) listOpen(ctx context.Context, from, to time.Time) (map[string]pd.Incident, error) {
	out := map[string]pd.Incident{}
	for _, w := range split(from, to, j.c.window) {
		for offset := 0; offset+PageLimit <= MaxOffset; {
			opts := pd.ListIncidentsOptions{
				Limit:      PageLimit,
				Offset:     uint(offset),
				Since:      w.from.UTC().Format(timeLayout),
				Until:      w.to.UTC().Format(timeLayout),
				Statuses:   []string{"triggered", "acknowledged"},
				ServiceIDs: j.c.services,
				TimeZone:   "UTC",
				SortBy:     "created_at:asc",
			}
			j.prog.Announce(1)
			var resp *pd.ListIncidentsResponse
			err := j.c.call(ctx, "list open incidents", func(ctx context.Context) (err error) {
				resp, err = j.c.client.ListIncidentsWithContext(ctx, opts)
				return err
			})
			j.prog.Done(1)
			if err != nil {
				return nil, err
			}
			for _, in := range resp.Incidents {
				if in.ID != "" && in.Status != "resolved" {
					out[in.ID] = in
				}
			}
			if !resp.More || len(resp.Incidents) == 0 {
				break
			}
			offset += len(resp.Incidents)
		}
	}
	return out, nil
}

func notFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == 404
}

// complete looks up again the resolved incidents stored without their
// analytics by an earlier poll (the cursor's `pending`): one stream over
// their range, at most a page per incident. Those found are stored
// complete; those still missing wait, until PendingMax after their
// resolve, when their log entries are read.
func (j *job) complete(ctx context.Context, pending []model.Incident) error {
	if len(pending) == 0 {
		return nil
	}
	slices.SortFunc(pending, func(a, b model.Incident) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	an := j.stream(j.c.services, pending[0].CreatedAt, pending[len(pending)-1].CreatedAt.Add(time.Second), len(pending))
	var done []model.Incident
	var need []model.Incident
	for _, m := range pending {
		rec, res, err := an.find(ctx, m.ID, m.CreatedAt)
		if err != nil {
			return err
		}
		switch {
		case res == anFound && rec.usable():
			done = append(done, rec.apply(m))
		case res != anUnavailable && j.recentlyResolved(m):
			// not there yet: wait for the next poll
		default:
			need = append(need, m)
		}
	}
	if len(need) > 0 {
		j.prog.Announce(int64(len(need)))
		dets := make([]detail, len(need))
		err := j.parallel(ctx, len(need), func(ctx context.Context, k int) error {
			d, err := j.details(ctx, need[k].ID)
			dets[k] = d
			return err
		})
		if err != nil {
			return err
		}
		for k, m := range need {
			done = append(done, dets[k].apply(m))
		}
	}
	if len(done) == 0 {
		return nil
	}
	for _, m := range done {
		j.settled(m, false)
	}
	return j.commit(ctx, done)
}

// --- log entries --------------------------------------------------------------

// detail is what an incident's log entries say.
type detail struct {
	found     bool
	ack       time.Time // first acknowledgement
	resolved  time.Time // last resolve
	assignees []string
}

// apply completes m with d.
func (d detail) apply(m model.Incident) model.Incident {
	if !d.found {
		return m
	}
	if !d.ack.IsZero() && (m.AcknowledgedAt.IsZero() || d.ack.Before(m.AcknowledgedAt)) {
		m.AcknowledgedAt = d.ack
	}
	m.Assignees = union(m.Assignees, d.assignees)
	if m.Status == "resolved" && m.ResolvedAt.IsZero() {
		m.ResolvedAt = d.resolved
	}
	return m
}

// details reads incident id's log entries: the first acknowledgement,
// every user it was assigned (or escalated, delegated) to or acknowledged
// by, and when it was resolved. An incident that is gone (404) has none.
func (j *job) details(ctx context.Context, id string) (detail, error) {
	var d detail
	op := "list log entries of " + id
	for offset, pagesRead := 0, 0; ; pagesRead++ {
		if pagesRead > 0 {
			j.prog.Announce(1)
		}
		opts := pd.ListIncidentLogEntriesOptions{Limit: PageLimit, Offset: uint(offset), TimeZone: "UTC"}
		var resp *pd.ListIncidentLogEntriesResponse
		err := j.c.call(ctx, op, func(ctx context.Context) (err error) {
			resp, err = j.c.client.ListIncidentLogEntriesWithContext(ctx, id, opts)
			return err
		})
		j.logReads.Add(1)
		if pagesRead > 0 {
			j.prog.Done(1)
		}
		if notFound(err) {
			j.log.Warn("pagerduty: incident has no log entries (gone?); keeping it without acknowledgement and assignees", "incident", id)
			return detail{}, nil
		}
		if err != nil {
			return d, err
		}
		d.found = true
		for _, e := range resp.LogEntries {
			t, terr := parseTime(e.CreatedAt)
			switch e.Type {
			case "acknowledge_log_entry":
				if terr == nil && (d.ack.IsZero() || t.Before(d.ack)) {
					d.ack = t
				}
				if isUser(e.Agent.Type) && e.Agent.ID != "" {
					d.assignees = append(d.assignees, e.Agent.ID)
				}
			case "resolve_log_entry":
				if terr == nil && t.After(d.resolved) {
					d.resolved = t
				}
			}
			for _, a := range e.Assignees {
				if isUser(a.Type) && a.ID != "" {
					d.assignees = append(d.assignees, a.ID)
				}
			}
		}
		if !resp.More || len(resp.LogEntries) == 0 {
			return d, nil
		}
		offset += len(resp.LogEntries)
		if offset+PageLimit > MaxOffset {
			j.log.Warn("pagerduty: incident has more log entries than PagerDuty pages through; using the first ones", "incident", id, "read", offset)
			return d, nil
		}
	}
}

func isUser(typ string) bool { return typ == "user_reference" || typ == "user" || typ == "" }

// union is the sorted set of a and b.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// --- conversion ---------------------------------------------------------------

// convert turns an incident as listed into a model.Incident; need reports
// that its first acknowledgement (or resolve time) is only in its log
// entries: PagerDuty clears `acknowledgements` and `assignments` once an
// incident is resolved.
func convert(in pd.Incident) (m model.Incident, need bool, err error) {
	if in.ID == "" {
		return m, false, errors.New("an incident has no id")
	}
	created, err := parseTime(in.CreatedAt)
	if err != nil {
		return m, false, fmt.Errorf("incident %s: created_at: %w", in.ID, err)
	}
	if in.Service.ID == "" {
		return m, false, fmt.Errorf("incident %s has no service", in.ID)
	}
	m = model.Incident{
		ID:        in.ID,
		Service:   in.Service.ID,
		Title:     cmp.Or(strings.TrimSpace(in.Title), strings.TrimSpace(in.Summary)),
		Urgency:   in.Urgency,
		Status:    in.Status,
		URL:       in.HTMLURL,
		CreatedAt: created,
	}
	var users []string
	for _, a := range in.Acknowledgements {
		if t, err := parseTime(a.At); err == nil && (m.AcknowledgedAt.IsZero() || t.Before(m.AcknowledgedAt)) {
			m.AcknowledgedAt = t
		}
		if isUser(a.Acknowledger.Type) && a.Acknowledger.ID != "" {
			users = append(users, a.Acknowledger.ID)
		}
	}
	for _, a := range in.Assignments {
		if isUser(a.Assignee.Type) && a.Assignee.ID != "" {
			users = append(users, a.Assignee.ID)
		}
	}
	m.Assignees = union(users, nil)
	if m.Status == "resolved" {
		if t, err := parseTime(in.ResolvedAt); err == nil {
			m.ResolvedAt = t
		} else if t, err := parseTime(in.LastStatusChangeAt); err == nil {
			m.ResolvedAt = t
		}
	}
	switch m.Status {
	case "resolved":
		need = m.AcknowledgedAt.IsZero() || m.ResolvedAt.IsZero()
	case "acknowledged":
		need = m.AcknowledgedAt.IsZero()
	}
	return m, need, nil
}

// timeLayouts are the forms PagerDuty times come in: ISO 8601 with Z or an
// offset (with or without a colon), with or without fractional seconds;
// without a zone they are UTC (analytics answers use that form).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999",
}

// parseTime parses a PagerDuty time and returns it in UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}
