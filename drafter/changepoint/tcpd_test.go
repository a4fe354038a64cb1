package changepoint

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/impact-dev/impact/internal/seriesio"
)

// The TCPD harness runs Detect with the default Options on every series of
// the TCPD development split and scores it exactly as
// /work/shared/bench/tcpd/score.py does (van den Burg & Williams 2020: F1
// with a margin of 5 and the index 0 counted as a change point; covering
// metric). It is skipped when the data are absent. Environment:
//
//	TCPD_DATA   data folder (default /work/shared/bench/tcpd/data)
//	TCPD_PRED   if set, write the predictions JSON there for score.py
//
// Run with: go test -run TestTCPD -v ./drafter/changepoint/

// detectFn, when set, replaces Detect in the harness (for experiments).
var detectFn func([]float64) []int

type tcpdScore struct {
	Name                 string
	N                    int
	F1, Cover, Prec, Rec float64
	Pred                 []int
}

func TestTCPD(t *testing.T) {
	dir := os.Getenv("TCPD_DATA")
	if dir == "" {
		dir = "/work/shared/bench/tcpd/data"
	}
	annRaw, err := os.ReadFile(filepath.Join(dir, "annotations.json"))
	if err != nil {
		t.Skipf("TCPD data not available: %v", err)
	}
	scores, preds := runTCPD(t, dir, annRaw, Options{Penalty: envf("PEN", 0), MinSegment: int(envf("MINSEG", 0)), huber: envf("HC", 0)})
	var f1, cov, p, r float64
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %4s %6s %6s %6s %6s  predicted\n", "series", "n", "F1", "cover", "prec", "recall")
	for _, s := range scores {
		fmt.Fprintf(&b, "%-20s %4d %6.3f %6.3f %6.3f %6.3f  %v\n", s.Name, s.N, s.F1, s.Cover, s.Prec, s.Rec, s.Pred)
		f1 += s.F1
		cov += s.Cover
		p += s.Prec
		r += s.Rec
	}
	k := float64(len(scores))
	fmt.Fprintf(&b, "%-20s %4s %6.3f %6.3f %6.3f %6.3f  (binseg default: F1 0.668, cover 0.644)\n", "MEAN", "", f1/k, cov/k, p/k, r/k)
	t.Log("\n" + b.String())
	if out := os.Getenv("TCPD_PRED"); out != "" {
		js, _ := json.Marshal(preds)
		if err := os.WriteFile(out, js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if f1/k <= 0.668 || cov/k <= 0.644 {
		t.Errorf("mean F1 %.3f / cover %.3f not above binseg's 0.668 / 0.644", f1/k, cov/k)
	}
}

func runTCPD(t testing.TB, dir string, annRaw []byte, o Options) ([]tcpdScore, map[string][]int) {
	var ann map[string]map[string][]int
	if err := json.Unmarshal(annRaw, &ann); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(ann))
	for name := range ann {
		names = append(names, name)
	}
	sort.Strings(names)
	preds := map[string][]int{}
	var scores []tcpdScore
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name, name+".json"))
		if err != nil {
			continue
		}
		s, err := seriesio.ReadTCPD(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pred := []int{}
		if detectFn != nil {
			pred = detectFn(s.Values)
		} else {
			for _, p := range Detect(s.Values, o) {
				pred = append(pred, p.Index)
			}
		}
		preds[name] = pred
		n := len(s.Values)
		cl := cleanPred(pred, n)
		f1, prec, rec := scoreF1(ann[name], cl, 5)
		scores = append(scores, tcpdScore{Name: name, N: n, F1: f1, Prec: prec, Rec: rec, Cover: scoreCover(ann[name], cl, n), Pred: pred})
	}
	return scores, preds
}

