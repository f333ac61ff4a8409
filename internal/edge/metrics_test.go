package edge_test

import (
	"time"

	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestMetrics: after traffic on both variants, the registry counts
// requests per distribution (the primary), variant and status class, and
// /metrics exposes them.
func TestMetrics(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pair := h.newCDPair("metrics", cachingOptimized)
	h.attach(pair.primary.id, h.createPolicy(headerPolicy(pair.staging.domain, "staging")))
	h.waitServed()

	const primaryN, stagingN = 7, 5
	for i := range primaryN {
		h.body(pair.primary.domain, "/m"+string(rune('a'+i%2)))
	}
	for range stagingN {
		if r := h.get(pair.primary.domain, "/m", http.Header{"Aws-Cf-Cd-Env": {"staging"}}); r.status != http.StatusOK {
			t.Fatalf("staging request: %d", r.status)
		}
	}
	h.get(pair.staging.domain, "/direct", nil) // 403: staging is not reachable directly
	h.get("unknown.example", "/", nil)         // 403: no distribution

	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"distribution": pair.primary.id, "variant": "primary", "class": "2xx"}, primaryN},
		{map[string]string{"distribution": pair.primary.id, "variant": "staging", "class": "2xx"}, stagingN},
		{map[string]string{"distribution": pair.staging.id, "variant": "staging", "class": "4xx"}, 1},
		{map[string]string{"distribution": "none", "variant": "none", "class": "4xx"}, 1},
	} {
		if got := counterValue(t, h, "stagefront_edge_requests_total", tc.labels); got != tc.want {
			t.Errorf("stagefront_edge_requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if got := counterValue(t, h, "stagefront_cache_hits_total", nil); got < primaryN+stagingN-3 {
		t.Errorf("stagefront_cache_hits_total = %v, want at least %d", got, primaryN+stagingN-3)
	}

	srv := httptest.NewServer(promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`stagefront_edge_requests_total{class="2xx",distribution="` + pair.primary.id + `",variant="primary"} 7`,
		`stagefront_edge_requests_total{class="2xx",distribution="` + pair.primary.id + `",variant="staging"} 5`,
		`stagefront_edge_request_duration_seconds_count{distribution="` + pair.primary.id + `",variant="staging"} 5`,
		"stagefront_edge_table_revision ",
		"stagefront_cache_entries ",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestCacheHitsCountedOnce: stagefront_cache_hits_total counts each hit
// once on every engine: fresh hits, and a stale-while-revalidate hit
// (which the cache itself counts as it serves the stale copy).
func TestCacheHitsCountedOnce(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			clock := newFakeClock()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
			o := h.newTestOrigin("count.origin.test", versionOrigin("max-age=10, stale-while-revalidate=60"))
			d := h.createDistribution(customOriginConfig("count", o.host, "/v1", cachingOptimized))
			h.waitServed()
			h.get(d.domain, "/a", nil) // the miss that stores it
			hits := func() float64 { return counterValue(t, h, "stagefront_cache_hits_total", nil) }
			before := hits()
			for range 3 {
				if r := h.get(d.domain, "/a", nil); r.header.Get("X-Cache") != "Hit from stagefront" {
					t.Fatalf("X-Cache %q, want a hit", r.header.Get("X-Cache"))
				}
			}
			if got := hits() - before; got != 3 {
				t.Errorf("3 fresh hits counted %v times", got)
			}
			clock.Advance(20 * time.Second) // stale, within stale-while-revalidate
			before = hits()
			if r := h.get(d.domain, "/a", nil); r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Fatalf("stale-while-revalidate: X-Cache %q, want a hit", r.header.Get("X-Cache"))
			}
			if got := hits() - before; got != 1 {
				t.Errorf("a stale-while-revalidate hit counted %v times", got)
			}
		})
	}
}
