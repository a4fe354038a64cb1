package prometheus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

// requireEnv, when set (CI sets it in .ci/run), turns the real-server
// test's skip for missing binaries into a failure.
const requireEnv = "IMPACT_REQUIRE_PROMETHEUS"

// The real-server scenario: a year of hourly samples of a gauge with a daily
// cycle and noise, a few NaN samples, and a level shift from 1800 to 210 ms
// at hour 6000, after a PR by alice merged 3 h before.
const (
	realMetric = "impact_test_latency_ms"
	realQuery  = realMetric + `{service="search"}`
	realHours  = 365 * 24
	shiftHour  = 6000
)

var (
	realStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	nanHours  = map[int]bool{100: true, 2500: true, 4321: true, 7777: true}
)

// realSeries generates the year: level × daily cycle (±15%, peak at 14:00
// UTC) × log-normal noise (σ 5%); NaN at nanHours.
func realSeries() []model.Sample {
	rng := rand.New(rand.NewPCG(20250101, 6000))
	out := make([]model.Sample, realHours)
	for h := range out {
		level := 1800.0
		if h >= shiftHour {
			level = 210
		}
		v := level * (1 + 0.15*math.Sin(2*math.Pi*float64(h%24-8)/24)) * math.Exp(0.05*rng.NormFloat64())
		if nanHours[h] {
			v = math.NaN()
		}
		out[h] = model.Sample{Time: realStart.Add(time.Duration(h) * time.Hour), Value: v}
	}
	return out
}

