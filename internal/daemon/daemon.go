// Package daemon is `impact serve`: it polls every configured source on
// its interval (with jitter, and exponential backoff while a source fails),
// runs the drafter when new data arrives, sends the digest on schedule, and
// serves the local API (package server) until told to stop.
//
// The pieces run as an oklog/run group: the API server, the scheduler (one
// goroutine per source), the drafter, the digest cron, the SIGHUP reloader
// and the context that SIGTERM/SIGINT cancel. When any of them stops, all
// stop; the store is closed last, after the transaction in flight has
// committed or rolled back.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/daemonauth"
	"github.com/impact-dev/impact/internal/version"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/server/ui"
	"github.com/impact-dev/impact/store"
)

// Digester sends the weekly digest. It is the hook for package digest: the
// daemon calls SendWeek on digest.schedule (cron, in me.timezone) when a
// Digester is set and digest.to is configured. A nil Digester disables the
// schedule.
type Digester interface {
	SendWeek(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) error
}

// Options tune the daemon; the zero value is production's.
type Options struct {
	// ConfigPath is re-read on SIGHUP.
	ConfigPath string
	// LoadConfig loads and validates a config; default config.Load.
	LoadConfig func(path string) (*config.Config, error)
	Logger     *slog.Logger
	// Registry returns the collectors; default all.Registry.
	Registry func() *collectors.Registry
	// Digester sends digests; nil: no digests (see Digester).
	Digester Digester

	// BackoffBase is the first wait after a failed poll, doubling with each
	// further failure up to BackoffMax (but never below the source's own
	// interval once it has grown past it). Defaults 1m and 1h.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Jitter spreads polls: each wait is the interval ± Jitter×interval.
	// Default 0.1; negative disables.
	Jitter float64
	// StartJitter is the longest random delay before a source's first poll;
	// default 5s; negative disables.
	StartJitter time.Duration
	// ShutdownGrace bounds how long in-flight API requests may take to
	// finish at shutdown; default 5s.
	ShutdownGrace time.Duration
	// HTTPOptions adjusts the vendors' HTTP clients (tests).
	HTTPOptions func(o *collectors.HTTPOptions)
	// PollTimeout is the deadline of one poll of one source; default
	// collect.poll_timeout, else DefaultPollTimeout. What the poll stored before it stays; the next
	// poll resumes.
	PollTimeout time.Duration
	// Hangup delivers reload requests; nil subscribes to SIGHUP.
	Hangup <-chan os.Signal
	// OnReady is called once the API is serving, with its address.
	OnReady func(addr net.Addr)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = all.Registry
	}
	if o.LoadConfig == nil {
		o.LoadConfig = o.Registry().Load
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Minute
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.Jitter == 0 {
		o.Jitter = 0.1
	}
	if o.StartJitter == 0 {
		o.StartJitter = 5 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 5 * time.Second
	}
}

// DefaultPollTimeout is Options.PollTimeout's default: long enough for a
// first poll of a busy source paced by its rate limit, short enough that
// a vendor looping its pagination stops within the hour.
const DefaultPollTimeout = 30 * time.Minute

// Daemon is one running `impact serve`.
type Daemon struct {
	o       Options
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config]
	st      *store.Store
	reg     *collectors.Registry
	m       *metrics
	stats   *collectors.Stats
	started time.Time
	ready   atomic.Bool

	budgetsMu sync.Mutex
	budgets   map[string]*collectors.Budget

	locksMu sync.Mutex
	locks   map[string]*sync.Mutex // one per source: a poll at a time

	draftMu  sync.Mutex
	draftReq chan struct{}

	reloaded     chan struct{} // wakes the scheduler after a reload
	digestReload chan struct{} // restarts the digest cron after a reload
}

