// Package progress draws collection progress on a terminal.
package progress

import (
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// Bar is a collectors.Progress drawing one bar for all sources on w.
type Bar struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	total   int64
	done    int64
	sources map[string]bool
}

// NewBar returns a bar writing to w (a terminal).
func NewBar(w io.Writer, label string) *Bar {
	b := &Bar{sources: map[string]bool{}}
	b.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	return b
}

// Total adds expected work.
func (b *Bar) Total(source string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sources[source] = true
	b.total += n
	b.bar.ChangeMax64(b.total)
	b.describe()
}

// Done marks work done.
func (b *Bar) Done(source string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.done > b.total {
		b.total = b.done
		b.bar.ChangeMax64(b.total)
	}
	_ = b.bar.Set64(b.done)
}

func (b *Bar) describe() {
	names := make([]string, 0, len(b.sources))
	for s := range b.sources {
		names = append(names, s)
	}
	sort.Strings(names)
	b.bar.Describe("collecting " + strings.Join(names, ", "))
}

// Finish clears the bar.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.bar.Finish()
}
