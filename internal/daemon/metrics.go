package daemon

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/version"
	"github.com/impact-dev/impact/store"

	impactcollectors "github.com/impact-dev/impact/collectors"
)

// metrics are the daemon's Prometheus metrics, on its own registry (never
// the global default one).
type metrics struct {
	pollDuration        *prometheus.HistogramVec
	polls               *prometheus.CounterVec
	lastSuccess         *prometheus.GaugeVec
	lastPoll            *prometheus.GaugeVec
	consecutiveFailures *prometheus.GaugeVec
	nextPoll            *prometheus.GaugeVec
	samples             *prometheus.CounterVec
	events              *prometheus.CounterVec
	draftRuns           *prometheus.CounterVec
	draftDuration       prometheus.Histogram
	lastDraft           prometheus.Gauge
	reloads             *prometheus.CounterVec
	lastReload          prometheus.Gauge
	digests             *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, d *Daemon) *metrics {
	m := &metrics{
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "impact_source_poll_duration_seconds",
			Help:    "Time one poll of a source took, by source.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"source"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_source_polls_total",
			Help: "Polls of a source, by source and result (success or failure).",
		}, []string{"source", "result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "impact_source_last_success_timestamp_seconds",
			Help: "When the last successful poll of a source ended (Unix time; 0 = none since start).",
		}, []string{"source"}),
		lastPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "impact_source_last_poll_timestamp_seconds",
			Help: "When the last poll of a source ended, whatever its result (Unix time).",
		}, []string{"source"}),
		consecutiveFailures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "impact_source_consecutive_failures",
			Help: "Failed polls of a source since its last success.",
		}, []string{"source"}),
		nextPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "impact_source_next_poll_timestamp_seconds",
			Help: "When the next poll of a source is due (Unix time).",
		}, []string{"source"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_collected_samples_total",
			Help: "Samples committed to the store, by source.",
		}, []string{"source"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_collected_events_total",
			Help: "Events (PRs, deploys, incidents, CI runs) committed to the store, by source.",
		}, []string{"source"}),
		draftRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_drafter_runs_total",
			Help: "Drafter passes, by result.",
		}, []string{"result"}),
		draftDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "impact_drafter_duration_seconds",
			Help:    "Time one drafter pass took.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		lastDraft: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "impact_drafter_last_success_timestamp_seconds",
			Help: "When the last successful drafter pass ended (Unix time).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_config_reloads_total",
			Help: "Config reloads (SIGHUP), by result.",
		}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "impact_config_last_reload_success_timestamp_seconds",
			Help: "When the config was last loaded successfully (Unix time).",
		}),
		digests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "impact_digest_sends_total",
			Help: "Scheduled digest sends, by result.",
		}, []string{"result"}),
	}
	m.lastReload.SetToCurrentTime()
	for _, r := range []string{"success", "failure"} {
		m.draftRuns.WithLabelValues(r)
		m.reloads.WithLabelValues(r)
		m.digests.WithLabelValues(r)
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "impact_build_info",
		Help: "Always 1; the labels say which impact runs.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(version.String(), runtime.Version()).Set(1)
	reg.MustRegister(
		m.pollDuration, m.polls, m.lastSuccess, m.lastPoll, m.consecutiveFailures, m.nextPoll,
		m.samples, m.events, m.draftRuns, m.draftDuration, m.lastDraft, m.reloads, m.lastReload, m.digests,
		build,
		&vendorCollector{d: d},
		&storeCollector{d: d},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// initSource makes a source's series exist (at zero) before its first poll.
func (m *metrics) initSource(source string) {
	m.polls.WithLabelValues(source, "success")
	m.polls.WithLabelValues(source, "failure")
	m.lastSuccess.WithLabelValues(source)
	m.consecutiveFailures.WithLabelValues(source)
	m.samples.WithLabelValues(source)
	m.events.WithLabelValues(source)
}

func (m *metrics) observePoll(r impactcollectors.Result) {
	m.pollDuration.WithLabelValues(r.Source).Observe(r.Duration.Seconds())
	end := r.Start.Add(r.Duration)
	m.lastPoll.WithLabelValues(r.Source).Set(float64(end.UnixNano()) / 1e9)
	m.samples.WithLabelValues(r.Source).Add(float64(r.Samples))
	m.events.WithLabelValues(r.Source).Add(float64(r.Events))
	if r.Err != nil {
		m.polls.WithLabelValues(r.Source, "failure").Inc()
		return
	}
	m.polls.WithLabelValues(r.Source, "success").Inc()
	m.lastSuccess.WithLabelValues(r.Source).Set(float64(end.UnixNano()) / 1e9)
}

func (m *metrics) observeDraft(d time.Duration, err error) {
	m.draftDuration.Observe(d.Seconds())
	if err != nil {
		m.draftRuns.WithLabelValues("failure").Inc()
		return
	}
	m.draftRuns.WithLabelValues("success").Inc()
	m.lastDraft.SetToCurrentTime()
}

// vendorCollector exports the vendors' HTTP counts (collectors.Stats) and
// rate-limit budgets (collectors.Budget) at scrape time.
type vendorCollector struct{ d *Daemon }

var (
	descRequests = prometheus.NewDesc("impact_vendor_requests_total",
		"HTTP attempts to vendor APIs, by vendor and status code (\"none\": no answer — network error or timeout).",
		[]string{"vendor", "status"}, nil)
	descRetries = prometheus.NewDesc("impact_vendor_retries_total",
		"Retried vendor API requests, by vendor.", []string{"vendor"}, nil)
	descRemaining = prometheus.NewDesc("impact_vendor_ratelimit_remaining",
		"Requests left in the vendor's rate-limit window, as its last answer said.", []string{"vendor"}, nil)
	descLimit = prometheus.NewDesc("impact_vendor_ratelimit_limit",
		"Size of the vendor's rate-limit window, as its last answer said.", []string{"vendor"}, nil)
	descReset = prometheus.NewDesc("impact_vendor_ratelimit_reset_timestamp_seconds",
		"When the vendor's rate-limit window refills (Unix time), as its last answer said.", []string{"vendor"}, nil)
)

func (c *vendorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descRetries, descRemaining, descLimit, descReset} {
		ch <- d
	}
}

func (c *vendorCollector) Collect(ch chan<- prometheus.Metric) {
	for k, n := range c.d.stats.Responses() {
		status := "none"
		if k.Status != 0 {
			status = strconv.Itoa(k.Status)
		}
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), k.Vendor, status)
	}
	for vendor, n := range c.d.stats.Retries() {
		ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(n), vendor)
	}
	c.d.budgetsMu.Lock()
	budgets := make(map[string]*impactcollectors.Budget, len(c.d.budgets))
	for k, v := range c.d.budgets {
		budgets[k] = v
	}
	c.d.budgetsMu.Unlock()
	for vendor, b := range budgets {
		limit, remaining, reset, known := b.Snapshot()
		if !known {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descRemaining, prometheus.GaugeValue, float64(remaining), vendor)
		ch <- prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, float64(limit), vendor)
		if !reset.IsZero() {
			ch <- prometheus.MustNewConstMetric(descReset, prometheus.GaugeValue, float64(reset.Unix()), vendor)
		}
	}
}

