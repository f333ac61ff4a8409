package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// Managed origin request policies (AWS's real ids).
const (
	orpAllViewer           = "216adef6-5c7f-47e4-b989-5492eafa07d3"
	orpAllViewerCloudFront = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
	orpAllViewerExceptHost = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	orpCORSS3Origin        = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
)

// seenRequest is what an origin received.
type seenRequest struct {
	path, query, host string
	header            http.Header
}

// requestLog records the requests an origin handler sees.
type requestLog struct {
	mu   sync.Mutex
	seen []seenRequest
}

func (l *requestLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, seenRequest{path: r.URL.Path, query: r.URL.RawQuery, host: r.Host, header: r.Header.Clone()})
}

// last is the latest request, failing the test when there is none.
func (l *requestLog) last(t *testing.T) seenRequest {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) == 0 {
		t.Fatal("the origin got no request")
	}
	return l.seen[len(l.seen)-1]
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// loggingOrigin is a test origin on host that records every request and
// answers with cacheControl ("" for none) and a fixed body.
func loggingOrigin(h *harness, host, cacheControl string) *requestLog {
	log := &requestLog{}
	h.newTestOrigin(host, func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		fmt.Fprintf(w, "origin=%s", r.Header.Get("Origin"))
	})
	return log
}

func withOriginRequestPolicy(cfg *types.DistributionConfig, id string) *types.DistributionConfig {
	cfg.DefaultCacheBehavior.OriginRequestPolicyId = aws.String(id)
	return cfg
}

// apiViewerHeader is a viewer request as an API client sends it: a query,
// an application header, cookies (one of them the edge's own sticky
// cookie) and an Authorization header.
func apiViewerHeader() http.Header {
	return http.Header{
		"X-Api-Key":     {"key-1"},
		"Authorization": {"Bearer token-1"},
		"Cookie":        {"session=abc; x-amz-continuous-deployment-state=sticky-value; theme=dark"},
	}
}

const apiViewerQuery = "b=%20two&a=1&response-content-type=text%2Fhtml"

// TestOriginRequestPolicyAllViewerExceptHostHeader is the usual setup for
// an API behind CloudFront: CachingDisabled and AllViewerExceptHostHeader.
// The origin gets the viewer's query (as sent), headers and cookies, but
// not the edge's sticky cookie, not the viewer's Host (its own domain
// name, as API Gateway and Lambda function URLs need) and not the viewer's
// Authorization, which only a cache key can forward on a GET. Without the
// policy it gets none of them.
func TestOriginRequestPolicyAllViewerExceptHostHeader(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			api := loggingOrigin(h, "api.origin.test", "")
			plain := loggingOrigin(h, "plain.origin.test", "")
			d := h.createDistribution(withOriginRequestPolicy(customOriginConfig("orp-api", "api.origin.test", "", cachingDisabled), orpAllViewerExceptHost))
			without := h.createDistribution(customOriginConfig("orp-none", "plain.origin.test", "", cachingDisabled))
			h.waitServed()

			if r := h.get(d.domain, "/v1/items?"+apiViewerQuery, apiViewerHeader()); r.status != http.StatusOK {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			got := api.last(t)
			if got.path != "/v1/items" || got.query != apiViewerQuery {
				t.Errorf("origin got path %q query %q, want /v1/items %q", got.path, got.query, apiViewerQuery)
			}
			for name, want := range map[string]string{
				"X-Api-Key": "key-1", "Cookie": "session=abc; theme=dark",
			} {
				if v := got.header.Values(name); len(v) != 1 || v[0] != want {
					t.Errorf("origin got %s %q, want %q", name, v, want)
				}
			}
			if v := got.header.Values("Authorization"); len(v) != 0 {
				t.Errorf("origin got Authorization %q through an origin request policy; want none", v)
			}
			if got.host != "api.origin.test" {
				t.Errorf("origin got Host %q, want its own name api.origin.test (not the viewer's %s)", got.host, d.domain)
			}

			if r := h.get(without.domain, "/v1/items?"+apiViewerQuery, apiViewerHeader()); r.status != http.StatusOK {
				t.Fatalf("GET without a policy: %d %s", r.status, r.body)
			}
			got = plain.last(t)
			if got.query != "" || got.header.Get("X-Api-Key") != "" || got.header.Get("Cookie") != "" || got.header.Get("Authorization") != "" {
				t.Errorf("without an origin request policy the origin got query %q, X-Api-Key %q, Cookie %q, Authorization %q; want none",
					got.query, got.header.Get("X-Api-Key"), got.header.Get("Cookie"), got.header.Get("Authorization"))
			}
		})
	}
}

