package edge_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// rawGet sends one GET with the request target exactly as given (no client
// cleans it) and returns the response.
func rawGet(t *testing.T, edgeURL, host, target string) response {
	t.Helper()
	u, err := url.Parse(edgeURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("dial edge: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// TestPathNormalization: however a viewer spells a path, it neither
// climbs out of the origin's OriginPath nor skips the behavior its
// normalized form matches, on either engine. The origin is sent the
// normalized path, and spellings of one object share one cache entry.
func TestPathNormalization(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{engine: engine})
			var got = make(chan string, 64)
			o := h.newTestOrigin("paths.origin.test", func(w http.ResponseWriter, r *http.Request) {
				got <- r.RequestURI
				w.Header().Set("Cache-Control", "max-age=600")
				io.WriteString(w, "origin saw "+r.RequestURI)
			})
			cfg := customOriginConfig("paths-"+engine, o.host, "/v1", cachingOptimized)
			cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
				PathPattern: aws.String("/admin/*"), TargetOriginId: aws.String("web"),
				ViewerProtocolPolicy: types.ViewerProtocolPolicyHttpsOnly,
				CachePolicyId:        aws.String(cachingDisabled),
			}}}
			d := h.createDistribution(cfg)
			h.waitServed()

			for _, tc := range []struct {
				target     string
				wantStatus int
				wantOrigin string // "" when the origin must not be asked
				wantCache  string
			}{
				// Out of the OriginPath: refused, as nginx refuses them.
				{"/../v2/secret.txt", 400, "", ""},
				{"/%2e%2e/v2/secret.txt", 400, "", ""},
				{"/index.html/..%2f..%2fv2/secret.txt", 400, "", ""},
				{"/a%00.txt", 400, "", ""},
				// Spellings of /admin/secret.txt: the https-only behavior.
				{"/x/../admin/secret.txt", 403, "", ""},
				{"/%61dmin/secret.txt", 403, "", ""},
				{"//admin/secret.txt", 403, "", ""},
				{"/admin%2fsecret.txt", 403, "", ""},
				{"/admin/./secret.txt", 403, "", ""},
				// Allowed paths reach the origin normalized, under /v1.
				{"/docs/./a/../page.txt", 200, "/v1/docs/page.txt", "Miss from stagefront"},
				{"/docs//%70age.txt", 200, "/v1/docs/page.txt", "Hit from stagefront"},
				{"/%7Euser/%c3%a9.txt", 200, "/v1/~user/%C3%A9.txt", "Miss from stagefront"},
			} {
				r := rawGet(t, h.edgeURL, d.domain, tc.target)
				if r.status != tc.wantStatus {
					t.Errorf("GET %s: status %d, want %d (%q)", tc.target, r.status, tc.wantStatus, r.body)
					continue
				}
				if tc.wantCache != "" && r.header.Get("X-Cache") != tc.wantCache {
					t.Errorf("GET %s: X-Cache %q, want %q", tc.target, r.header.Get("X-Cache"), tc.wantCache)
				}
				select {
				case uri := <-got:
					if uri != tc.wantOrigin {
						t.Errorf("GET %s: origin got %q, want %q", tc.target, uri, tc.wantOrigin)
					}
				default:
					if tc.wantOrigin != "" && tc.wantCache != "Hit from stagefront" {
						t.Errorf("GET %s: the origin was not asked, want %q", tc.target, tc.wantOrigin)
					}
				}
			}
		})
	}
}
