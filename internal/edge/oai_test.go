package edge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestOAISignsS3Requests: an S3 origin with a legacy origin access
// identity gets SigV4-signed requests, as with an OAC that always signs;
// the same origin without one gets unsigned requests.
func TestOAISignsS3Requests(t *testing.T) {
	h, s3 := newS3Harness(t)
	oai := must[*cfsdk.CreateCloudFrontOriginAccessIdentityOutput](t)(h.cf.CreateCloudFrontOriginAccessIdentity(h.ctx,
		&cfsdk.CreateCloudFrontOriginAccessIdentityInput{CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{
			CallerReference: aws.String("oai-edge"), Comment: aws.String("legacy stack")}}))
	s3Dist := func(ref, oaiPath string) dist { return h.createDistribution(s3DistConfig(ref, oaiPath, nil)) }
	withOAI := s3Dist("oai-signed", "origin-access-identity/cloudfront/"+aws.ToString(oai.CloudFrontOriginAccessIdentity.Id))
	without := s3Dist("oai-none", "")
	h.waitServed()
	if r := h.get(withOAI.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if a := s3.last(); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 ") || !strings.Contains(a, "/s3/aws4_request") {
		t.Errorf("S3 request through an OAI: Authorization %q, want a SigV4 signature for s3", a)
	}
	if r := h.get(without.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if a := s3.last(); a != "" {
		t.Errorf("S3 request without OAI or OAC: Authorization %q, want none", a)
	}
}
