package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// TestDistributionsPerResourceQuotasSDK: with each quota on the
// distributions one resource may serve lowered to 1 (as `--quota
// distributions-per-cache-policy=1` does), a second distribution naming a
// custom cache policy, origin request policy, response headers policy,
// key group or origin access control that a first one names is refused;
// the SDK reads the code, the status and its typed error.
func TestDistributionsPerResourceQuotasSDK(t *testing.T) {
	t.Parallel()
	q, err := cf.ParseQuotas([]string{
		"distributions-per-cache-policy=1", "distributions-per-origin-request-policy=1",
		"distributions-per-response-headers-policy=1", "distributions-per-key-group=1",
		"distributions-per-origin-access-control=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, control.Options{Quotas: &q})
	ctx := context.Background()
	cp := must(e.cf.CreateCachePolicy(ctx, &cfsdk.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("q-cp")}))(t).CachePolicy.Id
	orp := must(e.cf.CreateOriginRequestPolicy(ctx, &cfsdk.CreateOriginRequestPolicyInput{OriginRequestPolicyConfig: orpConfig("q-orp")}))(t).OriginRequestPolicy.Id
	rhp := must(e.cf.CreateResponseHeadersPolicy(ctx, &cfsdk.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: rhpConfig("q-rhp")}))(t).ResponseHeadersPolicy.Id
	pk := must(e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("q-key", "q-key", rsaPublicKeyPEM(t, 2048))}))(t).PublicKey.Id
	kg := must(e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("q-group"), Items: []string{aws.ToString(pk)}}}))(t).KeyGroup.Id
	oac := must(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: &types.OriginAccessControlConfig{
		Name: aws.String("q-oac"), OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
		SigningBehavior: types.OriginAccessControlSigningBehaviorsAlways, SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4}}))(t).OriginAccessControl.Id

	uses := map[string]func(*types.DistributionConfig){
		"TooManyDistributionsAssociatedToCachePolicy": func(c *types.DistributionConfig) { c.DefaultCacheBehavior.CachePolicyId = cp },
		"TooManyDistributionsAssociatedToOriginRequestPolicy": func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.OriginRequestPolicyId = orp
		},
		"TooManyDistributionsAssociatedToResponseHeadersPolicy": func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.ResponseHeadersPolicyId = rhp
		},
		"TooManyDistributionsAssociatedToKeyGroup": func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{aws.ToString(kg)}}
		},
		"TooManyDistributionsAssociatedToOriginAccessControl": func(c *types.DistributionConfig) {
			c.Origins.Items[0] = types.Origin{Id: aws.String("web"), DomainName: aws.String("bucket.s3.amazonaws.com"),
				OriginAccessControlId: oac, S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}}
		},
	}
	all := distConfig("q-first")
	for _, use := range uses {
		use(all)
	}
	e.createDistribution(all)

	typed := map[string]func(error) bool{
		"TooManyDistributionsAssociatedToCachePolicy":           isError[*types.TooManyDistributionsAssociatedToCachePolicy],
		"TooManyDistributionsAssociatedToOriginRequestPolicy":   isError[*types.TooManyDistributionsAssociatedToOriginRequestPolicy],
		"TooManyDistributionsAssociatedToResponseHeadersPolicy": isError[*types.TooManyDistributionsAssociatedToResponseHeadersPolicy],
		"TooManyDistributionsAssociatedToKeyGroup":              isError[*types.TooManyDistributionsAssociatedToKeyGroup],
		"TooManyDistributionsAssociatedToOriginAccessControl":   isError[*types.TooManyDistributionsAssociatedToOriginAccessControl],
	}
	for code, use := range uses {
		cfg := distConfig("q-" + code)
		use(cfg)
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
		wantAPIError(t, err, code, 400)
		if !typed[code](err) {
			t.Errorf("%s: the SDK did not read its typed error from %v", code, err)
		}
		if !strings.Contains(err.Error(), "The quota is 1 distributions") {
			t.Errorf("%s: message %v does not say the quota", code, err)
		}
	}
}

// isError reports whether err is (or wraps) the SDK's typed error T.
func isError[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