// storeCollector exports what the store holds. Counting walks the file, so
// a result is reused for a few seconds.
type storeCollector struct {
	d     *Daemon
	mu    sync.Mutex
	at    time.Time
	stats store.Stats
	err   error
}

var (
	descStoreSize = prometheus.NewDesc("impact_store_size_bytes", "Size of the bbolt file.", nil, nil)
	descSeries    = prometheus.NewDesc("impact_store_series", "Series in the store.", nil, nil)
	descSamples   = prometheus.NewDesc("impact_store_samples", "Samples in the store.", nil, nil)
	descEvents    = prometheus.NewDesc("impact_store_events", "Events in the store, by kind.", []string{"kind"}, nil)
	descDrafts    = prometheus.NewDesc("impact_drafts", "Drafts in the store, by status.", []string{"status"}, nil)
	descUp        = prometheus.NewDesc("impact_store_up", "1 when the store could be read at the last scrape.", nil, nil)
)

const storeStatsTTL = 5 * time.Second

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStoreSize, descSeries, descSamples, descEvents, descDrafts, descUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.at) > storeStatsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.stats, c.err = c.d.st.Stats(ctx)
		cancel()
		c.at = time.Now()
	}
	st, err := c.stats, c.err
	c.mu.Unlock()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descStoreSize, prometheus.GaugeValue, float64(st.FileSize))
	ch <- prometheus.MustNewConstMetric(descSeries, prometheus.GaugeValue, float64(st.Series))
	ch <- prometheus.MustNewConstMetric(descSamples, prometheus.GaugeValue, float64(st.Samples))
	for kind, n := range map[string]int{"pr": st.PRs, "deploy": st.Deploys, "incident": st.Incidents, "ci_run": st.CIRuns} {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.GaugeValue, float64(n), kind)
	}
	for _, s := range []model.Status{model.StatusPending, model.StatusAccepted, model.StatusRejected} {
		ch <- prometheus.MustNewConstMetric(descDrafts, prometheus.GaugeValue, float64(st.Drafts[s]), string(s))
	}
}
