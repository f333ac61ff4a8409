package edge_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/routing"
)

// TestCachedHitsAlikeOnBothEngines: the fasthttp engine writes a cached
// hit from a prepared header (cachedWriter), the net/http engine through
// http.Header; a viewer gets the same status, header and body from both,
// with a sticky session cookie, the debug header, Age and repeated
// headers, for GET and HEAD. The origin's own Set-Cookie went to the
// viewer whose request fetched the object, never to a hit.
func TestCachedHitsAlikeOnBothEngines(t *testing.T) {
	got := map[string][]response{}
	for _, engine := range engines {
		clock, draw := newFakeClock(), &forcedDraw{}
		h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now, draw: draw.Draw})
		o := h.newTestOrigin("hits.origin.test", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Age", "100") // the edge's Age replaces the origin's
			w.Header().Set("ETag", `"e1"`)
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			w.Header().Add("Set-Cookie", "origin=1; Path=/")
			io.WriteString(w, "hello "+r.URL.Path)
		})
		primary := h.createDistribution(customOriginConfig("hits", o.host, "", cachingOptimized))
		staging := h.copyStaging(primary.id, "hits-staging")
		h.attach(primary.id, h.createPolicy(weightPolicy(staging.domain, 0.15, 300, 3600)))
		h.waitServed()

		h.get(primary.domain, "/obj", nil) // the miss that stores it
		clock.Advance(5 * time.Second)
		var rs []response
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			r, err := h.do(method, primary.domain, "/obj", nil)
			if err != nil {
				t.Fatalf("%s %s: %v", engine, method, err)
			}
			if r.header.Get("X-Cache") != "Hit from stagefront" || r.header.Get("Age") != "5" {
				t.Fatalf("%s %s: X-Cache %q, Age %q; want a hit aged 5", engine, method, r.header.Get("X-Cache"), r.header.Get("Age"))
			}
			rs = append(rs, normalizeHit(r))
		}
		got[engine] = rs
	}
	want := got[engines[0]]
	for _, engine := range engines[1:] {
		for i := range want {
			if !reflect.DeepEqual(got[engine][i], want[i]) {
				t.Errorf("hit %d:\n%s: %+v\n%s: %+v", i, engines[0], want[i], engine, got[engine][i])
			}
		}
	}
	if sc := want[0].header["Set-Cookie"]; len(sc) != 1 || !strings.HasPrefix(sc[0], routing.CookieName+"=") {
		t.Errorf("Set-Cookie on a hit = %q; want the session cookie only, not the origin's", sc)
	}
}

// normalizeHit leaves out of a response what differs between any two
// deployments or requests (Date, the session cookie's signed value, the
// distribution ID, the request id, which must be 56 characters) and sorts
// Set-Cookie, whose order the engines may differ on.
func normalizeHit(r response) response {
	h := r.header.Clone()
	delete(h, "Date")
	for i, v := range h["X-Amz-Cf-Id"] {
		if len(v) == 56 {
			h["X-Amz-Cf-Id"][i] = "<id>"
		}
	}
	for i, v := range h[edge.DebugHeader] {
		_, variant, _ := strings.Cut(v, " ")
		h[edge.DebugHeader][i] = "<id> " + variant
	}
	var cookies []string
	for _, c := range h["Set-Cookie"] {
		if strings.HasPrefix(c, routing.CookieName+"=") {
			_, attrs, _ := strings.Cut(c, ";")
			c = routing.CookieName + "=…;" + attrs
		}
		cookies = append(cookies, c)
	}
	slices.Sort(cookies)
	h["Set-Cookie"] = cookies
	return response{status: r.status, header: h, body: r.body}
}

// TestRequestTargetForms: an origin-form target ("/path?query") routes by
// the Host header; an absolute-form one ("http://host/path?query") by its
// own host, which wins over the header's (RFC 9112 §3.2.2), on both
// engines; path and query reach the origin as sent.
func TestRequestTargetForms(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			o := h.newTestOrigin("forms.origin.test", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.URL.RequestURI())
			})
			// UseOriginCacheControlHeaders-QueryStrings: the query goes to the origin.
			d := h.createDistribution(customOriginConfig("forms", o.host, "", "4cc15a8a-d715-48a4-82b8-cc0b614638fe"))
			h.waitServed()
			for _, tc := range []struct{ target, host, want string }{
				{"/a/b%20c?x=1&y=%2F", d.domain, "/a/b%20c?x=1&y=%2F"},
				{"/plain", d.domain, "/plain"},
				{"http://" + d.domain + "/abs?q=2", "elsewhere.example", "/abs?q=2"},
			} {
				conn, err := net.Dial("tcp", strings.TrimPrefix(h.edgeURL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.WriteString(conn, "GET "+tc.target+" HTTP/1.1\r\nHost: "+tc.host+"\r\nConnection: close\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("%s: %v", tc.target, err)
				}
				body, _ := io.ReadAll(resp.Body)
				conn.Close()
				if resp.StatusCode != http.StatusOK || string(body) != tc.want {
					t.Errorf("GET %s (Host %s): %d %q; want 200 %q", tc.target, tc.host, resp.StatusCode, body, tc.want)
				}
			}
		})
	}
}

