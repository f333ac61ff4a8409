//lint:file-ignore SA1019 legacy ForwardedValues and TTLs are still valid CloudFront input; InvalidTTLOrder is about them

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store"
)

// contractCase drives a client into one row of the error table. Exactly
// one of sdk and raw is set: sdk calls the real aws-sdk-go-v2 client, raw
// sends a request the SDK cannot form (no body, broken XML, no signature).
type contractCase struct {
	row *cf.Error
	sdk func(ctx context.Context, e *env) error
	raw func(e *env) rawResponse
	// message is the exact message for a fixed row (the table's) and for
	// DistributionAlreadyExists; for a variable row, a part of it.
	message string
}

// wireError is the <Error> of an <ErrorResponse> as a client reads it.
type wireError struct {
	code, message, typeName string
	status                  int
	sdkType                 string // the SDK's Go type for the error
}

func sdkError(t *testing.T, err error) wireError {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded")
	}
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	if !errors.As(err, &apiErr) || !errors.As(err, &respErr) {
		t.Fatalf("not an API error from a response: %v", err)
	}
	return wireError{code: apiErr.ErrorCode(), message: apiErr.ErrorMessage(), status: respErr.HTTPStatusCode(),
		sdkType: reflect.TypeOf(apiErr).String()}
}

func rawError(t *testing.T, resp rawResponse) wireError {
	t.Helper()
	var doc struct {
		Error struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal([]byte(resp.body), &doc); err != nil {
		t.Fatalf("status %d, body is not an ErrorResponse: %v\n%s", resp.status, err, resp.body)
	}
	return wireError{code: doc.Error.Code, message: doc.Error.Message, typeName: doc.Error.Type, status: resp.status}
}

// signedAt sends a request signed (or presigned, with expires) at a given time.
func (e *env) signedAt(method, path string, at time.Time, presignFor time.Duration) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, http.NoBody)
	if err != nil {
		e.t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	sum := sha256.Sum256(nil)
	if presignFor > 0 {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", fmt.Sprint(int(presignFor.Seconds())))
		req.URL.RawQuery = q.Encode()
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cloudfront", "us-east-1", at)
		if err != nil {
			e.t.Fatal(err)
		}
		if req, err = http.NewRequest(method, signed, http.NoBody); err != nil {
			e.t.Fatal(err)
		}
	} else if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cloudfront", "us-east-1", at); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// failingStore answers every call with err.
type failingStore struct {
	store.Store
	err error
}

func (s failingStore) Get(context.Context, string) (store.KV, error) { return store.KV{}, s.err }
func (s failingStore) List(context.Context, string) ([]store.KV, int64, error) {
	return nil, 0, s.err
}

// clientOver serves the API over a store that fails with err and returns
// an SDK client for it.
func clientOver(t *testing.T, err error) *cfsdk.Client {
	t.Helper()
	h := api.New(control.New(failingStore{err: err}, control.Options{}), api.Options{
		Verifier: auth.None(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return newClient(srv.URL, testKeyID, testSecret)
}

func get(id string) func(ctx context.Context, e *env) error {
	return func(ctx context.Context, e *env) error {
		_, err := e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String(id)})
		return err
	}
}

// create returns a case body creating a distribution changed by change.
func create(ref string, change func(c *types.DistributionConfig)) func(ctx context.Context, e *env) error {
	return func(ctx context.Context, e *env) error {
		c := distConfig(ref)
		change(c)
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: c})
		return err
	}
}

