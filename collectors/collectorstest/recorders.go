package collectorstest

import (
	"bytes"
	"slices"
	"sync"
	"time"
)

// Progress is a collectors progress reporter that counts what one source
// reports (Source; "" counts every source).
type Progress struct {
	Source string

	mu          sync.Mutex
	total, done int64
}

// Total implements the progress reporter.
func (p *Progress) Total(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Source == "" || source == p.Source {
		p.total += n
	}
}

// Done implements the progress reporter.
func (p *Progress) Done(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Source == "" || source == p.Source {
		p.done += n
	}
}

// Counts are the totals and the done counts reported so far.
func (p *Progress) Counts() (total, done int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.done
}

// Sleeps records the waits the shared HTTP client asks for
// (collectors.HTTPOptions.Sleep) without waiting.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep is an HTTPOptions.Sleep: it records d and returns at once, false
// when done is closed.
func (s *Sleeps) Sleep(done <-chan struct{}, d time.Duration) bool {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// All returns the waits recorded so far.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// Buffer is a bytes.Buffer that a logger or a child process and a test
// can share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
