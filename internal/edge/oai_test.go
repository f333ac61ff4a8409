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

// TestOAISignsS3Requests: an S3 origin with a legacy origin access
// identity gets SigV4-signed requests, as with an OAC that always signs;
// the same origin without one gets unsigned requests.
func TestOAISignsS3Requests(t *testing.T) {
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
	oai := must[*cfsdk.CreateCloudFrontOriginAccessIdentityOutput](t)(h.cf.CreateCloudFrontOriginAccessIdentity(h.ctx,
		&cfsdk.CreateCloudFrontOriginAccessIdentityInput{CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{
			CallerReference: aws.String("oai-edge"), Comment: aws.String("legacy stack")}}))
	s3Dist := func(ref, oaiPath string) dist {
		return h.createDistribution(&types.DistributionConfig{
			CallerReference: aws.String(ref), Comment: aws.String(""), Enabled: aws.Bool(true),
			Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
				Id: aws.String("s3"), DomainName: aws.String("bucket.s3.us-east-1.amazonaws.com"),
				S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String(oaiPath)},
			}}},
			DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("s3"),
				ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled)},
		})
	}
	withOAI := s3Dist("oai-signed", "origin-access-identity/cloudfront/"+aws.ToString(oai.CloudFrontOriginAccessIdentity.Id))
	without := s3Dist("oai-none", "")
	h.waitServed()
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return auth[len(auth)-1]
	}
	if r := h.get(withOAI.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if a := last(); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 ") || !strings.Contains(a, "/s3/aws4_request") {
		t.Errorf("S3 request through an OAI: Authorization %q, want a SigV4 signature for s3", a)
	}
	if r := h.get(without.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if a := last(); a != "" {
		t.Errorf("S3 request without OAI or OAC: Authorization %q, want none", a)
	}
}
