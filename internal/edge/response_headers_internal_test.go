package edge

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/routing"
)

// TestApplyResponseHeaders applies a policy with every kind of setting (as
// a custom policy has them; the managed ones use few) to an origin's
// header: a setting that overrides replaces the origin's value, one that
// does not keeps it, and CORS headers go only to an allowed Origin.
func TestApplyResponseHeaders(t *testing.T) {
	b := cloudfront.Bool
	policy := func(override bool) *routing.ResponseHeaders {
		return routing.CompileResponseHeadersPolicy(&cloudfront.ResponseHeadersPolicyConfig{
			Name: cloudfront.String("test"),
			SecurityHeadersConfig: &cloudfront.ResponseHeadersPolicySecurityHeadersConfig{
				FrameOptions:            &cloudfront.ResponseHeadersPolicyFrameOptions{Override: b(override), FrameOption: cloudfront.String("DENY")},
				StrictTransportSecurity: &cloudfront.ResponseHeadersPolicyStrictTransportSecurity{Override: b(override), AccessControlMaxAgeSec: cloudfront.Int32(31536000)},
				XSSProtection:           &cloudfront.ResponseHeadersPolicyXSSProtection{Override: b(override), Protection: b(true), ModeBlock: b(true)},
				ReferrerPolicy:          &cloudfront.ResponseHeadersPolicyReferrerPolicy{Override: b(override), ReferrerPolicy: cloudfront.String("same-origin")},
				ContentSecurityPolicy:   &cloudfront.ResponseHeadersPolicyContentSecurityPolicy{Override: b(override), ContentSecurityPolicy: cloudfront.String("default-src 'self'")},
			},
			CustomHeadersConfig: &cloudfront.ResponseHeadersPolicyCustomHeadersConfig{Quantity: cloudfront.Int32(1), Items: []cloudfront.ResponseHeadersPolicyCustomHeader{
				{Header: cloudfront.String("X-Custom"), Value: cloudfront.String("policy"), Override: b(override)},
			}},
			RemoveHeadersConfig: &cloudfront.ResponseHeadersPolicyRemoveHeadersConfig{Quantity: cloudfront.Int32(1), Items: []cloudfront.ResponseHeadersPolicyRemoveHeader{
				{Header: cloudfront.String("x-powered-by")},
			}},
			CorsConfig: &cloudfront.ResponseHeadersPolicyCorsConfig{
				AccessControlAllowOrigins:     &cloudfront.ResponseHeadersPolicyAccessControlAllowOrigins{Quantity: cloudfront.Int32(1), Items: []string{"https://app.example"}},
				AccessControlAllowMethods:     &cloudfront.ResponseHeadersPolicyAccessControlAllowMethods{Quantity: cloudfront.Int32(2), Items: []string{"GET", "PUT"}},
				AccessControlAllowHeaders:     &cloudfront.ResponseHeadersPolicyAccessControlAllowHeaders{Quantity: cloudfront.Int32(1), Items: []string{"X-Api-Key"}},
				AccessControlExposeHeaders:    &cloudfront.ResponseHeadersPolicyAccessControlExposeHeaders{Quantity: cloudfront.Int32(1), Items: []string{"ETag"}},
				AccessControlMaxAgeSec:        cloudfront.Int32(600),
				AccessControlAllowCredentials: b(true),
				OriginOverride:                b(override),
			},
		})
	}
	// The origin's header as a cached entry holds it: its slices must not
	// change, whatever the policy does to the response's header.
	origin := http.Header{
		"X-Frame-Options":             {"SAMEORIGIN"},
		"X-Custom":                    {"origin"},
		"X-Powered-By":                {"php"},
		"Access-Control-Allow-Origin": {"https://origin.example"},
	}
	originValues := origin.Clone()
	request := func(method string, header http.Header) viewer {
		r := httptest.NewRequest(method, "http://d.test/x", nil)
		r.Header = header
		return &netViewer{r: r}
	}
	apply := func(p *routing.ResponseHeaders, v viewer) http.Header {
		h := http.Header{}
		copyOriginHeader(h, origin)
		applyResponseHeaders(h, v, p)
		return h
	}
	check := func(name string, h http.Header, want map[string]string) {
		t.Helper()
		for k, w := range want {
			if got := h.Values(k); (w == "" && len(got) != 0) || (w != "" && !slices.Equal(got, []string{w})) {
				t.Errorf("%s: %s = %q, want %q", name, k, got, w)
			}
		}
	}

	simple := request(http.MethodGet, http.Header{"Origin": {"https://app.example"}})
	check("override", apply(policy(true), simple), map[string]string{
		"X-Frame-Options": "DENY", "X-Custom": "policy", "X-Powered-By": "",
		"Strict-Transport-Security": "max-age=31536000", "X-Xss-Protection": "1; mode=block",
		"Referrer-Policy": "same-origin", "Content-Security-Policy": "default-src 'self'",
		"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers": "ETag", "Access-Control-Allow-Methods": "",
	})
	check("no override", apply(policy(false), simple), map[string]string{
		"X-Frame-Options": "SAMEORIGIN", "X-Custom": "origin", "X-Powered-By": "",
		"Strict-Transport-Security": "max-age=31536000", "Referrer-Policy": "same-origin",
		"Access-Control-Allow-Origin": "https://origin.example", "Access-Control-Allow-Credentials": "true",
	})
	preflight := request(http.MethodOptions, http.Header{"Origin": {"https://APP.example"}, "Access-Control-Request-Method": {"PUT"}})
	check("preflight", apply(policy(true), preflight), map[string]string{
		"Access-Control-Allow-Origin": "https://APP.example", "Access-Control-Allow-Methods": "GET, PUT",
		"Access-Control-Allow-Headers": "X-Api-Key", "Access-Control-Max-Age": "600", "Access-Control-Expose-Headers": "",
	})
	for name, v := range map[string]viewer{
		"no Origin":    request(http.MethodGet, http.Header{}),
		"other Origin": request(http.MethodGet, http.Header{"Origin": {"https://evil.example"}}),
	} {
		check(name, apply(policy(true), v), map[string]string{
			"Access-Control-Allow-Origin": "https://origin.example", "Access-Control-Allow-Credentials": "",
			"Access-Control-Expose-Headers": "", "X-Frame-Options": "DENY",
		})
	}
	for k, v := range originValues {
		if !slices.Equal(origin[k], v) {
			t.Errorf("the origin's (cached) %s changed to %q", k, origin[k])
		}
	}
}