// TestOriginRequestPolicyAllViewer: AllViewer forwards the viewer's Host
// too; AllViewerAndCloudFrontHeaders-2022-06 also gets the CloudFront
// headers the edge generates, never a viewer's own.
func TestOriginRequestPolicyAllViewer(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			all := loggingOrigin(h, "all.origin.test", "")
			withCF := loggingOrigin(h, "cf.origin.test", "")
			d := h.createDistribution(withOriginRequestPolicy(customOriginConfig("orp-all", "all.origin.test", "", cachingDisabled), orpAllViewer))
			dCF := h.createDistribution(withOriginRequestPolicy(customOriginConfig("orp-cf", "cf.origin.test", "", cachingDisabled), orpAllViewerCloudFront))
			h.waitServed()

			if r := h.get(d.domain, "/x?"+apiViewerQuery, apiViewerHeader()); r.status != http.StatusOK {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			got := all.last(t)
			if got.host != d.domain || got.query != apiViewerQuery || got.header.Get("X-Api-Key") != "key-1" ||
				got.header.Get("Cookie") != "session=abc; theme=dark" {
				t.Errorf("AllViewer: origin got Host %q query %q X-Api-Key %q Cookie %q; want Host %s and the viewer's values",
					got.host, got.query, got.header.Get("X-Api-Key"), got.header.Get("Cookie"), d.domain)
			}
			if v := got.header.Get("Cloudfront-Forwarded-Proto"); v != "" {
				t.Errorf("AllViewer: origin got CloudFront-Forwarded-Proto %q; the policy asks for none", v)
			}

			spoofed := apiViewerHeader()
			spoofed.Set("CloudFront-Viewer-Address", "203.0.113.66:1")
			spoofed.Set("CloudFront-Viewer-Country", "XX")
			if r := h.get(dCF.domain, "/x", spoofed); r.status != http.StatusOK {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			got = withCF.last(t)
			if v := got.header.Get("CloudFront-Forwarded-Proto"); v != "http" {
				t.Errorf("CloudFront-Forwarded-Proto = %q, want http", v)
			}
			if v := got.header.Values("CloudFront-Viewer-Address"); len(v) != 1 || !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`).MatchString(v[0]) {
				t.Errorf("CloudFront-Viewer-Address = %q, want the viewer's 127.0.0.1:port", v)
			}
			if v := got.header.Get("CloudFront-Viewer-Country"); v != "" {
				t.Errorf("CloudFront-Viewer-Country = %q: a viewer's own CloudFront header reached the origin", v)
			}
			if got.host != dCF.domain || got.header.Get("X-Api-Key") != "key-1" {
				t.Errorf("origin got Host %q X-Api-Key %q, want %s and key-1", got.host, got.header.Get("X-Api-Key"), dCF.domain)
			}
		})
	}
}

// TestOriginRequestPolicyOutsideCacheKey: with CachingOptimized and
// CORS-S3Origin the origin gets the viewer's Origin header, but the cache
// key still ignores it, as on CloudFront: two viewers with different
// Origin values share the object the first one fetched.
func TestOriginRequestPolicyOutsideCacheKey(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	log := loggingOrigin(h, "cors.origin.test", "max-age=600")
	d := h.createDistribution(withOriginRequestPolicy(customOriginConfig("orp-cors", "cors.origin.test", "", cachingOptimized), orpCORSS3Origin))
	h.waitServed()

	first := h.get(d.domain, "/font.woff2", http.Header{
		"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"GET"}, "X-Api-Key": {"key-1"},
	})
	if first.status != http.StatusOK || first.body != "origin=https://a.example" || first.header.Get("X-Cache") != "Miss from stagefront" {
		t.Fatalf("first GET: %d %q %q", first.status, first.body, first.header.Get("X-Cache"))
	}
	got := log.last(t)
	if got.header.Get("Origin") != "https://a.example" || got.header.Get("Access-Control-Request-Method") != "GET" {
		t.Errorf("origin got Origin %q Access-Control-Request-Method %q, want the viewer's", got.header.Get("Origin"), got.header.Get("Access-Control-Request-Method"))
	}
	if v := got.header.Get("X-Api-Key"); v != "" {
		t.Errorf("origin got X-Api-Key %q, which neither policy forwards", v)
	}

	second := h.get(d.domain, "/font.woff2", http.Header{"Origin": {"https://b.example"}})
	if second.status != http.StatusOK || second.body != "origin=https://a.example" || second.header.Get("X-Cache") != "Hit from stagefront" {
		t.Errorf("second GET (another Origin): %d %q %q; want the cached object of the first", second.status, second.body, second.header.Get("X-Cache"))
	}
	if n := log.count(); n != 1 {
		t.Errorf("origin fetched %d times, want 1", n)
	}
}

// TestOriginRequestPolicyCacheFill: a fetch into the cache forwards what
// the policy adds (here the query, outside the key) but never the viewer's
// Range or validators, so the cache gets the whole object and cuts the
// viewer's range itself.
func TestOriginRequestPolicyCacheFill(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	log := &requestLog{}
	h.newTestOrigin("fill.origin.test", func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("0123456789"))
	})
	d := h.createDistribution(withOriginRequestPolicy(customOriginConfig("orp-fill", "fill.origin.test", "", cachingOptimized), orpAllViewerExceptHost))
	h.waitServed()

	r := h.get(d.domain, "/data?a=1", http.Header{"Range": {"bytes=2-4"}, "If-None-Match": {`"v0"`}, "X-Api-Key": {"key-1"}})
	if r.status != http.StatusPartialContent || r.body != "234" {
		t.Fatalf("GET with Range: %d %q, want 206 \"234\"", r.status, r.body)
	}
	got := log.last(t)
	if got.query != "a=1" || got.header.Get("X-Api-Key") != "key-1" {
		t.Errorf("origin got query %q X-Api-Key %q, want a=1 and key-1", got.query, got.header.Get("X-Api-Key"))
	}
	for _, name := range []string{"Range", "If-None-Match", "Accept-Encoding"} {
		if v := got.header.Get(name); v != "" {
			t.Errorf("the cache fill sent the viewer's %s %q", name, v)
		}
	}
	if r := h.get(d.domain, "/data?a=2", nil); r.status != http.StatusOK || r.body != "0123456789" || r.header.Get("X-Cache") != "Hit from stagefront" {
		t.Errorf("GET ?a=2: %d %q %q; want the whole cached object (the query is not in the key)", r.status, r.body, r.header.Get("X-Cache"))
	}
}

// TestOriginRequestPolicyS3ResponseOverrides: with a managed policy an S3
// origin never gets response-content-type, -disposition or -encoding (AWS
// keeps a viewer from choosing the headers of an object others are served);
// every other parameter still goes, and a custom origin gets them all (see
// TestOriginRequestPolicyAllViewerExceptHostHeader).
func TestOriginRequestPolicyS3ResponseOverrides(t *testing.T) {
	log := &requestLog{}
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		_, _ = io.WriteString(w, "object")
	}))
	defer s3.Close()
	endpoint, err := url.Parse(s3.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{tables: true, s3Endpoint: endpoint})
	d := h.createDistribution(&types.DistributionConfig{
		CallerReference: aws.String("orp-s3"), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("s3"), DomainName: aws.String("orp-bucket.s3.us-east-1.amazonaws.com"),
			S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("s3"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled),
			OriginRequestPolicyId: aws.String(orpAllViewer)},
	})
	h.waitServed()

	query := "response-content-type=text%2Fhtml&v=2&response-content-disposition=inline&x=%2F&response-content-encoding=gzip"
	if r := h.get(d.domain, "/report.csv?"+query, nil); r.status != http.StatusOK || r.body != "object" {
		t.Fatalf("GET: %d %q", r.status, r.body)
	}
	if got := log.last(t); got.path != "/orp-bucket/report.csv" || got.query != "v=2&x=%2F" {
		t.Errorf("S3 got %s?%s, want /orp-bucket/report.csv?v=2&x=%%2F", got.path, got.query)
	}
}
