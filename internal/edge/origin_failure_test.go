package edge_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stagefront/stagefront/internal/testutil"
)

// closedAddr returns a loopback address whose connections are refused
// for the rest of the test (see testutil.RefusedAddr).
func closedAddr(t testing.TB) string {
	t.Helper()
	return testutil.RefusedAddr(t)
}

func TestOriginFailures(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	h.dialer.route("down.origin.test:80", closedAddr(t))
	release := make(chan struct{})
	slow := h.newTestOrigin("slow.origin.test", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })

	type failing struct {
		name    string
		dist    dist
		want    int
		wantMsg string
	}
	var dists []failing
	for _, cp := range []struct{ name, id string }{{"disabled", cachingDisabled}, {"optimized", cachingOptimized}} {
		down := h.createDistribution(customOriginConfig("down-"+cp.name, "down.origin.test", "", cp.id))
		cfg := customOriginConfig("slow-"+cp.name, slow.host, "", cp.id)
		cfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(1)
		slowDist := h.createDistribution(cfg)
		dists = append(dists,
			failing{"origin down, " + cp.name, down, http.StatusBadGateway, "could not connect"},
			failing{"slow origin, " + cp.name, slowDist, http.StatusGatewayTimeout, "did not respond in time"})
	}
	h.waitServed()

	// Warm up the pools, then take the goroutine baseline.
	for _, d := range dists {
		h.get(d.dist.domain, "/warm", nil)
	}
	h.client.Transport.(*http.Transport).CloseIdleConnections()
	h.fetcher.Close()
	baseline := runtime.NumGoroutine()

	for _, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			start := time.Now()
			r := h.get(d.dist.domain, "/page.html", nil)
			elapsed := time.Since(start)
			if r.status != d.want {
				t.Fatalf("status %d, want %d: %s", r.status, d.want, r.body)
			}
			if got := r.header.Get("X-Cache"); got != "Error from stagefront" {
				t.Errorf("X-Cache = %q, want Error from stagefront", got)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want an HTML error page", ct)
			}
			if !strings.Contains(r.body, http.StatusText(d.want)) || !strings.Contains(r.body, d.wantMsg) {
				t.Errorf("error page %q does not say %q and %q", r.body, http.StatusText(d.want), d.wantMsg)
			}
			if d.want == http.StatusGatewayTimeout && (elapsed < 900*time.Millisecond || elapsed > 10*time.Second) {
				t.Errorf("504 after %v, want about the 1 s OriginReadTimeout", elapsed)
			}
		})
	}

	// A viewer that gives up while the origin is slow is not an origin error.
	t.Run("viewer gives up", func(t *testing.T) {
		d := dists[1].dist // slow origin, caching disabled
		originErrs := counterValue(t, h, "stagefront_edge_origin_errors_total", map[string]string{"distribution": d.id})
		ctx, cancel := context.WithTimeout(h.ctx, 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.edgeURL+"/gone", nil)
		req.Host = d.domain
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("the request did not time out: %d", resp.StatusCode)
		}
		closed := map[string]string{"distribution": d.id, "class": "4xx"}
		poll(t, 5*time.Second, "the abandoned request to be counted", func() bool {
			return counterValue(t, h, "stagefront_edge_requests_total", closed) == 1
		})
		if got := counterValue(t, h, "stagefront_edge_origin_errors_total", map[string]string{"distribution": d.id}); got != originErrs {
			t.Errorf("origin errors %v → %v: an abandoned request counted as an origin error", originErrs, got)
		}
	})

	// Nothing the failures started may outlive them.
	h.client.Transport.(*http.Transport).CloseIdleConnections()
	h.fetcher.Close()
	var now int
	deadline := time.Now().Add(10 * time.Second)
	for {
		now = runtime.NumGoroutine()
		if now <= baseline+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if now > baseline+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the failures, %d before\n%s", now, baseline, buf[:runtime.Stack(buf, true)])
	}
}
