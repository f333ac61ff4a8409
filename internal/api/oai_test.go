package api_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// TestOriginAccessIdentities drives the CloudFrontOriginAccessIdentity
// operations through the real SDK client, and an S3 origin naming one.
func TestOriginAccessIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cfg := &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("oai-1"), Comment: aws.String("bucket reader")}
	out := testutil.MustGet(e.cf.CreateCloudFrontOriginAccessIdentity(ctx, &cfsdk.CreateCloudFrontOriginAccessIdentityInput{CloudFrontOriginAccessIdentityConfig: cfg}))(t)
	o := out.CloudFrontOriginAccessIdentity
	id := aws.ToString(o.Id)
	if !regexp.MustCompile(`^E[A-Z0-9]{13}$`).MatchString(id) || !regexp.MustCompile(`^[0-9a-f]{96}$`).MatchString(aws.ToString(o.S3CanonicalUserId)) {
		t.Errorf("Id %q, S3CanonicalUserId %q", id, aws.ToString(o.S3CanonicalUserId))
	}
	again := testutil.MustGet(e.cf.CreateCloudFrontOriginAccessIdentity(ctx, &cfsdk.CreateCloudFrontOriginAccessIdentityInput{CloudFrontOriginAccessIdentityConfig: cfg}))(t)
	if aws.ToString(again.CloudFrontOriginAccessIdentity.Id) != id {
		t.Errorf("the same request again made a new identity %s", aws.ToString(again.CloudFrontOriginAccessIdentity.Id))
	}
	_, err := e.cf.CreateCloudFrontOriginAccessIdentity(ctx, &cfsdk.CreateCloudFrontOriginAccessIdentityInput{CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{
		CallerReference: aws.String("oai-1"), Comment: aws.String("other")}})
	wantAPIError(t, err, "CloudFrontOriginAccessIdentityAlreadyExists", 409)
	got := testutil.MustGet(e.cf.GetCloudFrontOriginAccessIdentityConfig(ctx, &cfsdk.GetCloudFrontOriginAccessIdentityConfigInput{Id: aws.String(id)}))(t)
	if aws.ToString(got.CloudFrontOriginAccessIdentityConfig.Comment) != "bucket reader" || aws.ToString(got.ETag) != aws.ToString(out.ETag) {
		t.Errorf("GetCloudFrontOriginAccessIdentityConfig = %+v", got)
	}
	_, err = e.cf.UpdateCloudFrontOriginAccessIdentity(ctx, &cfsdk.UpdateCloudFrontOriginAccessIdentityInput{Id: aws.String(id), IfMatch: out.ETag,
		CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("other"), Comment: aws.String("x")}})
	wantAPIError(t, err, "IllegalUpdate", 400)
	upd := testutil.MustGet(e.cf.UpdateCloudFrontOriginAccessIdentity(ctx, &cfsdk.UpdateCloudFrontOriginAccessIdentityInput{Id: aws.String(id), IfMatch: out.ETag,
		CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("oai-1"), Comment: aws.String("renamed")}}))(t)
	list := testutil.MustGet(e.cf.ListCloudFrontOriginAccessIdentities(ctx, &cfsdk.ListCloudFrontOriginAccessIdentitiesInput{}))(t)
	if l := list.CloudFrontOriginAccessIdentityList; aws.ToInt32(l.Quantity) != 1 || aws.ToString(l.Items[0].Comment) != "renamed" {
		t.Errorf("ListCloudFrontOriginAccessIdentities = %+v", l)
	}

	s3 := func(ref, oai string, oac *string) *types.DistributionConfig {
		c := distConfig(ref)
		c.Origins.Items[0] = types.Origin{Id: aws.String("web"), DomainName: aws.String("bucket.s3.amazonaws.com"),
			OriginAccessControlId: oac, S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String(oai)}}
		return c
	}
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: s3("bad-oai", "origin-access-identity/cloudfront/ENOTANOAI00000", nil)})
	wantAPIError(t, err, "InvalidOriginAccessIdentity", 400)
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: s3("bad-form", id, nil)})
	wantAPIError(t, err, "InvalidOriginAccessIdentity", 400)
	oac := testutil.MustGet(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: &types.OriginAccessControlConfig{
		Name: aws.String("both"), OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
		SigningBehavior: types.OriginAccessControlSigningBehaviorsAlways, SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4}}))(t)
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: s3("both", "origin-access-identity/cloudfront/"+id, oac.OriginAccessControl.Id)})
	wantAPIError(t, err, "IllegalOriginAccessConfiguration", 400)
	e.createDistribution(s3("good-oai", "origin-access-identity/cloudfront/"+id, nil))
	_, err = e.cf.DeleteCloudFrontOriginAccessIdentity(ctx, &cfsdk.DeleteCloudFrontOriginAccessIdentityInput{Id: aws.String(id), IfMatch: upd.ETag})
	wantAPIError(t, err, "CloudFrontOriginAccessIdentityInUse", 409)
	_, err = e.cf.GetCloudFrontOriginAccessIdentity(ctx, &cfsdk.GetCloudFrontOriginAccessIdentityInput{Id: aws.String("ENOTANOAI00000")})
	wantAPIError(t, err, "NoSuchCloudFrontOriginAccessIdentity", 404)
}
