//go:build linux

package edge_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/accesslog"
)

// rawEdgeConn opens a raw keep-alive connection to the harness's edge.
func rawEdgeConn(t *testing.T, h *harness) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(h.edgeURL, "http://"))
	if err != nil {
		t.Fatalf("dial edge: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// readRaw reads one response to method from br, body included.
func readRaw(t *testing.T, br *bufio.Reader, method string) response {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// readClosing reads an answer to a request that asked to close the
// connection: a 200 with body that says Connection: close (net/http reads
// it into Close and drops the line), then the end of the stream.
func readClosing(t *testing.T, br *bufio.Reader, body string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(got) != body || !resp.Close {
		t.Fatalf("answer asking to close: %d %q Close %v, want 200 %q and Close", resp.StatusCode, got, resp.Close, body)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the closing answer: %q %v, want the end of the stream", rest, err)
	}
}

// TestLoopEngineConnection follows one keep-alive connection through the
// event-loop engine: pipelined hits answered by a loop in order, a HEAD
// whose answer has no body (the next answer is framed right), then a miss
// served on a goroutine with the hit behind it answered by the loop, a
// request the loop does not take, which hands the connection to fasthttp
// for what follows on it; and a hit asking to close gets Connection: close
// and an end of stream.
func TestLoopEngineConnection(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, engine: engineLoop})
	o := h.newTestOrigin("loop.origin.test", versionOrigin("max-age=3600"))
	d := h.createDistribution(customOriginConfig("loop", o.host, "/v1", cachingOptimized))
	h.waitServed()
	if r := h.get(d.domain, "/a", nil); r.status != http.StatusOK || r.body != "v1:/a" {
		t.Fatalf("warming GET /a = %d %q", r.status, r.body)
	}
	answers := func() float64 { return counterValue(t, h, "stagefront_edge_loop_answers_total", nil) }
	handoffs := func() float64 { return counterValue(t, h, "stagefront_edge_loop_handoffs_total", nil) }
	a0, h0 := answers(), handoffs()

	c, br := rawEdgeConn(t, h)
	get := func(method, path string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: " + d.domain + "\r\nUser-Agent: loop-test\r\n\r\n"
	}
	// Three pipelined requests in one write: GET, HEAD, GET.
	if _, err := io.WriteString(c, get("GET", "/a")+get("HEAD", "/a")+get("GET", "/a")); err != nil {
		t.Fatal(err)
	}
	for i, method := range []string{"GET", "HEAD", "GET"} {
		r := readRaw(t, br, method)
		wantBody := "v1:/a"
		if method == "HEAD" {
			wantBody = ""
		}
		if r.status != http.StatusOK || r.body != wantBody || r.header.Get("X-Cache") != "Hit from stagefront" ||
			r.header.Get("Content-Length") != "5" || r.header.Get("Date") == "" {
			t.Fatalf("pipelined %d (%s): %d %q %v", i, method, r.status, r.body, r.header)
		}
	}
	if got := answers() - a0; got != 3 {
		t.Errorf("loop answers = %v, want the 3 pipelined hits", got)
	}
	if got := handoffs() - h0; got != 0 {
		t.Errorf("hand-offs = %v before any miss, want 0", got)
	}

	// A miss, then a hit behind it: the miss is served on a goroutine,
	// the connection stays on the loop, which answers the hit after it.
	offloads := func() float64 { return counterValue(t, h, "stagefront_edge_loop_offloads_total", nil) }
	o0 := offloads()
	if _, err := io.WriteString(c, get("GET", "/b")+get("GET", "/a")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "v1:/b" || !strings.HasPrefix(r.header.Get("X-Cache"), "Miss") {
		t.Fatalf("miss: %d %q X-Cache %q", r.status, r.body, r.header.Get("X-Cache"))
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "v1:/a" || r.header.Get("X-Cache") != "Hit from stagefront" {
		t.Fatalf("hit after the miss: %d %q X-Cache %q", r.status, r.body, r.header.Get("X-Cache"))
	}
	if got := offloads() - o0; got != 1 {
		t.Errorf("offloads = %v after the miss, want 1", got)
	}
	if got := answers() - a0; got != 4 {
		t.Errorf("loop answers = %v after the miss, want 4 (the hit behind it too)", got)
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin fetches = %d, want 2 (/a and /b once each)", n)
	}
	// A request the loop does not take (an absolute-form target) hands
	// the connection to fasthttp, which serves it and what follows.
	if _, err := io.WriteString(c, get("GET", "http://"+d.domain+"/a")+get("GET", "/a")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "v1:/a" {
			t.Fatalf("answer %d after the hand-off: %d %q", i, r.status, r.body)
		}
	}
	if got := handoffs() - h0; got != 1 {
		t.Errorf("hand-offs = %v after the absolute-form request, want 1", got)
	}
	if got := answers() - a0; got != 4 {
		t.Errorf("loop answers = %v after the hand-off, want still 4 (fasthttp serves the connection)", got)
	}

	// Connection: close on a hit: the answer says so and the stream ends.
	c2, br2 := rawEdgeConn(t, h)
	if _, err := io.WriteString(c2, "GET /a HTTP/1.1\r\nHost: "+d.domain+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	readClosing(t, br2, "v1:/a")
	if got := answers() - a0; got != 5 {
		t.Errorf("loop answers = %v, want 5 with the closing hit", got)
	}
}

// TestLoopEngineSplitAndBodies: a request that arrives in pieces, and a
// request with a body, are served by fasthttp from their first byte: the
// loop answers only complete requests it needs nothing more for.
func TestLoopEngineSplitAndBodies(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, engine: engineLoop})
	o := h.newTestOrigin("split.origin.test", versionOrigin("max-age=3600"))
	d := h.createDistribution(customOriginConfig("split", o.host, "/v1", cachingOptimized))
	h.waitServed()
	h.get(d.domain, "/a", nil)

	c, br := rawEdgeConn(t, h)
	req := "GET /a HTTP/1.1\r\nHost: " + d.domain + "\r\n\r\n"
	// The first half, a pause long enough for the loop to read it alone,
	// then the rest.
	if _, err := io.WriteString(c, req[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := io.WriteString(c, req[10:]); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "v1:/a" {
		t.Fatalf("split request: %d %q", r.status, r.body)
	}

	// A GET with a body on a new connection: it is not answered as if the
	// body were the next request (a smuggled request would get a 200).
	c2, br2 := rawEdgeConn(t, h)
	smuggled := "GET /a HTTP/1.1\r\nHost: " + d.domain + "\r\nContent-Length: " +
		"34\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(c2, smuggled); err != nil {
		t.Fatal(err)
	}
	r := readRaw(t, br2, "GET")
	if r.body == "v1:/smuggled" {
		t.Fatalf("the body was served as a request: %d %q", r.status, r.body)
	}
	_ = c2.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if extra, err := http.ReadResponse(br2, nil); err == nil {
		body, _ := io.ReadAll(extra.Body)
		t.Fatalf("a second answer to one request with a body: %d %q", extra.StatusCode, body)
	}
	for _, rec := range o.recorded() {
		if rec.path == "/v1/smuggled" {
			t.Fatalf("the body reached the origin as a request")
		}
	}
}

// TestLoopEngineTimeouts: a connection the loop holds is closed once idle
// for the idle timeout, whether it never sent anything or was answered;
// one that sent part of a request is handed to fasthttp and closed at the
// header timeout. No connection outlives its timeouts on a loop.
func TestLoopEngineTimeouts(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, engine: engineLoop,
		viewer: edge.ViewerLimits{IdleTimeout: time.Second, ReadHeaderTimeout: 500 * time.Millisecond}})
	o := h.newTestOrigin("idle.origin.test", versionOrigin("max-age=3600"))
	d := h.createDistribution(customOriginConfig("idle", o.host, "/v1", cachingOptimized))
	h.waitServed()
	h.get(d.domain, "/a", nil)
	closedWithin := func(name string, br *bufio.Reader, limit time.Duration) {
		t.Helper()
		start := time.Now()
		for {
			_, err := br.ReadByte()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v; want the edge to close the connection", name, err)
			}
		}
		if took := time.Since(start); took > limit {
			t.Errorf("%s: closed after %v, want within %v", name, took, limit)
		}
	}
	silent, silentR := rawEdgeConn(t, h)
	_ = silent
	answered, answeredR := rawEdgeConn(t, h)
	if _, err := io.WriteString(answered, "GET /a HTTP/1.1\r\nHost: "+d.domain+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, answeredR, "GET"); r.status != http.StatusOK || r.header.Get("X-Cache") != "Hit from stagefront" {
		t.Fatalf("hit: %d %v", r.status, r.header)
	}
	partial, partialR := rawEdgeConn(t, h)
	if _, err := io.WriteString(partial, "GET /a HTTP/1.1\r\nHost: "+d.domain); err != nil {
		t.Fatal(err)
	}
	// The idle timeout is 1s and the loop sweeps once a second.
	closedWithin("silent connection", silentR, 4*time.Second)
	closedWithin("answered connection", answeredR, 4*time.Second)
	closedWithin("partial request", partialR, 4*time.Second)
}

