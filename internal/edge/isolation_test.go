//lint:file-ignore SA1019 legacy ForwardedValues/MinTTL behaviors are still valid CloudFront input and are tested on purpose
package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// The cache must never hand one viewer's response to another. These tests
// play the attacks on the edge's cache over loopback, on both engines.

// gaugeValue reads a gauge from the edge's registry.
func gaugeValue(t *testing.T, h *harness, name string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// waitFetchWaiters waits until n viewer requests wait for one shared
// origin fetch: the moment a coalesced response would reach them all.
func waitFetchWaiters(t *testing.T, h *harness, n int) {
	t.Helper()
	poll(t, 10*time.Second, fmt.Sprintf("%d requests waiting for one fetch", n), func() bool {
		return gaugeValue(t, h, "stagefront_cache_fetch_waiters") >= float64(n)
	})
}

// concurrently sends n GETs at once and returns their responses.
func concurrently(t *testing.T, h *harness, n int, domain, path string, header func(i int) http.Header) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := h.do(http.MethodGet, domain, path, header(i))
			if err != nil {
				t.Errorf("viewer %d: %v", i, err)
			}
			out[i] = r
		})
	}
	wg.Wait()
	return out
}

func noHeader(int) http.Header { return nil }

// sessionCookies are the Set-Cookie values of r that the origin set
// ("session=…"), leaving out the edge's own sticky cookie.
func sessionCookies(r response) []string {
	var out []string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "session=") {
			out = append(out, c)
		}
	}
	return out
}

// TestSetCookieNeverReplayed: an origin that answers a cacheable object
// with Set-Cookie (a session it just started) gives that cookie to the
// viewer whose request reached it, and to nobody else: not to the hits
// after, not to the viewers whose requests shared the fetch. When viewer
// cookies are in the cache key, the response is not stored at all: each
// viewer gets the cookie the origin made for its own request.
func TestSetCookieNeverReplayed(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			var sessions atomic.Int64
			hold := make(chan struct{})
			o := h.newTestOrigin("cookies.origin.test", func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/burst") {
					<-hold
				}
				w.Header().Set("Cache-Control", "max-age=300")
				w.Header().Add("Set-Cookie", fmt.Sprintf("session=secret-%d; Path=/; HttpOnly", sessions.Add(1)))
				fmt.Fprintf(w, "home %s", r.URL.Path)
			})
			d := h.createDistribution(customOriginConfig("cookies", o.host, "", cachingOptimized))
			keyed := customOriginConfig("cookies-keyed", o.host, "", cachingOptimized)
			keyed.DefaultCacheBehavior.CachePolicyId = nil
			keyed.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{
				QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionAll},
			}
			keyed.DefaultCacheBehavior.MinTTL, keyed.DefaultCacheBehavior.DefaultTTL, keyed.DefaultCacheBehavior.MaxTTL = aws.Int64(0), aws.Int64(600), aws.Int64(600)
			dk := h.createDistribution(keyed)
			h.waitServed()

			first := h.get(d.domain, "/", nil)
			if got := sessionCookies(first); first.header.Get("X-Cache") != "Miss from stagefront" || len(got) != 1 || !strings.HasPrefix(got[0], "session=secret-1;") {
				t.Fatalf("first viewer: X-Cache %q, Set-Cookie %q; want a miss with its own session=secret-1", first.header.Get("X-Cache"), got)
			}
			for i := range 3 {
				r := h.get(d.domain, "/", nil)
				if r.header.Get("X-Cache") != "Hit from stagefront" || r.body != "home /" {
					t.Fatalf("viewer %d: %d %q %q; want the cached page", i+2, r.status, r.header.Get("X-Cache"), r.body)
				}
				if got := sessionCookies(r); len(got) != 0 {
					t.Errorf("viewer %d got another viewer's cookie from the cache: %q", i+2, got)
				}
			}

			// Ten viewers share one fetch: one of them gets the cookie.
			const n = 10
			done := make(chan []response)
			go func() { done <- concurrently(t, h, n, d.domain, "/burst", noHeader) }()
			waitFetchWaiters(t, h, n)
			close(hold)
			withCookie := 0
			for i, r := range <-done {
				if r.status != http.StatusOK || r.body != "home /burst" {
					t.Errorf("burst viewer %d: %d %q", i, r.status, r.body)
				}
				withCookie += len(sessionCookies(r))
			}
			if withCookie != 1 {
				t.Errorf("%d of %d viewers sharing one fetch got its Set-Cookie; want exactly 1 (the fetcher)", withCookie, n)
			}

			// Cookies in the key: the same cookie is not the same viewer.
			before := o.hits.Load()
			seen := map[string]bool{}
			for i := range 3 {
				r := h.get(dk.domain, "/keyed", http.Header{"Cookie": {"lang=en"}})
				got := sessionCookies(r)
				if r.status != http.StatusOK || r.header.Get("X-Cache") != "Miss from stagefront" || len(got) != 1 || seen[got[0]] {
					t.Errorf("keyed viewer %d: %d %q, Set-Cookie %q; want a miss with a session of its own", i, r.status, r.header.Get("X-Cache"), got)
				}
				if len(got) == 1 {
					seen[got[0]] = true
				}
			}
			if got := o.hits.Load() - before; got != 3 {
				t.Errorf("origin fetches for 3 keyed viewers = %d; want 3", got)
			}
		})
	}
}

