package origin

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter is an httptest server that counts the connections it accepted.
type connCounter struct {
	srv    *httptest.Server
	conns  atomic.Int64
	closed chan struct{} // one value per closed connection, if room
}

func newConnCounter(t *testing.T, h http.Handler) *connCounter {
	t.Helper()
	c := &connCounter{closed: make(chan struct{}, 16)}
	c.srv = httptest.NewUnstartedServer(h)
	c.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			c.conns.Add(1)
		case http.StateClosed:
			select {
			case c.closed <- struct{}{}:
			default:
			}
		}
	}
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

func (c *connCounter) spec(keepalive time.Duration) *Spec {
	host, port, _ := net.SplitHostPort(c.srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &Spec{ID: "o", DomainName: host, HTTPPort: p, ProtocolPolicy: HTTPOnly, KeepaliveTimeout: keepalive}
}

func fetchBody(t *testing.T, f *Fetcher, spec *Spec, req *Request) (*http.Response, string) {
	t.Helper()
	resp, err := f.Fetch(context.Background(), spec, req)
	if err != nil {
		t.Fatalf("Fetch %s %s: %v", req.Method, req.Path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body of %s: %v", req.Path, err)
	}
	return resp, string(body)
}

// TestPooledConnections: GET and HEAD, with a length, chunked, or empty
// body, all reuse one connection; a body closed before its end, or a
// response that closes the connection, does not go back to the pool.
func TestPooledConnections(t *testing.T) {
	long := strings.Repeat("chunk of a streamed body\n", 2000)
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte(long[:len(long)/2]))
			w.(http.Flusher).Flush()
			w.Write([]byte(long[len(long)/2:]))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/hints":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "after hints")
		default:
			io.WriteString(w, "small "+r.Method)
		}
	}))
	f := newTestFetcher(t, Options{})
	spec := origin.spec(0)

	steps := []struct {
		method, path string
		wantStatus   int
		wantBody     string
		wantConns    int64 // accepted by the origin after this step
	}{
		{http.MethodGet, "/small", 200, "small GET", 1},
		{http.MethodGet, "/chunked", 200, long, 1},
		{http.MethodHead, "/small", 200, "", 1},
		{http.MethodGet, "/empty", 204, "", 1},
		{http.MethodGet, "/hints", 200, "after hints", 1},
		{http.MethodGet, "/small", 200, "small GET", 1},
		{http.MethodGet, "/close", 200, "bye", 1},
		{http.MethodGet, "/small", 200, "small GET", 2}, // the origin closed the last one
	}
	for i, s := range steps {
		resp, body := fetchBody(t, f, spec, &Request{Method: s.method, Path: s.path})
		if resp.StatusCode != s.wantStatus || body != s.wantBody {
			t.Fatalf("step %d %s %s: got %d %q (%d bytes), want %d %q", i, s.method, s.path, resp.StatusCode, body[:min(len(body), 40)], len(body), s.wantStatus, s.wantBody[:min(len(s.wantBody), 40)])
		}
		if got := origin.conns.Load(); got != s.wantConns {
			t.Fatalf("step %d %s %s: origin accepted %d connections, want %d", i, s.method, s.path, got, s.wantConns)
		}
	}

	// A body read exactly to its announced length, then closed (as the
	// cache reads a body), leaves the connection reusable.
	resp, err := f.Fetch(context.Background(), spec, &Request{Path: "/small"})
	if err != nil {
		t.Fatal(err)
	}
	exact := make([]byte, resp.ContentLength)
	if _, err := io.ReadFull(resp.Body, exact); err != nil || string(exact) != "small GET" {
		t.Fatalf("ReadFull: %q, %v", exact, err)
	}
	resp.Body.Close()
	fetchBody(t, f, spec, &Request{Path: "/small"})
	if got := origin.conns.Load(); got != 2 {
		t.Errorf("after a body read to its length: origin accepted %d connections, want 2", got)
	}

	// A body closed before its end leaves bytes on the connection.
	resp, err = f.Fetch(context.Background(), spec, &Request{Path: "/chunked"})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	if n, err := resp.Body.Read(buf); n != 0 || err == nil {
		t.Errorf("Read after Close: got %d, %v; want 0 and an error", n, err)
	}
	fetchBody(t, f, spec, &Request{Path: "/small"})
	if got := origin.conns.Load(); got != 3 {
		t.Errorf("after an early Close: origin accepted %d connections, want 3", got)
	}
}

