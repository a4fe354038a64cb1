package collectors

import "sync"

// StatusKey identifies a response count: vendor and HTTP status (0 when the
// attempt got no response: network error or timeout).
type StatusKey struct {
	Vendor string
	Status int
}

// Stats counts the shared client's attempts by vendor and status, and its
// retries by vendor. The zero value is ready; it is safe for concurrent use.
// The daemon exports DefaultStats as Prometheus counters.
type Stats struct {
	mu        sync.Mutex
	responses map[StatusKey]int64
	retries   map[string]int64
}

// DefaultStats is used by clients whose HTTPOptions.Stats is nil.
var DefaultStats = &Stats{}

func (s *Stats) add(vendor string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.responses == nil {
		s.responses = map[StatusKey]int64{}
	}
	s.responses[StatusKey{vendor, status}]++
}

func (s *Stats) retry(vendor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retries == nil {
		s.retries = map[string]int64{}
	}
	s.retries[vendor]++
}

// Responses returns a copy of the attempt counts by vendor and status.
func (s *Stats) Responses() map[StatusKey]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[StatusKey]int64, len(s.responses))
	for k, v := range s.responses {
		out[k] = v
	}
	return out
}

// Count returns the number of attempts of vendor that ended with status.
func (s *Stats) Count(vendor string, status int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.responses[StatusKey{vendor, status}]
}

// Retries returns a copy of the retry counts by vendor.
func (s *Stats) Retries() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.retries))
	for k, v := range s.retries {
		out[k] = v
	}
	return out
}
