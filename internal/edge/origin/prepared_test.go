package origin

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestPrepareSendsWhatFetchSends: the request Prepare serializes for an
// event loop is the one Fetch sends (method, target, Host and header, as
// an origin reads them), one request after another, so that nothing of
// an earlier request's header (Prepare reuses its maps) reaches a later
// one.
func TestPrepareSendsWhatFetchSends(t *testing.T) {
	rec := &recordingOrigin{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	f := newTestFetcher(t, Options{DialContext: (&redirectDial{addr: srv.Listener.Addr().String()}).dial})
	base := Spec{ID: "web", DomainName: "origin.example.com", OriginPath: "/v1", ProtocolPolicy: HTTPOnly}
	custom := base
	custom.CustomHeaders = [][2]string{{"X-Origin-Secret", "s3cret"}, {"x-forwarded-for", "custom"}}
	secrets := base // custom headers none of which the edge sets itself
	secrets.CustomHeaders = [][2]string{{"x-origin-secret", "a"}, {"X-Other", "b"}, {"X-Origin-Secret", "c"}}
	via := base
	via.CustomHeaders = [][2]string{{"via", "1.1 custom"}}
	cases := []struct {
		name string
		spec *Spec
		req  Request
	}{
		{"plain", &base, Request{Path: "/a.txt", ClientIP: "192.0.2.1"}},
		{"viewer headers, hop-by-hop, connection tokens, CD cookie", &base, Request{Path: "/b", RawQuery: "x=1", ClientIP: "192.0.2.2", Header: http.Header{
			"Accept":           {"text/html"},
			"Connection":       {"X-Drop, keep-alive"},
			"X-Drop":           {"1"},
			"Keep-Alive":       {"timeout=5"},
			"Cookie":           {"a=1; " + CDCookie + "=xyz; b=2"},
			"Via":              {"1.1 upstream"},
			"X-Forwarded-For":  {"198.51.100.7"},
			"X-Lower":          {"Case"},
			"Content-Length":   {"5"},
			"X-Multi":          {"1", "2"},
			"User-Agent":       {"viewer/1"},
			"Accept-Encoding":  {"gzip"},
			"Host":             {"viewer.example.com"},
			"Proxy-Connection": {"keep-alive"},
		}}},
		{"after a big one, a bare HEAD", &base, Request{Method: http.MethodHead, Path: "/c"}},
		{"custom headers replace the viewer's", &custom, Request{Path: "/d", ClientIP: "192.0.2.3", Header: http.Header{"X-Origin-Secret": {"viewer"}, "Accept": {"*/*"}}}},
		{"and again without them", &base, Request{Path: "/e", Header: http.Header{"Accept": {"*/*"}}}},
		// Nothing from the viewer: the header is written without a map.
		{"custom headers alone", &secrets, Request{Path: "/f", RawQuery: "q=1", ClientIP: "192.0.2.4"}},
		{"a custom Via alone", &via, Request{Path: "/g", ClientIP: "192.0.2.5"}},
		{"a custom Via after a viewer header", &via, Request{Path: "/h", ClientIP: "192.0.2.5", Header: http.Header{"Via": {"1.0 viewer"}}}},
	}
	for _, c := range cases {
		resp, err := f.Fetch(context.Background(), c.spec, &c.req)
		if err != nil {
			t.Fatalf("%s: Fetch: %v", c.name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.mu.Lock()
		fetched := rec.last
		rec.mu.Unlock()

		_, b, err := f.Prepare(c.spec, &c.req, nil)
		if err != nil {
			t.Fatalf("%s: Prepare: %v", c.name, err)
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("%s: the prepared request %q does not parse: %v", c.name, b, err)
		}
		prepared := seen{method: r.Method, requestURI: r.RequestURI, host: r.Host, header: r.Header}
		if !reflect.DeepEqual(prepared, fetched) {
			t.Errorf("%s:\nprepared %+v\nfetched  %+v", c.name, prepared, fetched)
		}
	}
}
