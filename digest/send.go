package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	gomail "github.com/wneessen/go-mail"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/store"
)

// ErrConfig: the digest cannot be sent as configured (no recipients, no
// sender, no SMTP host, an invalid address, plain SMTP to a remote host).
// Commands map it to exit code 2.
var ErrConfig = errors.New("digest is not configured")

// DefaultAttempts is how many SMTP transactions one SendWeek call may start.
const DefaultAttempts = 4

// Mailer delivers one message.
type Mailer interface {
	Send(ctx context.Context, m *gomail.Msg) error
}

// SMTP is the Mailer for `digest.smtp`.
//
//   - tls: starttls  STARTTLS is mandatory: a server that does not offer it
//     is an error, never a fallback to plain text.
//   - tls: tls       implicit TLS from the first byte (port 465).
//   - tls: none      plain text, refused here for anything but a loopback
//     host (config validation refuses it too).
//
// SMTP AUTH is used when Username is set, with the strongest mechanism
// the server offers (PLAIN only over TLS, or to localhost).
type SMTP struct {
	Config config.SMTPConfig
	// TLSConfig replaces the default TLS settings (system roots, server
	// name = Host, TLS 1.2 or later). Tests use it for a private CA.
	TLSConfig *tls.Config
	// Timeout for connecting and each command (default 30 s).
	Timeout time.Duration
}

// Addr is host:port.
func (s *SMTP) Addr() string {
	return net.JoinHostPort(s.Config.Host, strconv.Itoa(s.port()))
}

func (s *SMTP) port() int {
	if s.Config.Port > 0 {
		return s.Config.Port
	}
	if s.Config.TLS == "tls" {
		return 465
	}
	return 587
}

// check refuses settings that would send mail or a password in the clear
// to another machine.
func (s *SMTP) check() error {
	c := s.Config
	if c.Host == "" {
		return fmt.Errorf("%w: digest.smtp.host is not set", ErrConfig)
	}
	if strings.ContainsAny(c.Host, " /\r\n\t") {
		return fmt.Errorf("%w: digest.smtp.host %q is not a host name", ErrConfig, c.Host)
	}
	switch c.TLS {
	case "", "starttls", "tls":
	case "none":
		if !isLoopback(c.Host) {
			return fmt.Errorf("%w: digest.smtp.tls none is only allowed for localhost, not %q (it would send the mail and password in clear text)", ErrConfig, c.Host)
		}
	default:
		return fmt.Errorf("%w: digest.smtp.tls %q: want starttls, tls or none", ErrConfig, c.TLS)
	}
	if strings.ContainsAny(c.Username, "\r\n") {
		return fmt.Errorf("%w: digest.smtp.username must be one line", ErrConfig)
	}
	return nil
}

// Send dials the server, sends m and hangs up.
func (s *SMTP) Send(ctx context.Context, m *gomail.Msg) error {
	if err := s.check(); err != nil {
		return err
	}
	c := s.Config
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{gomail.WithPort(s.port()), gomail.WithTimeout(timeout), gomail.WithTLSConfig(tc)}
	switch c.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if c.TLS == "none" {
			// Auto-discovery offers no plain-text mechanism without TLS;
			// PLAIN to a loopback server is what Go's smtp allows.
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password.Value()))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, m)
}

func isLoopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// MessageID is the digest's Message-ID (without angle brackets): stable
// for a week and a set of recipients, so a forced resend is recognisably
// the same digest.
func MessageID(week Week, from string, to []string) string {
	rcpts := slices.Clone(to)
	for i := range rcpts {
		rcpts[i] = strings.ToLower(strings.TrimSpace(rcpts[i]))
	}
	slices.Sort(rcpts)
	h := sha256.Sum256([]byte(strings.Join(rcpts, "\n")))
	domain := "impact.localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && validDomain(a.Address[i+1:]) {
			domain = strings.ToLower(a.Address[i+1:])
		}
	}
	return fmt.Sprintf("impact-digest-%s-%s@%s", week, hex.EncodeToString(h[:6]), domain)
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// headerSafe strips anything that could end a header line or inject
// another: control characters (CR, LF, …) become spaces.
func headerSafe(s string) string { return oneLine(s, 200) }

// parseAddress checks one configured address: a valid RFC 5322 address
// without control characters. It returns the bare address.
func parseAddress(field, s string) (string, error) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("%w: %s %q contains control characters", ErrConfig, field, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q is not an email address", ErrConfig, field, s)
	}
	return a.Address, nil
}

