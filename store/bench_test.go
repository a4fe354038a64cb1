package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// commitYear writes one year of hourly samples for n series, one batch (one
// transaction) per day for all series, the way a backfill commits pages.
func commitYear(tb testing.TB, s *Store, n int) int {
	ctx := context.Background()
	total := 0
	for day := range 365 {
		b := model.Batch{Source: "datadog", Samples: map[string][]model.Sample{}, Cursors: map[string][]byte{}}
		for i := range n {
			id := fmt.Sprintf("metric-%02d", i)
			ss := make([]model.Sample, 24)
			for h := range 24 {
				tm := t0.Add(time.Duration(day*24+h) * time.Hour)
				ss[h] = model.Sample{Time: tm, Value: 100 + float64((day*24+h)%97) + float64(i)/3}
			}
			b.Samples[id] = ss
			b.Cursors[id] = []byte(t0.AddDate(0, 0, day+1).Format(time.RFC3339))
			total += len(ss)
		}
		if err := s.Commit(ctx, b); err != nil {
			tb.Fatal(err)
		}
	}
	return total
}

// BenchmarkBytesPerSample reports the file size per stored sample after a
// year of hourly samples for 50 series.
func BenchmarkBytesPerSample(b *testing.B) {
	for b.Loop() {
		s, path := openTest(b, Options{})
		n := commitYear(b, s, 50)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/float64(n), "bytes/sample")
		b.ReportMetric(float64(fi.Size()), "file-bytes")
	}
}

// BenchmarkCommitHourlyYear times writing a year of hourly samples for 50
// series in daily batches.
func BenchmarkCommitHourlyYear(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, _ := openTest(b, Options{})
		b.StartTimer()
		n := commitYear(b, s, 50)
		b.StopTimer()
		b.ReportMetric(float64(n), "samples/op")
		_ = s.Close()
		b.StartTimer()
	}
}

func drafts10k(b *testing.B) *Store {
	ctx := context.Background()
	s, path := openTest(b, Options{})
	ds := make([]model.Draft, 10000)
	for i := range ds {
		ds[i] = sampleDraft(i)
	}
	if _, err := s.SaveDrafts(ctx, ds); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	}
	return s
}

// BenchmarkDraftsList10k times listing 10,000 stored drafts.
func BenchmarkDraftsList10k(b *testing.B) {
	s := drafts10k(b)
	for b.Loop() {
		got, err := s.Drafts(context.Background(), DraftFilter{})
		if err != nil || len(got) != 10000 {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkDraftsJSON10k times listing 10,000 stored drafts as raw JSON.
func BenchmarkDraftsJSON10k(b *testing.B) {
	s := drafts10k(b)
	for b.Loop() {
		got, err := s.DraftsJSON(context.Background(), DraftFilter{})
		if err != nil || len(got) != 10000 {
			b.Fatal(len(got), err)
		}
	}
}
