package routing

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// Managed origin request policies and the cache policies the table below
// pairs them with (AWS's real ids).
const (
	orpAllViewer           = "216adef6-5c7f-47e4-b989-5492eafa07d3"
	orpAllViewerCloudFront = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
	orpAllViewerExceptHost = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	orpCORSCustomOrigin    = "59781a5b-3903-41f3-afcb-af62929ccde1"
	orpCORSS3Origin        = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
	orpUserAgentReferer    = "acba4595-bd28-49b8-b9fe-13317c0390fa"
	useOriginCacheControl  = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
	elementalMediaPackage  = "08627262-05a9-4f76-9ded-b50ca2e3a84f"
)

// cloudFront2022 are the CloudFront headers of
// AllViewerAndCloudFrontHeaders-2022-06, canonical.
var cloudFront2022 = []string{
	"Cloudfront-Forwarded-Proto", "Cloudfront-Is-Android-Viewer", "Cloudfront-Is-Desktop-Viewer",
	"Cloudfront-Is-Ios-Viewer", "Cloudfront-Is-Mobile-Viewer", "Cloudfront-Is-Smarttv-Viewer",
	"Cloudfront-Is-Tablet-Viewer", "Cloudfront-Viewer-Address", "Cloudfront-Viewer-Asn",
	"Cloudfront-Viewer-City", "Cloudfront-Viewer-Country", "Cloudfront-Viewer-Country-Name",
	"Cloudfront-Viewer-Country-Region", "Cloudfront-Viewer-Country-Region-Name",
	"Cloudfront-Viewer-Http-Version", "Cloudfront-Viewer-Latitude", "Cloudfront-Viewer-Longitude",
	"Cloudfront-Viewer-Metro-Code", "Cloudfront-Viewer-Postal-Code", "Cloudfront-Viewer-Time-Zone",
	"Cloudfront-Viewer-Tls",
}

func withPolicies(cachePolicy, originRequestPolicy string) distOpt {
	return func(c *cloudfront.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = cloudfront.String(cachePolicy)
		c.DefaultCacheBehavior.OriginRequestPolicyId = cloudfront.String(originRequestPolicy)
	}
}

