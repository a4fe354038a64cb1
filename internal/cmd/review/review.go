// Package review implements `impact review`: open the review page. When a
// daemon (`impact serve`) holds the store, it asks the daemon for a
// one-time login link; otherwise it serves the page itself, on ui.listen,
// until interrupted or left idle.
package review

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/server/ui"
	"github.com/impact-dev/impact/store"
)

// Options of `impact review`.
type Options struct {
	// NoBrowser only prints the link.
	NoBrowser bool
	// Idle stops the short-lived server after this long without a request.
	Idle time.Duration
	// OnServing is called with the login link once the short-lived server
	// listens (tests).
	OnServing func(link string)
}

// NewCmd returns `impact review`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Open the review page (starts a short-lived server when no daemon runs)",
		Long: `review opens the review page in your browser with a one-time login link,
or prints the link when no browser can be opened. When impact serve runs, the
daemon serves the page on ui.listen and review only fetches a link from it.
Otherwise review serves the page itself on ui.listen until Ctrl-C, or until
nobody has used it for --idle; meanwhile it holds the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.NoBrowser, "no-browser", false, "print the link, do not open a browser")
	cmd.Flags().DurationVar(&o.Idle, "idle", 30*time.Minute, "stop the short-lived server after this long without a request")
	return cmd
}

// Run opens (or prints) the review page's login link.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if cfg.UI.Listen == "" || cfg.UI.Listen == "off" {
		return cmdutil.UsageError("ui.listen is off in %s: set it to a loopback address such as 127.0.0.1:7879", cfg.File)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Timeout: time.Nanosecond, Logger: f.Logger, Now: f.Now})
	if errors.Is(err, store.ErrLocked) {
		return fromDaemon(ctx, f, o, cfg)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return serve(ctx, f, o, cfg, st)
}

// fromDaemon asks the daemon that holds the store for a login link.
func fromDaemon(ctx context.Context, f *cmdutil.Factory, o *Options, cfg *config.Config) error {
	be, err := f.Backend(cfg) // checks it is the daemon of this store
	if err != nil {
		return err
	}
	defer be.Close()
	c, ok := be.(*backend.Client)
	if !ok {
		return fmt.Errorf("review: the store %s was held by another process that is not a daemon; try again", cfg.Store.Path)
	}
	link, err := c.UILogin(ctx)
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	show(ctx, f, o, link)
	return nil
}

// serve runs the page in this process until ctx ends or it idles.
func serve(ctx context.Context, f *cmdutil.Factory, o *Options, cfg *config.Config, st *store.Store) error {
	local := &backend.Local{Store: st, Config: cfg, Logger: f.Logger, Now: f.Now}
	sd := ui.NewStoreData(st, func() *config.Config { return cfg }, f.Now)
	page, err := ui.New(ui.Options{
		Backend: local,
		Config:  func() *config.Config { return cfg },
		Series:  sd.Series,
		Explain: sd.Explain,
		Logger:  f.Logger,
	})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.UI.Listen)
	if err != nil {
		return fmt.Errorf("ui.listen %s: %w", cfg.UI.Listen, err)
	}
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	h := page.Handler()
	srv := server.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last.Store(time.Now().UnixNano())
		h.ServeHTTP(w, r)
	}), server.HTTPOptions{Logger: f.Logger})
	base := "http://" + ln.Addr().String()
	if cfg.UI.PublicURL != "" {
		base = cfg.UI.PublicURL
	}
	link := page.LoginURL(base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(f.IO.ErrOut, "serving the review page on %s until Ctrl-C (or %s without a request); it holds the store meanwhile\n", ln.Addr(), o.Idle)
	show(ctx, f, o, link)
	if o.OnServing != nil {
		o.OnServing(link)
	}

	idle := o.Idle
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	tick := time.NewTicker(min(idle/4, 30*time.Second))
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("review: serving: %w", err)
		case <-ctx.Done():
		case <-tick.C:
			if time.Since(time.Unix(0, last.Load())) < idle {
				continue
			}
			fmt.Fprintf(f.IO.ErrOut, "the review page was idle for %s; stopping\n", idle)
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		return nil
	}
}

// show prints the link and opens it in a browser when one can be opened.
func show(ctx context.Context, f *cmdutil.Factory, o *Options, link string) {
	fmt.Fprintf(f.IO.Out, "Review page (this link logs you in once): %s\n", link)
	if o.NoBrowser {
		return
	}
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	} else if f.Getenv != nil && f.Getenv("DISPLAY") == "" && f.Getenv("WAYLAND_DISPLAY") == "" {
		return // no graphical session: the printed link is the way in
	}
	path, err := exec.LookPath(opener)
	if err != nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(cctx, path, link).Run(); err != nil {
		fmt.Fprintf(f.IO.ErrOut, "could not open a browser (%s: %v); open the link above\n", opener, err)
		return
	}
	fmt.Fprintln(f.IO.ErrOut, "opened it in your browser")
}
