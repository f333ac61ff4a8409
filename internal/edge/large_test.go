package edge_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLargeObjectsStreamUncached: on a caching behavior, an object larger
// than the edge caches (MaxBodyBytes) reaches the viewer whole, with its
// real length, every time, and is never stored; whether the origin
// announces the length or not. A small object beside it is cached.
func TestLargeObjectsStreamUncached(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testLargeObjects(t, engine) })
	}
}

func testLargeObjects(t *testing.T, engine string) {
	const limit = 64 << 10
	h := newHarness(t, harnessOptions{tables: true, engine: engine, maxBodyBytes: limit})
	big := strings.Repeat("0123456789abcdef", 3*limit/16+7) // 3 × limit + 112 bytes
	var fetches atomic.Int64
	o := h.newTestOrigin("large.origin.test", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "max-age=3600")
		switch r.URL.Path {
		case "/small":
			io.WriteString(w, "small")
		case "/chunked":
			io.WriteString(w, big[:1000])
			w.(http.Flusher).Flush()
			io.WriteString(w, big[1000:])
		default: // with its length, and ranges
			http.ServeContent(w, r, "big", time.Time{}, strings.NewReader(big))
		}
	})
	d := h.createDistribution(customOriginConfig("large", o.host, "", cachingOptimized))
	h.waitServed()

	for _, path := range []string{"/big", "/chunked"} {
		for i := range 3 {
			before := fetches.Load()
			r := h.get(d.domain, path, nil)
			if r.status != http.StatusOK || r.body != big {
				t.Fatalf("GET %s #%d: status %d, %d bytes, want 200 with %d bytes", path, i, r.status, len(r.body), len(big))
			}
			if cl := r.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(big)) {
				t.Fatalf("GET %s #%d: Content-Length %s for %d bytes", path, i, cl, len(big))
			}
			if got := r.header.Get("X-Cache"); got != "Miss from stagefront" {
				t.Errorf("GET %s #%d: X-Cache %q, want a miss (too large to cache)", path, i, got)
			}
			if fetches.Load() == before {
				t.Errorf("GET %s #%d was not fetched from the origin", path, i)
			}
		}
	}
	r, err := h.do(http.MethodHead, d.domain, "/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || r.body != "" || r.header.Get("Content-Length") != strconv.Itoa(len(big)) {
		t.Errorf("HEAD /big: status %d, %d body bytes, Content-Length %q", r.status, len(r.body), r.header.Get("Content-Length"))
	}

	// A range of an object streamed uncached is the origin's to cut.
	r = h.get(d.domain, "/big", http.Header{"Range": {"bytes=100-199"}})
	if r.status != http.StatusPartialContent || r.body != big[100:200] || r.header.Get("Content-Range") != "bytes 100-199/"+strconv.Itoa(len(big)) {
		t.Errorf("GET /big bytes=100-199: status %d, %d bytes, Content-Range %q; want 206 with bytes 100-199", r.status, len(r.body), r.header.Get("Content-Range"))
	}

	// So is a range of any object a behavior does not cache.
	nocache := h.createDistribution(customOriginConfig("large-nocache", o.host, "", cachingDisabled))
	h.waitServed()
	r = h.get(nocache.domain, "/big", http.Header{"Range": {"bytes=-10"}})
	if r.status != http.StatusPartialContent || r.body != big[len(big)-10:] {
		t.Errorf("CachingDisabled GET /big bytes=-10: status %d, body %q; want 206 with the last 10 bytes", r.status, r.body)
	}

	h.get(d.domain, "/small", nil)
	if r := h.get(d.domain, "/small", nil); r.body != "small" || r.header.Get("X-Cache") != "Hit from stagefront" {
		t.Errorf("GET /small again: body %q, X-Cache %q, want a cached hit", r.body, r.header.Get("X-Cache"))
	}
}

// TestUncachedBodiesStream: an uncached response reaches the viewer while
// the origin is still sending it, with either engine (the fasthttp engine
// would otherwise hold the whole body until the end).
func TestUncachedBodiesStream(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testUncachedStream(t, engine) })
	}
}

func testUncachedStream(t *testing.T, engine string) {
	h := newHarness(t, harnessOptions{tables: true, engine: engine})
	first := strings.Repeat("a", 256<<10+1000) // not a multiple of any buffer size
	var release atomic.Pointer[chan struct{}]  // the origin sends the rest once it is closed
	o := h.newTestOrigin("stream.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/sized" {
			w.Header().Set("Content-Length", strconv.Itoa(2*len(first)))
		}
		io.WriteString(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-*release.Load():
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, strings.Repeat("b", len(first)))
	})
	d := h.createDistribution(customOriginConfig("stream", o.host, "", cachingDisabled))
	h.waitServed()

	for _, path := range []string{"/chunked", "/sized"} {
		t.Run(path, func(t *testing.T) {
			rel := make(chan struct{})
			release.Store(&rel)
			var once sync.Once
			finish := func() { once.Do(func() { close(rel) }) }
			defer finish() // on failure too, so that nothing waits on the origin
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.edgeURL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = d.domain
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: headers never came while the origin held the rest: %v", path, err)
			}
			defer resp.Body.Close()
			got := make([]byte, len(first))
			if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != first {
				t.Fatalf("GET %s: the first %d bytes did not arrive before the origin finished: %v", path, len(first), err)
			}
			finish()
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != strings.Repeat("b", len(first)) {
				t.Fatalf("GET %s: rest %d bytes, err %v", path, len(rest), err)
			}
		})
	}
}