// TestAuthorizationNeverShared: an origin request policy cannot send the
// viewer's Authorization to the origin (only the cache key can), so with
// CachingOptimized and AllViewer an authenticated viewer's request fetches
// the anonymous object. When the key does hold Authorization, a response
// to it is stored only if it says a shared cache may keep it (RFC 9111
// §3.5: public, must-revalidate or s-maxage). HEAD follows GET.
func TestAuthorizationNeverShared(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			o := h.newTestOrigin("auth.origin.test", func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(r.URL.Path, "/public"):
					w.Header().Set("Cache-Control", "public, max-age=300")
				default:
					w.Header().Set("Cache-Control", "max-age=300")
				}
				fmt.Fprintf(w, "account of %q", r.Header.Get("Authorization"))
			})
			all := h.createDistribution(withOriginRequestPolicy(customOriginConfig("auth-orp", o.host, "", cachingOptimized), orpAllViewer))
			keyed := customOriginConfig("auth-key", o.host, "", cachingOptimized)
			keyed.DefaultCacheBehavior.CachePolicyId = nil
			keyed.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{
				QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone},
				Headers: &types.Headers{Quantity: aws.Int32(1), Items: []string{"Authorization"}},
			}
			keyed.DefaultCacheBehavior.MinTTL, keyed.DefaultCacheBehavior.DefaultTTL, keyed.DefaultCacheBehavior.MaxTTL = aws.Int64(0), aws.Int64(600), aws.Int64(600)
			dk := h.createDistribution(keyed)
			noCache := h.createDistribution(withOriginRequestPolicy(customOriginConfig("auth-head", o.host, "", cachingDisabled), orpAllViewer))
			h.waitServed()

			alice := http.Header{"Authorization": {"Bearer alice-token"}}
			bob := http.Header{"Authorization": {"Bearer bob-token"}}
			if r := h.get(all.domain, "/me", alice); r.body != `account of ""` {
				t.Errorf("AllViewer: the origin answered %q; want the anonymous page (no Authorization forwarded)", r.body)
			}
			if r := h.get(all.domain, "/me", nil); strings.Contains(r.body, "alice") {
				t.Errorf("anonymous viewer got %q (X-Cache %s): another viewer's account", r.body, r.header.Get("X-Cache"))
			}
			for _, req := range o.recorded() {
				if a := req.header.Get("Authorization"); a != "" {
					t.Errorf("origin got Authorization %q through AllViewer", a)
				}
			}

			// The key holds Authorization: per credentials, and only if public.
			before := o.hits.Load()
			for i := range 2 {
				r := h.get(dk.domain, "/me", alice)
				if r.body != `account of "Bearer alice-token"` || r.header.Get("X-Cache") != "Miss from stagefront" {
					t.Errorf("alice request %d: %q %q; want her account, fetched each time (not stored)", i, r.body, r.header.Get("X-Cache"))
				}
			}
			if got := o.hits.Load() - before; got != 2 {
				t.Errorf("origin fetches = %d; want 2 (a response to Authorization without public is not stored)", got)
			}
			h.get(dk.domain, "/public", alice)
			if r := h.get(dk.domain, "/public", alice); r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Errorf("public response to alice, again: X-Cache %q; want a hit (RFC 9111 §3.5 allows it)", r.header.Get("X-Cache"))
			}
			if r := h.get(dk.domain, "/public", bob); r.body != `account of "Bearer bob-token"` {
				t.Errorf("bob got %q; want his own", r.body)
			}

			// HEAD, uncached, through AllViewer: no Authorization either.
			n := len(o.recorded())
			if r, err := h.do(http.MethodHead, noCache.domain, "/me", alice); err != nil || r.status != http.StatusOK {
				t.Fatalf("HEAD: %v %d", err, r.status)
			}
			rec := o.recorded()
			if len(rec) != n+1 || rec[n].header.Get("Authorization") != "" {
				t.Errorf("HEAD: origin got %d requests, Authorization %q; want 1 without", len(rec)-n, rec[len(rec)-1].header.Get("Authorization"))
			}
		})
	}
}

