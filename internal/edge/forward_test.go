//lint:file-ignore SA1019 legacy ForwardedValues/MinTTL behaviors are still valid CloudFront input and are tested on purpose
package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestForwardingMatchesCacheKey: a cached fetch sends the origin exactly
// the query parameters, cookies and headers the cache key holds. Anything
// more would let the origin vary a shared object on what the key ignores.
func TestForwardingMatchesCacheKey(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	o := h.newTestOrigin("fwd.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "q=%s c=%s host=%s", r.URL.RawQuery, r.Header.Get("Cookie"), r.Host)
	})
	cfg := customOriginConfig("fwd", o.host, "", cachingOptimized)
	cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
		PathPattern: aws.String("/legacy/*"), TargetOriginId: aws.String("web"),
		ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
		ForwardedValues: &types.ForwardedValues{
			QueryString:          aws.Bool(true),
			QueryStringCacheKeys: &types.QueryStringCacheKeys{Quantity: aws.Int32(1), Items: []string{"v"}},
			Cookies: &types.CookiePreference{Forward: types.ItemSelectionWhitelist,
				WhitelistedNames: &types.CookieNames{Quantity: aws.Int32(1), Items: []string{"theme"}}},
			Headers: &types.Headers{Quantity: aws.Int32(1), Items: []string{"Host"}},
		},
		MinTTL: aws.Int64(0), DefaultTTL: aws.Int64(600), MaxTTL: aws.Int64(600),
	}}}
	d := h.createDistribution(cfg)
	h.waitServed()

	for _, tc := range []struct {
		path, cookie, wantBody, wantCache string
	}{
		// CachingOptimized: no query, cookie or viewer header in the key.
		{"/a?x=1", "s=1", "q= c= host=fwd.origin.test", "Miss from stagefront"},
		{"/a?x=2", "s=2", "q= c= host=fwd.origin.test", "Hit from stagefront"},
		// Legacy: v, theme and Host are in the key; junk and session are not.
		{"/legacy/p?v=1&junk=2", "theme=dark; session=abc", "q=v=1 c=theme=dark host=" + d.domain, "Miss from stagefront"},
		{"/legacy/p?junk=3&v=1", "session=zzz; theme=dark", "q=v=1 c=theme=dark host=" + d.domain, "Hit from stagefront"},
		{"/legacy/p?v=2", "theme=dark", "q=v=2 c=theme=dark host=" + d.domain, "Miss from stagefront"},
		{"/legacy/p?v=1", "theme=light", "q=v=1 c=theme=light host=" + d.domain, "Miss from stagefront"},
	} {
		r := h.get(d.domain, tc.path, http.Header{"Cookie": {tc.cookie}})
		if r.status != http.StatusOK || r.body != tc.wantBody || r.header.Get("X-Cache") != tc.wantCache {
			t.Errorf("GET %s (Cookie %q): %d %q %q; want %q %q", tc.path, tc.cookie, r.status, r.body, r.header.Get("X-Cache"), tc.wantBody, tc.wantCache)
		}
	}
	for _, req := range o.recorded() {
		if c := req.header.Get("Cookie"); strings.Contains(c, "session") || strings.Contains(c, "s=") {
			t.Errorf("origin got a cookie the key does not hold: %q", c)
		}
	}
}

// TestLegacyAllHeadersFillTakesWholeObject: a legacy behavior that forwards
// every header still fills the cache with the whole object: the viewer's
// Range and validators stay off the fetch, so no viewer's part or 304 is
// stored for the others.
func TestLegacyAllHeadersFillTakesWholeObject(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	o := h.newTestOrigin("all.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"e"`)
		http.ServeContent(w, r, "obj", time.Time{}, strings.NewReader("0123456789"))
	})
	cfg := customOriginConfig("all", o.host, "", cachingOptimized)
	cfg.DefaultCacheBehavior.CachePolicyId = nil
	cfg.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{
		QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone},
		Headers: &types.Headers{Quantity: aws.Int32(1), Items: []string{"*"}},
	}
	cfg.DefaultCacheBehavior.MinTTL, cfg.DefaultCacheBehavior.DefaultTTL, cfg.DefaultCacheBehavior.MaxTTL = aws.Int64(0), aws.Int64(600), aws.Int64(600)
	d := h.createDistribution(cfg)
	h.waitServed()

	if r := h.get(d.domain, "/obj", http.Header{"Range": {"bytes=2-3"}, "If-None-Match": {`"e"`}}); r.status != http.StatusNotModified && (r.status != http.StatusPartialContent || r.body != "23") {
		t.Fatalf("GET with Range and If-None-Match: %d %q", r.status, r.body)
	}
	if r := h.get(d.domain, "/obj", nil); r.status != http.StatusOK || r.body != "0123456789" {
		t.Errorf("plain GET after: %d %q (X-Cache %s); want the whole object", r.status, r.body, r.header.Get("X-Cache"))
	}
	for _, req := range o.recorded() {
		if req.header.Get("Range") != "" || req.header.Get("If-None-Match") != "" {
			t.Errorf("the fill sent the viewer's Range %q / If-None-Match %q", req.header.Get("Range"), req.header.Get("If-None-Match"))
		}
	}
}
