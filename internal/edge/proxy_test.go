package edge_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestProxyPassesLength: an uncached response keeps the origin's
// Content-Length (a large body is not re-chunked), a chunked one stays
// chunked, HEAD gets the length without a body, and many requests in a row
// share the pooled origin connections.
func TestProxyPassesLength(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	big := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	var mu sync.Mutex
	conns := map[string]bool{} // client addresses the origin saw
	o := h.newTestOrigin("proxy.origin.test", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/chunked" {
			io.WriteString(w, big[:1000])
			w.(http.Flusher).Flush()
			io.WriteString(w, big[1000:])
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		if r.Method != http.MethodHead {
			io.WriteString(w, big)
		}
	})
	d := h.createDistribution(customOriginConfig("proxy-len", o.host, "", cachingDisabled))
	h.waitServed()

	for i := range 20 {
		r := h.get(d.domain, "/big", nil)
		if r.status != http.StatusOK || r.body != big {
			t.Fatalf("GET %d: status %d, %d bytes", i, r.status, len(r.body))
		}
		if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(big)) {
			t.Fatalf("GET %d: Content-Length %q, want %d", i, got, len(big))
		}
		if r.header.Get("X-Cache") != "Miss from stagefront" || r.header.Get("Via") != "1.1 stagefront" {
			t.Errorf("GET %d: X-Cache %q, Via %q", i, r.header.Get("X-Cache"), r.header.Get("Via"))
		}
	}
	mu.Lock()
	if len(conns) != 1 {
		t.Errorf("20 sequential requests used %d origin connections, want 1", len(conns))
	}
	mu.Unlock()
	r, err := h.do(http.MethodHead, d.domain, "/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || r.body != "" || r.header.Get("Content-Length") != strconv.Itoa(len(big)) {
		t.Errorf("HEAD: status %d, body %d bytes, Content-Length %q", r.status, len(r.body), r.header.Get("Content-Length"))
	}
	if r := h.get(d.domain, "/chunked", nil); r.status != http.StatusOK || r.body != big {
		t.Errorf("chunked: status %d, %d bytes", r.status, len(r.body))
	}
}
