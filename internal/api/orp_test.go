package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// TestOriginRequestPolicies drives Get, GetConfig and List of the managed
// origin request policies through the real SDK client.
func TestOriginRequestPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id, name      string
		headers       types.OriginRequestPolicyHeaderBehavior
		headerItems   []string
		cookies       types.OriginRequestPolicyCookieBehavior
		queryStrings  types.OriginRequestPolicyQueryStringBehavior
		commentPrefix string
	}{
		{allViewer, "Managed-AllViewer", types.OriginRequestPolicyHeaderBehaviorAllViewer, nil,
			types.OriginRequestPolicyCookieBehaviorAll, types.OriginRequestPolicyQueryStringBehaviorAll, "Policy to forward all parameters"},
		{allViewerExceptHostHeader, "Managed-AllViewerExceptHostHeader", types.OriginRequestPolicyHeaderBehaviorAllExcept, []string{"host"},
			types.OriginRequestPolicyCookieBehaviorAll, types.OriginRequestPolicyQueryStringBehaviorAll, "Policy to forward all parameters"},
		{corsS3Origin, "Managed-CORS-S3Origin", types.OriginRequestPolicyHeaderBehaviorWhitelist,
			[]string{"origin", "access-control-request-headers", "access-control-request-method"},
			types.OriginRequestPolicyCookieBehaviorNone, types.OriginRequestPolicyQueryStringBehaviorNone, "Policy for S3 origin"},
	} {
		got := testutil.MustGet(e.cf.GetOriginRequestPolicy(ctx, &cfsdk.GetOriginRequestPolicyInput{Id: aws.String(tc.id)}))(t)
		c := got.OriginRequestPolicy.OriginRequestPolicyConfig
		if aws.ToString(got.OriginRequestPolicy.Id) != tc.id || aws.ToString(c.Name) != tc.name || aws.ToString(got.ETag) == "" ||
			got.OriginRequestPolicy.LastModifiedTime == nil {
			t.Errorf("GetOriginRequestPolicy(%s) = id %s, name %s, ETag %q", tc.id, aws.ToString(got.OriginRequestPolicy.Id), aws.ToString(c.Name), aws.ToString(got.ETag))
		}
		var items []string
		if c.HeadersConfig.Headers != nil {
			items = c.HeadersConfig.Headers.Items
			if int(aws.ToInt32(c.HeadersConfig.Headers.Quantity)) != len(items) {
				t.Errorf("%s: Headers Quantity %d for %d items", tc.name, aws.ToInt32(c.HeadersConfig.Headers.Quantity), len(items))
			}
		}
		if c.HeadersConfig.HeaderBehavior != tc.headers || !slices.Equal(items, tc.headerItems) ||
			c.CookiesConfig.CookieBehavior != tc.cookies || c.QueryStringsConfig.QueryStringBehavior != tc.queryStrings {
			t.Errorf("%s: headers %s %v, cookies %s, query strings %s; want %s %v, %s, %s", tc.name,
				c.HeadersConfig.HeaderBehavior, items, c.CookiesConfig.CookieBehavior, c.QueryStringsConfig.QueryStringBehavior,
				tc.headers, tc.headerItems, tc.cookies, tc.queryStrings)
		}
		if comment := aws.ToString(c.Comment); !strings.HasPrefix(comment, tc.commentPrefix) {
			t.Errorf("%s: Comment %q, want it to start with %q", tc.name, comment, tc.commentPrefix)
		}
		gotCfg := testutil.MustGet(e.cf.GetOriginRequestPolicyConfig(ctx, &cfsdk.GetOriginRequestPolicyConfigInput{Id: aws.String(tc.id)}))(t)
		if aws.ToString(gotCfg.OriginRequestPolicyConfig.Name) != tc.name || aws.ToString(gotCfg.ETag) != aws.ToString(got.ETag) {
			t.Errorf("GetOriginRequestPolicyConfig(%s) = %s, ETag %q; want %s, ETag %q", tc.id,
				aws.ToString(gotCfg.OriginRequestPolicyConfig.Name), aws.ToString(gotCfg.ETag), tc.name, aws.ToString(got.ETag))
		}
	}

	const unknown = "00000000-0000-0000-0000-000000000000"
	_, err := e.cf.GetOriginRequestPolicy(ctx, &cfsdk.GetOriginRequestPolicyInput{Id: aws.String(unknown)})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)
	_, err = e.cf.GetOriginRequestPolicyConfig(ctx, &cfsdk.GetOriginRequestPolicyConfigInput{Id: aws.String(unknown)})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)
	// A cache policy's id is not an origin request policy's.
	_, err = e.cf.GetOriginRequestPolicy(ctx, &cfsdk.GetOriginRequestPolicyInput{Id: aws.String(cachingOptimized)})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)

	managed := testutil.MustGet(e.cf.ListOriginRequestPolicies(ctx, &cfsdk.ListOriginRequestPoliciesInput{Type: types.OriginRequestPolicyTypeManaged}))(t).OriginRequestPolicyList
	var ids []string
	for _, s := range managed.Items {
		ids = append(ids, aws.ToString(s.OriginRequestPolicy.Id))
		if s.Type != types.OriginRequestPolicyTypeManaged {
			t.Errorf("summary of %s: type %s", aws.ToString(s.OriginRequestPolicy.Id), s.Type)
		}
	}
	if len(ids) != 7 || int(aws.ToInt32(managed.Quantity)) != len(ids) || managed.NextMarker != nil ||
		!slices.Contains(ids, allViewer) || !slices.Contains(ids, allViewerExceptHostHeader) || !slices.Contains(ids, corsS3Origin) {
		t.Errorf("managed list: ids %v, Quantity %d, NextMarker %v", ids, aws.ToInt32(managed.Quantity), managed.NextMarker)
	}
	all := testutil.MustGet(e.cf.ListOriginRequestPolicies(ctx, &cfsdk.ListOriginRequestPoliciesInput{}))(t).OriginRequestPolicyList
	if len(all.Items) != len(ids) {
		t.Errorf("list without Type: %d items, want the %d managed ones", len(all.Items), len(ids))
	}

	// Paging: MaxItems pages through the same ids, in order.
	var paged []string
	var marker *string
	for range len(ids) + 1 {
		page := testutil.MustGet(e.cf.ListOriginRequestPolicies(ctx, &cfsdk.ListOriginRequestPoliciesInput{MaxItems: aws.Int32(3), Marker: marker}))(t).OriginRequestPolicyList
		if aws.ToInt32(page.MaxItems) != 3 || int(aws.ToInt32(page.Quantity)) != len(page.Items) {
			t.Fatalf("page after %v: MaxItems %d, Quantity %d, %d items", aws.ToString(marker), aws.ToInt32(page.MaxItems), aws.ToInt32(page.Quantity), len(page.Items))
		}
		for _, s := range page.Items {
			paged = append(paged, aws.ToString(s.OriginRequestPolicy.Id))
		}
		if marker = page.NextMarker; marker == nil {
			break
		}
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged ids %v, want %v", paged, ids)
	}

	custom := testutil.MustGet(e.cf.ListOriginRequestPolicies(ctx, &cfsdk.ListOriginRequestPoliciesInput{Type: types.OriginRequestPolicyTypeCustom}))(t).OriginRequestPolicyList
	if len(custom.Items) != 0 || aws.ToInt32(custom.Quantity) != 0 || custom.NextMarker != nil {
		t.Errorf("custom list: %d items, Quantity %d", len(custom.Items), aws.ToInt32(custom.Quantity))
	}
	wantRawError(t, e.rawRequest("GET", "/2020-05-31/origin-request-policy?Type=all", nil, nil, false), "InvalidArgument", 400)
}

