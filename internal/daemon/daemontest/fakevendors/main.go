// Command fakevendors serves a built-in world through fake GitHub and
// Datadog APIs on loopback and writes an impact config that points at
// them; scripts/bench-serve.sh runs it. It serves until interrupted.
//
//	go run ./internal/daemon/daemontest/fakevendors -days 365 -config /tmp/impact.yaml -store /tmp/impact.db -listen 127.0.0.1:7979
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
)

func main() {
	days := flag.Int("days", 365, "days of history to serve")
	cfgPath := flag.String("config", "impact-bench.yaml", "write the impact config here")
	storePath := flag.String("store", "impact-bench.db", "store.path in the config")
	listen := flag.String("listen", "127.0.0.1:7979", "server.listen in the config")
	interval := flag.Duration("interval", time.Hour, "sources' poll interval in the config")
	latency := flag.Duration("latency", 0, "added to every vendor request")
	flag.Parse()

	w := daemontest.World(time.Now(), *days)
	v := daemontest.StartVendors(w, collectorstest.FakeOptions{Latency: *latency})
	defer v.Close()
	if err := v.WriteConfig(*cfgPath, daemontest.ConfigOptions{Store: *storePath, Listen: *listen, Interval: *interval}); err != nil {
		fmt.Fprintln(os.Stderr, "fakevendors:", err)
		os.Exit(1)
	}
	samples := 0
	for _, ss := range w.Series {
		samples += len(ss)
	}
	fmt.Printf("fakevendors: %d days, %d PRs, %d samples; github %s datadog %s; config %s\n",
		*days, len(w.PRs), samples, v.GitHub.URL, v.Datadog.URL, *cfgPath)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
