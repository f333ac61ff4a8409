package edge_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestNoRequestHidesInABody: a request body the edge does not read (a Host
// no distribution serves, an origin that answers without reading it) or
// is never taken for the next request on the
// connection, on either engine: the origin never sees the request hidden
// in it. The fasthttp engine streams bodies, so whatever it leaves unread
// is still on the connection; it closes the connection instead.
func TestNoRequestHidesInABody(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{engine: engine})
			seen := make(chan string, 64)
			o := h.newTestOrigin("smuggle.origin.test", func(w http.ResponseWriter, r *http.Request) {
				seen <- r.URL.Path
				io.WriteString(w, "ok") // the body is left unread
			})
			cfg := customOriginConfig("smuggle-"+engine, o.host, "", cachingDisabled)
			all := []types.Method{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
			cfg.DefaultCacheBehavior.AllowedMethods = &types.AllowedMethods{Quantity: aws.Int32(7), Items: all,
				CachedMethods: &types.CachedMethods{Quantity: aws.Int32(2), Items: []types.Method{"GET", "HEAD"}}}
			d := h.createDistribution(cfg)
			h.waitServed()

			hidden := "GET /smuggled HTTP/1.1\r\nHost: " + d.domain + "\r\n"
			// Padded to 128 bytes, so that a body of many of them has one
			// starting at any multiple of 128 (fasthttp reads 8 KiB ahead).
			hidden += "X-Pad: " + strings.Repeat("p", 128-len(hidden)-len("X-Pad: \r\n\r\n")) + "\r\n\r\n"
			big := strings.Repeat(hidden, 512)
			for _, tc := range []struct{ name, request string }{
				{"unknown Host, hidden request in the body",
					fmt.Sprintf("POST /x HTTP/1.1\r\nHost: nobody.example\r\nContent-Length: %d\r\n\r\n%s", len(hidden), hidden)},
				{"unknown Host, large body",
					fmt.Sprintf("POST /x HTTP/1.1\r\nHost: nobody.example\r\nContent-Length: %d\r\n\r\n%s", len(big), big)},
				{"origin answers without reading a large body",
					fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", d.domain, len(big), big)},
				{"GET with a body",
					fmt.Sprintf("GET /get HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", d.domain, len(hidden), hidden)},
				// RFC 9112 §6.3: the body of a request with both
				// Transfer-Encoding and Content-Length is read as chunked,
				// and the connection is closed after the answer, so what
				// follows the chunked body (inside the body for a front
				// proxy that went by Content-Length) is never a request.
				{"Content-Length and Transfer-Encoding",
					fmt.Sprintf("POST /both HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s", d.domain, 5+len(hidden), hidden)},
			} {
				statuses := exchange(t, h.edgeURL, tc.request)
			drain:
				for {
					select {
					case p := <-seen:
						if p == "/smuggled" {
							t.Errorf("%s: the origin got the request hidden in the body (responses %v)", tc.name, statuses)
						}
					default:
						break drain
					}
				}
				if len(statuses) > 1 {
					t.Errorf("%s: %d responses %v on one connection, want at most 1", tc.name, len(statuses), statuses)
				}
			}
		})
	}
}

// exchange writes raw on one connection and returns the statuses of every
// response read until the server closes it (or a second passes quietly).
func exchange(t *testing.T, edgeURL, raw string) []int {
	t.Helper()
	u, _ := url.Parse(edgeURL)
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = io.WriteString(c, raw) }() // the server may close before reading it all
	br := bufio.NewReader(c)
	var statuses []int
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
}
