package drafter
import ("testing";"time";"fmt")
func TestScratch(t *testing.T){
  for _, c := range []float64{4, 6, 9, 12} {
	refineSlackVar = c
	cover, n := 0, 0; var widths []time.Duration
	for seed := uint64(100); seed < 200; seed++ {
		at := shiftAt.Add(time.Duration(seed%24) * time.Hour)
		g := gen{base: 400, shifts: []step{{at, 0.7}}, seed: seed, sigma: 0.25}
		s := Series{latency, g.samples()}
		a := newAnalysis(&s, params(), now)
		idx := detect(a.xs)
		if len(idx)!=1 {continue}
		i:=idx[0]; t0 := dayStart(a.days[i])
		tau, hw := a.refine(t0, t0.Add(-3*day), t0.Add(3*day), a.direction(i), a.dailyProfile())
		n++
		if absDur(tau.Sub(at)) <= hw { cover++ }
		widths = append(widths, hw)
	}
	fmt.Println(c, cover, n, widths)
  }
}
