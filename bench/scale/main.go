// Command scale generates impact stores of many series over years of
// hourly history, and runs one measured step on them; scripts/bench-scale.sh
// runs each step as its own process and reports wall time and peak RSS.
//
//	go run ./bench/scale gen -series 1000 -years 3 -dir DIR   # DIR/impact.db, DIR/impact.yaml
//	go run ./bench/scale redraft -dir DIR                      # a full drafter pass
//	go run ./bench/scale poll -dir DIR [-hours 1]              # one poll: an hour (or -hours) of samples for every series, then an incremental pass
//	go run ./bench/scale poll -to-midnight -dir DIR            # the hourly polls up to the last hour of the UTC day, without a pass (the next poll closes the day)
//	go run ./bench/scale quiet -dir DIR                        # a poll that brought nothing: an incremental pass
//	go run ./bench/scale drafts -n 100000 -dir DIR             # a store of n drafts (for drafts list / export)
//
// -cpuprofile FILE and -memprofile FILE write a CPU profile of the step
// and its allocations (go tool pprof); -dump FILE writes the pass's result
// as JSON (to compare two builds' drafts and findings).
//
// Each step prints one line, "step=… wall_s=… samples=… series=…"; peak
// RSS is the caller's to measure (getrusage of the child: /usr/bin/time).
// The store's clock: gen's history ends at -end (default 2026-11-02
// 00:00 UTC); poll adds the hour after the last stored one and drafts at
// the end of that hour.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/store"
)

const (
	day      = 24 * time.Hour
	reposN   = 10
	me       = "alice"
	stampKey = "bench.scale"
)

var authors = []string{"alice", "bob", "carol", "dave", "erin"}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scale gen|redraft|poll|quiet|drafts [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "the store's directory (impact.db, impact.yaml)")
	series := fs.Int("series", 200, "gen: hourly series")
	years := fs.Float64("years", 1, "gen: years of history")
	endS := fs.String("end", "2026-11-02T00:00:00Z", "gen: the history's end (UTC hour)")
	n := fs.Int("n", 100000, "drafts: how many drafts")
	hours := fs.Int("hours", 1, "poll: hours of samples the poll brings (one commit per 100 series and hour)")
	toMidnight := fs.Bool("to-midnight", false, "poll: bring the hours up to (not including) the last hour of the UTC day, and draft nothing: the next one-hour poll is the first after midnight")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the step to this file")
	memprofile := fs.String("memprofile", "", "write a heap (allocations) profile at the step's end to this file")
	dump := fs.String("dump", "", "redraft, poll, quiet: write the pass's result (drafts, findings, regressions, unattributed shifts) as JSON to this file")
	_ = fs.Parse(os.Args[2:])
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "scale: -dir is required")
		os.Exit(2)
	}
	end, err := time.Parse(time.RFC3339, *endS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale: -end:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scale: -cpuprofile:", err)
			os.Exit(1)
		}
		defer f.Close()
	}
	start := time.Now()
	var line string
	switch os.Args[1] {
	case "gen":
		line, err = gen(ctx, *dir, *series, *years, end)
	case "redraft", "poll", "quiet":
		h := *hours
		if *toMidnight {
			h = -1
		}
		line, err = step(ctx, *dir, os.Args[1], h, *dump)
	case "drafts":
		line, err = drafts(ctx, *dir, *n)
	default:
		err = fmt.Errorf("unknown step %q", os.Args[1])
	}
	pprof.StopCPUProfile()
	if err == nil && *memprofile != "" {
		err = writeHeapProfile(*memprofile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
	fmt.Printf("step=%s wall_s=%.3f %s\n", os.Args[1], time.Since(start).Seconds(), line)
}

// writeHeapProfile writes the allocations profile (every allocation
// since the start, sampled) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	return nil
}

func repo(i int) string { return fmt.Sprintf("acme/svc-%02d", i%reposN) }

// metrics are the configured series: latency-like, lower is better, one
// repo each.
func metrics(n int) []config.Metric {
	out := make([]config.Metric, n)
	for i := range out {
		out[i] = config.Metric{
			ID: fmt.Sprintf("svc-%04d-p99", i), Name: fmt.Sprintf("service %d p99 latency", i),
			Source: "datadog", Query: fmt.Sprintf("p99:trace.http.request.duration{service:svc-%04d}", i),
			Unit: "ms", Better: "lower", Repos: []string{repo(i)}, Category: "performance",
		}
	}
	return out
}

func configFor(dir string, n int) *config.Config {
	cfg := &config.Config{
		Me:      config.Me{GitHub: config.StringList{me}},
		Metrics: metrics(n),
		Drafter: config.DefaultDrafterConfig,
		File:    filepath.Join(dir, "impact.yaml"),
	}
	cfg.Store.Path = filepath.Join(dir, "impact.db")
	return cfg
}