// writeOpenMetrics writes the series as an OpenMetrics text file for promtool.
func writeOpenMetrics(path string, ss []model.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# HELP %s search API p99 latency (test data)\n# TYPE %s gauge\n", realMetric, realMetric)
	for _, s := range ss {
		v := strconv.FormatFloat(s.Value, 'g', -1, 64) // exact round trip
		if math.IsNaN(s.Value) {
			v = "NaN"
		}
		fmt.Fprintf(w, "%s %s %d\n", realQuery, v, s.Time.Unix())
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrometheus turns the series into TSDB blocks with promtool and
// serves them with a Prometheus that scrapes nothing; it returns the base
// URL. The server is killed when the test ends.
func startPrometheus(t *testing.T, ss []model.Sample) string {
	t.Helper()
	prom, err1 := exec.LookPath("prometheus")
	promtool, err2 := exec.LookPath("promtool")
	if err1 != nil || err2 != nil {
		msg := "prometheus and promtool are not on PATH; install Debian's prometheus package (apt-get install prometheus, as .ci/run does) to run the real-server test"
		if os.Getenv(requireEnv) != "" {
			t.Fatalf("%s is set but %s", requireEnv, msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	om, data := filepath.Join(dir, "series.om"), filepath.Join(dir, "data")
	if err := writeOpenMetrics(om, ss); err != nil {
		t.Fatal(err)
	}

	// Blocks of 31 days (Prometheus's own largest compaction): promtool's
	// default of 2 h makes 4380 blocks for a year and takes minutes. The
	// flag is hidden in 2.42 (Debian 12) and listed in later versions.
	began := time.Now()
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", "--max-block-duration=744h", om, data).CombinedOutput()
	if err != nil && strings.Contains(string(out), "max-block-duration") {
		t.Logf("promtool has no --max-block-duration; creating 2 h blocks (slow): %s", out)
		out, err = exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", om, data).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	t.Logf("promtool created the blocks in %v", time.Since(began).Round(time.Millisecond))

	// No scrape targets: the TSDB holds only the backfilled blocks.
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var logs collectorstest.Buffer
	cmd := exec.Command(prom,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--web.listen-address="+addr,
		// Time retention counts back from the newest block; the default
		// 15d would delete most of the year.
		"--storage.tsdb.retention.time=5y",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	began = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})

	base := "http://" + addr
	deadline := time.After(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("prometheus not ready after 30s\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("prometheus %s ready in %v", addr, time.Since(began).Round(time.Millisecond))
	return base
}

// TestRealPrometheus runs the collector against a real Prometheus server
// holding a year of backfilled hourly samples, and the drafter on what it
// stored.
//
// Lookback: an evaluation at t sees the latest sample in (t − 5m, t]. The
// samples sit on whole hours and the collector evaluates at step-aligned
// whole hours, so each evaluation returns exactly the sample at t (and none
// for a missing hour, rather than a stale repeat); the default
// --query.lookback-delta is kept and the query needs no last_over_time.
func TestRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	began := time.Now()
	gen := realSeries()
	base := startPrometheus(t, gen)

	var mu sync.Mutex
	statuses := map[int]int{}
	client := collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, OnResponse: func(_ string, status int) {
		mu.Lock()
		statuses[status]++
		mu.Unlock()
	}})
	metric := config.Metric{ID: "search-p99", Name: "search API p99 latency", Source: "prometheus", Query: realQuery,
		Unit: "ms", Better: "lower", Repos: []string{"acme/search-api"}, Category: "performance"}
	const chunkHours = 1000
	c, err := New(Config{URL: base}, []config.Metric{metric}, Options{HTTPClient: client, Chunk: chunkHours * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	end := realStart.Add(realHours * time.Hour) // 2026-01-01, an hour after the last sample
	sink, prog := newSink(), &collectorstest.Progress{Source: Name}
	if err := c.Collect(context.Background(), collectors.Run{Since: realStart, Now: end, Sink: sink, Progress: prog}); err != nil {
		t.Fatal(err)
	}

	// The year's 8760 hours in requests of 1000 (Now is on the hour: `end`
	// is evaluated by the next poll): 9 requests, 9 commits.
	wantChunks := (realHours + chunkHours - 1) / chunkHours
	if total, done := prog.Counts(); len(sink.Batches) != wantChunks || total != int64(wantChunks) || done != int64(wantChunks) {
		t.Errorf("%d commits, progress %d/%d; want %d", len(sink.Batches), done, total, wantChunks)
	}
	mu.Lock()
	if statuses[200] != wantChunks || len(statuses) != 1 {
		t.Errorf("responses by status %v, want %d × 200", statuses, wantChunks)
	}
	mu.Unlock()
	for i, b := range sink.Batches {
		if n := len(b.Samples["search-p99"]); n == 0 || n > chunkHours {
			t.Errorf("commit %d holds %d samples", i, n)
		}
	}
	if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(end) || cur.Query != realQuery {
		t.Errorf("cursor %+v, want through %v", cur, end)
	}

	// The stored samples are the generated ones, NaN skipped, bit for bit.
	got := sink.Samples("search-p99")
	var want []model.Sample
	for _, s := range gen {
		if !math.IsNaN(s.Value) {
			want = append(want, s)
		}
	}
	if len(got) != len(want) || len(want) != realHours-len(nanHours) {
		t.Fatalf("%d samples stored, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
			t.Fatalf("sample %d = %v, want %v", i, got[i], want[i])
		}
	}

	// A second poll an hour later reads only from the cursor on.
	if err := c.Collect(context.Background(), collectors.Run{Since: realStart, Now: end.Add(time.Hour + 5*time.Minute), Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if len(sink.Batches) != wantChunks+1 || len(sink.Samples("search-p99")) != len(want) {
		t.Errorf("second poll: %d commits, %d samples", len(sink.Batches), len(sink.Samples("search-p99")))
	}

	// A bad query gets the real server's error, on one line, and does not
	// stop the good metric.
	bad := metric
	bad.ID, bad.Query = "bad", realMetric+"{"
	c2, err := New(Config{URL: base}, []config.Metric{bad, metric}, Options{HTTPClient: client, Chunk: chunkHours * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sink2 := newSink()
	err = c2.Collect(context.Background(), collectors.Run{Since: end.Add(-48 * time.Hour), Now: end, Sink: sink2})
	var qe *QueryError
	if wantErr := "prometheus: query_range bad: 400 bad_data: 1:24: parse error: unexpected end of input inside braces"; err == nil || err.Error() != wantErr ||
		!errors.As(err, &qe) || qe.StatusCode != 400 || qe.Type != "bad_data" {
		t.Errorf("bad query: %v\nwant %s", err, wantErr)
	}
	if n := len(sink2.Samples("search-p99")); n != 48 {
		t.Errorf("good metric next to a bad one: %d samples, want 48", n)
	}

	// The drafter finds the shift in what was stored.
	shiftAt := realStart.Add(shiftHour * time.Hour)
	pr := model.PR{Repo: "acme/search-api", Number: 1234, Title: "Move Elasticsearch query construction off the request path",
		URL: "https://github.com/acme/search-api/pull/1234", Author: "alice", MergedAt: shiftAt.Add(-3 * time.Hour)}
	res := drafter.Run(drafter.Input{
		Params: drafter.Params{Window: 7 * 24 * time.Hour, Settle: 24 * time.Hour, MinChange: 0.1, Alpha: 0.01, Me: []string{"alice"}},
		Series: []drafter.Series{{Metric: model.Metric{ID: metric.ID, Name: metric.Name, Source: metric.Source, Query: metric.Query,
			Unit: metric.Unit, Better: metric.Better, Repos: metric.Repos, Category: metric.Category}, Samples: got}},
		PRs: []model.PR{pr},
		Now: end,
	})
	if len(res.Drafts) != 1 {
		t.Fatalf("%d drafts, want 1: %+v", len(res.Drafts), res.Drafts)
	}
	d := res.Drafts[0]
	t.Logf("draft: %s (before %.1f, after %.1f, shift at %v, p %.2g)", d.Text, d.Before, d.After, d.ShiftAt, d.PValue)
	if math.Abs(d.Before-1800)/1800 > 0.05 || math.Abs(d.After-210)/210 > 0.05 {
		t.Errorf("before %.1f, after %.1f; want 1800 and 210 within 5%%", d.Before, d.After)
	}
	if len(d.PRs) != 1 || d.PRs[0].Number != 1234 || d.Metric.ID != "search-p99" {
		t.Errorf("draft credits %+v for %s", d.PRs, d.Metric.ID)
	}
	t.Logf("real-server test took %v", time.Since(began).Round(time.Millisecond))
}
