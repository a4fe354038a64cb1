package drafts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// BenchmarkListJSONProcess times whole `impact` processes over a store of
// 10,000 drafts (100,000 with IMPACT_BENCH_BIG=1): exec, config load, store
// open, read, encode. It reports each process's peak RSS (maxrss-MB) and
// CPU time (cpu-ms, user+system). Goals: `drafts list -o json` of 10,000
// under 150 ms; list and `export -f json` of 100,000 under 1 s and 100 MB.
//
//	go test -run '^$' -bench ListJSONProcess -benchtime 5x ./internal/cmd/drafts/
func BenchmarkListJSONProcess(b *testing.B) {
	n := 10000
	if os.Getenv("IMPACT_BENCH_BIG") != "" {
		n = 100000
	}
	dir := b.TempDir()
	if d := os.Getenv("IMPACT_BENCH_DIR"); d != "" {
		dir = d
	}
	bin := filepath.Join(dir, "impact")
	build := exec.Command("go", "build", "-o", bin, "github.com/impact-dev/impact/cmd/impact")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "impact.db")
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for lo := 0; lo < n; lo += 10000 {
		ds := make([]model.Draft, min(10000, n-lo))
		for j := range ds {
			i := lo + j
			at := base.Add(time.Duration(i) * time.Hour)
			ds[j] = model.Draft{
				ID: fmt.Sprintf("%08x", i*2654435761%(1<<32)), Status: model.StatusPending, Category: model.Categories[i%6],
				Text:   fmt.Sprintf("Moved query construction %d off the request path, reducing search API p99 latency from 1.8 s to 210 ms (−88%%). (acme/search-api#%d)", i, i),
				Metric: model.MetricRef{ID: "search-p99", Name: "search API p99 latency", Unit: "ms", Better: "lower"},
				Before: 1800, After: 210, Change: -0.883, ShiftAt: at, PValue: 0.0006, Confidence: model.ConfidenceHigh,
				BeforeWindow: model.Window{Start: at.Add(-7 * 24 * time.Hour), End: at},
				AfterWindow:  model.Window{Start: at.Add(24 * time.Hour), End: at.Add(8 * 24 * time.Hour)},
				PRs: []model.PRRef{{Repo: "acme/search-api", Number: i, Title: "Move query construction off the request path",
					URL: fmt.Sprintf("https://github.com/acme/search-api/pull/%d", i), Author: "alice", MergedAt: at.Add(-3 * time.Hour), LiveAt: at.Add(-3 * time.Hour)}},
				Evidence:  []string{"search-p99 median 1.80 s over 7 days before and 210 ms over the 7 days after; Mann–Whitney p = 0.0006 on daily medians."},
				CreatedAt: at.Add(9 * 24 * time.Hour),
			}
		}
		if _, err := st.SaveDrafts(context.Background(), ds); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("me:\n  github: alice\nstore:\n  path: "+dbPath+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"list", []string{"drafts", "list", "--status", "all", "-o", "json"}},
		{"export", []string{"export", "--status", "all", "-f", "json"}},
	} {
		b.Run(fmt.Sprintf("%s-%d", c.name, n), func(b *testing.B) {
			var rss, cpu float64
			for b.Loop() {
				cmd := exec.Command(bin, append([]string{"--config", cfgPath}, c.args...)...)
				cmd.Stdout = nil
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%.500s", c.name, err, out)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				rss = max(rss, float64(ru.Maxrss)/1024)
				cpu += float64(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()) / float64(time.Millisecond)
			}
			b.ReportMetric(rss, "maxrss-MB")
			b.ReportMetric(cpu/float64(b.N), "cpu-ms")
		})
	}
}
