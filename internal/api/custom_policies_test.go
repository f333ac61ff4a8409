package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

func cachePolicyConfig(name string) *types.CachePolicyConfig {
	return &types.CachePolicyConfig{
		Name: aws.String(name), Comment: aws.String("c"), MinTTL: aws.Int64(1),
		ParametersInCacheKeyAndForwardedToOrigin: &types.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: aws.Bool(true),
			HeadersConfig: &types.CachePolicyHeadersConfig{HeaderBehavior: types.CachePolicyHeaderBehaviorWhitelist,
				Headers: &types.Headers{Quantity: aws.Int32(1), Items: []string{"X-Variant"}}},
			CookiesConfig:      &types.CachePolicyCookiesConfig{CookieBehavior: types.CachePolicyCookieBehaviorNone},
			QueryStringsConfig: &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorAll},
		},
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// TestCustomCachePolicies drives every cache policy operation through the
// real SDK client, with CloudFront's errors.
func TestCustomCachePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created := testutil.MustGet(e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("site")}))(t)
	id := aws.ToString(created.CachePolicy.Id)
	c := created.CachePolicy.CachePolicyConfig
	if aws.ToInt64(c.DefaultTTL) != 86400 || aws.ToInt64(c.MaxTTL) != 31536000 {
		t.Errorf("defaults: DefaultTTL %d MaxTTL %d; want 86400 and 31536000", aws.ToInt64(c.DefaultTTL), aws.ToInt64(c.MaxTTL))
	}
	if !strings.HasSuffix(aws.ToString(created.Location), "/2020-05-31/cache-policy/"+id) || aws.ToString(created.ETag) == "" {
		t.Errorf("Location %q, ETag %q", aws.ToString(created.Location), aws.ToString(created.ETag))
	}
	got := testutil.MustGet(e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String(id)}))(t)
	if aws.ToString(got.ETag) != aws.ToString(created.ETag) || aws.ToString(got.CachePolicy.CachePolicyConfig.Name) != "site" {
		t.Errorf("GetCachePolicy = %+v", got)
	}
	gc := testutil.MustGet(e.cf.GetCachePolicyConfig(ctx, &cfsdk.GetCachePolicyConfigInput{Id: aws.String(id)}))(t)
	if h := gc.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items; !slices.Equal(h, []string{"X-Variant"}) {
		t.Errorf("GetCachePolicyConfig headers %v", h)
	}

	_, err := e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("site")})
	wantAPIError(t, err, "CachePolicyAlreadyExists", 409)

	bad := cachePolicyConfig("ttl")
	bad.MinTTL, bad.DefaultTTL, bad.MaxTTL = aws.Int64(100), aws.Int64(50), aws.Int64(200)
	_, err = e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: bad})
	wantAPIError(t, err, "InvalidArgument", 400)

	for _, tc := range []struct {
		code string
		set  func(p *types.ParametersInCacheKeyAndForwardedToOrigin)
	}{
		{"TooManyHeadersInCachePolicy", func(p *types.ParametersInCacheKeyAndForwardedToOrigin) {
			p.HeadersConfig.Headers = &types.Headers{Quantity: aws.Int32(11), Items: names("X-H", 11)}
		}},
		{"TooManyCookiesInCachePolicy", func(p *types.ParametersInCacheKeyAndForwardedToOrigin) {
			p.CookiesConfig = &types.CachePolicyCookiesConfig{CookieBehavior: types.CachePolicyCookieBehaviorWhitelist,
				Cookies: &types.CookieNames{Quantity: aws.Int32(11), Items: names("c", 11)}}
		}},
		{"TooManyQueryStringsInCachePolicy", func(p *types.ParametersInCacheKeyAndForwardedToOrigin) {
			p.QueryStringsConfig = &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorAllExcept,
				QueryStrings: &types.QueryStringNames{Quantity: aws.Int32(11), Items: names("q", 11)}}
		}},
		{"InconsistentQuantities", func(p *types.ParametersInCacheKeyAndForwardedToOrigin) {
			p.HeadersConfig.Headers = &types.Headers{Quantity: aws.Int32(2), Items: []string{"X-A"}}
		}},
		{"InvalidArgument", func(p *types.ParametersInCacheKeyAndForwardedToOrigin) { // whitelist without names
			p.HeadersConfig.Headers = nil
		}},
	} {
		cfg := cachePolicyConfig("limits")
		tc.set(cfg.ParametersInCacheKeyAndForwardedToOrigin)
		_, err := e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cfg})
		wantAPIError(t, err, tc.code, 400)
	}

	// Update: If-Match required and current; renaming onto another
	// policy's name is refused.
	other := testutil.MustGet(e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("other")}))(t)
	_, err = e.cf.UpdateCachePolicy(ctx, &cfsdk.UpdateCachePolicyInput{Id: aws.String(id), CachePolicyConfig: cachePolicyConfig("site")})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	_, err = e.cf.UpdateCachePolicy(ctx, &cfsdk.UpdateCachePolicyInput{Id: aws.String(id), IfMatch: aws.String("E000"), CachePolicyConfig: cachePolicyConfig("site")})
	wantAPIError(t, err, "PreconditionFailed", 412)
	_, err = e.cf.UpdateCachePolicy(ctx, &cfsdk.UpdateCachePolicyInput{Id: aws.String(id), IfMatch: created.ETag, CachePolicyConfig: cachePolicyConfig("other")})
	wantAPIError(t, err, "CachePolicyAlreadyExists", 409)
	renamed := cachePolicyConfig("site-2")
	renamed.MinTTL, renamed.DefaultTTL, renamed.MaxTTL = aws.Int64(5), aws.Int64(10), aws.Int64(20)
	upd := testutil.MustGet(e.cf.UpdateCachePolicy(ctx, &cfsdk.UpdateCachePolicyInput{Id: aws.String(id), IfMatch: created.ETag, CachePolicyConfig: renamed}))(t)
	if aws.ToString(upd.ETag) == aws.ToString(created.ETag) || aws.ToInt64(upd.CachePolicy.CachePolicyConfig.MaxTTL) != 20 {
		t.Errorf("UpdateCachePolicy: ETag %s (was %s), MaxTTL %d", aws.ToString(upd.ETag), aws.ToString(created.ETag), aws.ToInt64(upd.CachePolicy.CachePolicyConfig.MaxTTL))
	}
	// The old name is free again.
	testutil.MustGet(e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("site")}))(t)

	// Managed policies are read-only.
	_, err = e.cf.UpdateCachePolicy(ctx, &cfsdk.UpdateCachePolicyInput{Id: aws.String(cachingOptimized), IfMatch: aws.String("x"), CachePolicyConfig: cachePolicyConfig("m")})
	wantAPIError(t, err, "IllegalUpdate", 400)
	_, err = e.cf.DeleteCachePolicy(ctx, &cfsdk.DeleteCachePolicyInput{Id: aws.String(cachingOptimized), IfMatch: aws.String("x")})
	wantAPIError(t, err, "IllegalDelete", 400)
	_, err = e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)

	// Lists by type.
	custom := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{Type: types.CachePolicyTypeCustom}))(t)
	if q := aws.ToInt32(custom.CachePolicyList.Quantity); q != 3 {
		t.Errorf("ListCachePolicies(custom) Quantity = %d, want 3", q)
	}
	for _, it := range custom.CachePolicyList.Items {
		if it.Type != types.CachePolicyTypeCustom {
			t.Errorf("custom list holds a %s policy", it.Type)
		}
	}
	managed := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{Type: types.CachePolicyTypeManaged}))(t)
	all := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{}))(t)
	if m, a := aws.ToInt32(managed.CachePolicyList.Quantity), aws.ToInt32(all.CachePolicyList.Quantity); a != m+3 {
		t.Errorf("all = %d, managed = %d; want all = managed + 3", a, m)
	}

	// In use by a distribution: not deletable; ListDistributionsByCachePolicyId
	// follows updates and deletes.
	cfg := distConfig("by-cp")
	cfg.DefaultCacheBehavior.CachePolicyId = aws.String(id)
	d := e.createDistribution(cfg)
	byID := func(policy string) []string {
		t.Helper()
		out := testutil.MustGet(e.cf.ListDistributionsByCachePolicyId(ctx, &cfsdk.ListDistributionsByCachePolicyIdInput{CachePolicyId: aws.String(policy)}))(t)
		return out.DistributionIdList.Items
	}
	if got := byID(id); !slices.Equal(got, []string{aws.ToString(d.Distribution.Id)}) {
		t.Errorf("ListDistributionsByCachePolicyId = %v, want [%s]", got, aws.ToString(d.Distribution.Id))
	}
	cur := testutil.MustGet(e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String(id)}))(t)
	_, err = e.cf.DeleteCachePolicy(ctx, &cfsdk.DeleteCachePolicyInput{Id: aws.String(id), IfMatch: cur.ETag})
	wantAPIError(t, err, "CachePolicyInUse", 409)
	dc := e.getConfig(aws.ToString(d.Distribution.Id))
	dc.DistributionConfig.DefaultCacheBehavior.CachePolicyId = other.CachePolicy.Id
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: d.Distribution.Id, IfMatch: dc.ETag, DistributionConfig: dc.DistributionConfig}))(t)
	if got := byID(id); len(got) != 0 {
		t.Errorf("after the distribution moved to another policy, ListDistributionsByCachePolicyId = %v", got)
	}
	if got := byID(aws.ToString(other.CachePolicy.Id)); len(got) != 1 {
		t.Errorf("ListDistributionsByCachePolicyId(other) = %v, want the distribution", got)
	}
	_, err = e.cf.DeleteCachePolicy(ctx, &cfsdk.DeleteCachePolicyInput{Id: aws.String(id)})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	testutil.MustGet(e.cf.DeleteCachePolicy(ctx, &cfsdk.DeleteCachePolicyInput{Id: aws.String(id), IfMatch: cur.ETag}))(t)
	_, err = e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String(id)})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)
	_, err = e.cf.ListDistributionsByCachePolicyId(ctx, &cfsdk.ListDistributionsByCachePolicyIdInput{CachePolicyId: aws.String(id)})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)

	// A distribution cannot name a policy that does not exist.
	cfg = distConfig("missing-cp")
	cfg.DefaultCacheBehavior.CachePolicyId = aws.String(id)
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)
}

