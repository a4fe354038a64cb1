// Package ui is the review page: a few server-rendered pages (html/template,
// one small hand-written script, no build step, everything embedded) where
// the user looks at a draft's evidence and decides in seconds.
//
// Access works like Jupyter's: the page listens on loopback TCP only; the
// first visit needs a one-time login link (LoginURL, which `impact review`
// prints or opens), which sets an HttpOnly, SameSite=Strict session cookie;
// every form carries the session's CSRF token; requests addressed to a Host
// other than a loopback name (or ui.public_url's host) and requests whose
// Origin is another origin are refused; the answers carry a Content
// Security Policy that allows only the page's own script and style, and no
// framing. Text collected from PRs, metrics and the config is untrusted:
// html/template escapes it, and bidi control characters are removed.
package ui

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/server"
)

//go:embed assets
var assets embed.FS

// Options configure the review page.
type Options struct {
	// Backend reads and decides drafts and answers Status.
	Backend backend.Backend
	// Config is the current config (me.name, me.timezone, the sources,
	// the digest schedule, ui.public_url).
	Config func() *config.Config
	// Series returns the samples of a draft's series around its shift for
	// the chart; weekly marks per-event counts shown as per-week rates.
	// Nil: no charts. See StoreData.
	Series func(ctx context.Context, d model.Draft) (samples []model.Sample, weekly bool, err error)
	// Explain, when set, returns what `impact explain` knows about the
	// draft's shift: every shift found near it, its candidates and the
	// verdicts (nil: the series is not known). See StoreData.
	Explain func(ctx context.Context, d model.Draft) (*drafter.Explanation, error)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Server is the review page of one daemon (or one `impact review`).
type Server struct {
	o    Options
	tmpl *template.Template

	lastSize atomic.Int64 // the last page's size, to size the next buffer

	mu       sync.Mutex
	logins   map[string]time.Time // sha256 of one-time login tokens → expiry
	sessions map[string]*session  // sha256 of session ids
	undo     []undoEntry
}

type session struct {
	csrf    string
	expires time.Time
	created time.Time
}

// undoEntry is one change made on the page: a decision (undone with the
// store's Undo, which also restores a text the decision replaced) or a text
// edit (undone by putting the text back).
type undoEntry struct {
	id       string
	decision bool
	text     string // the text before an edit
}

const (
	cookieName   = "impact_session"
	loginTTL     = time.Hour
	sessionTTL   = 30 * 24 * time.Hour
	maxSessions  = 32
	maxLogins    = 32
	maxUndo      = 200
	maxFormBytes = 64 << 10
)

// New returns the review page's server.
func New(o Options) (*Server, error) {
	if o.Backend == nil {
		return nil, errors.New("ui: no backend")
	}
	if o.Config == nil {
		cfg := config.Default()
		o.Config = func() *config.Config { return cfg }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t, err := template.New("ui").Funcs(funcs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	return &Server{
		o: o, tmpl: t,
		logins:   map[string]time.Time{},
		sessions: map[string]*session{},
	}, nil
}

// Handler serves the pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	fileServer := http.FileServerFS(static)
	mux.Handle("GET /assets/{file}", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".js") && !strings.HasSuffix(r.URL.Path, ".css") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /login", s.login)
	mux.Handle("POST /logout", s.authed(s.logout))
	mux.Handle("GET /{$}", s.authed(s.inbox))
	mux.Handle("GET /drafts/{id}", s.authed(s.draftPage))
	mux.Handle("POST /drafts/{id}/accept", s.authed(s.decide(actionAccept)))
	mux.Handle("POST /drafts/{id}/reject", s.authed(s.decide(actionReject)))
	mux.Handle("POST /drafts/{id}/edit", s.authed(s.decide(actionEdit)))
	mux.Handle("POST /undo", s.authed(s.undoLast))
	mux.Handle("GET /period", s.authed(s.period))
	mux.Handle("GET /period.md", s.authed(s.periodMarkdown))
	mux.Handle("GET /status", s.authed(s.statusPage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "No such page: "+r.URL.Path)
	})
	return s.guard(mux)
}

// LoginURL mints a one-time login link on base (e.g. http://127.0.0.1:7879),
// valid for an hour.
func (s *Server) LoginURL(base string) string {
	tok := randomToken()
	s.mu.Lock()
	now := s.o.Now()
	for k, exp := range s.logins {
		if now.After(exp) {
			delete(s.logins, k)
		}
	}
	if len(s.logins) >= maxLogins { // forget the oldest
		var oldest string
		for k, exp := range s.logins {
			if oldest == "" || exp.Before(s.logins[oldest]) {
				oldest = k
			}
		}
		delete(s.logins, oldest)
	}
	s.logins[hash(tok)] = now.Add(loginTTL)
	s.mu.Unlock()
	return strings.TrimSuffix(base, "/") + "/login?token=" + url.QueryEscape(tok)
}

// securityHeaders: nothing is framed, nothing loads from elsewhere, nothing
// is shared with another origin.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // not no-referrer: that makes form POSTs say "Origin: null"
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// guard applies the Host and Origin checks and the security headers.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if !s.hostAllowed(r.Host) {
			http.Error(w, "the review page answers only requests addressed to a loopback host (or ui.public_url)", http.StatusForbidden)
			return
		}
		navigation := r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Mode") == "navigate"
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" && !navigation {
			http.Error(w, "cross-origin requests are not allowed", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(o, r.Host) {
			http.Error(w, "cross-origin requests are not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) publicURL() *url.URL {
	if pu := s.o.Config().UI.PublicURL; pu != "" {
		if u, err := url.Parse(pu); err == nil && u.Host != "" {
			return u
		}
	}
	return nil
}

func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if server.IsLoopback(host) {
		return true
	}
	pu := s.publicURL()
	return pu != nil && strings.EqualFold(pu.Host, hostport)
}

func (s *Server) sameOrigin(origin, host string) bool {
	if strings.EqualFold(origin, "http://"+host) {
		return true
	}
	pu := s.publicURL()
	return pu != nil && strings.EqualFold(origin, pu.Scheme+"://"+pu.Host)
}

// authed requires a session; POSTs also require its CSRF token.
func (s *Server) authed(fn func(w http.ResponseWriter, r *http.Request, sess *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.session(r)
		if sess == nil {
			if r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
				// A link followed from another site (the digest in a
				// webmail) arrives without the SameSite=Strict cookie; one
				// same-origin reload brings it along.
				w.Header().Set("Cache-Control", "no-store")
				s.render(w, r, http.StatusOK, "bounce", pageData{Title: "impact", Bounce: r.URL.RequestURI()})
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			s.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in — impact"})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, r, http.StatusBadRequest, "bad form: "+err.Error())
				return
			}
			if !equal(r.PostForm.Get("csrf"), sess.csrf) {
				s.errorPage(w, r, http.StatusForbidden, "The form's CSRF token is missing or wrong: reload the page and try again.")
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		fn(w, r, sess)
	})
}

func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[hash(c.Value)]
	if !ok || s.o.Now().After(sess.expires) {
		return nil
	}
	return sess
}

// login turns a one-time token into a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	tok := r.URL.Query().Get("token")
	now := s.o.Now()
	s.mu.Lock()
	exp, ok := s.logins[hash(tok)]
	if ok {
		delete(s.logins, hash(tok)) // one time only
	}
	if !ok || tok == "" || now.After(exp) {
		s.mu.Unlock()
		s.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in — impact", Message: "This login link is not valid (each link works once, for an hour)."})
		return
	}
	id := randomToken()
	if len(s.sessions) >= maxSessions {
		var oldest string
		for k, v := range s.sessions {
			if oldest == "" || v.created.Before(s.sessions[oldest].created) {
				oldest = k
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[hash(id)] = &session{csrf: randomToken(), expires: now.Add(sessionTTL), created: now}
	s.mu.Unlock()
	pu := s.publicURL()
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: pu != nil && pu.Scheme == "https" && !server.IsLoopback(hostOnly(r.Host)),
		MaxAge: int(sessionTTL / time.Second),
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.sessions, hash(c.Value))
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	s.render(w, r, http.StatusOK, "login", pageData{Title: "Logged out — impact", Message: "Logged out."})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
