package edge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestOriginFailsMidBody: an origin that stalls past its read timeout or
// drops the connection in the middle of a body never gives the viewer a
// short body that looks complete, on either engine, cached or not. What
// the edge has not sent yet becomes a 504/502 error page (the fasthttp
// engine holds small uncached bodies, the cache holds what it fetches);
// a response whose header is out (net/http streams) is broken off, which
// the viewer sees as a failed transfer.
func TestOriginFailsMidBody(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testOriginFailsMidBody(t, engine) })
	}
}

func testOriginFailsMidBody(t *testing.T, engine string) {
	h := newHarness(t, harnessOptions{tables: true, engine: engine})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	o := h.newTestOrigin("midbody.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "max-age=600")
		if !strings.Contains(r.URL.Path, "chunked") {
			w.Header().Set("Content-Length", "1000")
		}
		io.WriteString(w, strings.Repeat("x", 100))
		w.(http.Flusher).Flush()
		if strings.Contains(r.URL.Path, "cut") {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		select { // stall
		case <-release:
		case <-r.Context().Done():
		}
	})
	config := func(ref, policy string) dist {
		cfg := customOriginConfig(ref, o.host, "", policy)
		cfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(1)
		return h.createDistribution(cfg)
	}
	uncached, cached := config("midbody-uncached", cachingDisabled), config("midbody-cached", cachingOptimized)
	h.waitServed()

	for _, tc := range []struct {
		domain, path string
		errorPage    int // the status of the error page, or 0 for a broken transfer
	}{
		{cached.domain, "/stall", http.StatusGatewayTimeout},
		{cached.domain, "/cut", http.StatusBadGateway},
		{uncached.domain, "/stall", map[string]int{"nethttp": 0, engineFastHTTP: http.StatusGatewayTimeout, engineLoop: http.StatusGatewayTimeout}[engine]},
		{uncached.domain, "/cut", map[string]int{"nethttp": 0, engineFastHTTP: http.StatusBadGateway, engineLoop: http.StatusBadGateway}[engine]},
		// Open-ended bodies are streamed by both engines: broken off.
		{uncached.domain, "/stall-chunked", 0},
		{uncached.domain, "/cut-chunked", 0},
	} {
		start := time.Now()
		r, err := h.do(http.MethodGet, tc.domain, tc.path, nil)
		took := time.Since(start)
		if took > 10*time.Second {
			t.Errorf("%s %s: took %v; the 1 s origin read timeout should end it", tc.domain, tc.path, took)
		}
		if tc.errorPage != 0 {
			if err != nil || r.status != tc.errorPage || r.header.Get("X-Cache") != "Error from stagefront" {
				t.Errorf("%s %s: %v, status %d, X-Cache %q, %d body bytes; want a %d error page",
					tc.domain, tc.path, err, r.status, r.header.Get("X-Cache"), len(r.body), tc.errorPage)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s %s: status %d with a complete-looking %d-byte body; want the transfer broken off", tc.domain, tc.path, r.status, len(r.body))
		}
	}
}
