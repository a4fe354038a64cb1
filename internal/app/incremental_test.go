package app

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
	"github.com/impact-dev/impact/store"
)

// TestIncrementalDraftingMatchesFullPass feeds a long generated history
// to two stores poll by poll — a backfill, then polls in which only some
// series bring samples, PRs arrive (some days late) and sometimes nothing
// arrives at all — and drafts one store incrementally after every poll and
// the other with a full pass at checkpoints. At each checkpoint both
// stores hold the same drafts (all but CreatedAt, which records the pass
// that first proposed a draft). The incremental store is closed and
// reopened halfway: its state survives a restart.
func TestIncrementalDraftingMatchesFullPass(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		seed           int64
		days, backfill int // the history, and the days of it backfilled before the polls
	}{
		{3, 180, 135},
		// Over a year: the long series are analysed in two parts (up to
		// the epoch, kept, and the tail), across two epochs.
		{5, 420, 370},
	} {
		seed := c.seed
		w := world.Random(seed, world.RandomOptions{Days: c.days, Metrics: 6})
		cfg := worldconfig.For(w, world.URLs{GitHub: "http://github.invalid/", Datadog: "http://datadog.invalid/"})
		if len(cfg.Metrics) == 0 {
			t.Fatalf("seed %d: no metrics", seed)
		}
		dir := t.TempDir()
		open := func(name string) *store.Store {
			st, err := store.Open(filepath.Join(dir, name), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		inc, full := open("inc.db"), open("full.db")
		defer func() { inc.Close(); full.Close() }()

		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		// PRs: most arrive once merged, a tenth three days late.
		arrive := make([]time.Time, len(w.PRs))
		for i, pr := range w.PRs {
			arrive[i] = pr.MergedAt
			if rng.IntN(10) == 0 {
				arrive[i] = arrive[i].Add(72 * time.Hour)
			}
		}
		sent := make([]bool, len(w.PRs))
		upTo := map[string]time.Time{} // samples sent, per series
		poll := func(now time.Time, seriesShare float64) model.Batch {
			b := model.Batch{Source: "test", Samples: map[string][]model.Sample{}}
			for i, pr := range w.PRs {
				if !sent[i] && !arrive[i].After(now) {
					b.PRs = append(b.PRs, pr)
					sent[i] = true
				}
			}
			for _, m := range cfg.Metrics {
				if rng.Float64() >= seriesShare {
					continue // this series brought nothing this time
				}
				for _, s := range w.Series[m.ID] {
					if s.Time.Before(upTo[m.ID]) || !s.Time.Before(now) {
						continue
					}
					b.Samples[m.ID] = append(b.Samples[m.ID], s)
				}
				upTo[m.ID] = now
			}
			return b
		}
		commit := func(b model.Batch) {
			for _, st := range []*store.Store{inc, full} {
				if err := st.Commit(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		draft := func(st *store.Store, now time.Time, full bool) DraftReport {
			p := &Pipeline{Config: cfg, Store: st, Now: func() time.Time { return now }}
			rep, err := p.DraftWith(ctx, DraftOptions{Full: full})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}

		// Backfill the first days, then poll every 12 hours (at 09:00
		// and 21:00: the second poll of a day sees its samples go to the
		// open day, which the drafter reads once it closes).
		now := w.Start.Add(time.Duration(c.backfill) * 24 * time.Hour)
		commit(poll(now, 1))
		draft(inc, now, false)
		checkpoints, examined, passes, split, reused := 0, 0, 0, 0, 0
		for i := 1; now.Before(w.End); i++ {
			prev := now
			now = now.Add(12 * time.Hour)
			share := 0.5
			if i%5 == 0 {
				share = 0 // a quiet poll: nothing but maybe late PRs
			}
			b := poll(now, share)
			commit(b)
			rep := draft(inc, now, false)
			examined += rep.Examined
			split += rep.Split
			reused += rep.Reused
			passes++
			if len(b.Samples) == 0 && len(b.PRs) == 0 && prev.Truncate(24*time.Hour).Equal(now.Truncate(24*time.Hour)) && rep.Examined != 0 {
				t.Errorf("seed %d %s: a poll that brought nothing examined %d series", seed, now, rep.Examined)
			}
			if i == 30 { // restart
				if err := inc.Close(); err != nil {
					t.Fatal(err)
				}
				inc = open("inc.db")
			}
			if i%16 == 0 || !now.Before(w.End) {
				draft(full, now, true)
				compareDrafts(t, seed, now, inc, full)
				checkpoints++
			}
		}
		if n := len(cfg.Metrics) * passes; examined >= n {
			t.Errorf("seed %d: the incremental passes examined %d series, a full pass each time %d", seed, examined, n)
		}
		// explain shows, for each series, the findings the pass made of it
		// (a long series analysed in two parts as the pass does).
		last := draft(full, now, true)
		for _, m := range cfg.Metrics {
			p := &Pipeline{Config: cfg, Store: full, Now: func() time.Time { return now }}
			ex, err := p.Explain(ctx, m.ID, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var want []drafter.Finding
			for _, f := range last.Result.Findings {
				if f.Metric.ID == m.ID {
					want = append(want, f)
				}
			}
			got, _ := json.Marshal(ex.Findings)
			// The review page explains from an input it loaded once
			// (ExplainInput): the same findings.
			in, err := p.DrafterInput(ctx)
			if err != nil {
				t.Fatal(err)
			}
			page, err := p.ExplainInput(ctx, in, m.ID, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if pg, _ := json.Marshal(page.Findings); string(pg) != string(got) {
				t.Errorf("seed %d: the page's explanation of %s differs from explain's:\n page:    %s\n explain: %s", seed, m.ID, pg, got)
			}
			exp, _ := json.Marshal(want)
			if len(want) == 0 {
				exp = []byte("[]")
			}
			if string(got) != string(exp) {
				t.Errorf("seed %d: explain %s differs from the pass:\n explain: %s\n pass:    %s", seed, m.ID, got, exp)
			}
		}
		ds, _ := full.Drafts(ctx, store.DraftFilter{})
		t.Logf("seed %d: %d metrics, %d PRs, %d passes examined %d series (full: %d; %d in two parts, %d of them only their tail); %d checkpoints, %d drafts",
			seed, len(cfg.Metrics), len(w.PRs), passes, examined, len(cfg.Metrics)*passes, split, reused, checkpoints, len(ds))
		if reused == 0 {
			t.Errorf("seed %d: no pass analysed only a tail: the comparison does not cover the split", seed)
		}
		if len(ds) == 0 {
			t.Errorf("seed %d: no drafts at all: the comparison proves little", seed)
		}
	}
}

func compareDrafts(t *testing.T, seed int64, now time.Time, inc, full *store.Store) {
	t.Helper()
	load := func(st *store.Store) map[string]string {
		ds, err := st.Drafts(context.Background(), store.DraftFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, d := range ds {
			d.CreatedAt = time.Time{}
			b, _ := json.Marshal(d)
			out[d.ID] = string(b)
		}
		return out
	}
	a, b := load(inc), load(full)
	ids := map[string]bool{}
	for id := range a {
		ids[id] = true
	}
	for id := range b {
		ids[id] = true
	}
	keys := make([]string, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	for _, id := range keys {
		if a[id] != b[id] {
			t.Errorf("seed %d at %s: draft %s\n incremental: %s\n full pass:   %s", seed, now.Format(time.RFC3339), id, a[id], b[id])
		}
	}
}
