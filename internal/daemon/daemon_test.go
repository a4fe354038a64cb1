package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/daemon"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
	"github.com/impact-dev/impact/store"
)

func TestBackoff(t *testing.T) {
	base, max := time.Minute, time.Hour
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := daemon.Backoff(i+1, base, max, 15*time.Minute); got != w {
			t.Errorf("failure %d: %v, want %v", i+1, got, w)
		}
	}
	// A source polled less often than the cap backs off up to its interval.
	if got := daemon.Backoff(20, base, max, 6*time.Hour); got != 6*time.Hour {
		t.Errorf("long interval: %v", got)
	}
	if got := daemon.Backoff(1000, base, max, time.Minute); got != time.Hour {
		t.Errorf("many failures: %v", got)
	}
}

func TestInterval(t *testing.T) {
	cfg := &config.Config{}
	cfg.Sources.Set("github", &github.Config{Interval: config.Duration(15 * time.Minute)})
	cfg.Sources.Set("datadog", &datadog.Config{})
	if got := daemon.Interval(cfg, "github"); got != 15*time.Minute {
		t.Errorf("github: %v", got)
	}
	if got := daemon.Interval(cfg, "datadog"); got != time.Hour {
		t.Errorf("datadog without an interval: %v", got)
	}
}

// metricValue reads one sample of the text exposition.
func metricValue(body, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestFailingSourceBacksOffAndRecovers runs the daemon in-process with a
// GitHub that fails its first requests: GitHub's polls fail and back off,
// Datadog's carry on, and GitHub recovers by itself.
func TestFailingSourceBacksOffAndRecovers(t *testing.T) {
	t.Parallel()
	var ghRequests atomic.Int64
	gh := collectorstest.FakeOptions{Fault: func(r *http.Request) int {
		if ghRequests.Add(1) <= 3 {
			return http.StatusBadGateway
		}
		return 0
	}}
	dir := t.TempDir()
	w := daemontest.World(time.Now(), 90)
	v := daemontest.StartVendorsWith(w, gh, collectorstest.FakeOptions{})
	defer v.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := dir + "/config.yaml"
	if err := v.WriteConfig(cfgPath, daemontest.ConfigOptions{Store: dir + "/impact.db", Listen: addr, Interval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, cfg, daemon.Options{
			ConfigPath:  cfgPath,
			Logger:      slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			BackoffBase: 100 * time.Millisecond,
			BackoffMax:  time.Second,
			StartJitter: -1,
			Hangup:      make(chan os.Signal),
			HTTPOptions: func(o *collectors.HTTPOptions) { o.MaxRetries = -1 },
		})
	}()
	var body string
	waitFor(t, 30*time.Second, "GitHub to recover and Datadog to be collected", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+daemontest.DefaultToken)
		resp, err := httpClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		body = b.String()
		return metricValue(body, `impact_source_polls_total{result="success",source="github"}`) >= 1 &&
			metricValue(body, `impact_source_polls_total{result="success",source="datadog"}`) >= 1
	})
	if n := metricValue(body, `impact_source_polls_total{result="failure",source="github"}`); n < 1 {
		t.Errorf("GitHub's failures were not counted: %v", n)
	}
	if n := metricValue(body, `impact_source_polls_total{result="success",source="datadog"}`); n != 1 {
		t.Errorf("Datadog polls: %v, want 1 (it never failed, interval 1h)", n)
	}
	if n := metricValue(body, `impact_source_consecutive_failures{source="github"}`); n != 0 {
		t.Errorf("consecutive failures after recovery: %v", n)
	}
	if n := metricValue(body, `impact_vendor_requests_total{status="502",vendor="github"}`); n < 1 {
		t.Errorf("502s not counted per vendor and status: %v", n)
	}
	if !strings.Contains(logs.String(), "poll failed; backing off") || !strings.Contains(logs.String(), "source recovered") {
		t.Errorf("logs lack the backoff and the recovery:\n%s", logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancellation")
	}
	checkNoSecrets(t, logs.String())
}

type countingDigester struct{ n atomic.Int64 }

func (c *countingDigester) SendWeek(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) error {
	c.n.Add(1)
	return nil
}

// TestDigestSchedule: the Digester is called on digest.schedule.
func TestDigestSchedule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v := daemontest.StartVendors(daemontest.World(time.Now(), 90), collectorstest.FakeOptions{})
	defer v.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := dir + "/config.yaml"
	if err := v.WriteConfig(cfgPath, daemontest.ConfigOptions{Store: dir + "/impact.db", Listen: addr}); err != nil {
		t.Fatal(err)
	}
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Digest.To = []string{"alice@example.com"}
	cfg.Digest.Schedule = "@every 1s" // robfig/cron descriptor; tests only
	dg := &countingDigester{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, cfg, daemon.Options{Digester: dg, StartJitter: -1, Hangup: make(chan os.Signal)})
	}()
	waitFor(t, 10*time.Second, "two digest sends", func() bool { return dg.n.Load() >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