// TestPrivateResponseNotCoalesced: 20 viewers ask at once for an object
// nobody has cached, and the origin answers "private, no-store". Each
// viewer gets the page the origin made for its own request, never the one
// another viewer's request fetched; the next burst on that path goes to
// the origin at once, nobody waiting for anybody's fetch (hit-for-miss).
func TestPrivateResponseNotCoalesced(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			const n = 20
			var (
				pages   atomic.Int64
				hold    = make(chan struct{})
				barrier = make(chan struct{})
				arrived atomic.Int64
				second  atomic.Bool
			)
			o := h.newTestOrigin("private.origin.test", func(w http.ResponseWriter, r *http.Request) {
				page := pages.Add(1)
				switch {
				case second.Load():
					// The second burst: every request must reach the
					// origin before any is answered.
					if arrived.Add(1) == n {
						close(barrier)
					}
					select {
					case <-barrier:
					case <-time.After(10 * time.Second):
						http.Error(w, "the edge serialized the burst", http.StatusGatewayTimeout)
						return
					}
				case page == 1:
					<-hold
				}
				w.Header().Set("Cache-Control", "private, no-store")
				fmt.Fprintf(w, "account page %d", page)
			})
			d := h.createDistribution(customOriginConfig("private", o.host, "", cachingOptimized))
			h.waitServed()

			done := make(chan []response)
			go func() { done <- concurrently(t, h, n, d.domain, "/account", noHeader) }()
			waitFetchWaiters(t, h, n)
			close(hold)
			check := func(burst string, rs []response) {
				viewers := map[string]int{}
				for i, r := range rs {
					if r.status != http.StatusOK || !strings.HasPrefix(r.body, "account page ") {
						t.Errorf("%s viewer %d: %d %q", burst, i, r.status, r.body)
						continue
					}
					viewers[r.body]++
				}
				for body, k := range viewers {
					if k > 1 {
						t.Errorf("%s: %d viewers got %q: one viewer's private page went to others", burst, k, body)
					}
				}
			}
			check("first burst", <-done)
			if got := o.hits.Load(); got != n {
				t.Errorf("origin fetches = %d; want %d (one per viewer)", got, n)
			}

			second.Store(true)
			check("second burst", concurrently(t, h, n, d.domain, "/account", noHeader))
			if got := arrived.Load(); got != n {
				t.Errorf("second burst: %d requests reached the origin; want %d", got, n)
			}
		})
	}
}

