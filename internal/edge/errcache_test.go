package edge_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestErrorCaching checks, over loopback with each engine, that an origin
// error is kept for the error caching minimum TTL (the distribution's
// ErrorCachingMinTTL, else 10 s) and that a custom error page is an
// ordinary cached object: six errors cost one error fetch and one page
// fetch, not six of each.
func TestErrorCaching(t *testing.T) {
	t.Parallel()
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			testErrorCaching(t, engine)
		})
	}
}

func testErrorCaching(t *testing.T, engine string) {
	clock := newFakeClock()
	h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
	o := h.newTestOrigin("errors.origin.test", func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/errors/404.html":
			hdr.Set("Cache-Control", "max-age=3600")
			io.WriteString(w, "custom not found")
		case "/missing", "/missing-2":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "origin not found")
		case "/gone-long":
			hdr.Set("Cache-Control", "max-age=120")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "origin not found")
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "origin down")
		case "/private-down":
			hdr.Set("Cache-Control", "private")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "origin down for you")
		case "/nocache-missing":
			hdr.Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "origin not found")
		default:
			io.WriteString(w, "ok")
		}
	})
	fetches := func(path string) int {
		n := 0
		for _, r := range o.recorded() {
			if r.path == path {
				n++
			}
		}
		return n
	}
	cfg := customOriginConfig("errcache-"+engine, o.host, "", cachingOptimized)
	cfg.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{
		ErrorCode: aws.Int32(404), ResponsePagePath: aws.String("/errors/404.html"), ResponseCode: aws.String("404"),
		ErrorCachingMinTTL: aws.Int64(30),
	}}}
	d := h.createDistribution(cfg)
	plain := h.createDistribution(customOriginConfig("errcache-plain-"+engine, o.host, "", cachingOptimized))

	expect := func(domain, path string, status int, body string) {
		t.Helper()
		r := h.get(domain, path, nil)
		if r.status != status || r.body != body {
			t.Fatalf("GET %s: %d %q, want %d %q", path, r.status, r.body, status, body)
		}
	}
	expectFetches := func(path string, want int) {
		t.Helper()
		if got := fetches(path); got != want {
			t.Fatalf("%s fetched %d times from the origin, want %d", path, got, want)
		}
	}

	// Six errors: one error fetch, one page fetch.
	for range 6 {
		expect(d.domain, "/missing", http.StatusNotFound, "custom not found")
	}
	expectFetches("/missing", 1)
	expectFetches("/errors/404.html", 1)
	// Another missing object shares the cached page.
	for range 3 {
		expect(d.domain, "/missing-2", http.StatusNotFound, "custom not found")
	}
	expectFetches("/missing-2", 1)
	expectFetches("/errors/404.html", 1)
	// The page is an ordinary object too.
	expect(d.domain, "/errors/404.html", http.StatusOK, "custom not found")
	expectFetches("/errors/404.html", 1)

	// A 503 with no custom error response: kept for CloudFront's 10 s.
	for range 6 {
		expect(d.domain, "/down", http.StatusServiceUnavailable, "origin down")
	}
	expectFetches("/down", 1)

	// A distribution without custom error responses keeps errors apart:
	// its viewers get the origin's own 404, fetched for it.
	expect(plain.domain, "/missing", http.StatusNotFound, "origin not found")
	expect(plain.domain, "/missing", http.StatusNotFound, "origin not found")
	expectFetches("/missing", 2)

	// A private error is never kept; a no-cache 404 is not either.
	for range 2 {
		expect(d.domain, "/private-down", http.StatusServiceUnavailable, "origin down for you")
		expect(d.domain, "/nocache-missing", http.StatusNotFound, "custom not found")
	}
	expectFetches("/private-down", 2)
	expectFetches("/nocache-missing", 2)

	// An origin max-age above the minimum wins.
	expect(d.domain, "/gone-long", http.StatusNotFound, "custom not found")

	// After 11 s the default 10 s is over; the 30 s minimum is not.
	clock.Advance(11 * time.Second)
	expect(d.domain, "/down", http.StatusServiceUnavailable, "origin down")
	expectFetches("/down", 2)
	expect(d.domain, "/missing", http.StatusNotFound, "custom not found")
	expectFetches("/missing", 2)

	// After 31 s the 30 s minimum is over (not the cache policy's
	// one-day default TTL); the page (max-age=3600) and the 120 s error
	// are still kept.
	clock.Advance(20 * time.Second)
	expect(d.domain, "/missing", http.StatusNotFound, "custom not found")
	expectFetches("/missing", 3)
	expectFetches("/errors/404.html", 1)
	expect(d.domain, "/gone-long", http.StatusNotFound, "custom not found")
	expectFetches("/gone-long", 1)
}