// Run serves until ctx is cancelled (SIGTERM, SIGINT) or a component fails.
// It returns nil after a clean shutdown.
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	o.defaults()
	d := &Daemon{
		o:            o,
		log:          o.Logger,
		reg:          o.Registry(),
		stats:        &collectors.Stats{},
		started:      time.Now().UTC(),
		budgets:      map[string]*collectors.Budget{},
		locks:        map[string]*sync.Mutex{},
		draftReq:     make(chan struct{}, 1),
		reloaded:     make(chan struct{}, 1),
		digestReload: make(chan struct{}, 1),
	}
	d.cfg.Store(cfg)
	if err := server.CheckListen(cfg.Server); err != nil {
		return err
	}

	// Open checks the store before use (a damaged one is ErrDamaged: serve
	// exits 3, which the systemd unit does not restart) and takes the day's
	// backup; backupLoop takes the next days'.
	st, err := store.Open(cfg.Store.Path, store.Options{Timeout: 2 * time.Second, Logger: d.log, Backups: store.DefaultBackups})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w; only one daemon can use a store", err)
		}
		return err
	}
	d.st = st
	defer func() {
		if err := st.Close(); err != nil {
			d.log.Error("closing the store", "err", err)
		} else {
			d.log.Info("store closed", "path", st.Path())
		}
	}()

	// The CLI checks that whoever answers on server.listen can read this
	// secret before it sends its token (internal/daemonauth).
	secret, err := daemonauth.Ensure(st.Path())
	if err != nil {
		return err
	}
	ln, cleanup, err := server.Listen(ctx, cfg.Server)
	if err != nil {
		return err
	}
	defer cleanup()

	reg := prometheus.NewRegistry()
	d.m = newMetrics(reg, d)
	local := &backend.Local{
		Store: st, KeepOpen: true, Logger: d.log,
		ConfigFunc:  d.config, // `digest preview|send` through the API
		CollectFunc: d.collectNow,
		DraftFunc:   d.draftNow,
	}
	page, pageLn, err := d.reviewPage(ctx, cfg, local)
	if err != nil {
		return err
	}
	var uiLogin func() (string, error)
	if pageLn != nil {
		defer pageLn.Close()
		base := "http://" + pageLn.Addr().String()
		uiLogin = func() (string, error) {
			if pu := d.config().UI.PublicURL; pu != "" {
				return page.LoginURL(pu), nil
			}
			return page.LoginURL(base), nil
		}
	}
	network, _ := cfg.Server.Network()
	host, _, _ := net.SplitHostPort(cfg.Server.Listen)
	handler := server.New(server.Options{
		Backend:     local,
		Info:        d.info,
		Token:       func() string { return d.config().Server.Token.Value() },
		CheckHost:   network == "tcp" && server.IsLoopback(host),
		Gatherer:    reg,
		Registerer:  reg,
		Ready:       d.readyErr,
		Logger:      d.log,
		UILogin:     uiLogin,
		Location:    func() *time.Location { return d.config().Location() },
		StoreSecret: secret,
		Recipients:  func() []string { return d.config().Digest.To },
	})
	baseCtx, baseCancel := context.WithCancel(context.Background())
	defer baseCancel()
	httpOpts := server.HTTPOptions{
		BaseContext: func(net.Listener) context.Context { return baseCtx },
		Logger:      d.log,
	}
	srv := server.NewHTTPServer(handler, httpOpts)

	var g run.Group
	{ // SIGTERM / SIGINT arrive as ctx's cancellation.
		cctx, cancel := context.WithCancel(ctx)
		g.Add(func() error {
			<-cctx.Done()
			if ctx.Err() != nil {
				d.log.Info("shutting down", "reason", context.Cause(ctx))
			}
			return nil
		}, func(error) { cancel() })
	}
	{ // The API.
		done := make(chan struct{})
		g.Add(func() error {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) {
				<-done
				return nil
			}
			return fmt.Errorf("serving the API: %w", err)
		}, func(error) {
			d.ready.Store(false)
			baseCancel() // running collections and drafts stop
			go func() {
				defer close(done)
				sctx, cancel := context.WithTimeout(context.Background(), d.o.ShutdownGrace)
				defer cancel()
				if err := srv.Shutdown(sctx); err != nil {
					d.log.Warn("API requests still running at shutdown were cut", "err", err)
					_ = srv.Close()
				}
			}()
		})
	}
	if pageLn != nil { // The review page.
		psrv := server.NewHTTPServer(page.Handler(), httpOpts)
		g.Add(func() error {
			if err := psrv.Serve(pageLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serving the review page: %w", err)
			}
			return nil
		}, func(error) {
			sctx, cancel := context.WithTimeout(context.Background(), d.o.ShutdownGrace)
			defer cancel()
			if err := psrv.Shutdown(sctx); err != nil {
				_ = psrv.Close()
			}
		})
	}
	{ // The scheduler.
		sctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return d.schedule(sctx) }, func(error) { cancel() })
	}
	{ // The drafter, run when new data arrived.
		dctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return d.drafterLoop(dctx) }, func(error) { cancel() })
	}
	{ // The digest schedule.
		dctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return d.digestLoop(dctx) }, func(error) { cancel() })
	}
	{ // A daily backup copy of the store (checked first).
		bctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return d.backupLoop(bctx) }, func(error) { cancel() })
	}
	{ // SIGHUP reloads the config.
		hup := o.Hangup
		if hup == nil {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, syscall.SIGHUP)
			defer signal.Stop(ch)
			hup = ch
		}
		hctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			for {
				select {
				case <-hctx.Done():
					return nil
				case <-hup:
					d.reload()
				}
			}
		}, func(error) { cancel() })
	}

	d.requestDraft() // drafts over what earlier runs stored
	d.ready.Store(true)
	d.log.Info("serving", "version", version.String(), "listen", cfg.Server.Listen, "store", st.Path(),
		"sources", d.sourceNames(cfg), "pid", os.Getpid())
	if o.OnReady != nil {
		o.OnReady(ln.Addr())
	}
	err = g.Run()
	d.ready.Store(false)
	if err != nil {
		d.log.Error("stopped", "err", err)
		return err
	}
	d.log.Info("stopped cleanly")
	return nil
}

