package edge_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// decode undoes a Content-Encoding of the edge.
func decode(t *testing.T, encoding, s string) string {
	t.Helper()
	if encoding == "gzip" {
		return gunzip(t, s)
	}
	out, err := io.ReadAll(brotli.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatalf("br body: %v", err)
	}
	return string(out)
}

func gunzip(t *testing.T, s string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return string(out)
}

// TestCompressedObjects: with Compress the edge stores the encoding it
// serves (br when accepted, as the policy enables it, else gzip) once per
// encoding and serves each viewer what it accepts.
func TestCompressedObjects(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	page := strings.Repeat("<p>compress me</p>\n", 100)
	o := h.newTestOrigin("gz.origin.test", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/errors/404.html" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "custom not found page")
			return
		}
		if strings.HasPrefix(r.URL.Path, "/missing") {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, strings.Repeat("not found ", 200))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"page-v1"`)
		io.WriteString(w, page)
	})
	for _, policy := range []struct{ name, id string }{{"optimized", cachingOptimized}, {"disabled", cachingDisabled}} {
		t.Run(policy.name, func(t *testing.T) {
			cfg := customOriginConfig("gz-"+policy.name, o.host, "", policy.id)
			cfg.DefaultCacheBehavior.Compress = aws.Bool(true)
			cfg.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{
				ErrorCode: aws.Int32(404), ResponsePagePath: aws.String("/errors/404.html"), ResponseCode: aws.String("404"),
				ErrorCachingMinTTL: aws.Int64(10),
			}}}
			d := h.createDistribution(cfg)
			h.waitServed()

			// CloudFront compresses on the caching path only: a behavior
			// with caching disabled passes the origin's bytes through.
			compresses := policy.id != cachingDisabled
			for i, tc := range []struct {
				acceptEncoding string
				encoding       string // served when the behavior compresses
			}{
				{"br, gzip, deflate", "br"}, // stores the br object
				{"br", "br"},                // shares it
				{"gzip", "gzip"},            // stores the gzip object
				{"", ""},
				{"br, gzip, deflate", "br"},
				{"identity", ""},
				{"gzip, br;q=0", "gzip"}, // br refused
			} {
				var hdr http.Header
				if tc.acceptEncoding != "" {
					hdr = http.Header{"Accept-Encoding": {tc.acceptEncoding}}
				}
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					r, err := h.do(method, d.domain, "/page.html", hdr)
					if err != nil {
						t.Fatal(err)
					}
					if r.status != http.StatusOK {
						t.Fatalf("request %d: status %d", i, r.status)
					}
					enc := r.header.Get("Content-Encoding")
					wantEnc := tc.encoding
					if !compresses {
						wantEnc = ""
					}
					if enc != wantEnc {
						t.Fatalf("request %d %s (Accept-Encoding %q): Content-Encoding %q, want %q", i, method, tc.acceptEncoding, enc, wantEnc)
					}
					cl, _ := strconv.Atoi(r.header.Get("Content-Length"))
					if method == http.MethodHead {
						if r.body != "" || (compresses && cl == 0) {
							t.Errorf("HEAD: body %d bytes, Content-Length %d", len(r.body), cl)
						}
						continue
					}
					if r.header.Get("Content-Length") != "" && cl != len(r.body) {
						t.Errorf("request %d: Content-Length %d for a %d-byte body", i, cl, len(r.body))
					}
					body := r.body
					wantETag := `"page-v1"`
					if wantEnc != "" {
						wantETag = `W/"page-v1"`
					}
					if got := r.header.Get("ETag"); got != wantETag {
						t.Errorf("request %d: ETag %q, want %q", i, got, wantETag)
					}
					if wantEnc != "" {
						body = decode(t, wantEnc, body)
						if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
							t.Errorf("request %d: compressed response without Vary: Accept-Encoding", i)
						}
					}
					if body != page {
						t.Fatalf("request %d: wrong body (%d bytes)", i, len(body))
					}
				}
			}

			// A custom error page replaces the error's representation: its
			// own type, and compressed only if the viewer accepts it.
			for _, ae := range []string{"gzip", ""} {
				r := h.get(d.domain, "/missing-"+policy.name, http.Header{"Accept-Encoding": {ae}})
				if r.status != http.StatusNotFound || r.body != "custom not found page" {
					t.Errorf("custom error (Accept-Encoding %q): %d %q", ae, r.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "text/html" {
					t.Errorf("custom error page Content-Type %q, want the page's text/html", ct)
				}
				if enc := r.header.Get("Content-Encoding"); enc != "" {
					t.Errorf("custom error page (short) Content-Encoding %q", enc)
				}
			}
		})
	}
}