// TestCompileOriginRequest: a behavior with a managed origin request policy
// compiles to the union of its cache key and the policy, with the viewer's
// Host, the edge's CloudFront headers and S3's response overrides set
// apart. Authorization is never forwarded through the policy: only a cache
// key that holds it (Amplify's) sends it to the origin.
func TestCompileOriginRequest(t *testing.T) {
	noAuth := []string{"Authorization"}
	tests := []struct {
		name, cachePolicy, orp string
		want                   *OriginRequest
	}{
		{"no policy", cachingOptimized, "", nil},
		{"CachingDisabled + AllViewerExceptHostHeader", cachingDisabled, orpAllViewerExceptHost, &OriginRequest{
			QueryStrings: SelectAll, Headers: SelectAllExcept, HeaderNames: noAuth, Cookies: SelectAll,
			S3ExcludedQuery: []string{"response-content-type", "response-content-disposition", "response-content-encoding"},
		}},
		{"CachingDisabled + AllViewer", cachingDisabled, orpAllViewer, &OriginRequest{
			QueryStrings: SelectAll, Headers: SelectAllExcept, HeaderNames: noAuth, Host: true, Cookies: SelectAll,
			S3ExcludedQuery: []string{"response-content-type", "response-content-disposition", "response-content-encoding"},
		}},
		{"CachingOptimized + CORS-S3Origin", cachingOptimized, orpCORSS3Origin, &OriginRequest{
			Headers: SelectAllowList, HeaderNames: []string{"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"},
		}},
		// The cache key forwards Host even though the policy leaves it out.
		{"UseOriginCacheControlHeaders + AllViewerExceptHostHeader", useOriginCacheControl, orpAllViewerExceptHost, &OriginRequest{
			QueryStrings: SelectAll, Headers: SelectAllExcept, HeaderNames: noAuth, Host: true, Cookies: SelectAll,
			S3ExcludedQuery: []string{"response-content-type", "response-content-disposition", "response-content-encoding"},
		}},
		{"UseOriginCacheControlHeaders + CORS-CustomOrigin", useOriginCacheControl, orpCORSCustomOrigin, &OriginRequest{
			Headers: SelectAllowList, HeaderNames: []string{"Origin", "X-Http-Method-Override", "X-Http-Method", "X-Method-Override"},
			Host: true, Cookies: SelectAll,
		}},
		{"Elemental-MediaPackage + UserAgentRefererHeaders", elementalMediaPackage, orpUserAgentReferer, &OriginRequest{
			QueryStrings: SelectAllowList, QueryStringNames: []string{"aws.manifestfilter", "start", "end", "m"},
			Headers: SelectAllowList, HeaderNames: []string{"Origin", "User-Agent", "Referer"},
		}},
		{"CachingOptimized + AllViewerAndCloudFrontHeaders-2022-06", cachingOptimized, orpAllViewerCloudFront, &OriginRequest{
			QueryStrings: SelectAll, Headers: SelectAllExcept, HeaderNames: noAuth, Host: true, Cookies: SelectAll, CloudFrontHeaders: cloudFront2022,
			S3ExcludedQuery: []string{"response-content-type", "response-content-disposition", "response-content-encoding"},
		}},
		// Amplify's key holds the query (so S3 gets its overrides) and the
		// viewer's CloudFront-Viewer-Country (so the edge does not replace it).
		{"Amplify + AllViewerAndCloudFrontHeaders-2022-06", amplify, orpAllViewerCloudFront, &OriginRequest{
			QueryStrings: SelectAll, Headers: SelectAll, Host: true, Cookies: SelectAll,
			CloudFrontHeaders: append(append([]string(nil), cloudFront2022[:10]...), cloudFront2022[11:]...),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := primaryOf(t, Snapshot{Revision: 1, Distributions: []DistributionRecord{
				distRec(primaryID, primaryDomain, 1, withPolicies(tt.cachePolicy, tt.orp)),
			}})
			if got := d.Default.OriginRequest; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("OriginRequest = %+v\nwant %+v", got, tt.want)
			}
			if d.Default.OriginRequestPolicyID != tt.orp {
				t.Errorf("OriginRequestPolicyID = %q, want %q", d.Default.OriginRequestPolicyID, tt.orp)
			}
		})
	}
}