// TestCacheIdentityIsolation: objects are shared only between requests
// that would reach the same origin the same way. A staging distribution
// that differs from its primary only in the origin's port, or two
// distributions on one origin host told apart by an origin custom header,
// never serve each other's objects; identical configs do share.
func TestCacheIdentityIsolation(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{engine: engine})

			// Port: production on :80, staging on :8080 of one host.
			prod := h.newTestOrigin("ports.origin.test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=300")
				fmt.Fprint(w, "production "+r.URL.Path)
			})
			stagingOrigin := h.newTestOrigin("ports-staging.origin.test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=300")
				fmt.Fprint(w, "staging "+r.URL.Path)
			})
			h.dialer.route(prod.host+":8080", stagingOrigin.srv.Listener.Addr().String())
			primary := h.createDistribution(customOriginConfig("ports", prod.host, "", cachingOptimized))
			staging := h.copyStaging(primary.id, "ports-staging")
			h.updateDistribution(staging.id, func(c *types.DistributionConfig) {
				c.Origins.Items[0].CustomOriginConfig.HTTPPort = aws.Int32(8080)
			})
			h.attach(primary.id, h.createPolicy(headerPolicy(staging.domain, "staging")))
			h.waitServed()
			toStaging := http.Header{"Aws-Cf-Cd-Env": {"staging"}}
			if r := h.get(primary.domain, "/app.js", toStaging); r.body != "staging /app.js" {
				t.Fatalf("staging viewer: %q; want staging's object", r.body)
			}
			if r := h.get(primary.domain, "/app.js", nil); r.body != "production /app.js" {
				t.Errorf("production viewer got %q (X-Cache %s); want production's object, never staging's", r.body, r.header.Get("X-Cache"))
			}

			// Custom header: two tenants on one origin host.
			tenants := h.newTestOrigin("tenants.origin.test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=300")
				fmt.Fprint(w, "page of tenant "+r.Header.Get("X-Tenant"))
			})
			tenant := func(name string) dist {
				cfg := customOriginConfig("tenant-"+name, tenants.host, "", cachingOptimized)
				cfg.Origins.Items[0].CustomHeaders = &types.CustomHeaders{Quantity: aws.Int32(1),
					Items: []types.OriginCustomHeader{{HeaderName: aws.String("X-Tenant"), HeaderValue: aws.String(name)}}}
				return h.createDistribution(cfg)
			}
			a, b := tenant("a"), tenant("b")
			h.waitServed()
			if r := h.get(a.domain, "/", nil); r.body != "page of tenant a" {
				t.Fatalf("tenant a: %q", r.body)
			}
			if r := h.get(b.domain, "/", nil); r.body != "page of tenant b" {
				t.Errorf("tenant b got %q (X-Cache %s); want its own page", r.body, r.header.Get("X-Cache"))
			}

			// Identical configs share: a staging copy finds the primary's
			// objects, and keeps them after a promotion.
			same := h.newTestOrigin("same.origin.test", versionOrigin("max-age=300"))
			p2 := h.createDistribution(customOriginConfig("same", same.host, "/v1", cachingOptimized))
			s2 := h.copyStaging(p2.id, "same-staging")
			h.attach(p2.id, h.createPolicy(headerPolicy(s2.domain, "staging")))
			h.waitServed()
			h.get(p2.domain, "/x", nil)
			if r := h.get(p2.domain, "/x", toStaging); r.body != "v1:/x" || r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Errorf("staging with an identical config: %q %q; want the primary's cached object", r.body, r.header.Get("X-Cache"))
			}
			h.promote(p2.id, s2.id)
			h.waitServed()
			if r := h.get(p2.domain, "/x", nil); r.header.Get("X-Cache") != "Hit from stagefront" || same.hits.Load() != 1 {
				t.Errorf("after promoting an identical config: %q, %d origin fetches; want a hit and 1 fetch", r.header.Get("X-Cache"), same.hits.Load())
			}
		})
	}
}
