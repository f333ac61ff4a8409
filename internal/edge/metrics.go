package edge

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/cache"
)

type metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	originErrors  *prometheus.CounterVec
	compileErrors *prometheus.CounterVec
	tableRevision prometheus.Gauge
	swapSeconds   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, c *cache.Cache) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_edge_requests_total", Help: "Viewer requests by distribution (the primary), variant and status class.",
		}, []string{"distribution", "variant", "class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "stagefront_edge_request_duration_seconds", Help: "Viewer request latency by distribution and variant.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"distribution", "variant"}),
		originErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_edge_origin_errors_total", Help: "Origin fetch failures by distribution and the status answered.",
		}, []string{"distribution", "status"}),
		compileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_edge_compile_errors_total", Help: "Distribution configs that did not compile (the last good entry is kept).",
		}, []string{"distribution"}),
		tableRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stagefront_edge_table_revision", Help: "Store revision of the routing table in use.",
		}),
		swapSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stagefront_edge_table_swap_seconds", Help: "Time to purge, compile and swap the routing table after a store change.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
	}
	stats := func(name, help string, kind prometheus.ValueType, read func(cache.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return read(c.Stats()) })
	}
	collectors := []prometheus.Collector{
		m.requests, m.latency, m.originErrors, m.compileErrors, m.tableRevision, m.swapSeconds,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_hits_total", Help: "Requests answered from the cache."},
			func() float64 { return float64(c.Stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_misses_total", Help: "Requests that waited for an origin fetch."},
			func() float64 { return float64(c.Stats().Misses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_evictions_total", Help: "Entries evicted to stay under the size bound."},
			func() float64 { return float64(c.Stats().Evictions) }),
		stats("stagefront_cache_bytes", "Bytes held by the object cache.", prometheus.GaugeValue, func(s cache.Stats) float64 { return float64(s.Bytes) }),
		stats("stagefront_cache_entries", "Objects held by the cache.", prometheus.GaugeValue, func(s cache.Stats) float64 { return float64(s.Entries) }),
	}
	for _, col := range collectors {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register edge metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(distID, variant string, status int, d time.Duration) {
	if distID == "" {
		distID = "none"
	}
	if variant == "" {
		variant = "none"
	}
	m.requests.WithLabelValues(distID, variant, statusClass(status)).Inc()
	m.latency.WithLabelValues(distID, variant).Observe(d.Seconds())
}

var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is "2xx" for 200 and so on, without building the string.
func statusClass(status int) string {
	if c := status / 100; c >= 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return strconv.Itoa(status/100) + "xx"
}