func (d *Daemon) config() *config.Config { return d.cfg.Load() }

// reviewPage builds the review page and opens its listener on ui.listen.
// A page that cannot listen (the port is taken) is logged and left off:
// collecting matters more. ui.listen "off" (or empty) disables it.
func (d *Daemon) reviewPage(ctx context.Context, cfg *config.Config, be backend.Backend) (*ui.Server, net.Listener, error) {
	addr := cfg.UI.Listen
	if addr == "" || addr == "off" {
		return nil, nil, nil
	}
	sd := ui.NewStoreData(d.st, d.config, nil)
	page, err := ui.New(ui.Options{Backend: be, Config: d.config, Series: sd.Series, Explain: sd.Explain, Logger: d.log})
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		d.log.Error("the review page is off: could not listen on ui.listen (set another port, or off)", "ui.listen", addr, "err", err)
		return nil, nil, nil
	}
	d.log.Info("review page", "listen", ln.Addr().String(), "login", "impact review")
	return page, ln, nil
}

func (d *Daemon) info() backend.Info {
	cfg := d.config()
	return backend.Info{Version: version.String(), PID: os.Getpid(), Store: d.st.Path(), Started: d.started, Config: cfg.File}
}

func (d *Daemon) readyErr() error {
	if !d.ready.Load() {
		return errors.New("starting or shutting down")
	}
	return nil
}

// sourceNames lists the configured sources the registry knows, in
// registration order.
func (d *Daemon) sourceNames(cfg *config.Config) []string {
	return d.reg.Configured(cfg)
}

// carryBudget seeds a new client's budget b (not yet in use) with the
// vendor's last known state and makes b the one /metrics reports.
func (d *Daemon) carryBudget(vendor string, b *collectors.Budget) {
	if b == nil {
		return
	}
	d.budgetsMu.Lock()
	defer d.budgetsMu.Unlock()
	if prev, ok := d.budgets[vendor]; ok && prev != b {
		if limit, remaining, reset, known := prev.Snapshot(); known && !b.Known {
			b.Limit, b.Remaining, b.Reset, b.Known = limit, remaining, reset, true
		}
	}
	d.budgets[vendor] = b
}