// cleanPred mirrors score.py's clean(): unique, sorted, within [1, n-2].
func cleanPred(pred []int, n int) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pred {
		if p >= 1 && p <= n-2 && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// truePositives mirrors score.py: each true point, in order, claims the
// closest unclaimed prediction within the margin (ties to the smaller index).
func truePositives(truth map[int]bool, pred map[int]bool, margin int) int {
	ts := make([]int, 0, len(truth))
	for x := range truth {
		ts = append(ts, x)
	}
	sort.Ints(ts)
	left := map[int]bool{}
	for x := range pred {
		left[x] = true
	}
	hits := 0
	for _, tt := range ts {
		best, bd := 0, math.MaxInt
		for x := range left {
			d := x - tt
			if d < 0 {
				d = -d
			}
			if d <= margin && (d < bd || d == bd && x < best) {
				best, bd = x, d
			}
		}
		if bd != math.MaxInt {
			hits++
			delete(left, best)
		}
	}
	return hits
}

func toSet(xs []int) map[int]bool {
	m := map[int]bool{0: true}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// scoreF1 returns F1 (alpha 0.5), precision and recall as in score.py.
func scoreF1(ann map[string][]int, pred []int, margin int) (f1, p, r float64) {
	x := toSet(pred)
	union := map[int]bool{}
	for _, a := range ann {
		for k := range toSet(a) {
			union[k] = true
		}
	}
	p = float64(truePositives(union, x, margin)) / float64(len(x))
	for _, a := range ann {
		tset := toSet(a)
		r += float64(truePositives(tset, x, margin)) / float64(len(tset))
	}
	r /= float64(len(ann))
	if p == 0 && r == 0 {
		return 0, p, r
	}
	return p * r / (0.5*r + 0.5*p), p, r
}

func edges(cps []int, n int) []int {
	e := []int{0}
	seen := map[int]bool{}
	s := append([]int(nil), cps...)
	sort.Ints(s)
	for _, c := range s {
		if c > 0 && c < n && !seen[c] {
			seen[c] = true
			e = append(e, c)
		}
	}
	return append(e, n)
}

// scoreCover is score.py's covering metric.
func scoreCover(ann map[string][]int, pred []int, n int) float64 {
	mine := edges(pred, n)
	total := 0.0
	for _, a := range ann {
		theirs := edges(a, n)
		sum := 0.0
		for i := 0; i+1 < len(theirs); i++ {
			a0, a1 := theirs[i], theirs[i+1]
			best := 0.0
			for j := 0; j+1 < len(mine); j++ {
				b0, b1 := mine[j], mine[j+1]
				inter := min(a1, b1) - max(a0, b0)
				if inter < 0 {
					inter = 0
				}
				union := (a1 - a0) + (b1 - b0) - inter
				best = math.Max(best, float64(inter)/float64(union))
			}
			sum += float64(a1-a0) * best
		}
		total += sum / float64(n)
	}
	return total / float64(len(ann))
}

// TestScoreSelf checks the metric port against score.py's own self-test.
func TestScoreSelf(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	f, _, _ := scoreF1(map[string][]int{"1": {10, 20}, "2": {11, 20}, "3": {10}, "4": {0, 5}}, []int{10, 20}, 5)
	if !near(f, 1) {
		t.Errorf("f1 = %v", f)
	}
	f, _, _ = scoreF1(map[string][]int{"1": {}, "2": {10}, "3": {50}}, []int{10}, 5)
	if !near(f, 0.9090909090909091) {
		t.Errorf("f1 = %v", f)
	}
	f, _, _ = scoreF1(map[string][]int{"1": {}, "2": {10}, "3": {50}}, nil, 5)
	if !near(f, 0.8) {
		t.Errorf("f1 = %v", f)
	}
	if c := scoreCover(map[string][]int{"1": {10, 20}, "2": {10}, "3": {0, 5}}, []int{10, 20}, 45); !near(c, 0.7962962962962963) {
		t.Errorf("cover = %v", c)
	}
	if c := scoreCover(map[string][]int{"1": {}, "2": {10}, "3": {40}}, []int{10}, 45); !near(c, 0.7954144620811286) {
		t.Errorf("cover = %v", c)
	}
	if c := scoreCover(map[string][]int{"1": {}, "2": {10}, "3": {40}}, nil, 45); !near(c, 0.8189300411522634) {
		t.Errorf("cover = %v", c)
	}
}