// TestCompileOriginRequestErrors: a policy id that names no managed origin
// request policy, or a policy beside legacy ForwardedValues, fails the
// distribution's compile.
func TestCompileOriginRequestErrors(t *testing.T) {
	legacyWithPolicy := func(c *cloudfront.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = nil
		c.DefaultCacheBehavior.ForwardedValues = &cloudfront.ForwardedValues{QueryString: cloudfront.Bool(true)}
		c.DefaultCacheBehavior.OriginRequestPolicyId = cloudfront.String(orpAllViewer)
	}
	tests := []struct {
		name string
		opt  distOpt
		want error
	}{
		{"unknown policy", withPolicies(cachingOptimized, "00000000-0000-0000-0000-000000000000"), ErrUnknownOriginRequestPolicy},
		{"cache policy as origin request policy", withPolicies(cachingOptimized, cachingDisabled), ErrUnknownOriginRequestPolicy},
		{"origin request policy as cache policy", withPolicies(orpAllViewer, ""), ErrUnknownCachePolicy},
		{"policy with ForwardedValues", legacyWithPolicy, ErrInvalidConfig},
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

// TestUnionSelection: the union of two selections keeps every item either
// side takes and nothing else.
func TestUnionSelection(t *testing.T) {
	tests := []struct {
		name      string
		a         Selection
		aNames    []string
		b         Selection
		bNames    []string
		want      Selection
		wantNames []string
	}{
		{"none none", SelectNone, nil, SelectNone, nil, SelectNone, nil},
		{"none allow", SelectNone, nil, SelectAllowList, []string{"x"}, SelectAllowList, []string{"x"}},
		{"allow none", SelectAllowList, []string{"x"}, SelectNone, nil, SelectAllowList, []string{"x"}},
		{"all anything", SelectAll, nil, SelectAllowList, []string{"x"}, SelectAll, nil},
		{"except all", SelectAllExcept, []string{"x"}, SelectAll, nil, SelectAll, nil},
		{"allow allow", SelectAllowList, []string{"x", "y"}, SelectAllowList, []string{"y", "z"}, SelectAllowList, []string{"x", "y", "z"}},
		{"allow except", SelectAllowList, []string{"x"}, SelectAllExcept, []string{"x", "y"}, SelectAllExcept, []string{"y"}},
		{"except allow", SelectAllExcept, []string{"x", "y"}, SelectAllowList, []string{"y"}, SelectAllExcept, []string{"x"}},
		{"allow covers except", SelectAllowList, []string{"x"}, SelectAllExcept, []string{"x"}, SelectAll, nil},
		{"except except", SelectAllExcept, []string{"x", "y"}, SelectAllExcept, []string{"y", "z"}, SelectAllExcept, []string{"y"}},
		{"disjoint excepts", SelectAllExcept, []string{"x"}, SelectAllExcept, []string{"y"}, SelectAll, nil},
		{"none except", SelectNone, nil, SelectAllExcept, []string{"x"}, SelectAllExcept, []string{"x"}},
	}
	for _, tt := range tests {
		got, gotNames := unionSelection(tt.a, tt.aNames, tt.b, tt.bNames)
		if got != tt.want || !reflect.DeepEqual(gotNames, tt.wantNames) {
			t.Errorf("%s: unionSelection = %v %q, want %v %q", tt.name, got, gotNames, tt.want, tt.wantNames)
		}
		// Whatever the representation, membership is the union's.
		for _, name := range []string{"x", "y", "z", "w"} {
			want := selects(tt.a, tt.aNames, name) || selects(tt.b, tt.bNames, name)
			if selects(got, gotNames, name) != want {
				t.Errorf("%s: %q selected = %v, want %v", tt.name, name, !want, want)
			}
		}
	}
}

// TestUnionSelectionOwnsNames: the compiled names are the union's own, so
// a behavior never shares (or changes) a managed policy's lists.
func TestUnionSelectionOwnsNames(t *testing.T) {
	a := []string{"x"}
	_, names := unionSelection(SelectNone, nil, SelectAllowList, a)
	names[0] = "changed"
	if a[0] != "x" {
		t.Fatalf("unionSelection returned the caller's slice")
	}
}

// TestAuthorizationOnlyThroughCacheKey: whatever an origin request policy
// selects, the union with the cache key leaves Authorization out unless
// the cache key holds it.
func TestAuthorizationOnlyThroughCacheKey(t *testing.T) {
	withAuth := CacheKey{Headers: SelectAllowList, HeaderNames: []string{"Authorization"}}
	tests := []struct {
		name      string
		ck        CacheKey
		p         OriginRequest
		wantSel   Selection
		wantNames []string
	}{
		{"allow list naming it", CacheKey{}, OriginRequest{Headers: SelectAllowList, HeaderNames: []string{"Authorization", "X-A"}}, SelectAllowList, []string{"X-A"}},
		{"allow list of it alone", CacheKey{}, OriginRequest{Headers: SelectAllowList, HeaderNames: []string{"Authorization"}}, SelectNone, nil},
		{"all", CacheKey{}, OriginRequest{Headers: SelectAll}, SelectAllExcept, []string{"Authorization"}},
		{"all except another", CacheKey{}, OriginRequest{Headers: SelectAllExcept, HeaderNames: []string{"X-B"}}, SelectAllExcept, []string{"X-B", "Authorization"}},
		{"key holds it", withAuth, OriginRequest{Headers: SelectAll}, SelectAll, nil},
		{"key holds it, policy names it too", withAuth, OriginRequest{Headers: SelectAllowList, HeaderNames: []string{"Authorization", "X-A"}}, SelectAllowList, []string{"Authorization", "X-A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withCacheKey(&tt.ck, &tt.p)
			if got.Headers != tt.wantSel || (len(got.HeaderNames) > 0 || len(tt.wantNames) > 0) && !reflect.DeepEqual(got.HeaderNames, tt.wantNames) {
				t.Errorf("headers = %v %q; want %v %q", got.Headers, got.HeaderNames, tt.wantSel, tt.wantNames)
			}
		})
	}
}