// TestCachedNoContent: a cached 204 goes out without a Content-Length
// (RFC 9110, section 8.6) or a body on every engine (the fasthttp ones
// sent "Content-Length: 0", from the stored header), and the next answer
// on the connection is framed right; on the event-loop engine both are
// answered by a loop.
func TestCachedNoContent(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testCachedNoContent(t, engine) })
	}
}

func testCachedNoContent(t *testing.T, engine string) {
	h := newHarness(t, harnessOptions{tables: true, engine: engine})
	o := h.newTestOrigin("nocontent.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		if r.URL.Path == "/v1/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		versionOrigin("max-age=600")(w, r)
	})
	d := h.createDistribution(customOriginConfig("nocontent", o.host, "/v1", cachingOptimized))
	h.waitServed()
	h.get(d.domain, "/empty", nil)
	h.get(d.domain, "/a", nil)
	a0 := counterValue(t, h, "stagefront_edge_loop_answers_total", nil)
	c, br := rawEdgeConn(t, h)
	if _, err := io.WriteString(c, "GET /empty HTTP/1.1\r\nHost: "+d.domain+"\r\n\r\nGET /a HTTP/1.1\r\nHost: "+d.domain+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var head strings.Builder
	for !strings.HasSuffix(head.String(), "\r\n\r\n") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("reading the 204: %v (so far %q)", err, head.String())
		}
		head.WriteByte(b)
	}
	if !strings.HasPrefix(head.String(), "HTTP/1.1 204 ") || !strings.Contains(head.String(), "X-Cache: Hit") ||
		strings.Contains(strings.ToLower(head.String()), "content-length") {
		t.Fatalf("cached 204:\n%s", head.String())
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "v1:/a" {
		t.Fatalf("the answer after the 204: %d %q", r.status, r.body)
	}
	if got := counterValue(t, h, "stagefront_edge_loop_answers_total", nil) - a0; engine == engineLoop && got != 2 {
		t.Errorf("loop answers = %v, want 2 (both hits)", got)
	}
}

