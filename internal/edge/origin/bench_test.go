package origin

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// benchOrigin serves a small object and returns a Spec for it.
func benchOrigin(b *testing.B) *Spec {
	b.Helper()
	body := []byte("<html><body>hello from the origin</body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &Spec{
		ID: "bench", DomainName: host, HTTPPort: p, OriginPath: "/v1", ProtocolPolicy: HTTPOnly,
		CustomHeaders: [][2]string{{"X-Origin-Secret", "s3cr3t"}},
	}
}

func benchRequest() *Request {
	return &Request{
		Path: "/index.html", RawQuery: "a=1", ViewerScheme: "http", ClientIP: "203.0.113.7",
		Header: http.Header{
			"Accept":     {"text/html"},
			"User-Agent": {"bench/1"},
			"Cookie":     {"session=abc; x-amz-continuous-deployment-state=xyz"},
		},
	}
}

func BenchmarkFetchCustom(b *testing.B) {
	spec := benchOrigin(b)
	f := newTestFetcher(b, Options{})
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := f.Fetch(ctx, spec, req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkFetchCustomParallel(b *testing.B) {
	spec := benchOrigin(b)
	f := newTestFetcher(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest()
		for pb.Next() {
			resp, err := f.Fetch(ctx, spec, req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