// writeConfig writes a config the CLI and the daemon load: the store,
// the local API on a unix socket beside it (not the default one, which
// another daemon on the machine may hold), a Datadog source on a closed
// local port (polls fail at once and back off; the daemon's idle figure
// needs none) and the metrics.
func writeConfig(dir string, n int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "me:\n  github: %s\nstore:\n  path: %s\nserver:\n  listen: unix:%s\nui:\n  listen: \"\"\n",
		me, filepath.Join(dir, "impact.db"), filepath.Join(dir, "impact.sock"))
	b.WriteString("sources:\n  datadog:\n    api_key: bench\n    app_key: bench\n    api_url: http://127.0.0.1:9/\n    interval: 1h\nmetrics:\n")
	for _, m := range metrics(n) {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, source: datadog, query: %q, unit: ms, better: lower, repos: [%s]}\n", m.ID, m.Name, m.Query, m.Repos[0])
	}
	return os.WriteFile(filepath.Join(dir, "impact.yaml"), []byte(b.String()), 0o600)
}

// gen writes a store of n hourly series over years before end: each series
// moves to a new level every 60–180 days (up or down 15–40%), with daily
// and weekly cycles, noise and spikes (world.GenerateSeries); every repo
// gets a PR a working day, and each move of a series follows a PR of mine
// (or, one time in four, of someone else) to its repo merged 2 hours
// before.
func gen(ctx context.Context, dir string, n int, years float64, end time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "impact.db")
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists", path)
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	begin := end.Add(-time.Duration(years * 365 * float64(day))).Truncate(time.Hour)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(years*100)))
	var prs []model.PR
	num := map[string]int{}
	addPR := func(r, author string, at time.Time) {
		num[r]++
		prs = append(prs, model.PR{Repo: r, Number: num[r], Title: fmt.Sprintf("change %d in %s", num[r], r),
			URL: fmt.Sprintf("https://github.com/%s/pull/%d", r, num[r]), Author: author, MergedAt: at,
			MergeSHA: fmt.Sprintf("%040x", rng.Uint64())})
	}
	for d := begin; d.Before(end); d = d.Add(day) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for r := range reposN {
			addPR(repo(r), authors[rng.IntN(len(authors))], d.Add(time.Duration(9+rng.IntN(8))*time.Hour))
		}
	}
	samples := 0
	const perBatch = 10
	batch := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}}
	for i, m := range metrics(n) {
		level := 80 + 400*rng.Float64()
		regimes := []world.Regime{{From: begin, Level: level}}
		for at := begin.Add(time.Duration(60+rng.IntN(120)) * day); at.Before(end.Add(-20 * day)); at = at.Add(time.Duration(60+rng.IntN(120)) * day) {
			at = at.Truncate(day).Add(14 * time.Hour)
			f := 1 + (0.15+0.25*rng.Float64())*float64(1-2*rng.IntN(2))
			level *= f
			regimes = append(regimes, world.Regime{From: at, Level: level})
			author := me
			if rng.IntN(4) == 0 {
				author = authors[1+rng.IntN(len(authors)-1)]
			}
			addPR(m.Repos[0], author, at.Add(-2*time.Hour))
		}
		ss := world.GenerateSeries(rng, begin, end, regimes,
			world.Shape{DailyAmp: 0.25, PeakHour: 15, Weekend: 0.85, Sigma: 0.08, Spikes: 4, Min: 1}, nil)
		batch.Samples[m.ID] = ss
		samples += len(ss)
		if (i+1)%perBatch == 0 || i == n-1 {
			if err := st.Commit(ctx, batch); err != nil {
				return "", err
			}
			batch.Samples = map[string][]model.Sample{}
		}
	}
	for i := 0; i < len(prs); i += 5000 {
		if err := st.Commit(ctx, model.Batch{Source: "github", PRs: prs[i:min(i+5000, len(prs))]}); err != nil {
			return "", err
		}
	}
	if err := st.Commit(ctx, model.Batch{Source: stampKey, Cursors: map[string][]byte{"end": []byte(end.Format(time.RFC3339))}}); err != nil {
		return "", err
	}
	if err := writeConfig(dir, n); err != nil {
		return "", err
	}
	return fmt.Sprintf("series=%d years=%g samples=%d prs=%d", n, years, samples, len(prs)), nil
}

// storeEnd is where the stored history ends (gen's -end, moved on by polls).
func storeEnd(ctx context.Context, st *store.Store) (time.Time, error) {
	raw, err := st.Cursor(ctx, stampKey, "end")
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, string(raw))
}

