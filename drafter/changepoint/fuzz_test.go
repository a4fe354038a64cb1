package changepoint

import (
	"encoding/binary"
	"math"
	"testing"
)

func FuzzDetect(f *testing.F) {
	enc := func(xs ...float64) []byte {
		b := make([]byte, 8*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	f.Add(uint8(0), enc(1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5))
	f.Add(uint8(2), enc(0, math.NaN(), 1e308, -1e308, 3, 3, math.Inf(1), 2, 2, 2, 2, 2))
	f.Add(uint8(1), enc(1e-300, 2e-300, 1e-300, 5e-300, 5e-300, 6e-300))
	f.Fuzz(func(t *testing.T, minSeg uint8, b []byte) {
		xs := make([]float64, 0, len(b)/8)
		for i := 0; i+8 <= len(b) && len(xs) < 400; i += 8 {
			xs = append(xs, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
		}
		pts := Detect(xs, Options{MinSegment: int(minSeg % 8)})
		last := -1
		for _, p := range pts {
			if p.Index <= last || p.Index >= len(xs) || p.Index <= 0 {
				t.Fatalf("bad index in %+v (n=%d)", pts, len(xs))
			}
			if math.IsNaN(xs[p.Index]) || math.IsInf(xs[p.Index], 0) {
				t.Fatalf("change at a gap: %+v", p)
			}
			if math.IsNaN(p.Before) || math.IsNaN(p.After) || !(p.PValue >= 0 && p.PValue <= 1) {
				t.Fatalf("bad point %+v", p)
			}
			last = p.Index
		}
	})
}
