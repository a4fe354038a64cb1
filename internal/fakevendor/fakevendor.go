// Package fakevendor holds the fake Prometheus until it moves to
// collectors/prometheus, where every other vendor's fake already lives
// (collectors/<name>/fake.go); the helpers the fakes share are in
// collectors/collectorstest.
package fakevendor

import (
	"encoding/json"
	"net/http"

	"github.com/impact-dev/impact/collectors/collectorstest"
)

// Options tune the fake server.
type Options = collectorstest.FakeOptions

// Counter and CountKey count the requests served.
type (
	Counter  = collectorstest.Counter
	CountKey = collectorstest.CountKey
)

func wrap(vendor string, mux *http.ServeMux, o Options, fault func(http.ResponseWriter, int)) http.Handler {
	return collectorstest.Wrap(vendor, mux, o, fault)
}

func writeJSON(w http.ResponseWriter, status int, v any) { collectorstest.WriteJSON(w, status, v) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
