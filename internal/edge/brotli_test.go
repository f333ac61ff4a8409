package edge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// mediaPackage is a managed cache policy that enables gzip but not br.
const mediaPackage = "08627262-05a9-4f76-9ded-b50ca2e3a84f"

// TestBrotliOncePerEncoding: a Compress behavior serves br to viewers that
// accept it when the policy enables br, gzip to the others that accept
// gzip, and fetches and compresses once per encoding served, whatever the
// exact Accept-Encoding of each viewer.
func TestBrotliOncePerEncoding(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	page := strings.Repeat("<p>brotli me</p>\n", 200)
	o := h.newTestOrigin("br.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, page)
	})
	for _, policy := range []struct {
		name, id string
		brotli   bool
	}{{"gzip+br", cachingOptimized, true}, {"gzip only", mediaPackage, false}} {
		t.Run(policy.name, func(t *testing.T) {
			cfg := customOriginConfig("br-"+policy.id[:8], o.host, "/"+policy.id[:8], policy.id)
			cfg.DefaultCacheBehavior.Compress = aws.Bool(true)
			d := h.createDistribution(cfg)
			h.waitServed()
			before := len(o.recorded())

			br := "br"
			if !policy.brotli {
				br = "gzip"
			}
			encodings := map[string]bool{}
			for i, tc := range []struct{ acceptEncoding, want string }{
				{"br, gzip, deflate", br},
				{"gzip, deflate, br, zstd", br},
				{"br;q=1.0, gzip;q=0.5", br},
				{"gzip", "gzip"},
				{"gzip, br;q=0", "gzip"},
				{"x-gzip, identity", ""},
				{"", ""},
			} {
				r := h.get(d.domain, "/page.html", http.Header{"Accept-Encoding": {tc.acceptEncoding}})
				if r.status != http.StatusOK {
					t.Fatalf("request %d: status %d", i, r.status)
				}
				enc := r.header.Get("Content-Encoding")
				if enc != tc.want {
					t.Fatalf("request %d (Accept-Encoding %q): Content-Encoding %q, want %q", i, tc.acceptEncoding, enc, tc.want)
				}
				body := r.body
				if enc != "" {
					body = decode(t, enc, body)
				}
				if body != page {
					t.Fatalf("request %d (%s): wrong body (%d bytes)", i, enc, len(body))
				}
				if enc == "br" && len(r.body) >= len(page)/4 {
					t.Errorf("br body %d bytes for a %d-byte repetitive page: not compressed?", len(r.body), len(page))
				}
				encodings[tc.want] = true
			}
			// A viewer accepting only br gets br, or the identity when the
			// policy does not enable br.
			r := h.get(d.domain, "/page.html", http.Header{"Accept-Encoding": {"br"}})
			want := "br"
			if !policy.brotli {
				want = ""
			}
			if got := r.header.Get("Content-Encoding"); got != want {
				t.Errorf("Accept-Encoding br: Content-Encoding %q, want %q", got, want)
			}
			encodings[want] = true
			if got := len(o.recorded()) - before; got != len(encodings) {
				t.Errorf("origin fetches: got %d, want %d (one per encoding served: %v)", got, len(encodings), encodings)
			}
		})
	}
}