// TestRequestStringsOutliveTheRequest: a hit reads the request's host and
// path without copying them (the fasthttp engine reuses their bytes for the
// connection's next request), so whatever outlives a request must own
// them. A stale-while-revalidate refresh runs after its request ended while
// the same connection sends other paths of the same length: the origin
// must still be asked for the refreshed path, on the right host, and the
// refreshed entry must answer that path only.
func TestRequestStringsOutliveTheRequest(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now})
			var fetches sync.Map // path -> *atomic.Int64
			o := h.newTestOrigin("alias.origin.test", func(w http.ResponseWriter, r *http.Request) {
				n, _ := fetches.LoadOrStore(r.URL.Path, new(atomic.Int64))
				k := n.(*atomic.Int64).Add(1)
				if r.URL.Path == "/first-object" && k > 1 {
					time.Sleep(300 * time.Millisecond) // the refresh outlives its request
				}
				w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=30")
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "%s %s #%d", r.Host, r.URL.Path, k)
			})
			d := h.createDistribution(withOriginRequestPolicy(customOriginConfig("alias", o.host, "", cachingOptimized), orpAllViewer))
			h.waitServed()

			if r := h.get(d.domain, "/first-object", nil); r.body != d.domain+" /first-object #1" {
				t.Fatalf("first GET: %q", r.body)
			}
			clock.Advance(2 * time.Second) // stale, within the window
			if r := h.get(d.domain, "/first-object", nil); r.body != d.domain+" /first-object #1" || r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Fatalf("stale GET: %q %q", r.body, r.header.Get("X-Cache"))
			}
			// While the refresh waits for the origin, the connection's
			// buffers carry other requests.
			for i := range 5 {
				p := fmt.Sprintf("/other-objec%d", i) // as long as /first-object
				if r := h.get(d.domain, p, nil); r.body != d.domain+" "+p+" #1" {
					t.Fatalf("GET %s: %q", p, r.body)
				}
			}
			poll(t, 5*time.Second, "the background refresh", func() bool {
				return h.get(d.domain, "/first-object", nil).body == d.domain+" /first-object #2"
			})
			var paths []string
			for _, rec := range o.recorded() {
				paths = append(paths, rec.path)
			}
			slices.Sort(paths)
			want := []string{"/first-object", "/first-object", "/other-objec0", "/other-objec1", "/other-objec2", "/other-objec3", "/other-objec4"}
			if !slices.Equal(paths, want) {
				t.Errorf("origin asked for %q, want %q", paths, want)
			}
			for i := range 5 {
				p := fmt.Sprintf("/other-objec%d", i)
				if r := h.get(d.domain, p, nil); r.body != d.domain+" "+p+" #1" {
					t.Errorf("GET %s after the refresh: %q", p, r.body)
				}
			}
			// An invalidation matches the path each object was stored
			// under, whatever the connection carried since.
			h.invalidate(d.id, "alias-1", "/other-objec0")
			if r := h.get(d.domain, "/other-objec0", nil); r.body != d.domain+" /other-objec0 #2" {
				t.Errorf("GET /other-objec0 after its invalidation: %q, want a new fetch", r.body)
			}
			if r := h.get(d.domain, "/other-objec1", nil); r.body != d.domain+" /other-objec1 #1" {
				t.Errorf("GET /other-objec1 after another path's invalidation: %q, want the cached one", r.body)
			}
		})
	}
}

// TestRedirectToHTTPSOnBothEngines: a redirect-to-https behavior answers
// an HTTP request with a 301 to the same host, path and query over HTTPS,
// on both engines alike: an HTML body for GET (as net/http's Redirect
// writes), none for HEAD, and the origin is not asked.
func TestRedirectToHTTPSOnBothEngines(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{tables: true, engine: engine, https: true})
			o := h.newTestOrigin("redir.origin.test", versionOrigin("max-age=60"))
			cfg := customOriginConfig("redir", o.host, "", cachingOptimized)
			cfg.DefaultCacheBehavior.ViewerProtocolPolicy = types.ViewerProtocolPolicyRedirectToHttps
			d := h.createDistribution(cfg)
			h.waitServed()
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				r, err := h.do(method, d.domain, "/a/b.txt?x=1&y=%20", nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := "https://" + d.domain + "/a/b.txt?x=1&y=%20"; r.status != http.StatusMovedPermanently || r.header.Get("Location") != want {
					t.Errorf("%s: %d, Location %q; want 301 to %q", method, r.status, r.header.Get("Location"), want)
				}
				if method == http.MethodGet && !strings.Contains(r.body, `<a href="https://`+d.domain) {
					t.Errorf("GET body %q, want a link to the HTTPS URL", r.body)
				}
				if method == http.MethodHead && r.body != "" {
					t.Errorf("HEAD body %q, want none", r.body)
				}
			}
			if n := o.hits.Load(); n != 0 {
				t.Errorf("origin asked %d times, want never", n)
			}
		})
	}
}
