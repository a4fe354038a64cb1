package collectors

import "sync"

// PageProgress reports a source's requests (pages) as progress units: one
// announced before each request unless it already is, more announced when
// a first page tells how many follow, each marked done as it finishes, and
// at the end whatever was announced is marked done, so the bar completes
// when a walk ends early or was over-estimated. It is safe for concurrent
// use; the zero value needs Source and Progress set.
type PageProgress struct {
	Source   string
	Progress Progress

	mu              sync.Mutex
	announced, done int64
}

// Start announces the request about to be sent, unless one announced is
// still outstanding (an estimate covered it).
func (p *PageProgress) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done >= p.announced {
		p.Progress.Total(p.Source, 1)
		p.announced++
	}
}

// Announce adds n expected requests (n ≤ 0: none).
func (p *PageProgress) Announce(n int64) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.announced += n
	p.Progress.Total(p.Source, n)
}

// Done marks n requests done, announcing any that were not.
func (p *PageProgress) Done(n int64) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if extra := p.done + n - p.announced; extra > 0 {
		p.announced += extra
		p.Progress.Total(p.Source, extra)
	}
	p.done += n
	p.Progress.Done(p.Source, n)
}

// DoneOne marks one outstanding request done (none outstanding: nothing;
// the request was counted already).
func (p *PageProgress) DoneOne() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done < p.announced {
		p.done++
		p.Progress.Done(p.Source, 1)
	}
}

// Outstanding is how many announced requests are not done yet.
func (p *PageProgress) Outstanding() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.announced - p.done
}

// Finish marks every announced request done.
func (p *PageProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rest := p.announced - p.done; rest > 0 {
		p.done += rest
		p.Progress.Done(p.Source, rest)
	}
}
