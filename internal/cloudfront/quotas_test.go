package cloudfront_test

import (
	"fmt"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestQuotasEnforced: each per-distribution quota holds at its value and
// is refused one past it with CloudFront's code; a raised quota lets the
// same config through.
func TestQuotasEnforced(t *testing.T) {
	t.Parallel()
	q := cf.DefaultQuotas()
	behaviors := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			base := c.CacheBehaviors.Items[0]
			c.CacheBehaviors.Items = nil
			for i := range n {
				b := base
				b.PathPattern = cf.String(fmt.Sprintf("/p%d/*", i))
				c.CacheBehaviors.Items = append(c.CacheBehaviors.Items, b)
			}
			c.CacheBehaviors.Quantity = cf.Int32(int32(n))
		}
	}
	origins := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			base := c.Origins.Items[0]
			for i := 1; i < n; i++ {
				o := base
				o.Id = cf.String(fmt.Sprintf("o%d", i))
				c.Origins.Items = append(c.Origins.Items, o)
			}
			c.Origins.Quantity = cf.Int32(int32(n))
		}
	}
	groups := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			origins(2)(c)
			c.OriginGroups = &cf.OriginGroups{Quantity: cf.Int32(int32(n))}
			for i := range n {
				c.OriginGroups.Items = append(c.OriginGroups.Items, cf.OriginGroup{
					Id:               cf.String(fmt.Sprintf("g%d", i)),
					FailoverCriteria: &cf.OriginGroupFailoverCriteria{StatusCodes: &cf.StatusCodes{Quantity: cf.Int32(1), Items: []int32{502}}},
					Members:          &cf.OriginGroupMembers{Quantity: cf.Int32(2), Items: []cf.OriginGroupMember{{OriginId: cf.String("web")}, {OriginId: cf.String("o1")}}},
				})
			}
		}
	}
	aliases := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			c.Aliases = &cf.Aliases{Quantity: cf.Int32(int32(n))}
			for i := range n {
				c.Aliases.Items = append(c.Aliases.Items, fmt.Sprintf("a%d.example.com", i))
			}
		}
	}
	headers := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			h := &cf.CustomHeaders{Quantity: cf.Int32(int32(n))}
			for i := range n {
				h.Items = append(h.Items, cf.OriginCustomHeader{HeaderName: cf.String(fmt.Sprintf("X-H%d", i)), HeaderValue: cf.String("v")})
			}
			c.Origins.Items[0].CustomHeaders = h
		}
	}
	headerBytes := func(n int) func(c *cf.DistributionConfig) {
		return func(c *cf.DistributionConfig) {
			// Eight headers of "X-Hi" and a value filling n bytes in all.
			h := &cf.CustomHeaders{Quantity: cf.Int32(8)}
			for i := range 8 {
				size := n / 8
				if i == 7 {
					size = n - 7*(n/8)
				}
				h.Items = append(h.Items, cf.OriginCustomHeader{HeaderName: cf.String(fmt.Sprintf("X-H%d", i)), HeaderValue: cf.String(strings.Repeat("v", size-4))})
			}
			c.Origins.Items[0].CustomHeaders = h
		}
	}
	legacy := func(cookies, headers, queryKeys int) func(c *cf.DistributionConfig) {
		list := func(n int, prefix string) []string {
			var out []string
			for i := range n {
				out = append(out, fmt.Sprintf("%s%d", prefix, i))
			}
			return out
		}
		return func(c *cf.DistributionConfig) {
			b := c.DefaultCacheBehavior
			b.CachePolicyId = cf.String("")
			b.ForwardedValues = &cf.ForwardedValues{QueryString: cf.Bool(true),
				Cookies:              &cf.CookiePreference{Forward: cf.String("whitelist"), WhitelistedNames: &cf.CookieNames{Quantity: cf.Int32(int32(cookies)), Items: list(cookies, "c")}},
				Headers:              &cf.Headers{Quantity: cf.Int32(int32(headers)), Items: list(headers, "X-F")},
				QueryStringCacheKeys: &cf.QueryStringCacheKeys{Quantity: cf.Int32(int32(queryKeys)), Items: list(queryKeys, "q")}}
			b.MinTTL, b.DefaultTTL, b.MaxTTL = cf.Int64(0), cf.Int64(0), cf.Int64(0)
		}
	}
	for _, tc := range []struct {
		name  string
		at    func(c *cf.DistributionConfig)
		past  func(c *cf.DistributionConfig)
		code  string
		raise func(q *cf.Quotas)
	}{
		{"cache behaviors", behaviors(q.CacheBehaviorsPerDistribution), behaviors(q.CacheBehaviorsPerDistribution + 1), "TooManyCacheBehaviors", func(q *cf.Quotas) { q.CacheBehaviorsPerDistribution++ }},
		{"origins", origins(q.OriginsPerDistribution), origins(q.OriginsPerDistribution + 1), "TooManyOrigins", func(q *cf.Quotas) { q.OriginsPerDistribution++ }},
		{"origin groups", groups(q.OriginGroupsPerDistribution), groups(q.OriginGroupsPerDistribution + 1), "TooManyOriginGroupsPerDistribution", func(q *cf.Quotas) { q.OriginGroupsPerDistribution++ }},
		{"aliases", aliases(q.AliasesPerDistribution), aliases(q.AliasesPerDistribution + 1), "TooManyDistributionCNAMEs", func(q *cf.Quotas) { q.AliasesPerDistribution++ }},
		{"custom headers", headers(q.CustomHeadersPerOrigin), headers(q.CustomHeadersPerOrigin + 1), "TooManyOriginCustomHeaders", func(q *cf.Quotas) { q.CustomHeadersPerOrigin++ }},
		{"custom header bytes", headerBytes(q.CustomHeadersBytesPerOrigin), headerBytes(q.CustomHeadersBytesPerOrigin + 1), "InvalidArgument", func(q *cf.Quotas) { q.CustomHeadersBytesPerOrigin++ }},
		{"whitelisted cookies", legacy(q.WhitelistedCookiesPerBehavior, 1, 1), legacy(q.WhitelistedCookiesPerBehavior+1, 1, 1), "TooManyCookieNamesInWhiteList", func(q *cf.Quotas) { q.WhitelistedCookiesPerBehavior++ }},
		{"forwarded headers", legacy(1, q.ForwardedHeadersPerBehavior, 1), legacy(1, q.ForwardedHeadersPerBehavior+1, 1), "TooManyHeadersInForwardedValues", func(q *cf.Quotas) { q.ForwardedHeadersPerBehavior++ }},
		{"query string keys", legacy(1, 1, q.QueryStringKeysPerBehavior), legacy(1, 1, q.QueryStringKeysPerBehavior+1), "TooManyQueryStringParameters", func(q *cf.Quotas) { q.QueryStringKeysPerBehavior++ }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at, past := validConfig(), validConfig()
			tc.at(at)
			tc.past(past)
			if err := cf.ValidateDistributionConfig(at, cf.Lookups{}); err != nil {
				t.Fatalf("at the quota: %v", err)
			}
			err := cf.ValidateDistributionConfig(past, cf.Lookups{})
			wantCode(t, err, tc.code, 400)
			raised := cf.DefaultQuotas()
			tc.raise(&raised)
			if err := cf.ValidateDistributionConfig(past, cf.Lookups{Quotas: &raised}); err != nil {
				t.Errorf("with the quota raised: %v", err)
			}
		})
	}
}

