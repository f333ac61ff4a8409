package follow

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	compileErrors *prometheus.CounterVec
	failing       *prometheus.GaugeVec
	tableRevision prometheus.Gauge
	swapSeconds   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		compileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_edge_compile_errors_total", Help: "Distribution configs that did not compile (the last good entry is kept), counted at each compile.",
		}, []string{"distribution"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stagefront_edge_config_failing",
			Help: "Distributions whose stored config (or continuous-deployment policy, when policy is set) the table in use failed to compile, by reason; the value is the store revision of the record at fault.",
		}, []string{"distribution", "policy", "reason"}),
		tableRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stagefront_edge_table_revision", Help: "Store revision of the routing table in use.",
		}),
		swapSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stagefront_edge_table_swap_seconds", Help: "Time to compile, purge and swap the routing table after a store change.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
	}
	for _, c := range []prometheus.Collector{m.compileErrors, m.failing, m.tableRevision, m.swapSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register follower metrics: %w", err)
		}
	}
	return m, nil
}
