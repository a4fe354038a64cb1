package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/daemonauth"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/version"
	"github.com/impact-dev/impact/store"
)

// Client is a Backend that talks to the daemon's local API. It sends
// nothing (no token, no request) to a daemon it cannot trust: on a unix
// socket the process listening must be this user's (PeerUID); over TCP the
// daemon must first answer a challenge with the store's secret
// (daemonauth), which only a process that can read the store can do.
type Client struct {
	addr      string // as configured, for messages
	base      string // scheme and host of the requests
	token     string
	tcp       bool
	storePath string
	hc        *http.Client
	// RequestTimeout bounds every call but Collect and RunDrafter; default 60s.
	RequestTimeout time.Duration
	// WantUID is the uid the process behind a unix socket must run as;
	// default os.Getuid() (tests change it to stand for another user).
	WantUID int

	mu       sync.Mutex
	verified bool
}

var _ Backend = (*Client)(nil)

// UntrustedError is the client's refusal to talk to a daemon it cannot
// trust (another user's socket, a TCP listener that cannot prove it holds
// the store).
type UntrustedError struct {
	Addr string
	Why  string
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("refusing to talk to the daemon at %s: %s (it was sent neither your token nor any request for data)", e.Addr, e.Why)
}

// NewClient returns a client of the daemon listening at sc.Listen, sending
// sc.Token as a bearer token when it is set. storePath is the store the
// daemon must prove it holds when sc.Listen is TCP.
func NewClient(sc config.ServerConfig, storePath string) *Client {
	network, address := sc.Network()
	tr := &http.Transport{
		Proxy:               nil, // the daemon is local: never through a proxy
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	c := &Client{addr: sc.Listen, token: sc.Token.Value(), storePath: storePath, RequestTimeout: 60 * time.Second, WantUID: os.Getuid()}
	c.base = "http://" + address
	if network == "unix" {
		c.base = "http://impact.sock"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "unix", address)
			if err != nil {
				return nil, err
			}
			if err := c.checkPeer(conn); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		}
	} else {
		c.tcp = true
		tr.DialContext = d.DialContext
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c
}

// checkPeer refuses a unix socket whose listening process is not this
// user's.
func (c *Client) checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return &UntrustedError{Addr: c.addr, Why: "not a unix socket connection"}
	}
	uid, err := daemonauth.PeerUID(uc)
	if err != nil {
		return &UntrustedError{Addr: c.addr, Why: fmt.Sprintf("cannot tell who listens on the socket (%v)", err)}
	}
	if uid != c.WantUID {
		return &UntrustedError{Addr: c.addr, Why: fmt.Sprintf("the process listening on the socket runs as uid %d, not as you (uid %d)", uid, c.WantUID)}
	}
	return nil
}

// verify makes a TCP daemon prove it holds the store, once per client,
// before the first request that carries a token or reads data.
func (c *Client) verify(ctx context.Context) error {
	if !c.tcp {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verified {
		return nil
	}
	if c.storePath == "" {
		return &UntrustedError{Addr: c.addr, Why: "no store to check it against"}
	}
	secret, err := daemonauth.Read(c.storePath)
	if err != nil {
		return &UntrustedError{Addr: c.addr, Why: fmt.Sprintf("cannot check that it holds the store (%v)", err)}
	}
	nonce, err := daemonauth.NewNonce()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathHello+"?nonce="+nonce, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "impact-cli/"+version.String())
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		if ue, ok := errors.AsType[*UntrustedError](err); ok {
			return ue
		}
		return fmt.Errorf("daemon at %s: %s", c.addr, shortNetErr(err))
	}
	defer resp.Body.Close()
	var hr HelloResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&hr) != nil || !daemonauth.Verify(secret, nonce, hr.Proof) {
		return &UntrustedError{Addr: c.addr, Why: fmt.Sprintf("it could not prove it holds the store %s (another program may be listening there)", c.storePath)}
	}
	c.verified = true
	return nil
}

// Addr is the daemon's address as configured.
func (c *Client) Addr() string { return c.addr }

func (c *Client) Where() string { return "the daemon at " + c.addr }

func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// do sends a request and decodes a JSON answer into out (when non-nil).
// A zero timeout leaves only ctx.
func (c *Client) do(ctx context.Context, timeout time.Duration, method, path string, query url.Values, in, out any) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := c.verify(ctx); err != nil {
		return err
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "impact-cli/"+version.String())
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		if ue, ok := errors.AsType[*UntrustedError](err); ok {
			return ue
		}
		return fmt.Errorf("daemon at %s: %s", c.addr, shortNetErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb ErrorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error != "" {
			return &RemoteError{Msg: eb.Error, Kind: eb.Kind, Status: resp.StatusCode}
		}
		return &RemoteError{Msg: fmt.Sprintf("daemon at %s: %s: %s", c.addr, resp.Status, strings.TrimSpace(string(raw))), Status: resp.StatusCode}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if read, ok := out.(bodyReader); ok {
		err = read(resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("daemon at %s: bad answer to %s %s: %w", c.addr, method, path, err)
	}
	return nil
}

// shortNetErr drops the method and URL Go puts in front of a transport
// error ("Get \"http://…\": dial unix …: connect: no such file…").
func shortNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// Info asks the daemon who it is; it is what Factory.Backend uses to tell
// that a daemon answers.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var info Info
	err := c.do(ctx, 2*time.Second, http.MethodGet, PathInfo, nil, nil, &info)
	return info, err
}

// UILogin asks the daemon for a one-time login link to its review page.
func (c *Client) UILogin(ctx context.Context) (string, error) {
	var r UILoginResponse
	err := c.do(ctx, 5*time.Second, http.MethodPost, PathUILogin, nil, struct{}{}, &r)
	return r.URL, err
}