// TestCustomErrorResponsesOnePerCode: a code has one custom error
// response, so there are never more than CloudFront's error codes.
func TestCustomErrorResponsesOnePerCode(t *testing.T) {
	t.Parallel()
	c := validConfig()
	r := cf.CustomErrorResponse{ErrorCode: cf.Int32(404), ResponsePagePath: cf.String("/404.html"), ResponseCode: cf.String("404")}
	c.CustomErrorResponses = &cf.CustomErrorResponses{Quantity: cf.Int32(2), Items: []cf.CustomErrorResponse{r, r}}
	wantCode(t, cf.ValidateDistributionConfig(c, cf.Lookups{}), "InvalidArgument", 400, "404")
}

// TestLengthLimits: no string the API keys records by may reach a length
// the store refuses; a CallerReference of 32,800 characters is a 400.
func TestLengthLimits(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.CallerReference = cf.String(strings.Repeat("r", 32800))
	wantCode(t, cf.ValidateDistributionConfig(c, cf.Lookups{}), "InvalidArgument", 400, "CallerReference")
	batch := &cf.InvalidationBatch{CallerReference: cf.String(strings.Repeat("r", 32800)), Paths: &cf.Paths{Quantity: cf.Int32(1), Items: []string{"/a"}}}
	wantCode(t, cf.CheckShape("InvalidationBatch", batch), "InvalidArgument", 400, "CallerReference")
	c = validConfig()
	c.CallerReference = cf.String(strings.Repeat("r", cf.MaxCallerReferenceLen))
	if err := cf.ValidateDistributionConfig(c, cf.Lookups{}); err != nil {
		t.Errorf("a CallerReference of %d characters: %v", cf.MaxCallerReferenceLen, err)
	}
	c = validConfig()
	c.CacheBehaviors.Items[0].PathPattern = cf.String("/" + strings.Repeat("p", 255))
	wantCode(t, cf.ValidateDistributionConfig(c, cf.Lookups{}), "InvalidArgument", 400, "PathPattern")
	c = validConfig()
	c.Origins.Items[0].OriginPath = cf.String("/" + strings.Repeat("p", 255))
	wantCode(t, cf.ValidateDistributionConfig(c, cf.Lookups{}), "InvalidArgument", 400, "OriginPath")
}

func TestParseQuotas(t *testing.T) {
	t.Parallel()
	q, err := cf.ParseQuotas([]string{"cache-behaviors=100", "origins = 50"})
	if err != nil || q.CacheBehaviorsPerDistribution != 100 || q.OriginsPerDistribution != 50 || q.AliasesPerDistribution != 100 {
		t.Errorf("ParseQuotas = %+v, %v", q, err)
	}
	for _, bad := range []string{"cache-behaviors", "nope=1", "origins=0", "origins=x"} {
		if _, err := cf.ParseQuotas([]string{bad}); err == nil {
			t.Errorf("ParseQuotas(%q) accepted", bad)
		}
	}
}
