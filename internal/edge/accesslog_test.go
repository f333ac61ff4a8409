package edge_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
)

// TestAccessLog serves a distribution whose Logging is enabled and one
// whose is not, over loopback on both engines, and reads the log files the
// edge wrote: one line per request of the logged distribution, in header
// order, with the result type and the X-Amz-Cf-Id the viewer got.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"", engineFastHTTP, engineLoop} {
		t.Run("engine="+engine, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w, err := accesslog.New(accesslog.Config{Dir: dir, Registry: prometheus.NewRegistry()})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, harnessOptions{tables: true, engine: engine, accessLog: w})
			o := h.newTestOrigin("logged.origin.test", versionOrigin("max-age=3600"))
			cfg := customOriginConfig("logged", o.host, "", cachingOptimized)
			cfg.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("logs.s3.amazonaws.com"),
				Prefix: aws.String("edge/"), IncludeCookies: aws.Bool(false)}
			logged := h.createDistribution(cfg)
			quiet := h.createDistribution(customOriginConfig("quiet", o.host, "", cachingOptimized))
			h.waitServed()

			ua := http.Header{"User-Agent": {"log test/1.0 (loopback)"}}
			var ids []string
			for _, req := range []struct{ method, domain string }{
				{http.MethodGet, logged.domain},    // Miss
				{http.MethodGet, logged.domain},    // Hit
				{http.MethodGet, quiet.domain},     // not logged
				{http.MethodDelete, logged.domain}, // refused: Error
			} {
				r, err := h.do(req.method, req.domain, "/a.txt", ua)
				if err != nil {
					t.Fatal(err)
				}
				id := r.header.Get("X-Amz-Cf-Id")
				if len(id) != 56 {
					t.Fatalf("%s %s: X-Amz-Cf-Id %q", req.method, req.domain, id)
				}
				if req.domain == logged.domain {
					ids = append(ids, id)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			var names []string
			var lines []string
			err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				names = append(names, filepath.ToSlash(rel))
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				zr, err := gzip.NewReader(f)
				if err != nil {
					return err
				}
				sc := bufio.NewScanner(zr)
				for sc.Scan() {
					lines = append(lines, sc.Text())
				}
				return sc.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 1 || !regexp.MustCompile(`^edge/`+logged.id+`\.\d{4}-\d\d-\d\d-\d\d\.[0-9a-f]{8}\.gz$`).MatchString(names[0]) {
				t.Fatalf("files %q, want one edge/%s.YYYY-MM-DD-HH.<unique>.gz", names, logged.id)
			}
			if len(lines) != 2+3 {
				t.Fatalf("%d lines, want the header and 3 requests:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			fields := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
			wantResult := []string{"Miss", "Hit", "Error"}
			wantStatus := []string{"200", "200", "403"}
			// Lines are in time order per thread that served them, not
			// across threads (as CloudFront promises no order): each
			// request's line is found by its id.
			byID := map[string]map[string]string{}
			for i, l := range lines[2:] {
				vals := strings.Split(l, "\t")
				if len(vals) != len(fields) {
					t.Fatalf("line %d: %d values for %d fields", i, len(vals), len(fields))
				}
				got := map[string]string{}
				for j, f := range fields {
					got[f] = vals[j]
				}
				byID[got["x-edge-request-id"]] = got
			}
			for i, id := range ids {
				got := byID[id]
				if got == nil {
					t.Fatalf("no line of request %d (%s)", i, id)
				}
				for k, v := range map[string]string{
					"x-edge-result-type": wantResult[i], "sc-status": wantStatus[i], "x-edge-request-id": ids[i],
					"cs(Host)": logged.domain, "x-host-header": logged.domain, "cs-uri-stem": "/a.txt",
					"cs(User-Agent)": "log%20test/1.0%20(loopback)", "cs-protocol": "http", "c-ip": "127.0.0.1",
					"cs-protocol-version": "HTTP/1.1",
				} {
					if got[k] != v {
						t.Errorf("line %d: %s = %q, want %q", i, k, got[k], v)
					}
				}
				// At least the request line and the Host and User-Agent
				// lines the test sends, at most a little more.
				if n, err := strconv.Atoi(got["cs-bytes"]); err != nil || n < 40 || n > 400 {
					t.Errorf("line %d: cs-bytes %q", i, got["cs-bytes"])
				}
				if got["cs-method"] != []string{"GET", "GET", "DELETE"}[i] {
					t.Errorf("line %d: cs-method %q", i, got["cs-method"])
				}
				if i < 2 && (got["sc-bytes"] == "0" || !strings.HasPrefix(got["sc-content-type"], "text/plain")) {
					t.Errorf("line %d: sc-bytes %q, sc-content-type %q", i, got["sc-bytes"], got["sc-content-type"])
				}
			}
		})
	}
}