func (d *Daemon) lock(source string) *sync.Mutex {
	d.locksMu.Lock()
	defer d.locksMu.Unlock()
	l, ok := d.locks[source]
	if !ok {
		l = &sync.Mutex{}
		d.locks[source] = l
	}
	return l
}

// pipeline returns a pipeline over the current config. Budgets and stats
// are the daemon's, so they survive reloads and feed /metrics.
func (d *Daemon) pipeline(cfg *config.Config) *app.Pipeline {
	return &app.Pipeline{
		Config: cfg, Store: d.st, Registry: d.reg, Logger: d.log,
		Limits: collectors.PollLimits{Timeout: cmp.Or(d.o.PollTimeout, cfg.Collect.PollTimeout.D(), DefaultPollTimeout)},
		HTTPOptions: func(o *collectors.HTTPOptions) {
			// The pipeline's budget (which it records with the run) starts
			// from what the vendor said last time, and /metrics follows it.
			d.carryBudget(o.Vendor, o.Budget)
			o.Stats = d.stats
			o.Logger = d.log
			if d.o.HTTPOptions != nil {
				d.o.HTTPOptions(o)
			}
		},
	}
}

// pollSource collects one source once (incrementally, or from req.Since),
// holding the source's lock, and records the outcome in the metrics.
func (d *Daemon) pollSource(ctx context.Context, cfg *config.Config, source string, since time.Time) (collectors.Result, error) {
	l := d.lock(source)
	l.Lock()
	defer l.Unlock()
	results, err := d.pipeline(cfg).Collect(ctx, app.CollectOptions{Source: source, Since: since})
	if len(results) == 0 {
		// Nothing ran: the collector could not even be built.
		r := collectors.Result{Source: source, Start: time.Now(), Err: err}
		if ctx.Err() == nil {
			d.m.observePoll(r)
		}
		return r, err
	}
	r := results[0]
	if r.Err == nil || ctx.Err() == nil {
		d.m.observePoll(r)
	}
	if r.Samples+r.Events > 1000 {
		debug.FreeOSMemory() // after a backfill: return its buffers to the OS
	}
	if r.Samples+r.Events > 0 {
		d.requestDraft()
	}
	return r, r.Err
}

// collectNow is the API's "collect": every configured source (or one),
// concurrently, each under its lock so it never overlaps a scheduled poll.
func (d *Daemon) collectNow(ctx context.Context, req backend.CollectRequest, _ collectors.Progress) ([]backend.SourceResult, error) {
	cfg := d.config()
	var names []string
	if req.Source != "" {
		names = []string{req.Source}
		if !slices.Contains(d.reg.Names(), req.Source) || !slices.Contains(cfg.ConfiguredSources(), req.Source) {
			// Let the pipeline word the error exactly as the CLI does.
			_, err := d.pipeline(cfg).Collect(ctx, app.CollectOptions{Source: req.Source, Since: req.Since})
			return nil, backend.Usage(err)
		}
	} else {
		names = d.sourceNames(cfg)
		if len(names) == 0 {
			return nil, backend.Usage(errors.New("no sources configured: add one under sources: in " + cfg.File))
		}
	}
	results := make([]collectors.Result, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			results[i], _ = d.pollSource(ctx, cfg, name, req.Since)
		})
	}
	wg.Wait()
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return backend.FromResults(results), errors.Join(errs...)
}

// draftNow runs the drafter (the API's "draft", and the drafter loop).
func (d *Daemon) draftNow(ctx context.Context, req backend.DraftRequest) (backend.DraftSummary, error) {
	d.draftMu.Lock()
	defer d.draftMu.Unlock()
	start := time.Now()
	s, err := d.draftPass(ctx, req)
	d.m.observeDraft(time.Since(start), err)
	// The pass's input and report are unreachable now: hand their memory
	// back to the OS at once rather than minutes later, since the daemon
	// mostly idles. (Freeing while the report is still referenced frees
	// nothing: every sample it read stays resident.) A pass that found
	// nothing to analyse read only the change log.
	if err != nil || s.Examined > 0 {
		debug.FreeOSMemory()
	}
	if err != nil {
		return backend.DraftSummary{}, err
	}
	d.log.Info("drafted", "series", s.Examined, "new", s.Added, "updated", s.Updated, "kept", s.Kept,
		"regressions", s.Regressions, "others", s.Unattributed, "duration", time.Since(start).Round(time.Millisecond))
	return s, nil
}

