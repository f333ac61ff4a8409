//go:build linux

package edge

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// FuzzLoopRequest: whatever a viewer sends, a request the event-loop
// engine keeps for a loop (loopRequest) is an HTTP/1.1 GET or HEAD with
// no body, whose host and target fasthttp parses without error, so that
// serving it on a loop is what the fasthttp engine would do; anything
// else goes to fasthttp.
func FuzzLoopRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /a HTTP/1.1\r\nHost: d111.cloudfront.net\r\n\r\n",
		"HEAD /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.0\r\nHost: x\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a@b\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x:\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(bytes.NewReader(head))); err != nil {
			return
		}
		if !loopRequest(&h) {
			return
		}
		if !(h.IsGet() || h.IsHead()) || !h.IsHTTP11() {
			t.Fatalf("kept for a loop: method %q, HTTP/1.1 %v", h.Method(), h.IsHTTP11())
		}
		if cl := h.ContentLength(); cl > 0 || cl == -1 || len(h.Peek("Transfer-Encoding")) > 0 {
			t.Fatalf("kept for a loop with a body: Content-Length %d, Transfer-Encoding %q", cl, h.Peek("Transfer-Encoding"))
		}
		var u fasthttp.URI
		if err := u.Parse(h.Host(), h.RequestURI()); err != nil {
			t.Fatalf("kept for a loop, but fasthttp's URI parse fails (host %q, target %q): %v", h.Host(), h.RequestURI(), err)
		}
	})
}

// TestDefaultLoops: the default engine runs a loop per P the process
// started with and one P more, so that one is idle while every loop
// waits; a GOMAXPROCS the operator set is left alone.
func TestDefaultLoops(t *testing.T) {
	if loops, procs := loopProcs(4, ""); loops != 4 || procs != 5 {
		t.Errorf("loopProcs(4, \"\") = %d, %d; want 4 loops on 5 Ps", loops, procs)
	}
	if loops, procs := loopProcs(4, "4"); loops != 4 || procs != 4 {
		t.Errorf("loopProcs(4, \"4\") = %d, %d; want 4 loops on 4 Ps", loops, procs)
	}
	loops := defaultLoops()
	want := loops + 1
	if os.Getenv("GOMAXPROCS") != "" {
		want = loops
	}
	if got := runtime.GOMAXPROCS(0); got != want || defaultLoops() != loops {
		t.Errorf("after defaultLoops() = %d: GOMAXPROCS %d, want %d (twice: %d)", loops, got, want, defaultLoops())
	}
}

// TestDupFDNonBlocking: the descriptors the loops take over, of accepted
// and of dialed connections, are in non-blocking mode, as the raw
// send and recv of sockSend and sockRecv need (a blocking call there
// would stall the whole loop and its P).
func TestDupFDNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dialed.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()
	for name, c := range map[string]net.Conn{"accepted": accepted, "dialed": dialed} {
		fd, err := dupFD(c.(*net.TCPConn))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		unix.Close(fd)
		if err != nil || flags&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: flags %#x (%v): not O_NONBLOCK", name, flags, err)
		}
	}
}
