package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/stagefront/stagefront/internal/release"
)

// variantTraffic is one variant's numbers in a live sample.
type variantTraffic struct {
	RequestsPerSecond float64 `json:"rps"`       // over the last interval
	Requests          float64 `json:"requests"`  // since the stream opened
	Share             float64 `json:"share"`     // of both variants' requests since the stream opened
	ErrorRate         float64 `json:"errorRate"` // 5xx, since the stream opened
	P50               float64 `json:"p50Seconds"`
	P95               float64 `json:"p95Seconds"`
}

// TrafficSample is one server-sent event of the live traffic of a
// primary/staging pair. The numbers come from the metrics the release
// analysis reads (release.SnapshotOf and release.WindowSince), so the
// console shows what the analysis judges.
type TrafficSample struct {
	At       time.Time      `json:"at"`
	Primary  variantTraffic `json:"primary"`
	Staging  variantTraffic `json:"staging"`
	HitRatio *float64       `json:"hitRatio,omitempty"` // the edges' object cache, every distribution
	// Text is each number formatted for the page, by element name.
	Text map[string]string `json:"text"`
}

// liveBaseline is what a stream compares against: the counters when it opened.
type liveBaseline struct {
	snap         release.Snapshot
	hits, misses float64
}

func (c *Console) gatherLive(primaryID string) (liveBaseline, error) {
	fams, err := c.opts.Metrics.Gather()
	if err != nil {
		return liveBaseline{}, fmt.Errorf("gather metrics: %w", err)
	}
	b := liveBaseline{snap: release.SnapshotOf(fams, primaryID)}
	b.hits, b.misses = counterSum(fams, "stagefront_cache_hits_total"), counterSum(fams, "stagefront_cache_misses_total")
	return b, nil
}

func counterSum(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, mf := range fams {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// trafficSample computes a sample from the counters at the stream's start,
// at the previous sample, and now.
func trafficSample(first, prev, cur liveBaseline, interval time.Duration, at time.Time) TrafficSample {
	total := release.WindowSince(first.snap, cur.snap)
	last := release.WindowSince(prev.snap, cur.snap)
	s := TrafficSample{At: at, Text: map[string]string{}}
	both := total.Primary.Requests + total.Staging.Requests
	fill := func(dst *variantTraffic, tot, lst release.Stats, name string) {
		dst.Requests, dst.ErrorRate, dst.P50, dst.P95 = tot.Requests, tot.ErrorRate, tot.P50, tot.P95
		if interval > 0 {
			dst.RequestsPerSecond = lst.Requests / interval.Seconds()
		}
		if both > 0 {
			dst.Share = tot.Requests / both
		}
		s.Text[name+"-rps"] = fmt.Sprintf("%.1f", dst.RequestsPerSecond)
		s.Text[name+"-requests"] = fmt.Sprintf("%.0f", dst.Requests)
		s.Text[name+"-share"] = fmt.Sprintf("%.1f%%", 100*dst.Share)
		s.Text[name+"-errors"] = pct(dst.ErrorRate)
		s.Text[name+"-p50"] = ms(dst.P50)
		s.Text[name+"-p95"] = ms(dst.P95)
	}
	fill(&s.Primary, total.Primary, last.Primary, "primary")
	fill(&s.Staging, total.Staging, last.Staging, "staging")
	hits, misses := cur.hits-first.hits, cur.misses-first.misses
	if hits >= 0 && misses >= 0 && hits+misses > 0 {
		ratio := hits / (hits + misses)
		s.HitRatio = &ratio
		s.Text["hit-ratio"] = pct(ratio)
	} else {
		s.Text["hit-ratio"] = "–"
	}
	s.Text["updated"] = at.UTC().Format("15:04:05")
	return s
}

// live streams a pair's traffic as server-sent events, one sample per
// LiveInterval, until the viewer goes away or the session ends (an
// "expired" event then tells the page to sign in again). Streaming does not
// count as using the session, so an open page does not keep it alive.
func (c *Console) live(w http.ResponseWriter, r *request) {
	if c.opts.Metrics == nil {
		c.errorPage(w, r.Request, r.session, http.StatusNotFound, "This server has no edge metrics to show.")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		c.errorPage(w, r.Request, r.session, http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	primaryID := r.PathValue("id")
	first, err := c.gatherLive(primaryID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The API listener's ReadTimeout bounds reading a request, not a
	// stream: clear the connection's read deadline, so that it cannot end
	// one (the stream ends with the session instead).
	if err := http.NewResponseController(w).SetReadDeadline(time.Time{}); err != nil {
		c.log.Debug("console: live traffic: read deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	prev, prevAt := first, c.opts.Clock()
	send := func(event string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if event != "" {
			if _, err := fmt.Fprintf(w, "event: %s\n", event); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", raw); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	if err := send("", trafficSample(first, first, first, 0, prevAt)); err != nil {
		return
	}
	tick := time.NewTicker(c.opts.LiveInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		if c.sessions.Lookup(r.token, false) == nil {
			_ = send("expired", map[string]string{"signin": "/console/signin"})
			return
		}
		cur, err := c.gatherLive(primaryID)
		if err != nil {
			c.log.Warn("console: live traffic", "err", err)
			continue
		}
		now := c.opts.Clock()
		if err := send("", trafficSample(first, prev, cur, now.Sub(prevAt), now)); err != nil {
			return
		}
		prev, prevAt = cur, now
	}
}
