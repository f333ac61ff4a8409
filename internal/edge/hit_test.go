package edge_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
// deployments (Date, the session cookie's signed value, the distribution
// ID) and sorts Set-Cookie, whose order the engines may differ on.
func normalizeHit(r response) response {
	h := r.header.Clone()
	delete(h, "Date")
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
