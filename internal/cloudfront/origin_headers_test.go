package cloudfront_test

import (
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

func withHeaders(headers ...cf.OriginCustomHeader) *cf.DistributionConfig {
	c := validConfig()
	c.Origins.Items[0].CustomHeaders = &cf.CustomHeaders{Quantity: cf.Int32(int32(len(headers))), Items: headers}
	return c
}

func header(name, value string) cf.OriginCustomHeader {
	return cf.OriginCustomHeader{HeaderName: cf.String(name), HeaderValue: cf.String(value)}
}

// TestOriginCustomHeadersRefused: the headers CloudFront will not add to an
// origin request (framing, hop-by-hop, conditional and its own) and any
// name or value that could split a header line are InvalidArgument.
func TestOriginCustomHeadersRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Cache-Control", "Connection", "Content-Length", "cookie", "HOST", "If-Match",
		"If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Pragma",
		"Proxy-Authorization", "Proxy-Connection", "Range", "Request-Range", "TE", "Trailer", "Transfer-Encoding",
		"Upgrade", "Via", "X-Amz-Date", "x-amz-security-token", "X-Edge-Location", "X-Real-Ip"} {
		err := cf.ValidateDistributionConfig(withHeaders(header(name, "1")), cf.Lookups{})
		wantCode(t, err, "InvalidArgument", 400, "The parameter HeaderName : "+name+" is not allowed.")
	}
	for _, tc := range []struct{ name, value, mention string }{
		{"X-Tenant", "a\r\nX-Injected: 1", "HeaderValue"},
		{"X-Tenant", "a\nb", "HeaderValue"},
		{"X-Tenant", "a\x00b", "HeaderValue"},
		{"X-Ten\r\nant", "a", "HeaderName"},
		{"X Tenant", "a", "HeaderName"},
		{"X-Tenant:", "a", "HeaderName"},
		{"", "a", "HeaderName"},
		{strings.Repeat("h", 257), "a", "HeaderName"},
		{"X-Tenant", strings.Repeat("v", 1784), "HeaderValue"},
	} {
		err := cf.ValidateDistributionConfig(withHeaders(header(tc.name, tc.value)), cf.Lookups{})
		wantCode(t, err, "InvalidArgument", 400, tc.mention)
	}
	// The same name twice would reach the origin as two values.
	err := cf.ValidateDistributionConfig(withHeaders(header("X-Tenant", "a"), header("x-tenant", "b")), cf.Lookups{})
	wantCode(t, err, "InvalidArgument", 400, "used twice")
}

// TestOriginCustomHeadersAccepted: ordinary custom headers, including a
// secret shared with the origin and a tab inside a value, stay accepted.
func TestOriginCustomHeadersAccepted(t *testing.T) {
	t.Parallel()
	c := withHeaders(header("X-Tenant", "a"), header("X-Origin-Secret", "s3cr3t\tv=1; x=\"q\""), header("Origin", "https://example.com"),
		header("X-Amzn-Trace-Id-Copy", "ok"), header("Authorization-Hint", strings.Repeat("v", 1783)))
	if err := cf.ValidateDistributionConfig(c, cf.Lookups{}); err != nil {
		t.Fatalf("valid custom headers refused: %v", err)
	}
}
