package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// manyRanges is a Range value of n separate one-byte ranges.
func manyRanges(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%d-%d", 2*i, 2*i)
	}
	return "bytes=" + strings.Join(parts, ",")
}

// TestMaxRanges: a request for more than 200 ranges gets the whole object
// (200), cached or streamed through, as Apache's MaxRanges 200 answers;
// 200 ranges are still served as a multipart 206.
func TestMaxRanges(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{engine: engine})
			object := strings.Repeat("0123456789", 100)
			var sawRange = make(chan string, 8)
			o := h.newTestOrigin("ranges.origin.test", func(w http.ResponseWriter, r *http.Request) {
				sawRange <- r.Header.Get("Range")
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Content-Type", "text/plain")
				http.ServeContent(w, r, "", time.Time{}, strings.NewReader(object))
			})
			cached := h.createDistribution(customOriginConfig("ranges-c-"+engine, o.host, "", cachingOptimized))
			uncached := h.createDistribution(customOriginConfig("ranges-u-"+engine, o.host, "", cachingDisabled))
			h.waitServed()

			r := h.get(cached.domain, "/obj", nil) // fill the cache
			<-sawRange
			for _, tc := range []struct {
				name       string
				domain     string
				n          int
				wantStatus int
			}{
				{"cached, 200 ranges", cached.domain, 200, http.StatusPartialContent},
				{"cached, 201 ranges", cached.domain, 201, http.StatusOK},
				{"cached, 2000 ranges", cached.domain, 2000, http.StatusOK},
				{"uncached, 201 ranges", uncached.domain, 201, http.StatusOK},
			} {
				r = h.get(tc.domain, "/obj", http.Header{"Range": {manyRanges(tc.n)}})
				if r.status != tc.wantStatus {
					t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.wantStatus)
				}
				if tc.wantStatus == http.StatusOK && r.body != object {
					t.Errorf("%s: body of %d bytes, want the whole object (%d)", tc.name, len(r.body), len(object))
				}
				if tc.domain == uncached.domain {
					if got := <-sawRange; got != "" {
						t.Errorf("%s: the origin was asked for %d bytes of Range", tc.name, len(got))
					}
				}
			}
		})
	}
}
