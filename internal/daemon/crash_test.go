package daemon_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/store"
)

// snapshot is what the store holds: PRs by key, sample times by series.
type snapshot struct {
	prs     map[string]model.PR
	samples map[string]map[int64]float64
}

func (s snapshot) count() (prs, samples int) {
	for _, ss := range s.samples {
		samples += len(ss)
	}
	return len(s.prs), samples
}

// readStore opens the store (which must open after any crash) and reads
// everything, checking that nothing is stored twice.
func readStore(t *testing.T, path string) snapshot {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("the store does not open after a crash: %v", err)
	}
	defer st.Close()
	snap := snapshot{prs: map[string]model.PR{}, samples: map[string]map[int64]float64{}}
	prs, err := st.PRs(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prs {
		if _, dup := snap.prs[p.Key()]; dup {
			t.Errorf("PR %s stored twice", p.Key())
		}
		snap.prs[p.Key()] = p
	}
	ids, err := st.SeriesIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		ss, err := st.Samples(ctx, id, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[int64]float64, len(ss))
		for _, s := range ss {
			if _, dup := m[s.Time.Unix()]; dup {
				t.Errorf("series %s: sample at %v stored twice", id, s.Time)
			}
			m[s.Time.Unix()] = s.Value
		}
		snap.samples[id] = m
	}
	return snap
}

// missingFrom counts what a finished 90-day backfill started after from
// lacks: the PRs merged since, and the non-null samples of the Datadog
// metrics since (Datadog leaves about one point in sixty null; those are
// not samples).
func missingFrom(w *world.World, snap snapshot, from time.Time) (prs, samples, want int) {
	for _, p := range w.PRs {
		if p.MergedAt.After(from) {
			if _, ok := snap.prs[p.Key()]; !ok {
				prs++
			}
		}
	}
	for id, ss := range w.Series {
		if m, ok := w.Metric(id); !ok || m.Source != "datadog" {
			continue // only Datadog is configured
		}
		for _, s := range ss {
			if s.Time.Before(from) || datadog.FakeNullAt(id, s.Time) {
				continue
			}
			want++
			if _, ok := snap.samples[id][s.Time.Unix()]; !ok {
				samples++
			}
		}
	}
	return prs, samples, want
}

// TestCrashSafety kills the daemon with SIGKILL at random moments of a slow
// backfill, at least 20 times. After every kill the store opens, still
// holds everything it held before (nothing committed is lost), holds
// nothing twice, and holds only what the vendors served; after the last
// restart the backfill completes.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	const minKills = 20
	// The 90-day backfill is 18 Datadog requests (a 30-day chunk of one
	// metric each, committed one by one) at 250 ms, and ~26 quick GitHub
	// requests committed a page of PRs (with their files) at a time.
	e := newEnvWith(t, collectorstest.FakeOptions{Latency: 15 * time.Millisecond}, collectorstest.FakeOptions{Latency: 250 * time.Millisecond},
		daemontest.ConfigOptions{Interval: time.Hour})
	w := e.vendors.World
	worldPRs := map[string]model.PR{}
	for _, p := range w.PRs {
		worldPRs[p.Key()] = p
	}
	worldSamples := map[string]map[int64]float64{}
	for id, ss := range w.Series {
		m := map[int64]float64{}
		for _, s := range ss {
			m[s.Time.Unix()] = s.Value
		}
		worldSamples[id] = m
	}
	// check compares a snapshot with the previous one and with the world.
	check := func(prev, cur snapshot, round int) {
		t.Helper()
		for k := range prev.prs {
			if _, ok := cur.prs[k]; !ok {
				t.Errorf("round %d: PR %s was committed before the kill and is gone", round, k)
			}
		}
		for id, ss := range prev.samples {
			for ts := range ss {
				if _, ok := cur.samples[id][ts]; !ok {
					t.Errorf("round %d: sample %s@%d was committed before the kill and is gone", round, id, ts)
				}
			}
		}
		for k, p := range cur.prs {
			wp, ok := worldPRs[k]
			if !ok || !wp.MergedAt.Equal(p.MergedAt) || wp.Author != p.Author || wp.Title != p.Title {
				t.Errorf("round %d: stored PR %s does not match what GitHub served: %+v", round, k, p)
			}
		}
		for id, ss := range cur.samples {
			for ts, v := range ss {
				wv, ok := worldSamples[id][ts]
				if !ok || math.Abs(wv-v) > 1e-9*math.Max(1, math.Abs(wv)) {
					t.Errorf("round %d: stored sample %s@%d=%v does not match what Datadog served (%v)", round, id, ts, v, wv)
				}
			}
		}
	}
	empty := func() snapshot {
		return snapshot{prs: map[string]model.PR{}, samples: map[string]map[int64]float64{}}
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	prev := empty()
	kills, progressed, backfills := 0, 0, 1
	for round := 1; kills < minKills && round <= 3*minKills; round++ {
		p := e.start()
		// A random moment: anywhere from opening the store to well into
		// the polls.
		time.Sleep(time.Duration(20+rng.IntN(600)) * time.Millisecond)
		_ = p.cmd.Process.Kill()
		<-p.done
		cur := readStore(t, e.store)
		check(prev, cur, round)
		if t.Failed() {
			t.Fatalf("after round %d; daemon log:\n%s", round, p.logs)
		}
		pa, sa := prev.count()
		pb, sb := cur.count()
		if pb > pa || sb > sa {
			progressed++
		}
		mp, ms, _ := missingFrom(w, cur, time.Now().Add(-90*24*time.Hour+2*time.Hour))
		if mp == 0 && ms == 0 {
			// That backfill finished before the kill: start another from
			// an empty store, so that every counted kill hits a backfill.
			t.Logf("round %d: backfill %d completed; starting a fresh one", round, backfills)
			backfills++
			for _, f := range []string{e.store, e.store + ".lock"} {
				_ = os.Remove(f)
			}
			prev = empty()
			continue
		}
		kills++
		prev = cur
	}
	if kills < minKills {
		t.Fatalf("only %d kills hit a running backfill", kills)
	}
	np, ns := prev.count()
	t.Logf("%d kills during %d backfill(s), %d of them after new commits: %d PRs, %d samples stored so far", kills, backfills, progressed, np, ns)

	// Let the backfill finish.
	start := time.Now()
	p := e.start()
	e.waitReady(p, 10*time.Second)
	waitFor(t, 30*time.Second, "the backfill to complete", func() bool {
		runs, ok := e.status()
		if !ok {
			return false
		}
		for _, src := range []string{"github", "datadog"} {
			r, ok := runs[src]
			if !ok || r.LastError != "" || r.LastSuccess.Before(start) {
				return false
			}
		}
		return true
	})
	if code, took := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM (%v):\n%s", code, took, p.logs)
	}
	final := readStore(t, e.store)
	check(prev, final, kills+1)
	// Complete: everything served since the backfill's start (90 days
	// before the latest first poll, give or take the hour being cut).
	mp, ms, want := missingFrom(w, final, time.Now().Add(-90*24*time.Hour+2*time.Hour))
	if mp > 0 || ms > 0 {
		t.Errorf("backfill incomplete after the kills: %d PRs and %d of %d samples missing", mp, ms, want)
	}
}