// step runs a redraft, an hourly poll and its pass, or a quiet pass.
// step runs redraft, poll or quiet; a poll of hours -1 brings the hours
// before the last of the UTC day and drafts nothing.
func step(ctx context.Context, dir, what string, hours int, dump string) (string, error) {
	path := filepath.Join(dir, "impact.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	ids, err := st.SeriesIDs(ctx)
	if err != nil {
		return "", err
	}
	end, err := storeEnd(ctx, st)
	if err != nil {
		return "", fmt.Errorf("not a bench store (no end stamp): %w", err)
	}
	now := end
	toMidnight := hours < 0
	if toMidnight {
		// end is the hour the next sample falls in; the day's last hour
		// (23:00) is left to the next poll.
		hours = (23 - end.Hour() + 24) % 24
	}
	if what == "poll" {
		// hours of samples for every series, committed as the Datadog
		// collector commits them (a page of series at a time).
		rng := rand.New(rand.NewPCG(uint64(end.Unix()), 1))
		last := map[string]float64{}
		for _, id := range ids {
			ss, err := st.Samples(ctx, id, end.Add(-time.Hour), end)
			if err != nil {
				return "", err
			}
			last[id] = 100
			if len(ss) > 0 {
				last[id] = ss[len(ss)-1].Value
			}
		}
		for h := range hours {
			at := end.Add(time.Duration(h) * time.Hour)
			batch := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}}
			for i, id := range ids {
				batch.Samples[id] = []model.Sample{{Time: at, Value: last[id] * (0.95 + 0.1*rng.Float64())}}
				if (i+1)%100 == 0 || i == len(ids)-1 {
					if err := st.Commit(ctx, batch); err != nil {
						return "", err
					}
					batch.Samples = map[string][]model.Sample{}
				}
			}
		}
		now = end.Add(time.Duration(hours) * time.Hour)
		if err := st.Commit(ctx, model.Batch{Source: stampKey, Cursors: map[string][]byte{"end": []byte(now.Format(time.RFC3339))}}); err != nil {
			return "", err
		}
	}
	if toMidnight {
		return fmt.Sprintf("hours=%d until=%s", hours, now.Format(time.RFC3339)), nil
	}
	cfg := configFor(dir, len(ids))
	p := &app.Pipeline{Config: cfg, Store: st, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	t0 := time.Now()
	rep, err := p.DraftWith(ctx, app.DraftOptions{Full: what == "redraft"})
	if err != nil {
		return "", err
	}
	if dump != "" {
		b, err := json.MarshalIndent(rep.Result, "", " ")
		if err == nil {
			err = os.WriteFile(dump, b, 0o644)
		}
		if err != nil {
			return "", fmt.Errorf("-dump: %w", err)
		}
	}
	return fmt.Sprintf("draft_s=%.3f series=%d examined=%d split=%d reused=%d added=%d updated=%d", time.Since(t0).Seconds(), len(ids), rep.Examined, rep.Split, rep.Reused, rep.Saved.Added, rep.Saved.Updated), nil
}

// drafts writes a store of n pending drafts (as the drafter writes them)
// and its config.
func drafts(ctx context.Context, dir string, n int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	st, err := store.Open(filepath.Join(dir, "impact.db"), store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const per = 5000
	for i := 0; i < n; i += per {
		ds := make([]model.Draft, 0, per)
		for j := i; j < min(i+per, n); j++ {
			ds = append(ds, draft(j, t0))
		}
		if _, err := st.SaveDrafts(ctx, ds); err != nil {
			return "", err
		}
	}
	if err := writeConfig(dir, 1); err != nil {
		return "", err
	}
	return fmt.Sprintf("drafts=%d", n), nil
}

func draft(i int, t0 time.Time) model.Draft {
	shift := t0.Add(time.Duration(i) * 17 * time.Minute)
	r := repo(i)
	pr := model.PRRef{Repo: r, Number: 1000 + i, Title: fmt.Sprintf("perf(query): move query construction off the request path (SVC-%d)", i),
		URL: fmt.Sprintf("https://github.com/%s/pull/%d", r, 1000+i), Author: me, MergedAt: shift.Add(-3 * time.Hour), LiveAt: shift.Add(-2 * time.Hour)}
	text := fmt.Sprintf("Moved query construction off the request path, reducing service %d p99 latency from 1.8 s to 210 ms (−88%%). (%s#%d)", i%1000, r, 1000+i)
	return model.Draft{
		ID: fmt.Sprintf("%08x", uint32(i)*2654435761), Kind: model.KindImpact, Status: model.StatusPending, Category: "performance",
		Text: text, GeneratedText: text, Confidence: "high",
		Metric:  model.MetricRef{ID: fmt.Sprintf("svc-%04d-p99", i%1000), Name: fmt.Sprintf("service %d p99 latency", i%1000), Unit: "ms", Better: "lower"},
		ShiftAt: shift, Before: 1800, After: 210, Change: -0.88, PValue: 0.0004,
		BeforeWindow: model.Window{Start: shift.Add(-7 * day), End: shift}, AfterWindow: model.Window{Start: shift.Add(day), End: shift.Add(8 * day)},
		PRs: []model.PRRef{pr}, Others: []model.PRRef{}, Evidence: []string{"p < 0.001 (Mann–Whitney U, 7 vs 7 daily blocks)"},
		CreatedAt: shift.Add(9 * day),
	}
}
