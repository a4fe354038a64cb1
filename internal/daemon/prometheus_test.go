package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
)

// TestPrometheusScrapes has a real Prometheus server (Debian's
// `prometheus` package) scrape the daemon's /metrics, with the bearer
// token, and checks with PromQL that the poll counts arrived.
func TestPrometheusScrapes(t *testing.T) {
	t.Parallel()
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not on PATH (apt-get install prometheus): skipping the real-scrape test")
	}
	const token = "s3cret-api-token"
	// GitHub every 2 s, so its poll count keeps growing.
	e := newEnv(t, collectorstest.FakeOptions{}, daemontest.ConfigOptions{Interval: time.Hour, GitHubInterval: 2 * time.Second, Token: token})
	p := e.start()
	e.waitReady(p, 10*time.Second)

	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: impact
    authorization:
      credentials_file: %s
    static_configs:
      - targets: [%q]
`, tokFile, e.listen), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prom := exec.CommandContext(ctx, promBin,
		"--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--log.level=warn")
	promLog := &syncBuffer{}
	prom.Stdout, prom.Stderr = promLog, promLog
	prom.Cancel = func() error { return prom.Process.Signal(syscall.SIGTERM) }
	prom.WaitDelay = 5 * time.Second
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = prom.Wait() }()

	query := func(q string) (map[string]float64, error) {
		resp, err := httpClient.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, s := range r.Data.Result {
			v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
			out[s.Metric["source"]] = v
		}
		return out, nil
	}
	var polls map[string]float64
	waitFor(t, 45*time.Second, "Prometheus to have scraped poll counts", func() bool {
		polls, err = query(`sum by (source) (impact_source_polls_total{job="impact",result="success"})`)
		return err == nil && polls["github"] >= 2 && polls["datadog"] >= 1
	})
	t.Logf("PromQL poll counts: %v", polls)
	up, err := query(`up{job="impact"}`)
	if err != nil || up[""] != 1 {
		t.Errorf("up{job=\"impact\"} = %v (%v)\n%s", up, err, promLog)
	}
	if vr, err := query(`sum by (source) (impact_vendor_requests_total{status="200"})`); err != nil || len(vr) == 0 {
		t.Errorf("no vendor request counts: %v %v", vr, err)
	}
	if d, err := query(`impact_store_samples`); err != nil || d[""] <= 0 {
		t.Errorf("impact_store_samples: %v %v", d, err)
	}
	if code, took := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("exit %d (%v)", code, took)
	}
}
