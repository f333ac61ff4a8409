package cloudfront_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// FuzzValidateDistributionConfig feeds arbitrary values to the members an
// API caller controls most freely and checks that validation never panics,
// answers only with a 4xx CloudFront error, gives the same answer twice,
// and that what it accepts holds no value the edge or the store could not
// take safely: no header line breaks, no refused origin header, no URL in
// an origin's DomainName, no oversized CallerReference.
func FuzzValidateDistributionConfig(f *testing.F) {
	f.Add("ref", "origin.example.com", false, "X-Tenant", "a", "/api/*", "/v1", "www.example.com", "", uint8(1), uint8(1))
	f.Add("ref", "bucket.s3.us-east-1.amazonaws.com", true, "X-Origin-Secret", "s", "/img/*", "", "", "logs.s3.amazonaws.com", uint8(2), uint8(3))
	f.Add("ref", "https://origin.example.com:8443/x", false, "Transfer-Encoding", "chunked", "*", "/", "*.example.com", "logs", uint8(30), uint8(0))
	f.Add(strings.Repeat("r", 1100), "127.0.0.1", false, "X-A\r\nX-B", "v\r\n", "/a", "/v1/", "-bad-.example", "", uint8(0), uint8(26))
	f.Add("ref", "[::1]", true, "x-amz-date", "\x00", "", "v1", "a..b", "x.s3.amazonaws.com", uint8(11), uint8(25))

	f.Fuzz(func(t *testing.T, ref, domain string, s3 bool, headerName, headerValue, pathPattern, originPath, alias, loggingBucket string, headers, behaviors uint8) {
		build := func() *cf.DistributionConfig { // one config per input
			c := validConfig()
			c.CallerReference = cf.String(ref)
			o := &c.Origins.Items[0]
			o.DomainName = cf.String(domain)
			o.OriginPath = cf.String(originPath)
			if s3 {
				o.CustomOriginConfig = nil
				o.S3OriginConfig = &cf.S3OriginConfig{OriginAccessIdentity: cf.String("")}
			}
			h := &cf.CustomHeaders{Quantity: cf.Int32(int32(headers % 16))}
			for i := range int(headers % 16) {
				name := headerName
				if i > 0 {
					name = headerName + string(rune('A'+i))
				}
				h.Items = append(h.Items, cf.OriginCustomHeader{HeaderName: cf.String(name), HeaderValue: cf.String(headerValue)})
			}
			o.CustomHeaders = h
			n := int(behaviors % 32)
			base := c.CacheBehaviors.Items[0]
			c.CacheBehaviors.Items = make([]cf.CacheBehavior, 0, n)
			for i := range n {
				b := base
				b.PathPattern = cf.String(pathPattern + strings.Repeat("x", i))
				c.CacheBehaviors.Items = append(c.CacheBehaviors.Items, b)
			}
			c.CacheBehaviors.Quantity = cf.Int32(int32(n))
			if alias != "" {
				c.Aliases = &cf.Aliases{Quantity: cf.Int32(1), Items: []string{alias}}
			}
			if loggingBucket != "" {
				c.Logging = &cf.LoggingConfig{Enabled: cf.Bool(true), IncludeCookies: cf.Bool(false), Bucket: cf.String(loggingBucket), Prefix: cf.String("")}
			}
			return c
		}
		c := build()
		err := cf.ValidateDistributionConfig(c, cf.Lookups{})
		if again := cf.ValidateDistributionConfig(c, cf.Lookups{}); (err == nil) != (again == nil) || (err != nil && err.Error() != again.Error()) {
			t.Fatalf("two answers for one config: %v, then %v", err, again)
		}
		if err != nil {
			var e *cf.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Code == "" || e.Message == "" {
				t.Fatalf("not a 4xx CloudFront error: %#v", err)
			}
			return
		}
		if len(ref) > cf.MaxCallerReferenceLen {
			t.Errorf("accepted a CallerReference of %d bytes", len(ref))
		}
		if strings.ContainsAny(domain, "/?#@ ") || (strings.Contains(domain, ":") && !isIPv6(domain)) {
			t.Errorf("accepted the origin DomainName %q", domain)
		}
		for _, h := range c.Origins.Items[0].CustomHeaders.Items {
			name, value := cf.Str(h.HeaderName), cf.Str(h.HeaderValue)
			if strings.ContainsAny(name+value, "\r\n\x00") || strings.ContainsAny(name, " :") {
				t.Errorf("accepted the header %q: %q", name, value)
			}
			lower := strings.ToLower(name)
			if lower == "host" || lower == "content-length" || lower == "transfer-encoding" || lower == "connection" || strings.HasPrefix(lower, "x-amz-") {
				t.Errorf("accepted the refused header %q", name)
			}
		}
		if n := len(c.CacheBehaviors.Items); n > cf.DefaultQuotas().CacheBehaviorsPerDistribution {
			t.Errorf("accepted %d cache behaviors", n)
		}
	})
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	return err == nil && a.Is6()
}
