package activity

import (
	"fmt"
	"slices"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// WinEvidenceSpan is how far from a manual win's date a measured shift of
// the metric it names may be to be attached as its evidence.
const WinEvidenceSpan = 14 * 24 * time.Hour

// WinEvidence returns, for each manual win that names a metric (`wins add
// --metric`), the evidence lines it should carry: its own first line, then
// one per measured draft (kind impact, not rejected) of that metric whose
// shift lies within WinEvidenceSpan of the win's date. Only wins whose
// evidence changes are returned, keyed by id. The win's text and numbers
// are never touched: the user wrote them.
func WinEvidence(wins, measured []model.Draft) map[string][]string {
	out := map[string][]string{}
	for _, w := range wins {
		if w.Kind != model.KindManual || w.Metric.ID == "" {
			continue
		}
		ev := []string{}
		if len(w.Evidence) > 0 {
			ev = append(ev, w.Evidence[0])
		}
		for _, d := range measured {
			if d.Kind != model.KindImpact && d.Kind != "" || d.Status == model.StatusRejected || d.Metric.ID != w.Metric.ID {
				continue
			}
			if gap := d.ShiftAt.Sub(w.ShiftAt); gap > WinEvidenceSpan || gap < -WinEvidenceSpan {
				continue
			}
			ev = append(ev, fmt.Sprintf("Measured (draft %s, %s): %s", d.ID, d.Status, d.GeneratedText))
		}
		if !slices.Equal(ev, w.Evidence) {
			out[w.ID] = ev
		}
	}
	return out
}