// legacyForwarding makes the default behavior forward the given numbers
// of cookies, headers and query string keys the legacy way.
func legacyForwarding(cookies, headers, queryKeys int) func(c *types.DistributionConfig) {
	names := func(n int, prefix string) []string {
		out := []string{}
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	return func(c *types.DistributionConfig) {
		b := c.DefaultCacheBehavior
		b.CachePolicyId = nil
		b.ForwardedValues = &types.ForwardedValues{QueryString: aws.Bool(true),
			Cookies:              &types.CookiePreference{Forward: types.ItemSelectionWhitelist, WhitelistedNames: &types.CookieNames{Quantity: aws.Int32(int32(cookies)), Items: names(cookies, "c")}},
			Headers:              &types.Headers{Quantity: aws.Int32(int32(headers)), Items: names(headers, "X-F")},
			QueryStringCacheKeys: &types.QueryStringCacheKeys{Quantity: aws.Int32(int32(queryKeys)), Items: names(queryKeys, "q")}}
		b.MinTTL, b.DefaultTTL, b.MaxTTL = aws.Int64(0), aws.Int64(0), aws.Int64(0)
	}
}

func customOrigin(c *types.DistributionConfig) *types.CustomOriginConfig {
	return c.Origins.Items[0].CustomOriginConfig
}

// notDrivenHere are rows no request can reach today, each with the reason;
// TestErrorContract fails if a row is neither driven nor listed here.
var notDrivenHere = map[string]string{
	"TooManyCloudFrontOriginAccessIdentities": "an account quota reached only after many origin access identities",
	"AccessDenied": "stagefront has one account and no IAM policies: an authenticated caller may do everything",
	"ContinuousDeploymentPolicyAlreadyExists":     "CloudFront returns it for a second identical policy; stagefront answers StagingDistributionInUse first, as each staging distribution has at most one policy",
	"TooManyContinuousDeploymentPolicies":         "each policy names its own staging distribution, and TooManyDistributions stops the staging distributions at the same number",
	"TooManyOriginRequestPolicies":                "an account quota reached only after many policies; the same check as TooManyCachePolicies",
	"TooManyCookiesInOriginRequestPolicy":         "the same check as TooManyHeadersInOriginRequestPolicy, on cookies",
	"TooManyQueryStringsInOriginRequestPolicy":    "the same check as TooManyHeadersInOriginRequestPolicy, on query strings",
	"TooManyResponseHeadersPolicies":              "an account quota reached only after many policies; the same check as TooManyCachePolicies",
	"TooManyRemoveHeadersInResponseHeadersPolicy": "the same check as TooManyCustomHeadersInResponseHeadersPolicy, on RemoveHeadersConfig",
	"TooManyPublicKeys":                           "an account quota reached only after many public keys",
	"TooManyKeyGroups":                            "an account quota reached only after many key groups",
	"TrustedSignerDoesNotExist":                   "declared for trusted signers, which are refused with InvalidArgument until the edge verifies signed URLs",
}

// drivenElsewhere are rows another test of this package drives through
// the SDK with their own setup (custom policies, keys); the file named must
// assert the code.
var drivenElsewhere = map[string]string{
	"CloudFrontOriginAccessIdentityAlreadyExists":           "oai_test.go",
	"CloudFrontOriginAccessIdentityInUse":                   "oai_test.go",
	"InvalidOriginAccessIdentity":                           "oai_test.go",
	"IllegalOriginAccessConfiguration":                      "oai_test.go",
	"CachePolicyAlreadyExists":                              "custom_policies_test.go",
	"CachePolicyInUse":                                      "custom_policies_test.go",
	"TooManyCachePolicies":                                  "custom_policies_test.go",
	"TooManyHeadersInCachePolicy":                           "custom_policies_test.go",
	"TooManyCookiesInCachePolicy":                           "custom_policies_test.go",
	"TooManyQueryStringsInCachePolicy":                      "custom_policies_test.go",
	"OriginRequestPolicyAlreadyExists":                      "custom_policies_test.go",
	"OriginRequestPolicyInUse":                              "custom_policies_test.go",
	"TooManyHeadersInOriginRequestPolicy":                   "custom_policies_test.go",
	"ResponseHeadersPolicyAlreadyExists":                    "custom_policies_test.go",
	"ResponseHeadersPolicyInUse":                            "custom_policies_test.go",
	"TooManyCustomHeadersInResponseHeadersPolicy":           "custom_policies_test.go",
	"TooLongCSPInResponseHeadersPolicy":                     "custom_policies_test.go",
	"IllegalDelete":                                         "custom_policies_test.go",
	"PublicKeyAlreadyExists":                                "keys_test.go",
	"PublicKeyInUse":                                        "keys_test.go",
	"CannotChangeImmutablePublicKeyFields":                  "keys_test.go",
	"KeyGroupAlreadyExists":                                 "keys_test.go",
	"TooManyPublicKeysInKeyGroup":                           "keys_test.go",
	"TooManyDistributionsAssociatedToCachePolicy":           "quota_associations_test.go",
	"TooManyDistributionsAssociatedToOriginRequestPolicy":   "quota_associations_test.go",
	"TooManyDistributionsAssociatedToResponseHeadersPolicy": "quota_associations_test.go",
	"TooManyDistributionsAssociatedToKeyGroup":              "quota_associations_test.go",
	"TooManyDistributionsAssociatedToOriginAccessControl":   "quota_associations_test.go",
}

// TestErrorContract drives a real client into every reachable row of the
// error table and checks what the client reads: code, HTTP status, Type,
// message, and for fixed rows the SDK's typed error.
func TestErrorContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first := e.createDistribution(distConfig("contract-first"))
	firstID := aws.ToString(first.Distribution.Id)
	firstETag := aws.ToString(first.ETag)

	cases := []contractCase{
		{row: cf.ErrInvalidClientTokenID, message: "security token", sdk: func(ctx context.Context, e *env) error {
			_, err := newClient(e.url, "AKIDUNKNOWNKEY000000", testSecret).ListDistributions(ctx, &cfsdk.ListDistributionsInput{})
			return err
		}},
		{row: cf.ErrSignatureDoesNotMatch, message: "signature", sdk: func(ctx context.Context, e *env) error {
			_, err := newClient(e.url, testKeyID, "not-the-secret").ListDistributions(ctx, &cfsdk.ListDistributionsInput{})
			return err
		}},
		{row: cf.ErrMissingAuthenticationToken, message: "Authentication Token", raw: func(e *env) rawResponse {
			return e.rawRequest("GET", "/2020-05-31/distribution", nil, nil, true)
		}},
		{row: cf.ErrIncompleteSignature, raw: func(e *env) rawResponse {
			return e.rawRequest("GET", "/2020-05-31/distribution", http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=broken"}}, nil, true)
		}},
		{row: cf.ErrRequestTimeTooSkewed, message: "Signature expired", raw: func(e *env) rawResponse {
			return e.signedAt("GET", "/2020-05-31/distribution", time.Now().Add(-time.Hour), 0)
		}},
		{row: cf.ErrRequestExpired, message: "Request has expired", raw: func(e *env) rawResponse {
			return e.signedAt("GET", "/2020-05-31/distribution", time.Now().Add(-time.Hour), time.Minute)
		}},
		{row: cf.ErrRequestEntityTooLarge, raw: func(e *env) rawResponse {
			return e.rawRequest("POST", "/2020-05-31/distribution", nil, bytes.Repeat([]byte("x"), auth.MaxBodyBytes+1), false)
		}},
		{row: cf.ErrMissingBody, message: cf.ErrMissingBody.Message, raw: func(e *env) rawResponse {
			return e.rawRequest("POST", "/2020-05-31/distribution", nil, nil, false)
		}},
		{row: cf.ErrMalformedInput, message: "not well-formed", raw: func(e *env) rawResponse {
			return e.rawRequest("POST", "/2020-05-31/distribution", nil, []byte(`<DistributionConfig xmlns="`+cf.Namespace+`"><Comment>`), false)
		}},
		{row: cf.ErrNotFound, raw: func(e *env) rawResponse { return e.rawRequest("GET", "/2020-05-31/no-such-operation", nil, nil, false) }},
		{row: cf.ErrMethodNotAllowed, raw: func(e *env) rawResponse { return e.rawRequest("PATCH", "/2020-05-31/distribution", nil, nil, false) }},

		{row: cf.ErrNoSuchDistribution, sdk: get("E000000000000")},
		{row: cf.ErrNoSuchInvalidation, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetInvalidation(ctx, &cfsdk.GetInvalidationInput{DistributionId: aws.String(firstID), Id: aws.String("I000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchCachePolicy, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchOriginRequestPolicy, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetOriginRequestPolicy(ctx, &cfsdk.GetOriginRequestPolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchResponseHeadersPolicy, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetResponseHeadersPolicy(ctx, &cfsdk.GetResponseHeadersPolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchCDPolicy, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetContinuousDeploymentPolicy(ctx, &cfsdk.GetContinuousDeploymentPolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchOriginAccessControl, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetOriginAccessControl(ctx, &cfsdk.GetOriginAccessControlInput{Id: aws.String("E0000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchResource, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetKeyGroup(ctx, &cfsdk.GetKeyGroupInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchOAI, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetCloudFrontOriginAccessIdentity(ctx, &cfsdk.GetCloudFrontOriginAccessIdentityInput{Id: aws.String("E000000000000")})
			return err
		}},
		{row: cf.ErrTooManyKeyGroupsAssociatedToDist, sdk: create("contract-key-groups", func(c *types.DistributionConfig) {
			n := cf.MaxKeyGroupsPerBehavior + 1
			c.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(int32(n))}
			for i := range n {
				c.DefaultCacheBehavior.TrustedKeyGroups.Items = append(c.DefaultCacheBehavior.TrustedKeyGroups.Items, fmt.Sprintf("kg-%d", i))
			}
		})},
		{row: cf.ErrNoSuchPublicKey, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.GetPublicKey(ctx, &cfsdk.GetPublicKeyInput{Id: aws.String("K000000000000")})
			return err
		}},
		{row: cf.ErrNoSuchOrigin, sdk: create("contract-no-origin", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TargetOriginId = aws.String("elsewhere")
		})},
		{row: cf.ErrNoSuchFieldLevelEncryptionConfig, sdk: create("contract-fle", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.FieldLevelEncryptionId = aws.String("C3A5GMH2Z8B2BU")
		})},
		{row: cf.ErrNoSuchRealtimeLogConfig, sdk: create("contract-rtl", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.RealtimeLogConfigArn = aws.String("arn:aws:cloudfront::123456789012:realtime-log-config/x")
		})},
		{row: cf.ErrTrustedKeyGroupDoesNotExist, sdk: create("contract-tkg", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"made-up"}}
		})},

		{row: cf.ErrDistributionAlreadyExists, message: cf.DistributionAlreadyExists(firstID).Message, sdk: create("contract-first", func(*types.DistributionConfig) {})},
		{row: cf.ErrCNAMEAlreadyExists, message: "contract.example.com", sdk: func(ctx context.Context, e *env) error {
			c := distConfig("contract-cname-1")
			c.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"contract.example.com"}}
			e.createDistribution(c)
			c.CallerReference = aws.String("contract-cname-2")
			_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: c})
			return err
		}},
		{row: cf.ErrDistributionNotDisabled, message: cf.ErrDistributionNotDisabled.Message, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(firstID), IfMatch: aws.String(firstETag)})
			return err
		}},
		{row: cf.ErrInvalidIfMatchVersion, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(firstID), DistributionConfig: distConfig("contract-first")})
			return err
		}},
		{row: cf.ErrPreconditionFailed, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(firstID), IfMatch: aws.String("E2STALE"), DistributionConfig: distConfig("contract-first")})
			return err
		}},
		{row: cf.ErrIllegalUpdate, message: "CallerReference", sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(firstID), IfMatch: aws.String(e.etag(firstID)), DistributionConfig: distConfig("contract-other-ref")})
			return err
		}},
		{row: cf.ErrInconsistentQuantities, message: "Aliases", sdk: create("contract-quantities", func(c *types.DistributionConfig) {
			c.Aliases = &types.Aliases{Quantity: aws.Int32(2), Items: []string{"one.example.com"}}
		})},
		{row: cf.ErrInvalidArgument, message: "TrustedSigners", sdk: create("contract-signers", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedSigners = &types.TrustedSigners{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"self"}}
		})},
		{row: cf.ErrInvalidWebACLId, message: "WebACLId", sdk: create("contract-waf", func(c *types.DistributionConfig) {
			c.WebACLId = aws.String("473e64fd-f30b-4765-81a0-62ad96dd167a")
		})},
		{row: cf.ErrInvalidOrigin, message: "exactly one", sdk: create("contract-two-kinds", func(c *types.DistributionConfig) {
			c.Origins.Items[0].S3OriginConfig = &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}
		})},
		{row: cf.ErrInvalidOriginAccessControl, sdk: create("contract-oac", func(c *types.DistributionConfig) {
			c.Origins.Items[0].OriginAccessControlId = aws.String("E0NOSUCHOAC00")
		})},
		{row: cf.ErrInvalidTTLOrder, sdk: create("contract-ttl", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.CachePolicyId = nil
			c.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{QueryString: aws.Bool(false), Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone}}
			c.DefaultCacheBehavior.MinTTL, c.DefaultCacheBehavior.DefaultTTL, c.DefaultCacheBehavior.MaxTTL = aws.Int64(100), aws.Int64(10), aws.Int64(1000)
		})},
		{row: cf.ErrInvalidOriginReadTimeout, sdk: create("contract-read-timeout", func(c *types.DistributionConfig) {
			customOrigin(c).OriginReadTimeout = aws.Int32(181)
		})},
		{row: cf.ErrInvalidOriginKeepaliveTimeout, sdk: create("contract-keepalive", func(c *types.DistributionConfig) {
			customOrigin(c).OriginKeepaliveTimeout = aws.Int32(181)
		})},
		{row: cf.ErrInvalidDefaultRootObject, sdk: create("contract-root", func(c *types.DistributionConfig) {
			c.DefaultRootObject = aws.String("/index.html")
		})},
		{row: cf.ErrInvalidErrorCode, sdk: create("contract-error-code", func(c *types.DistributionConfig) {
			c.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{ErrorCode: aws.Int32(200)}}}
		})},
		{row: cf.ErrInvalidResponseCode, sdk: create("contract-response-code", func(c *types.DistributionConfig) {
			c.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{
				ErrorCode: aws.Int32(404), ResponsePagePath: aws.String("/404.html"), ResponseCode: aws.String("9999")}}}
		})},
		{row: cf.ErrInvalidRelativePath, sdk: create("contract-relative-path", func(c *types.DistributionConfig) {
			c.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{
				ErrorCode: aws.Int32(404), ResponsePagePath: aws.String("404.html"), ResponseCode: aws.String("404")}}}
		})},
		{row: cf.ErrInvalidLocationCode, sdk: create("contract-location", func(c *types.DistributionConfig) {
			c.Restrictions = &types.Restrictions{GeoRestriction: &types.GeoRestriction{RestrictionType: types.GeoRestrictionTypeWhitelist, Quantity: aws.Int32(1), Items: []string{"usa"}}}
		})},
		{row: cf.ErrInvalidGeoRestrictionParameter, sdk: create("contract-geo", func(c *types.DistributionConfig) {
			c.Restrictions = &types.Restrictions{GeoRestriction: &types.GeoRestriction{RestrictionType: types.GeoRestrictionTypeNone, Quantity: aws.Int32(1), Items: []string{"US"}}}
		})},
		{row: cf.ErrTooManyDistributionCNAMEs, sdk: create("contract-cnames", func(c *types.DistributionConfig) {
			n := cf.DefaultQuotas().AliasesPerDistribution + 1
			c.Aliases = &types.Aliases{Quantity: aws.Int32(int32(n))}
			for i := range n {
				c.Aliases.Items = append(c.Aliases.Items, fmt.Sprintf("a%d.example.com", i))
			}
		})},
		{row: cf.ErrTooManyOrigins, sdk: create("contract-origins", func(c *types.DistributionConfig) {
			n := cf.DefaultQuotas().OriginsPerDistribution + 1
			for i := 1; i < n; i++ {
				o := c.Origins.Items[0]
				o.Id = aws.String(fmt.Sprintf("web%d", i))
				c.Origins.Items = append(c.Origins.Items, o)
			}
			c.Origins.Quantity = aws.Int32(int32(n))
		})},
		{row: cf.ErrTooManyCacheBehaviors, sdk: create("contract-behaviors", func(c *types.DistributionConfig) {
			n := cf.DefaultQuotas().CacheBehaviorsPerDistribution + 1
			c.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(int32(n))}
			for i := range n {
				c.CacheBehaviors.Items = append(c.CacheBehaviors.Items, types.CacheBehavior{PathPattern: aws.String(fmt.Sprintf("/p%d/*", i)),
					TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled)})
			}
		})},
		{row: cf.ErrTooManyOriginGroups, sdk: create("contract-groups", func(c *types.DistributionConfig) {
			second := c.Origins.Items[0]
			second.Id = aws.String("web2")
			c.Origins.Items, c.Origins.Quantity = append(c.Origins.Items, second), aws.Int32(2)
			n := cf.DefaultQuotas().OriginGroupsPerDistribution + 1
			c.OriginGroups = &types.OriginGroups{Quantity: aws.Int32(int32(n))}
			for i := range n {
				c.OriginGroups.Items = append(c.OriginGroups.Items, types.OriginGroup{Id: aws.String(fmt.Sprintf("g%d", i)),
					FailoverCriteria: &types.OriginGroupFailoverCriteria{StatusCodes: &types.StatusCodes{Quantity: aws.Int32(1), Items: []int32{502}}},
					Members:          &types.OriginGroupMembers{Quantity: aws.Int32(2), Items: []types.OriginGroupMember{{OriginId: aws.String("web")}, {OriginId: aws.String("web2")}}}})
			}
		})},
		{row: cf.ErrTooManyCookieNamesInWhiteList, sdk: create("contract-cookies", legacyForwarding(cf.DefaultQuotas().WhitelistedCookiesPerBehavior+1, 0, 0))},
		{row: cf.ErrTooManyHeadersInForwardedValues, sdk: create("contract-fwd-headers", legacyForwarding(0, cf.DefaultQuotas().ForwardedHeadersPerBehavior+1, 0))},
		{row: cf.ErrTooManyQueryStringParameters, sdk: create("contract-query-keys", legacyForwarding(0, 0, cf.DefaultQuotas().QueryStringKeysPerBehavior+1))},
		{row: cf.ErrTooManyOriginCustomHeaders, sdk: create("contract-headers", func(c *types.DistributionConfig) {
			n := cf.DefaultQuotas().CustomHeadersPerOrigin + 1
			h := &types.CustomHeaders{Quantity: aws.Int32(int32(n))}
			for i := range n {
				h.Items = append(h.Items, types.OriginCustomHeader{HeaderName: aws.String(fmt.Sprintf("X-H%d", i)), HeaderValue: aws.String("v")})
			}
			c.Origins.Items[0].CustomHeaders = h
		})},

		{row: cf.ErrOriginAccessControlAlreadyExists, sdk: func(ctx context.Context, e *env) error {
			must(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("contract-oac")}))(e.t)
			_, err := e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("contract-oac")})
			return err
		}},
		{row: cf.ErrOriginAccessControlInUse, sdk: func(ctx context.Context, e *env) error {
			oac := must(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("contract-oac-used")}))(e.t)
			c := distConfig("contract-oac-user")
			c.Origins.Items[0].CustomOriginConfig = nil
			c.Origins.Items[0].DomainName = aws.String("bucket.s3.us-east-1.amazonaws.com")
			c.Origins.Items[0].S3OriginConfig = &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}
			c.Origins.Items[0].OriginAccessControlId = oac.OriginAccessControl.Id
			e.createDistribution(c)
			_, err := e.cf.DeleteOriginAccessControl(ctx, &cfsdk.DeleteOriginAccessControlInput{Id: oac.OriginAccessControl.Id, IfMatch: oac.ETag})
			return err
		}},
		{row: cf.ErrInvalidationBatchAlreadyExists, sdk: func(ctx context.Context, e *env) error {
			batch := func(path string) *types.InvalidationBatch {
				return &types.InvalidationBatch{CallerReference: aws.String("contract-inv"), Paths: &types.Paths{Quantity: aws.Int32(1), Items: []string{path}}}
			}
			must(e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: aws.String(firstID), InvalidationBatch: batch("/a")}))(e.t)
			_, err := e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: aws.String(firstID), InvalidationBatch: batch("/b")})
			return err
		}},
		{row: cf.ErrBatchTooLarge, sdk: func(ctx context.Context, e *env) error {
			paths := make([]string, 3001)
			for i := range paths {
				paths[i] = fmt.Sprintf("/p%d", i)
			}
			_, err := e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: aws.String(firstID), InvalidationBatch: &types.InvalidationBatch{
				CallerReference: aws.String("contract-big"), Paths: &types.Paths{Quantity: aws.Int32(3001), Items: paths}}})
			return err
		}},
		{row: cf.ErrInvalidTagging, sdk: func(ctx context.Context, e *env) error {
			_, err := e.cf.TagResource(ctx, &cfsdk.TagResourceInput{Resource: first.Distribution.ARN, Tags: &types.Tags{Items: []types.Tag{{Key: aws.String("bad key\x01"), Value: aws.String("v")}}}})
			return err
		}},
		{row: cf.ErrStagingDistributionInUse, sdk: func(ctx context.Context, e *env) error {
			fx := e.cdFixture("contract-cd-twice", "cd-twice.example.com")
			e.createPolicy(headerPolicy(fx.stagingDomain))
			_, err := e.cf.CreateContinuousDeploymentPolicy(ctx, &cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: headerPolicy(fx.stagingDomain)})
			return err
		}},
		{row: cf.ErrCDPolicyInUse, sdk: func(ctx context.Context, e *env) error {
			fx := e.cdFixture("contract-cd-in-use", "cd-in-use.example.com")
			pol := e.createPolicy(headerPolicy(fx.stagingDomain))
			e.attach(fx.primaryID, aws.ToString(pol.ContinuousDeploymentPolicy.Id))
			_, err := e.cf.DeleteContinuousDeploymentPolicy(ctx, &cfsdk.DeleteContinuousDeploymentPolicyInput{
				Id: pol.ContinuousDeploymentPolicy.Id, IfMatch: aws.String(aws.ToString(e.policyConfig(aws.ToString(pol.ContinuousDeploymentPolicy.Id)).ETag))})
			return err
		}},
		{row: cf.ErrResourceInUse, sdk: func(ctx context.Context, e *env) error {
			// A primary whose enabled policy still sends viewers to staging.
			fx := e.cdFixture("contract-primary-in-use", "primary-in-use.example.com")
			pol := e.createPolicy(headerPolicy(fx.stagingDomain))
			e.attach(fx.primaryID, aws.ToString(pol.ContinuousDeploymentPolicy.Id))
			pc := e.getConfig(fx.primaryID)
			pc.DistributionConfig.Enabled = aws.Bool(false)
			upd := must(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.primaryID), IfMatch: pc.ETag, DistributionConfig: pc.DistributionConfig}))(e.t)
			_, err := e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(fx.primaryID), IfMatch: upd.ETag})
			return err
		}},

		{row: cf.ErrTooManyDistributions, message: "staging", sdk: func(ctx context.Context, e *env) error {
			// The cases above made a few staging distributions already.
			for i := 0; i <= cf.MaxStagingDists; i++ {
				_, err := e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{PrimaryDistributionId: aws.String(firstID),
					CallerReference: aws.String(fmt.Sprintf("contract-staging-%d", i)), IfMatch: aws.String(e.etag(firstID)), Staging: aws.Bool(true)})
				if err != nil {
					return err
				}
			}
			return nil
		}},

		{row: cf.ErrServiceUnavailable, message: cf.ErrServiceUnavailable.Message, sdk: func(ctx context.Context, e *env) error {
			_, err := clientOver(e.t, fmt.Errorf("etcd: %w", store.ErrUnavailable)).GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String("E1")})
			return err
		}},
		{row: cf.ErrInternalError, message: cf.ErrInternalError.Message, sdk: func(ctx context.Context, e *env) error {
			_, err := clientOver(e.t, errors.New("bolt: input/output error")).GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String("E1")})
			return err
		}},
	}

	driven := map[string]bool{}
	outer := e.t
	for _, tc := range cases {
		driven[tc.row.Code] = true
		t.Run(tc.row.Code, func(t *testing.T) {
			e.t = t
			defer func() { e.t = outer }()
			var got wireError
			if tc.sdk != nil {
				got = sdkError(t, tc.sdk(ctx, e))
			} else {
				got = rawError(t, tc.raw(e))
				wantType := "Sender"
				if tc.row.Status >= 500 {
					wantType = "Receiver"
				}
				if got.typeName != wantType {
					t.Errorf("Type = %q, want %q", got.typeName, wantType)
				}
			}
			if got.code != tc.row.Code || got.status != tc.row.Status {
				t.Fatalf("got %s %d (%q), want %s %d", got.code, got.status, got.message, tc.row.Code, tc.row.Status)
			}
			switch {
			case tc.row.Fixed() || tc.row.Code == "DistributionAlreadyExists":
				want := tc.row.Message
				if tc.message != "" {
					want = tc.message
				}
				if got.message != want {
					t.Errorf("message = %q, want exactly %q", got.message, want)
				}
			case tc.message != "" && !strings.Contains(got.message, tc.message):
				t.Errorf("message = %q, want it to contain %q", got.message, tc.message)
			case got.message == "":
				t.Error("empty message")
			}
			// The SDK decodes an error its model lists for the operation
			// into its own type: a fixed row must come out typed.
			if tc.sdk != nil && tc.row.Fixed() && got.sdkType != "*types."+tc.row.Code {
				t.Errorf("the SDK decoded %s as %s, want *types.%s", tc.row.Code, got.sdkType, tc.row.Code)
			}
		})
	}
	for _, row := range cf.Contract() {
		_, skipped := notDrivenHere[row.Code]
		if file, ok := drivenElsewhere[row.Code]; ok {
			src, err := os.ReadFile(file)
			if err != nil || !bytes.Contains(src, []byte(`"`+row.Code+`"`)) || driven[row.Code] || skipped {
				t.Errorf("%s: said to be driven by %s, which does not assert it (%v), or it is listed twice", row.Code, file, err)
			}
			continue
		}
		switch {
		case driven[row.Code] && skipped:
			t.Errorf("%s is driven and also listed as not driven", row.Code)
		case !driven[row.Code] && !skipped:
			t.Errorf("no case drives %s (%d %q): add one, or say in notDrivenHere why none can", row.Code, row.Status, row.Message)
		}
	}
}
