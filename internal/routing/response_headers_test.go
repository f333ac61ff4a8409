package routing

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// Managed response headers policies (AWS's real ids).
const (
	rhpCORSAndSecurity          = "e61eb60c-9c35-4d20-a928-2b84e02af89c"
	rhpCORSWithPreflight        = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
	rhpCORSPreflightAndSecurity = "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
	rhpSecurityHeaders          = "67f7725c-6f97-4210-82d7-5512b31e9d03"
	rhpSimpleCORS               = "60669652-455b-4ae9-85a4-c4c02393f86c"
)

func withResponseHeadersPolicy(id string) distOpt {
	return func(c *cloudfront.DistributionConfig) {
		c.DefaultCacheBehavior.ResponseHeadersPolicyId = cloudfront.String(id)
	}
}

// TestCompileResponseHeaders: a behavior with a managed response headers
// policy compiles to the policy's headers; one without has none, so the
// edge keeps its fast path.
func TestCompileResponseHeaders(t *testing.T) {
	nosniff := ResponseHeader{Name: "X-Content-Type-Options", Value: []string{"nosniff"}, Override: true}
	anyOrigin := &CORS{AnyOrigin: true}
	tests := []struct {
		name, rhp string
		want      *ResponseHeaders
	}{
		{"no policy", "", nil},
		{"SecurityHeadersPolicy", rhpSecurityHeaders, &ResponseHeaders{Set: []ResponseHeader{nosniff}}},
		{"SimpleCORS", rhpSimpleCORS, &ResponseHeaders{CORS: anyOrigin}},
		{"CORS-With-Preflight", rhpCORSWithPreflight, &ResponseHeaders{CORS: anyOrigin}},
		{"CORS-and-SecurityHeadersPolicy", rhpCORSAndSecurity, &ResponseHeaders{Set: []ResponseHeader{nosniff}, CORS: anyOrigin}},
		{"CORS-with-preflight-and-SecurityHeadersPolicy", rhpCORSPreflightAndSecurity, &ResponseHeaders{Set: []ResponseHeader{nosniff}, CORS: anyOrigin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := primaryOf(t, Snapshot{Revision: 1, Distributions: []DistributionRecord{
				distRec(primaryID, primaryDomain, 1, withResponseHeadersPolicy(tt.rhp)),
			}})
			if got := d.Default.ResponseHeaders; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ResponseHeaders = %+v\nwant %+v", got, tt.want)
			}
			if d.Default.ResponseHeadersPolicyID != tt.rhp {
				t.Errorf("ResponseHeadersPolicyID = %q, want %q", d.Default.ResponseHeadersPolicyID, tt.rhp)
			}
		})
	}

	// A legacy (ForwardedValues) behavior takes a response headers policy.
	legacy := func(c *cloudfront.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = nil
		c.DefaultCacheBehavior.ForwardedValues = &cloudfront.ForwardedValues{QueryString: cloudfront.Bool(true)}
		c.DefaultCacheBehavior.ResponseHeadersPolicyId = cloudfront.String(rhpSimpleCORS)
	}
	d := primaryOf(t, Snapshot{Revision: 1, Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1, legacy)}})
	if d.Default.ResponseHeaders == nil || d.Default.ResponseHeaders.CORS == nil {
		t.Errorf("legacy behavior: ResponseHeaders = %+v, want SimpleCORS's", d.Default.ResponseHeaders)
	}
}

// TestCompileResponseHeadersErrors: an id that names no managed response
// headers policy fails the compile, and a response headers policy's id is
// no cache policy's.
func TestCompileResponseHeadersErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  distOpt
		want error
	}{
		{"unknown policy", withResponseHeadersPolicy("00000000-0000-0000-0000-000000000000"), ErrUnknownResponseHeadersPolicy},
		{"cache policy as response headers policy", withResponseHeadersPolicy(cachingOptimized), ErrUnknownResponseHeadersPolicy},
		{"origin request policy as response headers policy", withResponseHeadersPolicy(orpAllViewer), ErrUnknownResponseHeadersPolicy},
		{"response headers policy as cache policy", withPolicies(rhpSimpleCORS, ""), ErrUnknownCachePolicy},
		{"response headers policy as origin request policy", withPolicies(cachingOptimized, rhpSimpleCORS), ErrUnknownOriginRequestPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Compile(nil, Snapshot{Revision: 1, Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1, tt.opt)}})
			if len(errs) != 1 || !errors.Is(errs[0], tt.want) {
				t.Fatalf("errs = %v, want one wrapping %v", errs, tt.want)
			}
		})
	}
}

