package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestOACSigningBehavior: the edge signs S3 requests only as the origin
// access control says, and follows a change of its SigningBehavior.
func TestOACSigningBehavior(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, "object")
	}))
	defer s3.Close()
	endpoint, _ := url.Parse(s3.URL)
	h := newHarness(t, harnessOptions{s3Endpoint: endpoint})

	oac := must[*cfsdk.CreateOriginAccessControlOutput](t)(h.cf.CreateOriginAccessControl(h.ctx, &cfsdk.CreateOriginAccessControlInput{
		OriginAccessControlConfig: &types.OriginAccessControlConfig{
			Name: aws.String("sign-test"), OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
			SigningBehavior: types.OriginAccessControlSigningBehaviorsNever, SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4,
		},
	}))
	d := h.createDistribution(&types.DistributionConfig{
		CallerReference: aws.String("oac-signing"), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("s3"), DomainName: aws.String("bucket.s3.us-east-1.amazonaws.com"),
			OriginAccessControlId: oac.OriginAccessControl.Id,
			S3OriginConfig:        &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("s3"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled)},
	})
	h.waitServed()
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(auth) == 0 {
			return "<no request>"
		}
		return auth[len(auth)-1]
	}

	if r := h.get(d.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := last(); got != "" {
		t.Fatalf("SigningBehavior never: origin saw Authorization %q, want none", got)
	}

	must[*cfsdk.UpdateOriginAccessControlOutput](t)(h.cf.UpdateOriginAccessControl(h.ctx, &cfsdk.UpdateOriginAccessControlInput{
		Id: oac.OriginAccessControl.Id, IfMatch: oac.ETag,
		OriginAccessControlConfig: &types.OriginAccessControlConfig{
			Name: aws.String("sign-test"), OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
			SigningBehavior: types.OriginAccessControlSigningBehaviorsAlways, SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4,
		},
	}))
	h.waitServed()
	if r := h.get(d.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := last(); !strings.Contains(got, "Credential=AKIDSTAGEFRONTEDGE01/") || !strings.Contains(got, "/s3/aws4_request") {
		t.Fatalf("SigningBehavior always: origin saw Authorization %q, want a SigV4 signature for s3", got)
	}
}