func (c *Client) DraftsJSON(ctx context.Context, f store.DraftFilter) ([]json.RawMessage, error) {
	var raws []json.RawMessage
	if err := c.do(ctx, c.RequestTimeout, http.MethodGet, PathDrafts, EncodeFilter(f), nil, &raws); err != nil {
		return nil, err
	}
	return raws, nil
}

// bodyReader, passed to do as out, reads the answer's body itself.
type bodyReader func(io.Reader) error

// errStop wraps an error of the caller's fn, which do must return as is.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// EachDraftJSON reads the daemon's draft list as a stream: one draft in
// memory at a time.
func (c *Client) EachDraftJSON(ctx context.Context, f store.DraftFilter, fn func(raw []byte) error) error {
	err := c.do(ctx, c.RequestTimeout, http.MethodGet, PathDrafts, EncodeFilter(f), nil, bodyReader(func(r io.Reader) error {
		dec := json.NewDecoder(r)
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return fmt.Errorf("want a JSON array (%v)", err)
		}
		var raw json.RawMessage
		for dec.More() {
			raw = raw[:0]
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if err := fn(raw); err != nil {
				return errStop{err}
			}
		}
		_, err := dec.Token()
		return err
	}))
	if stop, ok := errors.AsType[errStop](err); ok {
		return stop.err
	}
	return err
}

func (c *Client) Drafts(ctx context.Context, f store.DraftFilter) ([]model.Draft, error) {
	var ds []model.Draft
	if err := c.do(ctx, c.RequestTimeout, http.MethodGet, PathDrafts, EncodeFilter(f), nil, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func draftPath(id string, suffix string) string {
	return PathDrafts + "/" + url.PathEscape(id) + suffix
}

func (c *Client) Draft(ctx context.Context, id string) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodGet, draftPath(id, ""), nil, nil, &d)
	return d, err
}

func (c *Client) Decide(ctx context.Context, id string, status model.Status, text, reason string, at time.Time) (model.Draft, error) {
	var verb string
	switch status {
	case model.StatusAccepted:
		verb = "/accept"
	case model.StatusRejected:
		verb = "/reject"
	default:
		// The store's own message for a status the API has no verb for.
		return model.Draft{}, fmt.Errorf("store: deciding draft %q: unknown status %q (want accepted or rejected)", id, status)
	}
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodPost, draftPath(id, verb), nil, DecideRequest{Text: text, Reason: reason, At: at}, &d)
	return d, err
}

func (c *Client) Undo(ctx context.Context, id string) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodPost, draftPath(id, "/undo"), nil, struct{}{}, &d)
	return d, err
}

func (c *Client) EditText(ctx context.Context, id, text string) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodPost, draftPath(id, "/text"), nil, EditRequest{Text: text}, &d)
	return d, err
}

func winPath(id string) string { return PathWins + "/" + url.PathEscape(id) }

func (c *Client) AddWin(ctx context.Context, w store.Win) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodPost, PathWins, nil, w, &d)
	return d, err
}

func (c *Client) UpdateWin(ctx context.Context, id string, w store.Win) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodPost, winPath(id), nil, w, &d)
	return d, err
}

func (c *Client) DeleteWin(ctx context.Context, id string) (model.Draft, error) {
	var d model.Draft
	err := c.do(ctx, c.RequestTimeout, http.MethodDelete, winPath(id), nil, nil, &d)
	return d, err
}

func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, c.RequestTimeout, http.MethodGet, PathStatus, nil, nil, &s)
	return s, err
}

// Collect asks the daemon to collect now and waits for it; progress is not
// reported through the API.
func (c *Client) Collect(ctx context.Context, req CollectRequest, _ collectors.Progress) ([]SourceResult, error) {
	var resp CollectResponse
	if err := c.do(ctx, 0, http.MethodPost, PathCollect, nil, req, &resp); err != nil {
		return nil, err
	}
	if resp.Results == nil {
		resp.Results = []SourceResult{}
	}
	if resp.Error != "" {
		return resp.Results, errors.New(resp.Error)
	}
	return resp.Results, nil
}

func (c *Client) RunDrafter(ctx context.Context, req DraftRequest) (DraftSummary, error) {
	var s DraftSummary
	err := c.do(ctx, 0, http.MethodPost, PathDraft, nil, req, &s)
	return s, err
}

// Explain asks the daemon to explain one series.
func (c *Client) Explain(ctx context.Context, req ExplainRequest) (drafter.Explanation, error) {
	q := url.Values{"metric": {req.Metric}}
	if !req.At.IsZero() {
		q.Set("at", req.At.UTC().Format(time.RFC3339))
	}
	var ex drafter.Explanation
	err := c.do(ctx, 0, http.MethodGet, PathExplain, q, nil, &ex)
	return ex, err
}

// DigestPreview asks the daemon to render a week's digest.
func (c *Client) DigestPreview(ctx context.Context, req DigestPreviewRequest) (DigestPreview, error) {
	q := url.Values{}
	if req.Week != "" {
		q.Set("week", req.Week)
	}
	if req.Command != "" {
		q.Set("command", req.Command)
	}
	if req.HTML {
		q.Set("html", "1")
	}
	var p DigestPreview
	err := c.do(ctx, 0, http.MethodGet, PathDigestPreview, q, nil, &p)
	return p, err
}

// SendDigest asks the daemon to send a week's digest and waits for the
// outcome (retries included). req.Mailer and req.BackOff are not sent:
// the daemon uses its own SMTP settings.
func (c *Client) SendDigest(ctx context.Context, req DigestSendRequest) (DigestSendResult, error) {
	var res DigestSendResult
	err := c.do(ctx, 0, http.MethodPost, PathDigestSend, nil, req, &res)
	return res, err
}