// Message builds the mail: From, To, Subject, Message-ID and Date headers,
// a multipart/alternative of text and HTML, and the charts inline with
// the Content-IDs the HTML refers to. Nothing collected reaches a header:
// the subject is the week and counts, and it is stripped of CR/LF anyway.
func Message(r *Rendered, from string, to []string, messageID string, date time.Time) (*gomail.Msg, error) {
	if len(to) == 0 {
		return nil, fmt.Errorf("%w: no recipients", ErrConfig)
	}
	fromAddr, err := parseAddress("digest.from", from)
	if err != nil {
		return nil, err
	}
	rcpts := make([]string, len(to))
	for i, a := range to {
		if rcpts[i], err = parseAddress("digest.to", a); err != nil {
			return nil, err
		}
	}
	m := gomail.NewMsg()
	if err := m.FromFormat("impact", fromAddr); err != nil {
		return nil, fmt.Errorf("%w: digest.from: %v", ErrConfig, err)
	}
	if err := m.To(rcpts...); err != nil {
		return nil, fmt.Errorf("%w: digest.to: %v", ErrConfig, err)
	}
	m.Subject(headerSafe(r.Subject))
	m.SetMessageIDWithValue(headerSafe(messageID))
	m.SetDateWithValue(date)
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, r.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	for _, img := range r.Images {
		if err := m.EmbedReader(img.Name, bytes.NewReader(img.PNG),
			gomail.WithFileContentID("<"+img.ContentID+">"),
			gomail.WithFileContentType(gomail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("digest: embedding %s: %w", img.Name, err)
		}
	}
	return m, nil
}

// Deps are what SendWeek uses, all injected. Config and Store are required.
type Deps struct {
	Config *config.Config
	Store  *store.Store
	// Analyze gives the drafter's regressions and unattributed shifts and
	// the series for the charts; nil leaves the shift sections out and
	// charts only stored series.
	Analyze Analyzer
	// Mailer sends the message; nil: SMTP from Config.Digest.SMTP.
	Mailer Mailer
	// Now is the clock; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// MaxAttempts is how many SMTP transactions one call may start
	// (default DefaultAttempts).
	MaxAttempts int
	// BackOff between failed attempts; nil: exponential from 2 s, at
	// most 1 min apart.
	BackOff backoff.BackOff
	// Command starts the accept/reject commands in the mail ("impact").
	Command string
}

// SendOptions select what SendWeek sends.
type SendOptions struct {
	// Week to send; zero: the last complete week in me.timezone.
	Week Week
	// To replaces digest.to.
	To []string
	// Force sends a week that was already sent (or left "sending").
	Force bool
}

// Outcome of SendWeek.
type Outcome string

const (
	OutcomeSent        Outcome = "sent"
	OutcomeSkipped     Outcome = "skipped"      // an empty week: recorded, not sent
	OutcomeAlreadySent Outcome = "already-sent" // sent (or sending) before: nothing done
)

// SendResult is what SendWeek did.
type SendResult struct {
	Week    Week
	Outcome Outcome
	// Record is the week's record in the store after the call.
	Record    store.DigestRecord
	Digest    *Digest // nil when already sent
	Subject   string
	MessageID string
	To        []string
}

// SendError is a failed SMTP delivery.
type SendError struct {
	Addr string // host:port
	Err  error
	// Temporary: worth retrying (network errors, 4xx replies).
	Temporary bool
}

func (e *SendError) Error() string { return "digest: smtp " + e.Addr + ": " + describe(e.Err) }
func (e *SendError) Unwrap() error { return e.Err }

// SendWeek sends one week's digest, at most once:
//
//   - a week recorded as sent or sending is not sent again unless
//     opts.Force (OutcomeAlreadySent, no error);
//   - an empty week is recorded as skipped and not sent;
//   - otherwise "sending" is recorded before each SMTP transaction and
//     "sent" after the server accepted the message. A failure is recorded
//     as "failed" with its error and retried with backoff, up to
//     MaxAttempts transactions; permanent failures (5xx replies, TLS and
//     authentication errors) are not retried. When the server may have
//     accepted the message without confirming it, the week stays
//     "sending" and is not retried: a second copy is worse than none.
//
// The daemon calls it on `digest.schedule` with the zero week.
func SendWeek(ctx context.Context, deps Deps, opts SendOptions) (*SendResult, error) {
	cfg, st := deps.Config, deps.Store
	if cfg == nil || st == nil {
		return nil, errors.New("digest: SendWeek needs a config and a store")
	}
	now := time.Now
	if deps.Now != nil {
		now = deps.Now
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	week := opts.Week
	if week.IsZero() {
		week = LastCompleteWeek(now(), cfg.Location())
	}
	res := &SendResult{Week: week}

	// Addresses and server first: a config problem is reported before
	// anything is recorded.
	to := opts.To
	if len(to) == 0 {
		to = cfg.Digest.To
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("%w: no recipients: set digest.to in %s or give --to", ErrConfig, configName(cfg))
	}
	from := cfg.Digest.From
	if from == "" {
		from = cfg.Me.Email
	}
	if from == "" {
		return nil, fmt.Errorf("%w: no sender: set digest.from (or me.email) in %s", ErrConfig, configName(cfg))
	}
	if _, err := parseAddress("digest.from", from); err != nil {
		return nil, err
	}
	for _, a := range to {
		if _, err := parseAddress("digest.to", a); err != nil {
			return nil, err
		}
	}
	mailer := deps.Mailer
	addr := "mailer"
	if mailer == nil {
		s := &SMTP{Config: cfg.Digest.SMTP}
		if err := s.check(); err != nil {
			return nil, err
		}
		mailer = s
	}
	if s, ok := mailer.(*SMTP); ok {
		addr = s.Addr()
	} else if a, ok := mailer.(interface{ Addr() string }); ok {
		addr = a.Addr()
	}
	res.To = slices.Clone(to)
	res.MessageID = MessageID(week, from, to)

	if rec, err := st.Digest(ctx, week.String()); err == nil && rec.State.Done() && !opts.Force {
		res.Outcome, res.Record = OutcomeAlreadySent, rec
		return res, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}

	in, err := Gather(ctx, cfg, st, week, now(), deps.Analyze)
	if err != nil {
		return nil, err
	}
	in.Command = deps.Command
	d := Build(in)
	res.Digest, res.Subject = d, d.Subject()
	if d.Empty() {
		rec, err := st.UpdateDigest(ctx, week.String(), func(rec *store.DigestRecord, exists bool) error {
			if exists && rec.State.Done() && !opts.Force {
				return store.ErrDigestDone
			}
			rec.State, rec.LastError = store.DigestSkipped, ""
			return nil
		})
		if errors.Is(err, store.ErrDigestDone) {
			res.Outcome = OutcomeAlreadySent
			res.Record, _ = st.Digest(ctx, week.String())
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		log.Info("digest: nothing moved; week skipped", "week", week.String())
		res.Outcome, res.Record = OutcomeSkipped, rec
		return res, nil
	}

	r, err := Render(d)
	if err != nil {
		return nil, err
	}
	msg, err := Message(r, from, to, res.MessageID, now())
	if err != nil {
		return nil, err
	}

	attempts := deps.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	bo := deps.BackOff
	if bo == nil {
		e := backoff.NewExponentialBackOff()
		e.InitialInterval, e.MaxInterval = 2*time.Second, time.Minute
		bo = e
	}
	errDone := errors.New("already sent")
	attempt := 0
	op := func() (store.DigestRecord, error) {
		attempt++
		if _, err := st.ClaimDigest(ctx, week.String(), res.MessageID, to, opts.Force && attempt == 1); err != nil {
			if errors.Is(err, store.ErrDigestDone) {
				return store.DigestRecord{}, backoff.Permanent(errDone)
			}
			return store.DigestRecord{}, backoff.Permanent(err)
		}
		msg.SetDateWithValue(now())
		sendErr := mailer.Send(ctx, msg)
		if sendErr == nil || msg.IsDelivered() {
			if sendErr != nil {
				log.Warn("digest: the server accepted the message, then the connection failed", "week", week.String(), "err", sendErr)
			}
			rec, err := st.RecordDigest(context.WithoutCancel(ctx), week.String(), store.DigestSent, "")
			if err != nil {
				return rec, backoff.Permanent(fmt.Errorf("digest: the message was sent but recording it failed: %w", err))
			}
			return rec, nil
		}
		if errors.Is(sendErr, ErrConfig) {
			_, _ = st.RecordDigest(context.WithoutCancel(ctx), week.String(), store.DigestFailed, sendErr.Error())
			return store.DigestRecord{}, backoff.Permanent(sendErr)
		}
		se := &SendError{Addr: addr, Err: sendErr, Temporary: temporary(sendErr)}
		if ambiguous(sendErr) {
			// The server may have the message: keep "sending" so that
			// nothing resends it automatically.
			_, _ = st.RecordDigest(context.WithoutCancel(ctx), week.String(), store.DigestSending,
				"outcome unknown (the server did not confirm the message): "+se.Error())
			return store.DigestRecord{}, backoff.Permanent(se)
		}
		if _, err := st.RecordDigest(context.WithoutCancel(ctx), week.String(), store.DigestFailed, se.Error()); err != nil {
			return store.DigestRecord{}, backoff.Permanent(errors.Join(se, err))
		}
		if !se.Temporary {
			return store.DigestRecord{}, backoff.Permanent(se)
		}
		return store.DigestRecord{}, se
	}
	rec, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(uint(attempts)),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			log.Warn("digest: send failed; retrying", "week", week.String(), "in", wait.Round(time.Millisecond), "err", err)
		}))
	var perm *backoff.PermanentError
	if errors.As(err, &perm) { // the last try's error comes back still wrapped
		err = perm.Unwrap()
	}
	if errors.Is(err, errDone) {
		res.Outcome = OutcomeAlreadySent
		res.Record, _ = st.Digest(ctx, week.String())
		return res, nil
	}
	if err != nil {
		res.Record, _ = st.Digest(context.WithoutCancel(ctx), week.String())
		return res, err
	}
	res.Outcome, res.Record = OutcomeSent, rec
	log.Info("digest: sent", "week", week.String(), "to", strings.Join(to, ", "), "message_id", res.MessageID, "attempts", rec.Attempts)
	return res, nil
}

