package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestStaleWhileRevalidate: after expiry, within stale-while-revalidate,
// viewers get the stale object at once from a slow origin while one
// background fetch refreshes it; beyond the window they wait for the origin.
func TestStaleWhileRevalidate(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
			var version atomic.Int64
			o := h.newTestOrigin("swr.origin.test", func(w http.ResponseWriter, r *http.Request) {
				n := version.Add(1)
				if n > 1 {
					time.Sleep(time.Second) // a slow origin
				}
				w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=30")
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "v%d", n)
			})
			d := h.createDistribution(customOriginConfig("swr", o.host, "", cachingOptimized))
			h.waitServed()

			if r := h.get(d.domain, "/obj", nil); r.body != "v1" || r.header.Get("X-Cache") != "Miss from stagefront" {
				t.Fatalf("first GET: %q %q", r.body, r.header.Get("X-Cache"))
			}
			clock.Advance(2 * time.Second) // expired, 1 s into the window

			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					start := time.Now()
					r := h.get(d.domain, "/obj", nil)
					if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
						t.Errorf("stale GET took %v against a 1 s origin, want it at once", elapsed)
					}
					if r.status != 200 || r.body != "v1" || r.header.Get("X-Cache") != "Hit from stagefront" {
						t.Errorf("stale GET: %d %q %q, want the stale v1 as a Hit", r.status, r.body, r.header.Get("X-Cache"))
					}
				})
			}
			wg.Wait()
			poll(t, 5*time.Second, "the background refresh", func() bool {
				return h.get(d.domain, "/obj", nil).body == "v2"
			})
			if got := o.hits.Load(); got != 2 {
				t.Errorf("origin fetches = %d, want 2 (one miss, one coalesced refresh)", got)
			}

			clock.Advance(60 * time.Second) // beyond the window
			start := time.Now()
			r := h.get(d.domain, "/obj", nil)
			if r.body != "v3" || r.header.Get("X-Cache") != "Miss from stagefront" || time.Since(start) < time.Second {
				t.Errorf("GET beyond the window: %q %q after %v, want v3, a Miss, after the origin's 1 s",
					r.body, r.header.Get("X-Cache"), time.Since(start))
			}
		})
	}
}

// TestRevalidateNotModified: an expired entry with a validator is
// revalidated with If-None-Match and If-Modified-Since; the origin's 304
// renews it without sending the body again, and the viewer gets RefreshHit.
func TestRevalidateNotModified(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
			var bodies atomic.Int64
			const lastModified = "Mon, 02 Jan 2006 15:04:05 GMT"
			o := h.newTestOrigin("etag.origin.test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=10")
				w.Header().Set("ETag", `"e1"`)
				w.Header().Set("Last-Modified", lastModified)
				if r.Header.Get("If-None-Match") == `"e1"` {
					w.Header().Set("X-Revalidated", "yes")
					w.WriteHeader(http.StatusNotModified)
					return
				}
				bodies.Add(1)
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "the body")
			})
			d := h.createDistribution(customOriginConfig("etag", o.host, "", cachingOptimized))
			h.waitServed()

			h.get(d.domain, "/obj", nil)
			clock.Advance(11 * time.Second)
			r := h.get(d.domain, "/obj", nil)
			if r.status != 200 || r.body != "the body" || r.header.Get("X-Cache") != "RefreshHit from stagefront" {
				t.Fatalf("revalidated GET: %d %q %q, want the body as a RefreshHit", r.status, r.body, r.header.Get("X-Cache"))
			}
			if r.header.Get("X-Revalidated") != "yes" || r.header.Get("Content-Length") != "8" || r.header.Get("Age") != "0" {
				t.Errorf("revalidated header %v: want the 304's fields, the body's length and Age 0", r.header)
			}
			rec := o.recorded()
			if got := rec[len(rec)-1].header; got.Get("If-None-Match") != `"e1"` || got.Get("If-Modified-Since") != lastModified {
				t.Errorf("revalidation request header %v, want If-None-Match and If-Modified-Since", got)
			}
			if r := h.get(d.domain, "/obj", nil); r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Errorf("GET after the refresh: %q, want a Hit", r.header.Get("X-Cache"))
			}
			if got, fetches := bodies.Load(), o.hits.Load(); got != 1 || fetches != 2 {
				t.Errorf("origin sent the body %d times in %d fetches, want once in 2", got, fetches)
			}
		})
	}
}

// TestStaleIfError: within stale-if-error an origin 503, a connection the
// origin closes or an origin timeout gets the stale object; beyond the
// window, the error.
func TestStaleIfError(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
			var mode atomic.Value
			mode.Store("ok")
			o := h.newTestOrigin("sie.origin.test", func(w http.ResponseWriter, r *http.Request) {
				switch mode.Load() {
				case "503":
					w.WriteHeader(http.StatusServiceUnavailable)
					io.WriteString(w, "down")
				case "timeout":
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				case "close":
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						conn.Close()
					}
				default:
					w.Header().Set("Cache-Control", "max-age=1, stale-if-error=60")
					io.WriteString(w, "good")
				}
			})
			cfg := customOriginConfig("sie", o.host, "", cachingOptimized)
			cfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(1)
			d := h.createDistribution(cfg)
			h.waitServed()

			h.get(d.domain, "/obj", nil)
			clock.Advance(30 * time.Second)
			for _, m := range []string{"503", "close", "timeout"} {
				mode.Store(m)
				before := o.hits.Load()
				r := h.get(d.domain, "/obj", nil)
				if r.status != 200 || r.body != "good" || r.header.Get("X-Cache") != "Hit from stagefront" {
					t.Errorf("origin %s within the window: %d %q %q, want the stale copy", m, r.status, r.body, r.header.Get("X-Cache"))
				}
				if o.hits.Load() == before {
					t.Errorf("origin %s: the edge did not try the origin", m)
				}
			}
			clock.Advance(60 * time.Second) // beyond the window
			for _, tc := range []struct {
				mode string
				want int
			}{{"503", http.StatusServiceUnavailable}, {"close", http.StatusBadGateway}, {"timeout", http.StatusGatewayTimeout}} {
				mode.Store(tc.mode)
				if r := h.get(d.domain, "/obj", nil); r.status != tc.want {
					t.Errorf("origin %s beyond the window: %d %q, want %d", tc.mode, r.status, r.body, tc.want)
				}
				// The origin's 503 is itself cached for the error caching
				// minimum TTL (10 s by default): let it expire.
				clock.Advance(11 * time.Second)
			}
			mode.Store("ok")
			if r := h.get(d.domain, "/obj", nil); r.status != 200 || r.header.Get("X-Cache") != "Miss from stagefront" {
				t.Errorf("origin back: %d %q, want a Miss", r.status, r.header.Get("X-Cache"))
			}
		})
	}
}
