package edge_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/edge/shield"
	"github.com/stagefront/stagefront/internal/testutil"
)

// TestUnreachableShieldIsLeftAlone: the fleet still lists a shield that
// cannot answer (its host is gone, or it is stuck while its lease is
// renewed). After one failure the edge sends that shield's misses to the
// origin without trying it; once the breaker's time is up, one miss
// probes it again, and a second failure keeps it away for twice as long.
func TestUnreachableShieldIsLeftAlone(t *testing.T) {
	t.Parallel()
	o := newCountingOrigin(t, 0)
	const domain = "ebreaker.cdn.test"

	// The shield accepts connections and closes them at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testutil.Must(t, err)
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()

	e, clk, get := breakerEdge(t, o, domain, shield.Peer{Node: "broken", Addr: ln.Addr().String()})
	counts := func(wantUnreachable, wantSkipped float64, wantConns int32) {
		t.Helper()
		if u, s := shieldCounter(e, "edge", "unreachable"), shieldCounter(e, "edge", "skipped"); u != wantUnreachable || s != wantSkipped {
			t.Fatalf("shield outcomes: unreachable %v, skipped %v; want %v and %v", u, s, wantUnreachable, wantSkipped)
		}
		testutil.Eventually(t, 5*time.Second, "the shield's connection count", func() bool { return conns.Load() >= wantConns })
		if n := conns.Load(); n != wantConns {
			t.Fatalf("the shield saw %d connections; want %d", n, wantConns)
		}
	}

	get("/a") // tries the shield, falls back
	counts(1, 0, 1)
	get("/b") // breaker open: straight to the origin
	get("/c")
	counts(1, 2, 1)

	clk.Advance(2*time.Second + time.Millisecond)
	get("/d") // the probe fails: open for 4 s
	counts(2, 2, 2)
	clk.Advance(2 * time.Second)
	get("/e")
	counts(2, 3, 2)
	clk.Advance(2*time.Second + time.Millisecond)
	get("/f") // the next probe
	counts(3, 3, 3)
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e", "/f"} {
		if n := o.count(p); n != 1 {
			t.Errorf("origin fetches of %s = %d, want 1", p, n)
		}
	}
}

// TestShieldBreakerClosesOnAnswer: a shield that answers again gets its
// share of misses back.
func TestShieldBreakerClosesOnAnswer(t *testing.T) {
	t.Parallel()
	o := newCountingOrigin(t, 0)
	const domain = "ebreaker2.cdn.test"
	// The shield's listener refuses service until it is fixed, then
	// answers every request with a refusal (a 404 without an entry),
	// which is an answer: the peer is there.
	var fixed atomic.Bool
	var asked atomic.Int32
	sh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if !fixed.Load() {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		_, _ = io.WriteString(w, "no entry here")
	}))
	t.Cleanup(sh.Close)

	e, clk, get := breakerEdge(t, o, domain, shield.Peer{Node: "flaky", Addr: sh.Listener.Addr().String()})

	get("/a")
	get("/b") // skipped
	if n := asked.Load(); n != 1 {
		t.Fatalf("shield asked %d times while its breaker was open; want 1", n)
	}
	fixed.Store(true)
	clk.Advance(2*time.Second + time.Millisecond)
	get("/c") // the probe gets an answer: closed
	get("/d")
	get("/e")
	if n := asked.Load(); n != 4 {
		t.Errorf("shield asked %d times; want 4 (one failure, then every miss once it answered)", n)
	}
	if s := shieldCounter(e, "edge", "skipped"); s != 1 {
		t.Errorf("skipped %v misses; want 1", s)
	}
}

// breakerEdge starts an edge (not in a fleet) serving shieldTable of o at
// domain, whose only shield peer is peer; get fetches a path through it
// and fails the test unless the origin's object comes back.
func breakerEdge(t *testing.T, o *countingOrigin, domain string, peer shield.Peer) (*fleetEdge, *fakeClock, func(path string)) {
	t.Helper()
	clk := newFakeClock()
	ring := shield.NewRing("me")
	ring.Set([]shield.Peer{peer})
	signer, err := shield.NewSigner(bytes.Repeat([]byte{7}, 32))
	testutil.Must(t, err)
	fetcher, err := origin.New(t.Context(), origin.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDSHIELD", "shield-secret", "")})
	testutil.Must(t, err)
	t.Cleanup(fetcher.Close)
	e := &fleetEdge{name: "me", reg: prometheus.NewRegistry()}
	e.srv, err = edge.New(edge.Options{Fetcher: fetcher, Registry: e.reg, Logger: slog.New(slog.DiscardHandler), Clock: clk.Now,
		Shield: &edge.ShieldOptions{Ring: ring, Signer: signer}})
	testutil.Must(t, err)
	t.Cleanup(e.srv.Close)
	e.srv.Publish(shieldTable(t, o, domain), nil)
	vs := httptest.NewServer(e.srv)
	t.Cleanup(vs.Close)
	e.viewerURL = vs.URL
	return e, clk, func(path string) {
		t.Helper()
		code, body, err := getVia(vs.Client(), e, domain, path)
		if err != nil || code != http.StatusOK || body != "object "+path {
			t.Fatalf("GET %s: %d %q %v; want the origin's object", path, code, body, err)
		}
	}
}