func configName(cfg *config.Config) string {
	if cfg.File != "" {
		return cfg.File
	}
	return "the config"
}

// smtpCode is the SMTP reply code in err, 0 if there is none.
func smtpCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if c := se.ErrorCode(); c != 0 {
			return c
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// temporary reports whether retrying err may help: network errors and 4xx
// replies, but not 5xx replies, TLS or certificate problems.
func temporary(err error) bool {
	if code := smtpCode(err); code != 0 {
		return code < 500
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var rh tls.RecordHeaderError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &rh) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"does not support STARTTLS", "SMTP AUTH", "not supported", "tls:"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// ambiguous reports whether the message may have been accepted although
// the send failed: the final "." went out but no reply came back.
func ambiguous(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.Reason == gomail.ErrSMTPDataClose && se.ErrorCode() == 0
	}
	return false
}

// describe is err as one short line, without go-mail's wrapping.
func describe(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ", affected message ID:"); i >= 0 {
		msg = msg[:i]
	}
	for _, p := range []string{"dial failed: ", "send failed: ", "failed to dial to SMTP server: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	msg = strings.ReplaceAll(msg, "SMTP AUTH failed: ", "authentication failed: ")
	if strings.Contains(msg, "does not support STARTTLS") {
		msg = "the server does not offer STARTTLS, which digest.smtp.tls: starttls requires"
	}
	return oneLine(msg, 300)
}

// Sender is what the daemon calls on digest.schedule: it satisfies
// internal/daemon's Digester. The zero value works (no shift sections, SMTP
// from the config); set Analyze to list regressions and unattributed
// shifts (internal/cmd/digest.NewSender does).
type Sender struct {
	// Analyze returns the analyzer for a config and store; nil: none.
	Analyze func(cfg *config.Config, st *store.Store, now func() time.Time) Analyzer
	Logger  *slog.Logger
	// Mailer, MaxAttempts and BackOff as in Deps.
	Mailer      Mailer
	MaxAttempts int
	BackOff     backoff.BackOff
}

// SendWeek sends the digest of the last complete week before now (in
// me.timezone), at most once. A week already sent, or empty, is not an
// error.
func (s *Sender) SendWeek(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) error {
	deps := Deps{Config: cfg, Store: st, Mailer: s.Mailer, Logger: s.Logger, MaxAttempts: s.MaxAttempts, BackOff: s.BackOff}
	if s.Analyze != nil {
		deps.Analyze = s.Analyze(cfg, st, time.Now)
	}
	res, err := SendWeek(ctx, deps, SendOptions{Week: LastCompleteWeek(now, cfg.Location())})
	if err != nil {
		return err
	}
	if res.Outcome == OutcomeAlreadySent && s.Logger != nil {
		s.Logger.Info("digest: already sent", "week", res.Week.String(), "state", string(res.Record.State))
	}
	return nil
}