// TestCustomPolicyQuota: the 21st custom cache policy is refused.
func TestCustomPolicyQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := range 20 {
		testutil.MustGet(e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig(fmt.Sprintf("p%d", i))}))(t)
	}
	_, err := e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("p20")})
	wantAPIError(t, err, "TooManyCachePolicies", 400)
}

func orpConfig(name string) *types.OriginRequestPolicyConfig {
	return &types.OriginRequestPolicyConfig{
		Name: aws.String(name),
		HeadersConfig: &types.OriginRequestPolicyHeadersConfig{HeaderBehavior: types.OriginRequestPolicyHeaderBehaviorWhitelist,
			Headers: &types.Headers{Quantity: aws.Int32(1), Items: []string{"X-Tenant"}}},
		CookiesConfig:      &types.OriginRequestPolicyCookiesConfig{CookieBehavior: types.OriginRequestPolicyCookieBehaviorAll},
		QueryStringsConfig: &types.OriginRequestPolicyQueryStringsConfig{QueryStringBehavior: types.OriginRequestPolicyQueryStringBehaviorNone},
	}
}

func rhpConfig(name string) *types.ResponseHeadersPolicyConfig {
	return &types.ResponseHeadersPolicyConfig{
		Name: aws.String(name),
		CustomHeadersConfig: &types.ResponseHeadersPolicyCustomHeadersConfig{Quantity: aws.Int32(1), Items: []types.ResponseHeadersPolicyCustomHeader{
			{Header: aws.String("X-Served-By"), Value: aws.String("stagefront"), Override: aws.Bool(true)},
		}},
	}
}