// BenchmarkFastServeCachedAccessLog is the fasthttp hit path with access
// logging off and on (the goal: on ≥ 0.95× off in requests per second).
// Besides the wall time per hit, which a loaded machine blurs, it reports
// the CPU time per hit of the request goroutine's thread (req-cpu-ns/op:
// what logging adds to the request path) and of the whole process until
// the log files are written (cpu-ns/op: with the writer's formatting
// batches compressed off the request goroutine).
func BenchmarkFastServeCachedAccessLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			opts := harnessOptions{tables: true}
			var w *accesslog.Writer
			if on {
				var err error
				if w, err = accesslog.New(accesslog.Config{Dir: b.TempDir(), Registry: prometheus.NewRegistry()}); err != nil {
					b.Fatal(err)
				}
				opts.accessLog = w
			}
			h := newHarness(b, opts)
			o := h.newTestOrigin("bench.origin.test", versionOrigin("max-age=3600"))
			cfg := customOriginConfig("bench-log", o.host, "", cachingOptimized)
			cfg.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("logs.s3.amazonaws.com"),
				Prefix: aws.String(""), IncludeCookies: aws.Bool(false)}
			d := h.createDistribution(cfg)
			h.waitServed()
			handler := h.edge.FastHandler()
			// A request parsed from the wire, as a server's is.
			var req fasthttp.Request
			raw := "GET /obj.html HTTP/1.1\r\nHost: " + d.domain + "\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n"
			if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
				b.Fatal(err)
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			handler(&ctx) // warm the cache
			ctx.Response.Reset()
			handler(&ctx)
			if string(ctx.Response.Header.Peek("X-Cache")) != "Hit from stagefront" {
				b.Fatalf("warm-up: X-Cache %q", ctx.Response.Header.Peek("X-Cache"))
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			thread0, proc0 := threadCPU(b), processCPU(b)
			for b.Loop() {
				ctx.Response.Reset()
				handler(&ctx)
			}
			thread1 := threadCPU(b)
			if w != nil {
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(w.Dropped())/float64(b.N), "dropped/op")
			}
			b.ReportMetric(float64((thread1-thread0).Nanoseconds())/float64(b.N), "req-cpu-ns/op")
			b.ReportMetric(float64((processCPU(b)-proc0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestOriginCannotSetTheRequestID: X-Amz-Cf-Id is the edge's request id
// (the access log's x-edge-request-id), as CloudFront replaces whatever an
// origin sends. The net/http engine used to let an origin's X-Amz-Cf-Id
// overwrite it, on the miss and on every hit of the stored object. Every
// answer carries one, as every CloudFront answer does, whether or not the
// edge writes access logs (it used to send none without them), and so
// does the error of a host no distribution serves.
func TestOriginCannotSetTheRequestID(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"", engineFastHTTP, engineLoop} {
		for _, logged := range []bool{true, false} {
			t.Run(fmt.Sprintf("engine=%s/accesslog=%v", engine, logged), func(t *testing.T) {
				t.Parallel()
				testOriginCannotSetTheRequestID(t, engine, logged)
			})
		}
	}
}

func testOriginCannotSetTheRequestID(t *testing.T, engine string, logged bool) {
	opts := harnessOptions{tables: true, engine: engine}
	if logged {
		w, err := accesslog.New(accesslog.Config{Dir: t.TempDir(), Registry: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		opts.accessLog = w
	}
	h := newHarness(t, opts)
	o := h.newTestOrigin("spoof.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Cf-Id", "spoofed-by-the-origin")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write([]byte("body"))
	})
	cfg := customOriginConfig("spoof", o.host, "", cachingOptimized)
	cfg.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("logs.s3.amazonaws.com"),
		Prefix: aws.String(""), IncludeCookies: aws.Bool(false)}
	d := h.createDistribution(cfg)
	h.waitServed()
	seen := map[string]bool{}
	for i, want := range []string{"Miss", "Hit"} {
		r, err := h.do(http.MethodGet, d.domain, "/a.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := r.header.Values("X-Amz-Cf-Id")
		if len(ids) != 1 || len(ids[0]) != 56 || seen[ids[0]] {
			t.Fatalf("request %d (%s): X-Amz-Cf-Id %q, want one new 56-character id of the edge's", i, want, ids)
		}
		seen[ids[0]] = true
		if !strings.Contains(r.header.Get("X-Cache"), want) {
			t.Fatalf("request %d: X-Cache %q, want %s", i, r.header.Get("X-Cache"), want)
		}
	}
	r, err := h.do(http.MethodGet, "no-such-distribution.cloudfront.net", "/a.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := r.header.Values("X-Amz-Cf-Id"); r.status != http.StatusForbidden || len(ids) != 1 || len(ids[0]) != 56 || seen[ids[0]] {
		t.Fatalf("unknown host: %d, X-Amz-Cf-Id %q, want 403 with one new 56-character id", r.status, ids)
	}
}
