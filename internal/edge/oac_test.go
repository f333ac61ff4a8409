package edge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestOACSigningBehavior: the edge signs S3 requests only as the origin
// access control says, and follows a change of its SigningBehavior.
func TestOACSigningBehavior(t *testing.T) {
	h, s3 := newS3Harness(t)
	config := func(behavior types.OriginAccessControlSigningBehaviors) *types.OriginAccessControlConfig {
		return &types.OriginAccessControlConfig{
			Name: aws.String("sign-test"), OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
			SigningBehavior: behavior, SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4,
		}
	}
	oac := must[*cfsdk.CreateOriginAccessControlOutput](t)(h.cf.CreateOriginAccessControl(h.ctx, &cfsdk.CreateOriginAccessControlInput{
		OriginAccessControlConfig: config(types.OriginAccessControlSigningBehaviorsNever),
	}))
	d := h.createDistribution(s3DistConfig("oac-signing", "", oac.OriginAccessControl.Id))
	h.waitServed()

	if r := h.get(d.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := s3.last(); got != "" {
		t.Fatalf("SigningBehavior never: origin saw Authorization %q, want none", got)
	}

	must[*cfsdk.UpdateOriginAccessControlOutput](t)(h.cf.UpdateOriginAccessControl(h.ctx, &cfsdk.UpdateOriginAccessControlInput{
		Id: oac.OriginAccessControl.Id, IfMatch: oac.ETag, OriginAccessControlConfig: config(types.OriginAccessControlSigningBehaviorsAlways),
	}))
	h.waitServed()
	if r := h.get(d.domain, "/a.txt", nil); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := s3.last(); !strings.Contains(got, "Credential=AKIDSTAGEFRONTEDGE01/") || !strings.Contains(got, "/s3/aws4_request") {
		t.Fatalf("SigningBehavior always: origin saw Authorization %q, want a SigV4 signature for s3", got)
	}
}
