package edge

import (
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/cache"
)

type metrics struct {
	// byDist caches the children of requests and latency per
	// distribution, so the hot path does not hash label values: a map
	// replaced, never modified, under mu (copy on write; distributions
	// are few and new ones rare).
	mu     sync.Mutex
	byDist atomic.Pointer[map[string]*distMetrics]

	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	originErrors *prometheus.CounterVec
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
	}
	stats := func(name, help string, kind prometheus.ValueType, read func(cache.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return read(c.Stats()) })
	}
	collectors := []prometheus.Collector{
		m.requests, m.latency, m.originErrors,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_hits_total", Help: "Requests answered from the cache."},
			func() float64 { return float64(c.Stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_misses_total", Help: "Requests that waited for an origin fetch."},
			func() float64 { return float64(c.Stats().Misses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_evictions_total", Help: "Entries evicted to stay under the size bound."},
			func() float64 { return float64(c.Stats().Evictions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stagefront_cache_uncoalesced_total", Help: "Requests that fetched on their own because their object may not be shared (hit-for-miss)."},
			func() float64 { return float64(c.Stats().Uncoalesced) }),
		stats("stagefront_cache_fetch_waiters", "Requests waiting for an origin fetch they share.", prometheus.GaugeValue, func(s cache.Stats) float64 { return float64(s.Waiting) }),
		stats("stagefront_cache_uncacheable_keys", "Keys marked uncacheable (hit-for-miss).", prometheus.GaugeValue, func(s cache.Stats) float64 { return float64(s.UncacheableKeys) }),
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
	vm := m.forDist(distID).variant(variant)
	c := status / 100
	if c < 0 || c >= len(statusClasses) {
		m.requests.WithLabelValues(distID, vm.name, statusClass(status)).Inc()
	} else {
		vm.counter(m, distID, c).Inc()
	}
	vm.latencyOf(m, distID).Observe(d.Seconds())
}

// distMetrics are one distribution's metric children, created on first use.
type distMetrics struct {
	primary, staging, none variantMetrics
}

type variantMetrics struct {
	name     string
	latency  atomic.Pointer[observer]
	requests [len(statusClasses)]atomic.Pointer[counter]
}

type observer struct{ prometheus.Observer }
type counter struct{ prometheus.Counter }

func (m *metrics) forDist(distID string) *distMetrics {
	if p := m.byDist.Load(); p != nil {
		if dm := (*p)[distID]; dm != nil {
			return dm
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var old map[string]*distMetrics
	if p := m.byDist.Load(); p != nil {
		old = *p
	}
	if dm := old[distID]; dm != nil {
		return dm
	}
	dm := &distMetrics{}
	dm.primary.name, dm.staging.name, dm.none.name = "primary", "staging", "none"
	next := make(map[string]*distMetrics, len(old)+1)
	maps.Copy(next, old)
	next[distID] = dm
	m.byDist.Store(&next)
	return dm
}

func (dm *distMetrics) variant(v string) *variantMetrics {
	switch v {
	case "primary":
		return &dm.primary
	case "staging":
		return &dm.staging
	}
	return &dm.none
}

// counter returns the requests child of status class c (racing first uses
// store the same child: WithLabelValues returns one per label set).
func (vm *variantMetrics) counter(m *metrics, distID string, c int) prometheus.Counter {
	if p := vm.requests[c].Load(); p != nil {
		return p.Counter
	}
	p := &counter{m.requests.WithLabelValues(distID, vm.name, statusClasses[c])}
	vm.requests[c].Store(p)
	return p.Counter
}

func (vm *variantMetrics) latencyOf(m *metrics, distID string) prometheus.Observer {
	if p := vm.latency.Load(); p != nil {
		return p.Observer
	}
	p := &observer{m.latency.WithLabelValues(distID, vm.name)}
	vm.latency.Store(p)
	return p.Observer
}

var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is "2xx" for 200 and so on, without building the string.
func statusClass(status int) string {
	if c := status / 100; c >= 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return strconv.Itoa(status/100) + "xx"
}
