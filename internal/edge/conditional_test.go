package edge_test

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestConditionalAndRangeOnCachedObjects: a cached 200 answers
// If-None-Match / If-Modified-Since with 304, byte ranges with 206 (416
// past the end; several ranges as multipart/byteranges), on both engines.
func TestConditionalAndRangeOnCachedObjects(t *testing.T) {
	const lastModified = "Sun, 01 Nov 2026 10:00:00 GMT"
	for _, engine := range []string{"", engineFastHTTP, engineLoop} {
		t.Run("engine="+engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			o := h.newTestOrigin("cond.origin.test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Last-Modified", lastModified)
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = io.WriteString(w, "0123456789")
			})
			d := h.createDistribution(customOriginConfig("cond", o.host, "", cachingOptimized))
			h.waitServed()
			if r := h.get(d.domain, "/obj", nil); r.status != 200 || r.body != "0123456789" {
				t.Fatalf("warm-up: %d %q", r.status, r.body)
			}
			for _, c := range []struct {
				name         string
				header       http.Header
				status       int
				body         string
				contentRange string
			}{
				{"matching If-None-Match", http.Header{"If-None-Match": {`"v1"`}}, 304, "", ""},
				{"weak If-None-Match in a list", http.Header{"If-None-Match": {`"x", W/"v1"`}}, 304, "", ""},
				{"other If-None-Match", http.Header{"If-None-Match": {`"v0"`}}, 200, "0123456789", ""},
				{"If-Modified-Since at Last-Modified", http.Header{"If-Modified-Since": {lastModified}}, 304, "", ""},
				{"If-Modified-Since before", http.Header{"If-Modified-Since": {"Sat, 31 Oct 2026 10:00:00 GMT"}}, 200, "0123456789", ""},
				{"range", http.Header{"Range": {"bytes=2-5"}}, 206, "2345", "bytes 2-5/10"},
				{"open range", http.Header{"Range": {"bytes=7-"}}, 206, "789", "bytes 7-9/10"},
				{"suffix range", http.Header{"Range": {"bytes=-3"}}, 206, "789", "bytes 7-9/10"},
				{"range past the end", http.Header{"Range": {"bytes=20-"}}, 416, "", "bytes */10"},
				{"If-Range mismatch: whole object", http.Header{"Range": {"bytes=2-5"}, "If-Range": {`"v0"`}}, 200, "0123456789", ""},
				{"If-Range match", http.Header{"Range": {"bytes=2-5"}, "If-Range": {`"v1"`}}, 206, "2345", "bytes 2-5/10"},
				{"overlapping ranges: whole object", http.Header{"Range": {"bytes=0-4,3-5"}}, 200, "0123456789", ""},
				{"descending ranges: whole object", http.Header{"Range": {"bytes=4-5,0-1"}}, 200, "0123456789", ""},
				{"a range past the end among several: whole object", http.Header{"Range": {"bytes=0-1,20-"}}, 200, "0123456789", ""},
			} {
				r := h.get(d.domain, "/obj", c.header)
				if r.status != c.status || r.body != c.body || r.header.Get("Content-Range") != c.contentRange {
					t.Errorf("%s: got %d %q Content-Range %q; want %d %q %q", c.name, r.status, r.body, r.header.Get("Content-Range"), c.status, c.body, c.contentRange)
				}
			}
			// Several ascending ranges: one multipart/byteranges 206.
			r := h.get(d.domain, "/obj", http.Header{"Range": {"bytes=0-1, 4-5,-2"}})
			mediaType, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
			if r.status != 206 || err != nil || mediaType != "multipart/byteranges" || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
				t.Fatalf("multiple ranges: %d, Content-Type %q, Content-Length %q for %d bytes; want a 206 multipart/byteranges",
					r.status, r.header.Get("Content-Type"), r.header.Get("Content-Length"), len(r.body))
			}
			mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
			for _, want := range []struct{ contentRange, body string }{{"bytes 0-1/10", "01"}, {"bytes 4-5/10", "45"}, {"bytes 8-9/10", "89"}} {
				part, err := mr.NextPart()
				if err != nil {
					t.Fatalf("multiple ranges: part %s: %v", want.contentRange, err)
				}
				body, _ := io.ReadAll(part)
				if part.Header.Get("Content-Range") != want.contentRange || string(body) != want.body || part.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("multiple ranges: part %q %q (%s); want %q %q", part.Header.Get("Content-Range"), body, part.Header.Get("Content-Type"), want.contentRange, want.body)
				}
			}
			if _, err := mr.NextPart(); err != io.EOF {
				t.Errorf("multiple ranges: more than 3 parts (%v)", err)
			}
			if hits := o.hits.Load(); hits != 1 {
				t.Errorf("origin fetched %d times; want 1 (everything above is served from the cache)", hits)
			}
		})
	}
}
