//go:build linux

package edge

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"
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
