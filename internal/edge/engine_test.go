package edge_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/valyala/fasthttp"

	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/routing"
)

// engineFastHTTP is harnessOptions.engine for the fasthttp engine.
const engineFastHTTP = "fasthttp"

// engineLoop is harnessOptions.engine for the event-loop engine.
const engineLoop = "loop"

// engines are the viewer-serving engines every engine test runs against.
var engines = []string{"nethttp", engineFastHTTP, engineLoop}

// serveLoop serves srv with the event-loop engine on loopback and returns
// its URL.
func serveLoop(t testing.TB, srv *edge.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ls := srv.LoopServer(2)
	done := make(chan error, 1)
	go func() { done <- ls.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ls.Shutdown(ctx); err != nil {
			t.Errorf("loop engine shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("loop engine: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// serveFast serves srv with the fasthttp engine on loopback and returns its URL.
func serveFast(t testing.TB, srv *edge.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	fs := srv.FastServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = fs.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = fs.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// TestEngines runs the edge's request path end to end against each engine:
// the same deployment, the same requests, the same expected responses.
func TestEngines(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testEngine(t, engine) })
	}
}

func testEngine(t *testing.T, engine string) {
	clock, draw := newFakeClock(), &forcedDraw{}
	h := newHarness(t, harnessOptions{tables: true, engine: engine, clock: clock.Now, draw: draw.Draw})

	page := strings.Repeat("<p>compress me</p>\n", 100)
	web := h.newTestOrigin("web.origin.test", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Add("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2; Path=/")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "posted "+string(body)+" ?"+r.URL.RawQuery)
		case strings.HasSuffix(r.URL.Path, ".html"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "max-age=600")
			io.WriteString(w, page)
		default:
			versionOrigin("max-age=3600")(w, r)
		}
	})
	cached := h.createDistribution(customOriginConfig("cached", web.host, "/v1", cachingOptimized))
	gzCfg := customOriginConfig("gz", web.host, "", cachingOptimized)
	gzCfg.DefaultCacheBehavior.Compress = aws.Bool(true)
	gz := h.createDistribution(gzCfg)
	postCfg := customOriginConfig("post", web.host, "/v1", cachingDisabled)
	all := []types.Method{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
	postCfg.DefaultCacheBehavior.AllowedMethods = &types.AllowedMethods{Quantity: aws.Int32(7), Items: all,
		CachedMethods: &types.CachedMethods{Quantity: aws.Int32(2), Items: []types.Method{"GET", "HEAD"}}}
	post := h.createDistribution(postCfg)
	headerPair := h.newCDPair("hdr", cachingDisabled)
	h.attach(headerPair.primary.id, h.createPolicy(headerPolicy(headerPair.staging.domain, "staging")))
	stickyPair := h.newCDPair("sticky", cachingDisabled)
	h.attach(stickyPair.primary.id, h.createPolicy(weightPolicy(stickyPair.staging.domain, 0.15, 300, 3600)))
	h.dialer.route("down.origin.test:80", closedAddr(t))
	down := h.createDistribution(customOriginConfig("down", "down.origin.test", "", cachingDisabled))
	release := make(chan struct{})
	slow := h.newTestOrigin("slow.origin.test", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	slowCfg := customOriginConfig("slow", slow.host, "", cachingOptimized)
	slowCfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(1)
	slowDist := h.createDistribution(slowCfg)
	h.waitServed()

	t.Run("cache miss, hit, Age, HEAD", func(t *testing.T) {
		r := h.get(cached.domain, "/a.txt?x=1", nil)
		if r.status != 200 || r.body != "v1:/a.txt" || r.header.Get("X-Cache") != "Miss from stagefront" ||
			r.header.Get("Age") != "0" || r.header.Get("Via") != "1.1 stagefront" || r.header.Get("Content-Type") != "text/plain" {
			t.Fatalf("first GET: %d %q %v", r.status, r.body, r.header)
		}
		clock.Advance(7 * time.Second)
		r = h.get(cached.domain, "/a.txt?x=2", nil) // CachingOptimized ignores the query
		if r.status != 200 || r.body != "v1:/a.txt" || r.header.Get("X-Cache") != "Hit from stagefront" || r.header.Get("Age") != "7" {
			t.Fatalf("second GET: %d %q %v", r.status, r.body, r.header)
		}
		if got := r.header.Get("Content-Length"); got != "9" {
			t.Errorf("Content-Length = %q, want 9", got)
		}
		if got := r.header.Get(edge.DebugHeader); got != cached.id+" primary" {
			t.Errorf("%s = %q", edge.DebugHeader, got)
		}
		r, err := h.do(http.MethodHead, cached.domain, "/a.txt", nil)
		if err != nil || r.status != 200 || r.body != "" || r.header.Get("X-Cache") != "Hit from stagefront" || r.header.Get("Content-Length") != "9" {
			t.Fatalf("HEAD: %v %d %q %v", err, r.status, r.body, r.header)
		}
		if n := web.hits.Load(); n != 1 {
			t.Errorf("origin hits = %d, want 1", n)
		}
	})

	t.Run("invalidation purges", func(t *testing.T) {
		h.expect(cached.domain, "/inv.txt", "v1:/inv.txt", "Miss from stagefront")
		h.expect(cached.domain, "/inv.txt", "v1:/inv.txt", "Hit from stagefront")
		h.invalidate(cached.id, "inv-"+engine, "/inv.txt")
		h.expect(cached.domain, "/inv.txt", "v1:/inv.txt", "Miss from stagefront")
	})

	t.Run("compression", func(t *testing.T) {
		r := h.get(gz.domain, "/page.html", http.Header{"Accept-Encoding": {"gzip, deflate"}})
		if r.status != 200 || r.header.Get("Content-Encoding") != "gzip" || gunzip(t, r.body) != page {
			t.Fatalf("gzip: %d %v", r.status, r.header)
		}
		r = h.get(gz.domain, "/page.html", nil)
		if r.status != 200 || r.header.Get("Content-Encoding") != "" || r.body != page {
			t.Fatalf("identity: %d %v", r.status, r.header)
		}
	})

	t.Run("proxy POST, methods", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(h.ctx, http.MethodPost, h.edgeURL+"/form?q=1&r=2", strings.NewReader("hello"))
		req.Host = post.domain
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || string(body) != "posted hello ?q=1&r=2" || resp.Header.Get("X-Cache") != "Miss from stagefront" {
			t.Fatalf("POST: %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 2 {
			t.Errorf("Set-Cookie = %q, want both of the origin's", got)
		}
		r, err := h.do(http.MethodPost, cached.domain, "/a.txt", nil)
		if err != nil || r.status != http.StatusForbidden || r.header.Get("X-Cache") != "Error from stagefront" {
			t.Fatalf("POST to a GET-only behavior: %v %d %v", err, r.status, r.header)
		}
	})

	t.Run("header policy, staging 403", func(t *testing.T) {
		if r := h.get(headerPair.primary.domain, "/x", http.Header{"Aws-Cf-Cd-Env": {"staging"}}); r.body != "v2:/x" ||
			r.header.Get(edge.DebugHeader) != headerPair.staging.id+" staging" || r.header.Get("Set-Cookie") != "" {
			t.Fatalf("with the header: %d %q %v", r.status, r.body, r.header)
		}
		if r := h.get(headerPair.primary.domain, "/x", nil); r.body != "v1:/x" {
			t.Fatalf("without the header: %d %q", r.status, r.body)
		}
		if r := h.get(headerPair.staging.domain, "/x", nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "staging distribution") {
			t.Fatalf("staging directly: %d %q", r.status, r.body)
		}
		if r := h.get("nowhere.example", "/x", nil); r.status != http.StatusForbidden {
			t.Fatalf("unknown host: %d %q", r.status, r.body)
		}
	})

	t.Run("sticky cookie", func(t *testing.T) {
		draw.staging.Store(true)
		r := h.get(stickyPair.primary.domain, "/s", nil)
		sc := r.header.Get("Set-Cookie")
		if r.body != "v2:/s" || !strings.HasPrefix(sc, routing.CookieName+"=") {
			t.Fatalf("first visit: %q, Set-Cookie %q", r.body, sc)
		}
		cookie, _, _ := strings.Cut(sc, ";")
		draw.staging.Store(false) // a new draw would now pick the primary
		for i := range 3 {
			r = h.get(stickyPair.primary.domain, "/s", http.Header{"Cookie": {"other=1; " + cookie}})
			if r.body != "v2:/s" {
				t.Fatalf("visit %d with the cookie: %q", i, r.body)
			}
		}
		for _, rec := range stickyPair.origin.recorded() {
			if strings.Contains(rec.header.Get("Cookie"), routing.CookieName) {
				t.Fatalf("the sticky cookie reached the origin: %q", rec.header.Get("Cookie"))
			}
		}
		if r = h.get(stickyPair.primary.domain, "/s", nil); r.body != "v1:/s" {
			t.Fatalf("no cookie, primary draw: %q", r.body)
		}
	})

	t.Run("origin 502 and 504", func(t *testing.T) {
		for _, tc := range []struct {
			domain string
			want   int
		}{{down.domain, http.StatusBadGateway}, {slowDist.domain, http.StatusGatewayTimeout}} {
			r := h.get(tc.domain, "/p", nil)
			if r.status != tc.want || r.header.Get("X-Cache") != "Error from stagefront" ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, http.StatusText(tc.want)) {
				t.Errorf("%s: %d %v %q, want %d", tc.domain, r.status, r.header, r.body, tc.want)
			}
		}
	})
}

// BenchmarkFastServeCached: BenchmarkServeCached's plain case through the
// fasthttp engine's handler, on a reused RequestCtx.
func BenchmarkFastServeCached(b *testing.B) {
	h, _, plain := benchOrigin(b)
	h.waitServed()
	handler := h.edge.FastHandler()
	var req fasthttp.Request
	req.SetRequestURI("/obj.html")
	req.Header.SetHost(plain.domain)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	handler(&ctx) // warm the cache
	ctx.Response.Reset()
	handler(&ctx)
	if ctx.Response.StatusCode() != http.StatusOK || string(ctx.Response.Header.Peek("X-Cache")) != "Hit from stagefront" {
		b.Fatalf("warm-up: status %d, X-Cache %q", ctx.Response.StatusCode(), ctx.Response.Header.Peek("X-Cache"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ctx.Response.Reset()
		handler(&ctx)
	}
}