// TestDistributionOriginRequestPolicy: a behavior may name a managed
// origin request policy beside its cache policy; an unknown one is
// NoSuchOriginRequestPolicy, and one beside legacy ForwardedValues is
// refused, on create and on update.
func TestDistributionOriginRequestPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	cfg := distConfig("orp-unknown")
	cfg.DefaultCacheBehavior.OriginRequestPolicyId = aws.String("00000000-0000-0000-0000-000000000000")
	_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)

	cfg = distConfig("orp-cache-policy-id")
	cfg.DefaultCacheBehavior.OriginRequestPolicyId = aws.String(cachingOptimized)
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)

	cfg = distConfig("orp-behavior-unknown")
	cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
		PathPattern: aws.String("/api/*"), TargetOriginId: aws.String("web"),
		ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
		CachePolicyId:        aws.String(cachingDisabled), OriginRequestPolicyId: aws.String("not-a-policy"),
	}}}
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)

	legacy := distConfig("orp-legacy")
	legacy.DefaultCacheBehavior.CachePolicyId = nil
	//lint:ignore SA1019 legacy ForwardedValues is still valid CloudFront input; the rule under test is about it
	legacy.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{
		QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone},
	}
	legacy.DefaultCacheBehavior.OriginRequestPolicyId = aws.String(allViewer)
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: legacy})
	wantAPIError(t, err, "InvalidArgument", 400)

	cfg = distConfig("orp-ok")
	cfg.DefaultCacheBehavior.OriginRequestPolicyId = aws.String(allViewerExceptHostHeader)
	created := e.createDistribution(cfg)
	id := aws.ToString(created.Distribution.Id)
	if got := aws.ToString(e.getConfig(id).DistributionConfig.DefaultCacheBehavior.OriginRequestPolicyId); got != allViewerExceptHostHeader {
		t.Errorf("stored OriginRequestPolicyId = %q, want %q", got, allViewerExceptHostHeader)
	}

	cur := e.getConfig(id)
	cur.DistributionConfig.DefaultCacheBehavior.OriginRequestPolicyId = aws.String("00000000-0000-0000-0000-000000000000")
	_, err = e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{
		Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig,
	})
	wantAPIError(t, err, "NoSuchOriginRequestPolicy", 404)

	// A staging copy keeps the policy.
	staging := e.copyStaging(id, "orp-ok-staging")
	if got := aws.ToString(staging.DistributionConfig.DefaultCacheBehavior.OriginRequestPolicyId); got != allViewerExceptHostHeader {
		t.Errorf("staging copy's OriginRequestPolicyId = %q, want %q", got, allViewerExceptHostHeader)
	}
}
