package console_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/testutil"
)

// edgeMetrics registers the edge's request metrics (the names and labels
// internal/edge/metrics.go exports and the release analysis reads).
func edgeMetrics(t *testing.T, reg *prometheus.Registry) (*prometheus.CounterVec, *prometheus.HistogramVec) {
	t.Helper()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stagefront_edge_requests_total", Help: "h"}, []string{"distribution", "variant", "class"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stagefront_edge_request_duration_seconds", Help: "h",
		Buckets: []float64{.001, .01, .1, 1}}, []string{"distribution", "variant"})
	reg.MustRegister(requests, latency)
	return requests, latency
}

type event struct {
	name string
	data string
}

// readEvents returns server-sent events as they arrive.
func readEvents(t *testing.T, resp *http.Response) <-chan event {
	t.Helper()
	out := make(chan event, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "":
				out <- ev
				ev = event{}
			}
		}
	}()
	return out
}

func TestLiveTrafficStreamsTheAnalysisNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *console.Options) { o.LiveInterval = 20 * time.Millisecond; o.IdleTimeout = time.Hour })
	requests, latency := edgeMetrics(t, e.metrics)
	const primary = "EPRIMARY000001"
	requests.WithLabelValues(primary, "primary", "2xx").Add(500) // before the page opened: not counted
	requests.WithLabelValues("EOTHER", "staging", "2xx").Add(70) // another pair: not counted

	b := e.signedIn("192.0.2.1")
	// The API listener bounds reading a request; a stream outlives that.
	srv := httptest.NewUnstartedServer(e.console)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/console/distributions/"+primary+"/live", nil)
	testutil.Must(t, err)
	req.AddCookie(&http.Cookie{Name: "stagefront_console", Value: b.cookies["stagefront_console"]})
	resp, err := http.DefaultClient.Do(req)
	testutil.Must(t, err)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("live: %d %q", resp.StatusCode, ct)
	}
	events := readEvents(t, resp)
	first := <-events
	var sample console.TrafficSample
	testutil.Must(t, json.Unmarshal([]byte(first.data), &sample))
	if sample.Primary.Requests != 0 || sample.Text["staging-share"] != "0.0%" {
		t.Errorf("first sample counts what came before the page: %+v", sample)
	}

	requests.WithLabelValues(primary, "primary", "2xx").Add(180)
	requests.WithLabelValues(primary, "staging", "2xx").Add(18)
	requests.WithLabelValues(primary, "staging", "5xx").Add(2)
	for range 180 {
		latency.WithLabelValues(primary, "primary").Observe(0.005)
	}
	for range 20 {
		latency.WithLabelValues(primary, "staging").Observe(0.05)
	}
	deadline := time.After(5 * time.Second)
	for sample.Staging.Requests < 20 {
		select {
		case ev := <-events:
			testutil.Must(t, json.Unmarshal([]byte(ev.data), &sample))
		case <-deadline:
			t.Fatalf("no sample with the new requests; last %+v", sample)
		}
	}
	if sample.Staging.Share != 0.1 || sample.Primary.Share != 0.9 || sample.Text["staging-share"] != "10.0%" {
		t.Errorf("share %v/%v (%q), want 0.9/0.1", sample.Primary.Share, sample.Staging.Share, sample.Text["staging-share"])
	}
	if sample.Staging.ErrorRate != 0.1 || sample.Primary.ErrorRate != 0 {
		t.Errorf("5xx rates %v/%v, want 0/0.1", sample.Primary.ErrorRate, sample.Staging.ErrorRate)
	}
	if p := sample.Staging.P50; p <= 0.01 || p > 0.1 {
		t.Errorf("staging p50 %v, want inside its bucket (0.01, 0.1]", p)
	}
	if p := sample.Primary.P95; p <= 0.001 || p > 0.01 {
		t.Errorf("primary p95 %v, want inside (0.001, 0.01]", p)
	}

	// The stream outlives the listener's read timeout.
	outlive := time.After(time.Second)
	for waiting := true; waiting; {
		select {
		case _, ok := <-events:
			if !ok {
				t.Fatal("the stream ended at the listener's read timeout")
			}
		case <-outlive:
			waiting = false
		}
	}

	// The session ends while the page is open: the stream says so and ends.
	e.clock.Advance(2 * time.Hour)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended without an expired event")
			}
			if ev.name == "expired" {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream goes on after the session expired")
		}
	}
}

func TestLiveTrafficNeedsASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.browser("192.0.2.1").do("GET", "/console/distributions/E1/live", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("live without a session: %d, want 401 (an EventSource cannot follow a redirect to a form)", resp.StatusCode)
	}
}
