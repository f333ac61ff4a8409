package edge

import (
	"log/slog"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/routing"
)

// tlsWarner tells the operator when a distribution asks for
// redirect-to-https and this edge has no HTTPS listener (no --tls-cert): the
// edge then serves such requests over plain HTTP, as allow-all would,
// because redirecting to a port nobody listens on would break the site.
// That should not happen silently: each such distribution is logged once
// when a table containing it is published, and the gauge
// stagefront_edge_redirect_without_tls{distribution} is 1 while it lasts.
type tlsWarner struct {
	https bool
	log   *slog.Logger
	gauge *prometheus.GaugeVec

	mu     sync.Mutex
	warned map[string]bool // distributions currently reported
}

func newTLSWarner(https bool, log *slog.Logger, reg prometheus.Registerer) (*tlsWarner, error) {
	w := &tlsWarner{https: https, log: log, warned: map[string]bool{},
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stagefront_edge_redirect_without_tls",
			Help: "1 for each distribution whose behaviors ask for redirect-to-https while this edge has no HTTPS listener (served over plain HTTP instead).",
		}, []string{"distribution"}),
	}
	if err := reg.Register(w.gauge); err != nil {
		return nil, err
	}
	return w, nil
}

// redirectsToHTTPS reports whether any of d's behaviors redirects to HTTPS.
func redirectsToHTTPS(d *routing.Dist) bool {
	if d.Default.ViewerProtocolPolicy == "redirect-to-https" {
		return true
	}
	for i := range d.Behaviors {
		if d.Behaviors[i].ViewerProtocolPolicy == "redirect-to-https" {
			return true
		}
	}
	return false
}

// check reports the distributions of t that redirect to HTTPS when this
// edge cannot, and returns their ids (sorted).
func (w *tlsWarner) check(t *routing.Table) []string {
	if w.https || t == nil {
		return nil
	}
	now := map[string]bool{}
	var ids []string
	for _, d := range t.Dists() {
		if d.Enabled && redirectsToHTTPS(d) {
			now[d.ID] = true
			ids = append(ids, d.ID)
		}
	}
	sort.Strings(ids)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if !w.warned[id] {
			w.log.Warn("distribution asks for redirect-to-https but this edge has no HTTPS listener (--tls-cert/--tls-key); serving plain HTTP instead",
				"distribution", id)
			w.gauge.WithLabelValues(id).Set(1)
		}
	}
	for id := range w.warned {
		if !now[id] {
			w.gauge.DeleteLabelValues(id)
		}
	}
	w.warned = now
	return ids
}