// TestConcurrentFetchesShareThePool: concurrent fetches use at most as
// many connections as there are fetches in flight, and reuse them.
func TestConcurrentFetchesShareThePool(t *testing.T) {
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	f := newTestFetcher(t, Options{})
	spec := origin.spec(0)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				resp, err := f.Fetch(context.Background(), spec, &Request{Path: "/"})
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if got := origin.conns.Load(); got > workers {
		t.Errorf("origin accepted %d connections for %d concurrent fetchers, want at most %d", got, workers, workers)
	}
}

// TestStaleConnectionRetried: an origin that closes idle connections
// (shorter keep-alive than ours) costs a retry on a new connection, never
// an error.
func TestStaleConnectionRetried(t *testing.T) {
	var accepted atomic.Int64
	addr := rawServer(t, func(conn net.Conn) {
		accepted.Add(1)
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// Keep-alive as announced, but close right after: the client
		// pools a connection that is already dead.
	})
	f := newTestFetcher(t, Options{})
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	spec := &Spec{ID: "o", DomainName: host, HTTPPort: p, ProtocolPolicy: HTTPOnly}
	for i := range 3 {
		resp, body := fetchBody(t, f, spec, &Request{Path: "/"})
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("fetch %d: got %d %q", i, resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if got := accepted.Load(); got != 3 {
		t.Errorf("origin accepted %d connections, want 3 (one per fetch)", got)
	}
}

// TestIdleConnectionsExpire: a pooled connection is closed after the
// keep-alive timeout.
func TestIdleConnectionsExpire(t *testing.T) {
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	f := newTestFetcher(t, Options{})
	fetchBody(t, f, origin.spec(50*time.Millisecond), &Request{Path: "/"})
	select {
	case <-origin.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("idle connection still open 5s after a 50ms keep-alive timeout")
	}
}

// TestCanceledBodyRead: the caller's context bounds the body, and the
// connection is not reused afterwards.
func TestCanceledBodyRead(t *testing.T) {
	release := make(chan struct{})
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "12345")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	f := newTestFetcher(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := f.Fetch(ctx, origin.spec(0), &Request{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("body read after cancel: got %v, want context.Canceled", err)
	}
}

// TestInvalidHeaderRefused: a header value that would split the request is
// never written.
func TestInvalidHeaderRefused(t *testing.T) {
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Injected") != "" {
			t.Error("origin received an injected header")
		}
	}))
	f := newTestFetcher(t, Options{})
	spec := origin.spec(0)
	spec.CustomHeaders = [][2]string{{"X-Origin", "a\r\nX-Injected: 1"}}
	resp, err := f.Fetch(context.Background(), spec, &Request{Path: "/"})
	if err == nil {
		resp.Body.Close()
		t.Fatal("Fetch with a CRLF in a header value: got a response, want an error")
	}
	if got := StatusFor(err); got != http.StatusBadGateway {
		t.Errorf("StatusFor(%v): got %d, want 502", err, got)
	}
}

// TestIdleConnectionsExpireOneByOne: the pool's one sweep timer closes
// each idle connection once it has been idle for the keep-alive timeout,
// the later ones on a later run, and a connection kept for longer is
// never reused.
func TestIdleConnectionsExpireOneByOne(t *testing.T) {
	origin := newConnCounter(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	f := newTestFetcher(t, Options{})
	spec := origin.spec(150 * time.Millisecond)
	// Two connections at once: the first body stays open while the
	// second fetch runs.
	first, err := f.Fetch(context.Background(), spec, &Request{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	fetchBody(t, f, spec, &Request{Path: "/"})
	time.Sleep(100 * time.Millisecond)
	io.Copy(io.Discard, first.Body) // released 100 ms after the other
	first.Body.Close()
	for i := range 2 {
		select {
		case <-origin.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("idle connection %d still open 5s after a 150ms keep-alive timeout", i+1)
		}
	}
	if got := origin.conns.Load(); got != 2 {
		t.Fatalf("origin saw %d connections, want 2", got)
	}
	fetchBody(t, f, spec, &Request{Path: "/"})
	if got := origin.conns.Load(); got != 3 {
		t.Errorf("a fetch after both expired used %d connections in all, want a new one (3)", got)
	}
}