// draftPass runs one pass and keeps only its summary, so that nothing the
// pass read outlives it.
func (d *Daemon) draftPass(ctx context.Context, req backend.DraftRequest) (backend.DraftSummary, error) {
	rep, err := d.pipeline(d.config()).DraftWith(ctx, app.DraftOptions{Full: req.Full})
	if err != nil {
		return backend.DraftSummary{}, err
	}
	return backend.Summarize(rep), nil
}

// requestDraft asks the drafter loop for a pass; requests coalesce.
func (d *Daemon) requestDraft() {
	select {
	case d.draftReq <- struct{}{}:
	default:
	}
}

// backupLoop takes the day's backup copy of the store once an hour has
// passed into a new UTC day (store.DailyBackup is a no-op while today's
// copy exists). The check before each copy finding the store damaged stops
// the daemon with that error: writing on would bury the damage.
func (d *Daemon) backupLoop(ctx context.Context) error {
	for sleep(ctx, time.Hour) {
		name, err := d.st.DailyBackup(ctx, store.DefaultBackups)
		switch {
		case errors.Is(err, store.ErrDamaged):
			return err
		case err != nil && ctx.Err() == nil:
			d.log.Warn("no daily backup of the store", "err", err)
		case name != "":
			d.log.Info("daily backup of the store", "path", name)
		}
	}
	return nil
}

func (d *Daemon) drafterLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.draftReq:
		}
		// Let a burst of polls land before drafting once.
		if !sleep(ctx, 2*time.Second) {
			return nil
		}
		select { // the burst's own requests are served by this pass
		case <-d.draftReq:
		default:
		}
		if _, err := d.draftNow(ctx, backend.DraftRequest{}); err != nil && ctx.Err() == nil {
			d.log.Error("drafter failed", "err", err)
		}
	}
}

// reload re-reads the config file. A config that does not load, or that
// the daemon could not serve, is refused and the old one kept.
func (d *Daemon) reload() {
	old := d.config()
	path := d.o.ConfigPath
	if path == "" {
		path = old.File
	}
	d.log.Info("reloading the config", "file", path)
	cfg, err := d.o.LoadConfig(path)
	if err == nil {
		if cfg.Store.Path != old.Store.Path {
			d.log.Warn("store.path changed; restart impact serve to use the new store", "running", old.Store.Path, "configured", cfg.Store.Path)
			cfg.Store.Path = old.Store.Path
		}
		if cfg.UI.Listen != old.UI.Listen {
			d.log.Warn("ui.listen changed; restart impact serve to serve the review page there", "running", old.UI.Listen, "configured", cfg.UI.Listen)
			cfg.UI.Listen = old.UI.Listen
		}
		if cfg.Server.Listen != old.Server.Listen {
			d.log.Warn("server.listen changed; restart impact serve to listen there", "running", old.Server.Listen, "configured", cfg.Server.Listen)
			cfg.Server.Listen = old.Server.Listen
		}
		err = server.CheckListen(cfg.Server)
	}
	if err != nil {
		d.m.reloads.WithLabelValues("failure").Inc()
		d.log.Error("config reload failed; still running with the previous config", "file", path, "err", err)
		return
	}
	d.cfg.Store(cfg)
	d.m.reloads.WithLabelValues("success").Inc()
	d.m.lastReload.SetToCurrentTime()
	for _, ch := range []chan struct{}{d.reloaded, d.digestReload} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	d.requestDraft() // drafter settings or metrics may have changed
	d.log.Info("config reloaded", "file", path, "sources", d.sourceNames(cfg))
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter returns d ± frac×d, uniformly.
func jitter(d time.Duration, frac float64) time.Duration {
	if frac <= 0 || d <= 0 {
		return d
	}
	span := float64(d) * frac
	return d + time.Duration((rand.Float64()*2-1)*span)
}
