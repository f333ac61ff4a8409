package api_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// Managed response headers policies (AWS's real ids).
const (
	rhpCORSAndSecurity   = "e61eb60c-9c35-4d20-a928-2b84e02af89c"
	rhpCORSWithPreflight = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
	rhpSecurityHeaders   = "67f7725c-6f97-4210-82d7-5512b31e9d03"
	rhpSimpleCORS        = "60669652-455b-4ae9-85a4-c4c02393f86c"
)

// TestResponseHeadersPolicies drives Get, GetConfig and List of the
// managed response headers policies through the real SDK client.
func TestResponseHeadersPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id, name       string
		cors, security bool
	}{
		{rhpSimpleCORS, "Managed-SimpleCORS", true, false},
		{rhpSecurityHeaders, "Managed-SecurityHeadersPolicy", false, true},
		{rhpCORSAndSecurity, "Managed-CORS-and-SecurityHeadersPolicy", true, true},
		{rhpCORSWithPreflight, "Managed-CORS-With-Preflight", true, false},
	} {
		got := testutil.MustGet(e.cf.GetResponseHeadersPolicy(ctx, &cfsdk.GetResponseHeadersPolicyInput{Id: aws.String(tc.id)}))(t)
		p := got.ResponseHeadersPolicy
		c := p.ResponseHeadersPolicyConfig
		if aws.ToString(p.Id) != tc.id || aws.ToString(c.Name) != tc.name || aws.ToString(got.ETag) == "" || p.LastModifiedTime == nil {
			t.Errorf("GetResponseHeadersPolicy(%s) = id %s, name %s, ETag %q", tc.id, aws.ToString(p.Id), aws.ToString(c.Name), aws.ToString(got.ETag))
		}
		if cors := c.CorsConfig; (cors != nil) != tc.cors {
			t.Errorf("%s: CorsConfig %+v, want one: %v", tc.name, cors, tc.cors)
		} else if cors != nil {
			if o := cors.AccessControlAllowOrigins; o == nil || aws.ToInt32(o.Quantity) != 1 || !slices.Equal(o.Items, []string{"*"}) ||
				aws.ToBool(cors.OriginOverride) || cors.OriginOverride == nil {
				t.Errorf("%s: CORS origins %+v, OriginOverride %v; want [*] and false", tc.name, o, cors.OriginOverride)
			}
		}
		if sec := c.SecurityHeadersConfig; (sec != nil) != tc.security {
			t.Errorf("%s: SecurityHeadersConfig %+v, want one: %v", tc.name, sec, tc.security)
		} else if sec != nil && (sec.ContentTypeOptions == nil || !aws.ToBool(sec.ContentTypeOptions.Override)) {
			t.Errorf("%s: ContentTypeOptions %+v, want Override true", tc.name, sec.ContentTypeOptions)
		}
		gotCfg := testutil.MustGet(e.cf.GetResponseHeadersPolicyConfig(ctx, &cfsdk.GetResponseHeadersPolicyConfigInput{Id: aws.String(tc.id)}))(t)
		if aws.ToString(gotCfg.ResponseHeadersPolicyConfig.Name) != tc.name || aws.ToString(gotCfg.ETag) != aws.ToString(got.ETag) {
			t.Errorf("GetResponseHeadersPolicyConfig(%s) = %s, ETag %q; want %s, ETag %q", tc.id,
				aws.ToString(gotCfg.ResponseHeadersPolicyConfig.Name), aws.ToString(gotCfg.ETag), tc.name, aws.ToString(got.ETag))
		}
	}

	const unknown = "00000000-0000-0000-0000-000000000000"
	_, err := e.cf.GetResponseHeadersPolicy(ctx, &cfsdk.GetResponseHeadersPolicyInput{Id: aws.String(unknown)})
	wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)
	_, err = e.cf.GetResponseHeadersPolicyConfig(ctx, &cfsdk.GetResponseHeadersPolicyConfigInput{Id: aws.String(unknown)})
	wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)
	// An origin request policy's id is not a response headers policy's.
	_, err = e.cf.GetResponseHeadersPolicy(ctx, &cfsdk.GetResponseHeadersPolicyInput{Id: aws.String(allViewer)})
	wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)

	managed := testutil.MustGet(e.cf.ListResponseHeadersPolicies(ctx, &cfsdk.ListResponseHeadersPoliciesInput{Type: types.ResponseHeadersPolicyTypeManaged}))(t).ResponseHeadersPolicyList
	var ids []string
	for _, s := range managed.Items {
		ids = append(ids, aws.ToString(s.ResponseHeadersPolicy.Id))
		if s.Type != types.ResponseHeadersPolicyTypeManaged {
			t.Errorf("summary of %s: type %s", aws.ToString(s.ResponseHeadersPolicy.Id), s.Type)
		}
	}
	if len(ids) != 5 || int(aws.ToInt32(managed.Quantity)) != len(ids) || managed.NextMarker != nil ||
		!slices.Contains(ids, rhpSimpleCORS) || !slices.Contains(ids, rhpSecurityHeaders) {
		t.Errorf("managed list: ids %v, Quantity %d, NextMarker %v", ids, aws.ToInt32(managed.Quantity), managed.NextMarker)
	}
	all := testutil.MustGet(e.cf.ListResponseHeadersPolicies(ctx, &cfsdk.ListResponseHeadersPoliciesInput{}))(t).ResponseHeadersPolicyList
	if len(all.Items) != len(ids) {
		t.Errorf("list without Type: %d items, want the %d managed ones", len(all.Items), len(ids))
	}

	// Paging: MaxItems pages through the same ids, in order.
	var paged []string
	var marker *string
	for range len(ids) + 1 {
		page := testutil.MustGet(e.cf.ListResponseHeadersPolicies(ctx, &cfsdk.ListResponseHeadersPoliciesInput{MaxItems: aws.Int32(2), Marker: marker}))(t).ResponseHeadersPolicyList
		if aws.ToInt32(page.MaxItems) != 2 || int(aws.ToInt32(page.Quantity)) != len(page.Items) {
			t.Fatalf("page after %v: MaxItems %d, Quantity %d, %d items", aws.ToString(marker), aws.ToInt32(page.MaxItems), aws.ToInt32(page.Quantity), len(page.Items))
		}
		for _, s := range page.Items {
			paged = append(paged, aws.ToString(s.ResponseHeadersPolicy.Id))
		}
		if marker = page.NextMarker; marker == nil {
			break
		}
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged ids %v, want %v", paged, ids)
	}

	custom := testutil.MustGet(e.cf.ListResponseHeadersPolicies(ctx, &cfsdk.ListResponseHeadersPoliciesInput{Type: types.ResponseHeadersPolicyTypeCustom}))(t).ResponseHeadersPolicyList
	if len(custom.Items) != 0 || aws.ToInt32(custom.Quantity) != 0 || custom.NextMarker != nil {
		t.Errorf("custom list: %d items, Quantity %d", len(custom.Items), aws.ToInt32(custom.Quantity))
	}
	wantRawError(t, e.rawRequest("GET", "/2020-05-31/response-headers-policy?Type=all", nil, nil, false), "InvalidArgument", 400)
}