// TestLoopEngineFetches follows uncached requests through the event-loop
// engine's own origin fetches: pipelined on one keep-alive connection they
// are answered in order by the loop (no hand-off), on one reused origin
// connection; a HEAD's answer has no body; an origin connection closed
// while idle costs no error; an origin past its read timeout gives a 504
// and the connection goes on; Connection: close is honoured.
func TestLoopEngineFetches(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, engine: engineLoop})
	var mu sync.Mutex
	remotes := map[string]bool{}
	o := h.newTestOrigin("fetch.origin.test", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(4 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "api:"+r.URL.Path)
	})
	cfg := customOriginConfig("loop-fetch", o.host, "", cachingDisabled)
	cfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(1)
	d := h.createDistribution(cfg)
	h.waitServed()
	metric := func(name string) float64 { return counterValue(t, h, name, nil) }
	f0, a0, h0 := metric("stagefront_edge_loop_fetches_total"), metric("stagefront_edge_loop_answers_total"), metric("stagefront_edge_loop_handoffs_total")

	c, br := rawEdgeConn(t, h)
	req := func(method, path string, extra ...string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: " + d.domain + "\r\n" + strings.Join(extra, "") + "\r\n"
	}
	if _, err := io.WriteString(c, req("GET", "/1")+req("GET", "/2")+req("HEAD", "/3")); err != nil {
		t.Fatal(err)
	}
	for i, method := range []string{"GET", "GET", "HEAD"} {
		r := readRaw(t, br, method)
		want := "api:/" + strconv.Itoa(i+1)
		if method == "HEAD" {
			want = ""
		}
		if r.status != http.StatusOK || r.body != want || r.header.Get("X-Cache") != "Miss from stagefront" {
			t.Fatalf("pipelined %d (%s): %d %q %v", i, method, r.status, r.body, r.header)
		}
	}
	if got := metric("stagefront_edge_loop_fetches_total") - f0; got != 3 {
		t.Errorf("loop fetches = %v, want 3", got)
	}
	if got := metric("stagefront_edge_loop_answers_total") - a0; got != 3 {
		t.Errorf("loop answers = %v, want 3", got)
	}
	if got := metric("stagefront_edge_loop_handoffs_total") - h0; got != 0 {
		t.Errorf("hand-offs = %v, want 0: the loop answered them all", got)
	}
	mu.Lock()
	conns := len(remotes)
	mu.Unlock()
	if conns != 1 {
		t.Errorf("the origin saw %d connections for 3 fetches in a row, want 1 reused", conns)
	}

	// The origin drops its idle connections: the next fetch still works
	// (a connection found closed is replaced before any answer is lost).
	o.srv.CloseClientConnections()
	if _, err := io.WriteString(c, req("GET", "/4")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "api:/4" {
		t.Fatalf("after the origin closed its connections: %d %q", r.status, r.body)
	}

	// Past the origin's read timeout: a 504 page, and the connection
	// goes on (off the loop).
	start := time.Now()
	if _, err := io.WriteString(c, req("GET", "/slow")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusGatewayTimeout || r.header.Get("X-Cache") != "Error from stagefront" {
		t.Fatalf("slow origin: %d X-Cache %q, want a 504 error page", r.status, r.header.Get("X-Cache"))
	}
	if took := time.Since(start); took > 3500*time.Millisecond {
		t.Errorf("the 1 s read timeout took %v to answer", took)
	}
	if _, err := io.WriteString(c, req("GET", "/5")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != "api:/5" {
		t.Fatalf("after the timeout: %d %q", r.status, r.body)
	}

	// Connection: close on a fetched request: said, and the stream ends.
	c2, br2 := rawEdgeConn(t, h)
	if _, err := io.WriteString(c2, req("GET", "/6", "Connection: close\r\n")+req("GET", "/7")); err != nil {
		t.Fatal(err)
	}
	readClosing(t, br2, "api:/6")
}

// BenchmarkLoopEngineHit: cached 1 KiB hits answered by the event-loop
// engine over one keep-alive connection, 16 pipelined per write, read by
// a client that allocates nothing: allocs/op are the edge's per hit.
func BenchmarkLoopEngineHit(b *testing.B) {
	h, _, plain := benchOriginWith(b, harnessOptions{tables: true, engine: engineLoop})
	h.waitServed()
	h.get(plain.domain, "/obj.html", nil)
	if r := h.get(plain.domain, "/obj.html", nil); r.header.Get("X-Cache") != "Hit from stagefront" {
		b.Fatalf("warm-up: X-Cache %q", r.header.Get("X-Cache"))
	}
	pipelined(b, h.edgeURL, "GET /obj.html HTTP/1.1\r\nHost: "+plain.domain+"\r\nUser-Agent: bench\r\n\r\n")
}

// pipelined runs b's loop over one keep-alive connection to the edge at
// edgeURL, sending request 16 at a time and reading the answers with
// nothing allocated, and returns how many it sent (and read answers to).
func pipelined(b *testing.B, edgeURL, request string) int {
	c, err := net.Dial("tcp", strings.TrimPrefix(edgeURL, "http://"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const batch = 16
	reqs := []byte(strings.Repeat(request, batch))
	var r headEnds
	ends := 0 // answers read
	read := func(want int) {
		for ends < want {
			n, err := r.read(c)
			if err != nil {
				b.Fatal(err)
			}
			ends += n
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for b.Loop() {
		if sent%batch == 0 {
			if _, err := c.Write(reqs); err != nil {
				b.Fatal(err)
			}
			read(sent) // the batch before this one
		}
		sent++
	}
	b.StopTimer()
	for sent%batch != 0 {
		sent++ // the last batch was sent whole
	}
	read(sent)
	return sent
}

// headEnds counts the header ends ("\r\n\r\n": one per request or
// answer without one in its body) in what it reads, one split between
// reads included.
type headEnds struct {
	buf  [64 << 10]byte
	tail [3]byte // the end of the last read
}

// read reads once from c and returns the header ends it completed.
func (r *headEnds) read(c net.Conn) (int, error) {
	n, err := c.Read(r.buf[3:])
	if err != nil {
		return 0, err
	}
	copy(r.buf[:3], r.tail[:])
	ends := bytes.Count(r.buf[:3+n], []byte("\r\n\r\n"))
	copy(r.tail[:], r.buf[n:n+3])
	return ends, nil
}

// TestLoopEngineShutdownFinishesFetches: a loop shut down while its own
// origin fetch is under way hands the fetch to a goroutine, and the viewer
// still gets the whole answer; Shutdown and Serve return without error.
func TestLoopEngineShutdownFinishesFetches(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	started := make(chan struct{}, 1)
	o := h.newTestOrigin("shutdown.origin.test", func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		time.Sleep(300 * time.Millisecond)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "late:"+r.URL.Path)
	})
	d := h.createDistribution(customOriginConfig("loop-shutdown", o.host, "", cachingDisabled))
	h.waitServed()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ls := h.edge.LoopServer(1)
	served := make(chan error, 1)
	go func() { served <- ls.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /p HTTP/1.1\r\nHost: "+d.domain+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-started // the loop's fetch is waiting for the origin
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- ls.Shutdown(ctx) }()
	r := readRaw(t, bufio.NewReader(c), "GET")
	if r.status != http.StatusOK || r.body != "late:/p" {
		t.Fatalf("answer across the shutdown: %d %q", r.status, r.body)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestLoopEngineOffloads: on one keep-alive connection, a conditional
// request on a cached object (a 304) and a compressed answer are served
// on goroutines and the hits after them by the loop; a cached object over
// 64 KiB is written off the loop, and the connection goes on to fasthttp,
// which answers the hit after it.
func TestLoopEngineOffloads(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, engine: engineLoop})
	big := strings.Repeat("b", 100<<10)
	o := h.newTestOrigin("offload.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		if r.URL.Path == "/big" {
			io.WriteString(w, big)
			return
		}
		io.WriteString(w, strings.Repeat("s", 2000))
	})
	plain := h.createDistribution(customOriginConfig("loop-offload", o.host, "", cachingOptimized))
	cfg := customOriginConfig("loop-offload-gzip", o.host, "", cachingOptimized)
	cfg.DefaultCacheBehavior.Compress = aws.Bool(true)
	zipped := h.createDistribution(cfg)
	h.waitServed()
	h.get(plain.domain, "/small", nil)
	h.get(plain.domain, "/big", nil)
	h.get(zipped.domain, "/small", nil)
	metric := func(name string) float64 { return counterValue(t, h, name, nil) }
	a0, o0, h0 := metric("stagefront_edge_loop_answers_total"), metric("stagefront_edge_loop_offloads_total"), metric("stagefront_edge_loop_handoffs_total")

	c, br := rawEdgeConn(t, h)
	req := func(domain, path string, extra ...string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: " + domain + "\r\n" + strings.Join(extra, "") + "\r\n"
	}
	if _, err := io.WriteString(c, req(plain.domain, "/small", "If-None-Match: \"v1\"\r\n")+req(plain.domain, "/small")+
		req(zipped.domain, "/small", "Accept-Encoding: gzip\r\n")+req(plain.domain, "/small")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusNotModified {
		t.Fatalf("conditional: %d, want 304", r.status)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || len(r.body) != 2000 {
		t.Fatalf("hit after the 304: %d, %d bytes", r.status, len(r.body))
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("compressed: %d, Content-Encoding %q", r.status, r.header.Get("Content-Encoding"))
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || len(r.body) != 2000 {
		t.Fatalf("hit after the compressed answer: %d, %d bytes", r.status, len(r.body))
	}
	if got := metric("stagefront_edge_loop_offloads_total") - o0; got != 2 {
		t.Errorf("offloads = %v, want 2 (the 304 and the compressed answer)", got)
	}
	if got := metric("stagefront_edge_loop_answers_total") - a0; got != 2 {
		t.Errorf("loop answers = %v, want 2 (the hits)", got)
	}
	if _, err := io.WriteString(c, req(plain.domain, "/big")+req(plain.domain, "/small")); err != nil {
		t.Fatal(err)
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || r.body != big {
		t.Fatalf("big: %d, %d bytes", r.status, len(r.body))
	}
	if r := readRaw(t, br, "GET"); r.status != http.StatusOK || len(r.body) != 2000 {
		t.Fatalf("hit after big: %d, %d bytes", r.status, len(r.body))
	}
	if got := metric("stagefront_edge_loop_handoffs_total") - h0; got != 1 {
		t.Errorf("hand-offs = %v, want 1 (after the large answer)", got)
	}
	if got := metric("stagefront_edge_loop_answers_total") - a0; got != 2 {
		t.Errorf("loop answers = %v, want still 2: fasthttp answers the hit after the large answer", got)
	}
}

// BenchmarkLoopEngineFetch: uncached requests fetched by the event loop
// from an origin that answers every request with the same bytes and
// allocates nothing, over one keep-alive viewer connection, 16 pipelined
// per write: allocs/op are the edge's per fetch.
func BenchmarkLoopEngineFetch(b *testing.B) {
	h := newHarness(b, harnessOptions{tables: true, engine: engineLoop})
	canned := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nContent-Length: 1024\r\n\r\n" + strings.Repeat("x", 1024))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var r headEnds
				for {
					n, err := r.read(c)
					if err != nil {
						return
					}
					for range n {
						if _, err := c.Write(canned); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	h.dialer.route("canned.origin.test:80", ln.Addr().String())
	d := h.createDistribution(customOriginConfig("bench-loop-fetch", "canned.origin.test", "", cachingDisabled))
	h.waitServed()
	if r := h.get(d.domain, "/f", nil); r.status != http.StatusOK || len(r.body) != 1024 {
		b.Fatalf("warm-up: %d, %d bytes", r.status, len(r.body))
	}
	fetches0 := counterValue(b, h, "stagefront_edge_loop_fetches_total", nil)
	sent := pipelined(b, h.edgeURL, "GET /f HTTP/1.1\r\nHost: "+d.domain+"\r\nUser-Agent: bench\r\n\r\n")
	if got := counterValue(b, h, "stagefront_edge_loop_fetches_total", nil) - fetches0; got != float64(sent) {
		b.Fatalf("loop fetches = %v for %d requests: not all fetched by the loop", got, sent)
	}
}

// TestLoopLazyAnswers: an uncached GET the event-loop engine fetches
// itself is serialized by the loop from the header the request path
// built (eventLoop.writeLazy), not by fasthttp. For every kind of origin
// response its answer carries what the fasthttp engine's does (but for
// Date, each answer's own) and nothing else. Statuses without a body,
// HEAD and bodies read until the origin closes take fasthttp's path on
// the loop too.
func TestLoopLazyAnswers(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/plain":
			h.Set("Content-Type", "text/plain")
			h["ETag"] = []string{`"v1"`}
			h.Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT") // the edge's Date replaces it
			io.WriteString(w, "plain body")
		case "/cookies":
			h.Add("Set-Cookie", "a=1; Path=/x")
			h.Add("Set-Cookie", "a=2; Path=/y")
			h.Add("Set-Cookie", "b=3")
			h.Add("X-Multi", "one")
			h.Add("X-Multi", "two")
			io.WriteString(w, "cookies")
		case "/empty":
			h.Set("Content-Length", "0")
		case "/notfound":
			h.Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<p>no</p>")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			h.Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		case "/closing":
			h.Set("Connection", "close")
			io.WriteString(w, "closing")
		case "/unframed": // no length: read until the origin closes
			hj, _, _ := w.(http.Hijacker).Hijack()
			io.WriteString(hj, "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Type: text/plain\r\n\r\nuntil close")
			hj.Close()
		}
	}
	type answer struct {
		resp response
		raw  string
	}
	paths := []string{"/plain", "/cookies", "/empty", "/notfound", "/nocontent", "/notmodified", "/closing", "/unframed"}
	answers := map[string]map[string]answer{}
	logDir := t.TempDir() // the loop engine's access log
	var logw *accesslog.Writer
	for _, engine := range []string{engineFastHTTP, engineLoop} {
		w, err := accesslog.New(accesslog.Config{Dir: filepath.Join(logDir, engine), Registry: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		logw = w
		h := newHarness(t, harnessOptions{tables: true, engine: engine, accessLog: w})
		o := h.newTestOrigin("lazy.origin.test", handler)
		cfg := customOriginConfig("lazy-"+engine, o.host, "", cachingDisabled)
		cfg.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("logs.s3.amazonaws.com"),
			Prefix: aws.String(""), IncludeCookies: aws.Bool(false)}
		d := h.createDistribution(cfg)
		h.waitServed()
		answers[engine] = map[string]answer{}
		for _, method := range []string{"GET", "HEAD"} {
			for _, path := range paths {
				c, br := rawEdgeConn(t, h)
				if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: "+d.domain+"\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				var raw bytes.Buffer
				r := readRaw(t, bufio.NewReader(io.TeeReader(br, &raw)), method)
				answers[engine][method+" "+path] = answer{resp: r, raw: raw.String()}
				c.Close()
			}
		}
	}
	for key, fast := range answers[engineFastHTTP] {
		loop := answers[engineLoop][key]
		if loop.resp.status != fast.resp.status || loop.resp.body != fast.resp.body {
			t.Errorf("%s: loop %d %q, fasthttp %d %q", key, loop.resp.status, loop.resp.body, fast.resp.status, fast.resp.body)
		}
		for _, name := range []string{"Date", "X-Amz-Cf-Id"} {
			if len(loop.resp.header[name]) != 1 {
				t.Errorf("%s: loop %s %q, want one", key, name, loop.resp.header[name])
			}
		}
		for name, values := range fast.resp.header {
			if name == "Date" || name == "X-Amz-Cf-Id" || name == "Set-Cookie" {
				continue
			}
			if got := loop.resp.header[name]; !slices.Equal(got, values) {
				t.Errorf("%s: loop %s %q, fasthttp %q", key, name, got, values)
			}
		}
		for name := range loop.resp.header {
			if _, ok := fast.resp.header[name]; !ok && name != "Set-Cookie" {
				t.Errorf("%s: loop sends %s %q, fasthttp does not", key, name, loop.resp.header[name])
			}
		}
		// What fasthttp keeps of the cookies, the loop keeps too.
		for _, c := range fast.resp.header["Set-Cookie"] {
			if !slices.Contains(loop.resp.header["Set-Cookie"], c) {
				t.Errorf("%s: loop Set-Cookie %q lacks fasthttp's %q", key, loop.resp.header["Set-Cookie"], c)
			}
		}
	}
	// Every Set-Cookie line, in order.
	cookies := answers[engineLoop]["GET /cookies"].resp.header["Set-Cookie"]
	if want := []string{"a=1; Path=/x", "a=2; Path=/y", "b=3"}; !slices.Equal(cookies, want) {
		t.Errorf("loop Set-Cookie %q, want %q", cookies, want)
	}
	// The loop wrote these itself: writeLazy puts Content-Length last,
	// where fasthttp puts it before the origin's fields; the origin's
	// length is not sent as well.
	for _, key := range []string{"GET /plain", "GET /cookies", "GET /empty", "GET /notfound", "GET /closing"} {
		raw := answers[engineLoop][key].raw
		head, _, _ := strings.Cut(raw, "\r\n\r\n")
		if last := head[strings.LastIndex(head, "\r\n")+2:]; !strings.HasPrefix(last, "Content-Length: ") && !strings.HasPrefix(last, "Connection: close") ||
			strings.Count(head, "Content-Length:") != 1 {
			t.Errorf("%s: not written by writeLazy:\n%s", key, head)
		}
	}
	if d := answers[engineLoop]["GET /plain"].resp.header.Get("Date"); d == "Mon, 02 Jan 2006 15:04:05 GMT" {
		t.Errorf("loop answer kept the origin's Date")
	}
	// The access log reads the answer from the lazy header.
	if err := logw.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(logDir, engineLoop, "*.gz"))
	if len(files) != 1 {
		t.Fatalf("loop access logs %q, want one file", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(all)), "\n")
	fields := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
	plainID := answers[engineLoop]["GET /plain"].resp.header.Get("X-Amz-Cf-Id")
	found := false
	for _, l := range lines[2:] {
		got := map[string]string{}
		for j, v := range strings.Split(l, "\t") {
			if j < len(fields) {
				got[fields[j]] = v
			}
		}
		if got["x-edge-request-id"] != plainID {
			continue
		}
		found = true
		for k, v := range map[string]string{"x-edge-result-type": "Miss", "sc-status": "200", "sc-content-type": "text/plain", "sc-content-len": "10", "cs-uri-stem": "/plain"} {
			if got[k] != v {
				t.Errorf("GET /plain logged %s = %q, want %q", k, got[k], v)
			}
		}
	}
	if !found {
		t.Errorf("no access log line for GET /plain (id %s):\n%s", plainID, all)
	}
}
