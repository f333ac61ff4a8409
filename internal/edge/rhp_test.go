package edge_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// Managed response headers policies (AWS's real ids).
const (
	rhpSecurityHeaders   = "67f7725c-6f97-4210-82d7-5512b31e9d03"
	rhpSimpleCORS        = "60669652-455b-4ae9-85a4-c4c02393f86c"
	rhpCORSWithPreflight = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
)

func withResponseHeadersPolicy(cfg *types.DistributionConfig, id string) *types.DistributionConfig {
	cfg.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(id)
	return cfg
}

// headerOrigin is a test origin whose /own/ paths answer with the response
// header name: value, and whose other paths with no such header; every
// response is cacheable for cacheControl.
func headerOrigin(h *harness, host, cacheControl, name, value string) *requestLog {
	log := &requestLog{}
	h.newTestOrigin(host, func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		w.Header().Set("Cache-Control", cacheControl)
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/own/" {
			w.Header().Set(name, value)
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	})
	return log
}

// TestResponseHeadersPolicySecurityHeaders: SecurityHeadersPolicy puts
// X-Content-Type-Options: nosniff on every response, replacing the
// origin's own (its setting overrides), on a cache miss, on a hit and on
// an uncached response alike. A behavior without the policy serves the
// origin's header untouched.
func TestResponseHeadersPolicySecurityHeaders(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			headerOrigin(h, "sec.origin.test", "max-age=600", "X-Content-Type-Options", "origin-value")
			cached := h.createDistribution(withResponseHeadersPolicy(customOriginConfig("rhp-sec", "sec.origin.test", "", cachingOptimized), rhpSecurityHeaders))
			uncached := h.createDistribution(withResponseHeadersPolicy(customOriginConfig("rhp-sec-nc", "sec.origin.test", "", cachingDisabled), rhpSecurityHeaders))
			without := h.createDistribution(customOriginConfig("rhp-none", "sec.origin.test", "", cachingOptimized))
			h.waitServed()

			for _, path := range []string{"/plain/a", "/own/a"} {
				for _, want := range []string{"Miss from stagefront", "Hit from stagefront"} {
					r := h.get(cached.domain, path, nil)
					if r.status != http.StatusOK || r.header.Get("X-Cache") != want {
						t.Fatalf("GET %s: %d %q, want 200 %q", path, r.status, r.header.Get("X-Cache"), want)
					}
					if v := r.header.Values("X-Content-Type-Options"); len(v) != 1 || v[0] != "nosniff" {
						t.Errorf("GET %s (%s): X-Content-Type-Options %q, want [nosniff]", path, want, v)
					}
				}
				r := h.get(uncached.domain, path, nil)
				if v := r.header.Values("X-Content-Type-Options"); r.status != http.StatusOK || len(v) != 1 || v[0] != "nosniff" {
					t.Errorf("uncached GET %s: %d, X-Content-Type-Options %q, want [nosniff]", path, r.status, v)
				}
			}

			for range 2 { // miss, then the stored-as-is fast path of a hit
				if r := h.get(without.domain, "/own/a", nil); r.header.Get("X-Content-Type-Options") != "origin-value" {
					t.Errorf("without a policy: X-Content-Type-Options %q (%s), want the origin's", r.header.Get("X-Content-Type-Options"), r.header.Get("X-Cache"))
				}
				if r := h.get(without.domain, "/plain/a", nil); r.header.Get("X-Content-Type-Options") != "" {
					t.Errorf("without a policy: X-Content-Type-Options %q (%s), want none", r.header.Get("X-Content-Type-Options"), r.header.Get("X-Cache"))
				}
			}
		})
	}
}

// TestResponseHeadersPolicySimpleCORS: SimpleCORS adds
// Access-Control-Allow-Origin: * only to a response to a viewer that sent
// Origin, decided per request (the cached object is shared by viewers
// with and without Origin), and keeps the origin's own value (its setting
// does not override).
func TestResponseHeadersPolicySimpleCORS(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			log := headerOrigin(h, "cors.origin.test", "max-age=600", "Access-Control-Allow-Origin", "https://app.example")
			d := h.createDistribution(withResponseHeadersPolicy(customOriginConfig("rhp-cors", "cors.origin.test", "", cachingOptimized), rhpSimpleCORS))
			h.waitServed()

			fromApp := http.Header{"Origin": {"https://app.example"}}
			for _, step := range []struct {
				path    string
				header  http.Header
				cache   string
				wantACA []string
			}{
				{"/plain/x", nil, "Miss from stagefront", nil},
				{"/plain/x", fromApp, "Hit from stagefront", []string{"*"}},
				{"/plain/x", nil, "Hit from stagefront", nil},
				{"/plain/y", fromApp, "Miss from stagefront", []string{"*"}},
				{"/own/x", fromApp, "Miss from stagefront", []string{"https://app.example"}},
				{"/own/x", fromApp, "Hit from stagefront", []string{"https://app.example"}},
			} {
				r := h.get(d.domain, step.path, step.header)
				if r.status != http.StatusOK || r.header.Get("X-Cache") != step.cache {
					t.Fatalf("GET %s (Origin %q): %d %q, want 200 %q", step.path, step.header.Get("Origin"), r.status, r.header.Get("X-Cache"), step.cache)
				}
				if got := r.header.Values("Access-Control-Allow-Origin"); fmt.Sprint(got) != fmt.Sprint(step.wantACA) {
					t.Errorf("GET %s (Origin %q, %s): Access-Control-Allow-Origin %q, want %q", step.path, step.header.Get("Origin"), step.cache, got, step.wantACA)
				}
				if r.header.Get("X-Content-Type-Options") != "" {
					t.Errorf("GET %s: SimpleCORS added X-Content-Type-Options", step.path)
				}
			}
			if n := log.count(); n != 3 {
				t.Errorf("origin fetched %d times, want 3 (one per object)", n)
			}
		})
	}
}

// TestResponseHeadersPolicyPreflight: with CORS-With-Preflight a preflight
// request still goes to the origin (AWS documents the policy as adding
// headers to the response, not as CloudFront answering it), and its
// response gets Access-Control-Allow-Origin.
func TestResponseHeadersPolicyPreflight(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, harnessOptions{tables: true, engine: engine})
			log := headerOrigin(h, "pre.origin.test", "no-store", "X-Unused", "")
			cfg := withResponseHeadersPolicy(customOriginConfig("rhp-pre", "pre.origin.test", "", cachingDisabled), rhpCORSWithPreflight)
			cfg.DefaultCacheBehavior.AllowedMethods = &types.AllowedMethods{Quantity: aws.Int32(3), Items: []types.Method{"GET", "HEAD", "OPTIONS"}}
			d := h.createDistribution(cfg)
			h.waitServed()

			r, err := h.do(http.MethodOptions, d.domain, "/api", http.Header{
				"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"PUT"},
			})
			if err != nil {
				t.Fatalf("OPTIONS: %v", err)
			}
			if r.status != http.StatusOK || r.body != "OPTIONS /api" || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("preflight: %d %q, Access-Control-Allow-Origin %q; want the origin's 200 with *", r.status, r.body, r.header.Get("Access-Control-Allow-Origin"))
			}
			if got := log.last(t); got.header.Get("Access-Control-Request-Method") != "PUT" {
				t.Errorf("origin got Access-Control-Request-Method %q, want PUT", got.header.Get("Access-Control-Request-Method"))
			}
			if r := h.get(d.domain, "/api", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("GET without Origin: Access-Control-Allow-Origin %q, want none", r.header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}