// TestDistributionResponseHeadersPolicy: a behavior may name a managed
// response headers policy, beside a cache policy or legacy
// ForwardedValues, and keeps it through create, get and a staging copy.
func TestDistributionResponseHeadersPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	legacy := distConfig("rhp-legacy")
	legacy.DefaultCacheBehavior.CachePolicyId = nil
	//lint:ignore SA1019 legacy ForwardedValues is still valid CloudFront input; the rule under test is about it
	legacy.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{
		QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone},
	}
	legacy.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(rhpSimpleCORS)
	e.createDistribution(legacy)

	cfg := distConfig("rhp-ok")
	cfg.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(rhpSecurityHeaders)
	created := e.createDistribution(cfg)
	id := aws.ToString(created.Distribution.Id)
	if got := aws.ToString(e.getConfig(id).DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId); got != rhpSecurityHeaders {
		t.Errorf("stored ResponseHeadersPolicyId = %q, want %q", got, rhpSecurityHeaders)
	}
	staging := e.copyStaging(id, "rhp-ok-staging")
	if got := aws.ToString(staging.DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId); got != rhpSecurityHeaders {
		t.Errorf("staging copy's ResponseHeadersPolicyId = %q, want %q", got, rhpSecurityHeaders)
	}
}

// TestDistributionUnknownResponseHeadersPolicy: an unknown response
// headers policy is NoSuchResponseHeadersPolicy, on create and on update.
func TestDistributionUnknownResponseHeadersPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	for ref, id := range map[string]string{
		"rhp-unknown":         "00000000-0000-0000-0000-000000000000",
		"rhp-cache-policy-id": cachingOptimized,
		"rhp-orp-id":          allViewer,
		"rhp-uppercase":       "60669652-455B-4AE9-85A4-C4C02393F86C",
	} {
		cfg := distConfig(ref)
		cfg.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(id)
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
		wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)
	}

	cfg := distConfig("rhp-behavior-unknown")
	cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
		PathPattern: aws.String("/api/*"), TargetOriginId: aws.String("web"),
		ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
		CachePolicyId:        aws.String(cachingDisabled), ResponseHeadersPolicyId: aws.String("not-a-policy"),
	}}}
	_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)

	cfg = distConfig("rhp-update")
	cfg.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(rhpSecurityHeaders)
	id := aws.ToString(e.createDistribution(cfg).Distribution.Id)
	cur := e.getConfig(id)
	cur.DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String("00000000-0000-0000-0000-000000000000")
	_, err = e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{
		Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig,
	})
	wantAPIError(t, err, "NoSuchResponseHeadersPolicy", 404)
}
