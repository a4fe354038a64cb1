package store

import (
	"context"
	"os"
	"testing"

	"github.com/impact-dev/impact/internal/model"
)

// BenchmarkCheck times Check (every page, key and value read) on a year of
// hourly samples for 50 series and 2,000 drafts.
func BenchmarkCheck(b *testing.B) {
	s, path := openTest(b, Options{})
	commitYear(b, s, 50)
	ds := make([]model.Draft, 2000)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	if _, err := s.SaveDrafts(context.Background(), ds); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.ReportMetric(float64(fi.Size()), "file-bytes")
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Check(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
