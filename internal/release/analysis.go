package release

import (
	"fmt"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// MetricsSource is what the analysis reads: a Prometheus gatherer (the
// registry the edge registers its metrics on).
type MetricsSource interface {
	Gather() ([]*dto.MetricFamily, error)
}

// The edge's metric names and label values (internal/edge/metrics.go).
const (
	metricRequests = "stagefront_edge_requests_total"
	metricLatency  = "stagefront_edge_request_duration_seconds"
	variantPrimary = "primary"
	variantStaging = "staging"
)

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64 `json:"le"`
	Count      float64 `json:"count"`
}

// Counters are one variant's cumulative counters at an instant.
type Counters struct {
	Requests float64  `json:"requests"`
	Errors   float64  `json:"errors5xx"`
	Buckets  []Bucket `json:"buckets,omitempty"`
	Observed float64  `json:"observed"` // the histogram's sample count
}

// Snapshot is both variants' counters for one primary at an instant.
type Snapshot struct {
	Primary Counters `json:"primary"`
	Staging Counters `json:"staging"`
}

// SnapshotOf extracts the counters of primaryID from gathered families.
func SnapshotOf(families []*dto.MetricFamily, primaryID string) Snapshot {
	var s Snapshot
	pick := func(variant string) *Counters {
		switch variant {
		case variantPrimary:
			return &s.Primary
		case variantStaging:
			return &s.Staging
		}
		return nil
	}
	for _, mf := range families {
		switch mf.GetName() {
		case metricRequests:
			for _, m := range mf.GetMetric() {
				l := labels(m)
				c := pick(l["variant"])
				if l["distribution"] != primaryID || c == nil {
					continue
				}
				v := m.GetCounter().GetValue()
				c.Requests += v
				if l["class"] == "5xx" {
					c.Errors += v
				}
			}
		case metricLatency:
			for _, m := range mf.GetMetric() {
				l := labels(m)
				c := pick(l["variant"])
				if l["distribution"] != primaryID || c == nil {
					continue
				}
				h := m.GetHistogram()
				c.Observed += float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					if math.IsInf(b.GetUpperBound(), 1) {
						continue
					}
					c.Buckets = addBucket(c.Buckets, b.GetUpperBound(), float64(b.GetCumulativeCount()))
				}
			}
		}
	}
	return s
}

func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func addBucket(bs []Bucket, le, count float64) []Bucket {
	for i := range bs {
		if bs[i].UpperBound == le {
			bs[i].Count += count
			return bs
		}
	}
	bs = append(bs, Bucket{UpperBound: le, Count: count})
	sort.Slice(bs, func(i, j int) bool { return bs[i].UpperBound < bs[j].UpperBound })
	return bs
}

// Stats are one variant's numbers over an analysis window.
type Stats struct {
	Requests  float64 `json:"requests"`
	Errors    float64 `json:"errors5xx"`
	ErrorRate float64 `json:"errorRate"`
	P50       float64 `json:"p50Seconds"`
	P95       float64 `json:"p95Seconds"`
}

// Window is both variants' numbers since a weight step began.
type Window struct {
	Primary Stats `json:"primary"`
	Staging Stats `json:"staging"`
}

// WindowSince computes the deltas from base to cur. A counter that went
// down means the process restarted (counters start at zero): the window
// then counts from the restart.
func WindowSince(base, cur Snapshot) Window {
	return Window{Primary: delta(base.Primary, cur.Primary), Staging: delta(base.Staging, cur.Staging)}
}

func delta(base, cur Counters) Stats {
	if cur.Requests < base.Requests || cur.Observed < base.Observed {
		base = Counters{}
	}
	st := Stats{Requests: cur.Requests - base.Requests, Errors: cur.Errors - base.Errors}
	if st.Requests > 0 {
		st.ErrorRate = st.Errors / st.Requests
	}
	buckets := make([]Bucket, len(cur.Buckets))
	for i, b := range cur.Buckets {
		buckets[i] = b
		for _, o := range base.Buckets {
			if o.UpperBound == b.UpperBound {
				buckets[i].Count -= o.Count
			}
		}
	}
	st.P50 = quantile(0.5, buckets, cur.Observed-base.Observed)
	st.P95 = quantile(0.95, buckets, cur.Observed-base.Observed)
	return st
}

// quantile estimates the q-quantile from cumulative buckets the way
// Prometheus' histogram_quantile does: linear interpolation inside the
// bucket holding the rank; beyond the last finite bucket, its upper bound.
func quantile(q float64, buckets []Bucket, count float64) float64 {
	if count <= 0 || len(buckets) == 0 {
		return 0
	}
	rank := q * count
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.Count >= rank {
			inBucket := b.Count - below
			if inBucket <= 0 {
				return b.UpperBound
			}
			return lower + (b.UpperBound-lower)*(rank-below)/inBucket
		}
		lower, below = b.UpperBound, b.Count
	}
	return buckets[len(buckets)-1].UpperBound
}

// Verdict is the outcome of one analysis.
type Verdict struct {
	Failed bool   `json:"failed"`
	Reason string `json:"reason"`
}

// Analyze checks a window against the thresholds.
func Analyze(a Analysis, w Window) Verdict {
	s, p := w.Staging, w.Primary
	if s.Requests < float64(a.MinRequests) {
		return Verdict{Reason: fmt.Sprintf("waiting for data: staging served %.0f of the %d requests needed", s.Requests, a.MinRequests)}
	}
	if s.ErrorRate > a.MaxErrorRate {
		return Verdict{Failed: true, Reason: fmt.Sprintf("staging 5xx rate %.2f%% is over %.2f%% (%.0f of %.0f requests)",
			100*s.ErrorRate, 100*a.MaxErrorRate, s.Errors, s.Requests)}
	}
	if a.MaxP95LatencyRatio > 0 && p.Requests > 0 && p.P95 > 0 {
		if ratio := s.P95 / p.P95; ratio > a.MaxP95LatencyRatio {
			return Verdict{Failed: true, Reason: fmt.Sprintf("staging p95 latency %.1fms is %.2f× the primary's %.1fms (limit %.2f×)",
				1000*s.P95, ratio, 1000*p.P95, a.MaxP95LatencyRatio)}
		}
	}
	return Verdict{Reason: fmt.Sprintf("healthy: staging %.0f requests, %.2f%% 5xx", s.Requests, 100*s.ErrorRate)}
}