// TestCompileResponseHeadersPolicy compiles a config with every setting
// the edge applies (as a custom policy would have them).
func TestCompileResponseHeadersPolicy(t *testing.T) {
	b := cloudfront.Bool
	c := &cloudfront.ResponseHeadersPolicyConfig{
		Name: cloudfront.String("all"),
		CorsConfig: &cloudfront.ResponseHeadersPolicyCorsConfig{
			AccessControlAllowOrigins:     &cloudfront.ResponseHeadersPolicyAccessControlAllowOrigins{Quantity: cloudfront.Int32(1), Items: []string{"https://App.example"}},
			AccessControlAllowHeaders:     &cloudfront.ResponseHeadersPolicyAccessControlAllowHeaders{Quantity: cloudfront.Int32(2), Items: []string{"X-A", "X-B"}},
			AccessControlAllowMethods:     &cloudfront.ResponseHeadersPolicyAccessControlAllowMethods{Quantity: cloudfront.Int32(1), Items: []string{"ALL"}},
			AccessControlAllowCredentials: b(true),
			AccessControlExposeHeaders:    &cloudfront.ResponseHeadersPolicyAccessControlExposeHeaders{Quantity: cloudfront.Int32(1), Items: []string{"ETag"}},
			AccessControlMaxAgeSec:        cloudfront.Int32(600),
			OriginOverride:                b(true),
		},
		SecurityHeadersConfig: &cloudfront.ResponseHeadersPolicySecurityHeadersConfig{
			StrictTransportSecurity: &cloudfront.ResponseHeadersPolicyStrictTransportSecurity{Override: b(false), AccessControlMaxAgeSec: cloudfront.Int32(63072000), IncludeSubdomains: b(true), Preload: b(true)},
			FrameOptions:            &cloudfront.ResponseHeadersPolicyFrameOptions{Override: b(true), FrameOption: cloudfront.String("DENY")},
			XSSProtection:           &cloudfront.ResponseHeadersPolicyXSSProtection{Override: b(false), Protection: b(true), ModeBlock: b(true)},
			ReferrerPolicy:          &cloudfront.ResponseHeadersPolicyReferrerPolicy{Override: b(false), ReferrerPolicy: cloudfront.String("no-referrer")},
			ContentSecurityPolicy:   &cloudfront.ResponseHeadersPolicyContentSecurityPolicy{Override: b(true), ContentSecurityPolicy: cloudfront.String("default-src 'self'")},
		},
		CustomHeadersConfig: &cloudfront.ResponseHeadersPolicyCustomHeadersConfig{Quantity: cloudfront.Int32(1), Items: []cloudfront.ResponseHeadersPolicyCustomHeader{
			{Header: cloudfront.String("x-served-by"), Value: cloudfront.String("edge"), Override: b(false)},
		}},
		RemoveHeadersConfig: &cloudfront.ResponseHeadersPolicyRemoveHeadersConfig{Quantity: cloudfront.Int32(1), Items: []cloudfront.ResponseHeadersPolicyRemoveHeader{
			{Header: cloudfront.String("x-powered-by")},
		}},
	}
	want := &ResponseHeaders{
		Set: []ResponseHeader{
			{Name: "Strict-Transport-Security", Value: []string{"max-age=63072000; includeSubDomains; preload"}},
			{Name: "X-Frame-Options", Value: []string{"DENY"}, Override: true},
			{Name: "X-Xss-Protection", Value: []string{"1; mode=block"}},
			{Name: "Referrer-Policy", Value: []string{"no-referrer"}},
			{Name: "Content-Security-Policy", Value: []string{"default-src 'self'"}, Override: true},
			{Name: "X-Served-By", Value: []string{"edge"}},
		},
		Remove: []string{"X-Powered-By"},
		CORS: &CORS{
			Origins: []string{"https://app.example"}, AllowCredentials: []string{"true"},
			AllowHeaders: []string{"X-A, X-B"}, AllowMethods: []string{allMethods}, MaxAge: []string{"600"},
			ExposeHeaders: []string{"ETag"}, OriginOverride: true,
		},
	}
	if got := CompileResponseHeadersPolicy(c); !reflect.DeepEqual(got, want) {
		t.Errorf("CompileResponseHeadersPolicy = %+v\nwant %+v", got, want)
	}
	for origin, allowed := range map[string]bool{"https://app.example": true, "HTTPS://APP.EXAMPLE": true, "https://evil.example": false, "": false} {
		if got := want.CORS.AllowsOrigin(origin); got != allowed {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, allowed)
		}
	}
}