// TestCustomOriginRequestAndResponseHeadersPolicies drives the origin
// request and response headers policy operations through the SDK.
func TestCustomOriginRequestAndResponseHeadersPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	orp := testutil.MustGet(e.cf.CreateOriginRequestPolicy(ctx, &cfsdk.CreateOriginRequestPolicyInput{OriginRequestPolicyConfig: orpConfig("tenant")}))(t)
	orpID := aws.ToString(orp.OriginRequestPolicy.Id)
	_, err := e.cf.CreateOriginRequestPolicy(ctx, &cfsdk.CreateOriginRequestPolicyInput{OriginRequestPolicyConfig: orpConfig("tenant")})
	wantAPIError(t, err, "OriginRequestPolicyAlreadyExists", 409)
	tooMany := orpConfig("many")
	tooMany.HeadersConfig.Headers = &types.Headers{Quantity: aws.Int32(11), Items: names("X-H", 11)}
	_, err = e.cf.CreateOriginRequestPolicy(ctx, &cfsdk.CreateOriginRequestPolicyInput{OriginRequestPolicyConfig: tooMany})
	wantAPIError(t, err, "TooManyHeadersInOriginRequestPolicy", 400)

	rhp := testutil.MustGet(e.cf.CreateResponseHeadersPolicy(ctx, &cfsdk.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: rhpConfig("served-by")}))(t)
	rhpID := aws.ToString(rhp.ResponseHeadersPolicy.Id)
	_, err = e.cf.CreateResponseHeadersPolicy(ctx, &cfsdk.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: rhpConfig("served-by")})
	wantAPIError(t, err, "ResponseHeadersPolicyAlreadyExists", 409)
	many := rhpConfig("many")
	for i := range 10 {
		many.CustomHeadersConfig.Items = append(many.CustomHeadersConfig.Items, types.ResponseHeadersPolicyCustomHeader{
			Header: aws.String(fmt.Sprintf("X-H%d", i)), Value: aws.String("v"), Override: aws.Bool(false)})
	}
	many.CustomHeadersConfig.Quantity = aws.Int32(int32(len(many.CustomHeadersConfig.Items)))
	_, err = e.cf.CreateResponseHeadersPolicy(ctx, &cfsdk.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: many})
	wantAPIError(t, err, "TooManyCustomHeadersInResponseHeadersPolicy", 400)
	csp := rhpConfig("csp")
	csp.SecurityHeadersConfig = &types.ResponseHeadersPolicySecurityHeadersConfig{ContentSecurityPolicy: &types.ResponseHeadersPolicyContentSecurityPolicy{
		Override: aws.Bool(true), ContentSecurityPolicy: aws.String(strings.Repeat("a", 1784))}}
	_, err = e.cf.CreateResponseHeadersPolicy(ctx, &cfsdk.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: csp})
	wantAPIError(t, err, "TooLongCSPInResponseHeadersPolicy", 400)

	cfg := distConfig("custom-orp-rhp")
	cfg.DefaultCacheBehavior.OriginRequestPolicyId = aws.String(orpID)
	cfg.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(rhpID)
	d := e.createDistribution(cfg)
	dID := aws.ToString(d.Distribution.Id)
	byORP := testutil.MustGet(e.cf.ListDistributionsByOriginRequestPolicyId(ctx, &cfsdk.ListDistributionsByOriginRequestPolicyIdInput{OriginRequestPolicyId: aws.String(orpID)}))(t)
	byRHP := testutil.MustGet(e.cf.ListDistributionsByResponseHeadersPolicyId(ctx, &cfsdk.ListDistributionsByResponseHeadersPolicyIdInput{ResponseHeadersPolicyId: aws.String(rhpID)}))(t)
	if !slices.Equal(byORP.DistributionIdList.Items, []string{dID}) || !slices.Equal(byRHP.DistributionIdList.Items, []string{dID}) {
		t.Errorf("ListDistributionsBy…: %v %v, want [%s]", byORP.DistributionIdList.Items, byRHP.DistributionIdList.Items, dID)
	}
	_, err = e.cf.DeleteOriginRequestPolicy(ctx, &cfsdk.DeleteOriginRequestPolicyInput{Id: aws.String(orpID), IfMatch: orp.ETag})
	wantAPIError(t, err, "OriginRequestPolicyInUse", 409)
	_, err = e.cf.DeleteResponseHeadersPolicy(ctx, &cfsdk.DeleteResponseHeadersPolicyInput{Id: aws.String(rhpID), IfMatch: rhp.ETag})
	wantAPIError(t, err, "ResponseHeadersPolicyInUse", 409)

	upd := orpConfig("tenant")
	upd.QueryStringsConfig.QueryStringBehavior = types.OriginRequestPolicyQueryStringBehaviorAll
	u := testutil.MustGet(e.cf.UpdateOriginRequestPolicy(ctx, &cfsdk.UpdateOriginRequestPolicyInput{Id: aws.String(orpID), IfMatch: orp.ETag, OriginRequestPolicyConfig: upd}))(t)
	if u.OriginRequestPolicy.OriginRequestPolicyConfig.QueryStringsConfig.QueryStringBehavior != types.OriginRequestPolicyQueryStringBehaviorAll {
		t.Errorf("UpdateOriginRequestPolicy did not take the new query string behavior")
	}
	_, err = e.cf.UpdateResponseHeadersPolicy(ctx, &cfsdk.UpdateResponseHeadersPolicyInput{Id: aws.String(rhpSimpleCORS), IfMatch: aws.String("x"), ResponseHeadersPolicyConfig: rhpConfig("x")})
	wantAPIError(t, err, "IllegalUpdate", 400)

	// Detach both, then both delete.
	dc := e.getConfig(dID)
	dc.DistributionConfig.DefaultCacheBehavior.OriginRequestPolicyId = aws.String("")
	dc.DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String("")
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(dID), IfMatch: dc.ETag, DistributionConfig: dc.DistributionConfig}))(t)
	testutil.MustGet(e.cf.DeleteOriginRequestPolicy(ctx, &cfsdk.DeleteOriginRequestPolicyInput{Id: aws.String(orpID), IfMatch: u.ETag}))(t)
	testutil.MustGet(e.cf.DeleteResponseHeadersPolicy(ctx, &cfsdk.DeleteResponseHeadersPolicyInput{Id: aws.String(rhpID), IfMatch: rhp.ETag}))(t)
	list := testutil.MustGet(e.cf.ListOriginRequestPolicies(ctx, &cfsdk.ListOriginRequestPoliciesInput{Type: types.OriginRequestPolicyTypeCustom}))(t)
	if q := aws.ToInt32(list.OriginRequestPolicyList.Quantity); q != 0 {
		t.Errorf("after delete, %d custom origin request policies", q)
	}
}
