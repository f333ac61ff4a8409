package api_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/testutil"
)

// refusal is one config change the API must refuse, through the SDK.
type refusal struct {
	name    string
	change  func(c *types.DistributionConfig)
	code    string
	status  int
	message string // a part of the message
}

func (e *env) wantRefused(t *testing.T, tc refusal) {
	t.Helper()
	ctx := context.Background()
	cfg := distConfig("refused-" + strings.ReplaceAll(tc.name, " ", "-"))
	tc.change(cfg)
	_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, tc.code, tc.status)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr); !strings.Contains(apiErr.ErrorMessage(), tc.message) {
		t.Errorf("%s: message %q does not mention %q", tc.name, apiErr.ErrorMessage(), tc.message)
	}
}

// TestAccessControlsRefused: a distribution asking the edge for an access
// control it does not enforce is refused at create and at update, so the
// edge never serves unsigned or any-country requests it was told to block.
func TestAccessControlsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []refusal{
		{"trusted signers", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedSigners = &types.TrustedSigners{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"self"}}
		}, "InvalidArgument", 400, "TrustedSigners"},
		{"made-up key group", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"made-up"}}
		}, "TrustedKeyGroupDoesNotExist", 400, ""},
		{"geo restriction", func(c *types.DistributionConfig) {
			c.Restrictions = &types.Restrictions{GeoRestriction: &types.GeoRestriction{
				RestrictionType: types.GeoRestrictionTypeWhitelist, Quantity: aws.Int32(1), Items: []string{"US"}}}
		}, "InvalidArgument", 400, "Restrictions.GeoRestriction"},
		{"viewer-request function", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.FunctionAssociations = &types.FunctionAssociations{Quantity: aws.Int32(1), Items: []types.FunctionAssociation{{
				FunctionARN: aws.String("arn:aws:cloudfront::123456789012:function/auth"), EventType: types.EventTypeViewerRequest}}}
		}, "InvalidArgument", 400, "FunctionAssociations"},
		{"web ACL", func(c *types.DistributionConfig) {
			c.WebACLId = aws.String("473e64fd-f30b-4765-81a0-62ad96dd167a")
		}, "InvalidWebACLId", 400, "WebACLId"},
	}
	for _, tc := range cases {
		e.wantRefused(t, tc)
	}

	// Update: a live distribution cannot be switched to one either.
	ctx := context.Background()
	created := e.createDistribution(distConfig("access-update"))
	id := aws.ToString(created.Distribution.Id)
	for _, tc := range cases {
		cur := e.getConfig(id)
		tc.change(cur.DistributionConfig)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig})
		wantAPIError(t, err, tc.code, tc.status)
	}
}

// TestOriginCustomHeadersRefusedThroughAPI: a custom origin header that
// would reframe the origin request (Content-Length, Transfer-Encoding),
// duplicate Host, or carry CR/LF is refused with CloudFront's message.
func TestOriginCustomHeadersRefusedThroughAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, h := range []struct{ name, value, message string }{
		{"Content-Length", "0", "The parameter HeaderName : Content-Length is not allowed."},
		{"Transfer-Encoding", "chunked", "The parameter HeaderName : Transfer-Encoding is not allowed."},
		{"Host", "internal.example.com", "The parameter HeaderName : Host is not allowed."},
		{"X-Amz-Security-Token", "t", "The parameter HeaderName : X-Amz-Security-Token is not allowed."},
		{"X-Tenant", "a\r\nX-Injected: 1", "HeaderValue"},
	} {
		e.wantRefused(t, refusal{name: "header " + h.name, change: func(c *types.DistributionConfig) {
			c.Origins.Items[0].CustomHeaders = &types.CustomHeaders{Quantity: aws.Int32(1), Items: []types.OriginCustomHeader{
				{HeaderName: aws.String(h.name), HeaderValue: aws.String(h.value)}}}
		}, code: "InvalidArgument", status: 400, message: h.message})
	}
}

// TestOriginAndLoggingParity: origin DomainNames and the logging bucket
// CloudFront refuses are refused with its code and message.
func TestOriginAndLoggingParity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []refusal{
		{"S3 origin on a web host", func(c *types.DistributionConfig) {
			c.Origins.Items[0].CustomOriginConfig = nil
			c.Origins.Items[0].S3OriginConfig = &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}
		}, "InvalidArgument", 400, "The parameter Origin DomainName does not refer to a valid S3 bucket."},
		{"origin with a scheme", func(c *types.DistributionConfig) {
			c.Origins.Items[0].DomainName = aws.String("https://origin.example.com")
		}, "InvalidArgument", 400, "The parameter origin name must be a domain name."},
		{"origin with a port", func(c *types.DistributionConfig) {
			c.Origins.Items[0].DomainName = aws.String("origin.example.com:8080")
		}, "InvalidArgument", 400, "The parameter origin name must be a domain name."},
		{"origin with a path", func(c *types.DistributionConfig) {
			c.Origins.Items[0].DomainName = aws.String("origin.example.com/v1")
		}, "InvalidArgument", 400, "The parameter origin name must be a domain name."},
		{"logging bucket", func(c *types.DistributionConfig) {
			c.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), IncludeCookies: aws.Bool(false), Bucket: aws.String("my-logs"), Prefix: aws.String("")}
		}, "InvalidArgument", 400, "The S3 bucket that you specified for CloudFront logs does not exist: my-logs"},
		{"field-level encryption config", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.FieldLevelEncryptionId = aws.String("C3A5GMH2Z8B2BU")
		}, "NoSuchFieldLevelEncryptionConfig", 404, "The specified configuration for field-level encryption doesn't exist."},
		{"real-time log config", func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.RealtimeLogConfigArn = aws.String("arn:aws:cloudfront::123456789012:realtime-log-config/x")
		}, "NoSuchRealtimeLogConfig", 404, "The real-time log configuration does not exist."},
	} {
		e.wantRefused(t, tc)
	}
	// A bucket endpoint works, and so does logging to <bucket>.s3.amazonaws.com.
	cfg := distConfig("s3-and-logs")
	cfg.Origins.Items[0].CustomOriginConfig = nil
	cfg.Origins.Items[0].DomainName = aws.String("site.s3.eu-west-1.amazonaws.com")
	cfg.Origins.Items[0].S3OriginConfig = &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}
	cfg.Logging = &types.LoggingConfig{Enabled: aws.Bool(true), IncludeCookies: aws.Bool(false), Bucket: aws.String("my-logs.s3.amazonaws.com"), Prefix: aws.String("cf/")}
	e.createDistribution(cfg)
}

// fullDiskStore is a real bbolt store whose writes fail the way bbolt's do
// on a full disk: the write(2) error ENOSPC, classified by the store.
type fullDiskStore struct{ store.Store }

func (fullDiskStore) Txn(context.Context, []store.Cond, []store.Op) (int64, error) {
	return 0, fmt.Errorf("bolt: txn: %w: %w", store.ErrNoSpace, &os.PathError{Op: "write", Path: "/var/lib/stagefront/stagefront.db", Err: syscall.ENOSPC})
}

// TestFullDiskIs503: a write that fails for want of space is 503
// ServiceUnavailable, which SDKs retry, not a 500; the path of the
// database file does not reach the client.
func TestFullDiskIs503(t *testing.T) {
	t.Parallel()
	url := serveAPI(t, fullDiskStore{testutil.OpenBolt(t)})
	_, err := testutil.CloudFront(url, testKeyID, testSecret).CreateDistribution(context.Background(), &cfsdk.CreateDistributionInput{DistributionConfig: distConfig("full-disk")})
	wantAPIError(t, err, "ServiceUnavailable", 503)
	if strings.Contains(err.Error(), "stagefront.db") || strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("the 503 leaks the cause: %v", err)
	}
}

// TestClosedStoreWriteIs503: a write to a store that is unreachable is
// 503 ServiceUnavailable with CloudFront's message; the service returns the
// store's error as is and the API translates it, once.
func TestClosedStoreWriteIs503(t *testing.T) {
	t.Parallel()
	st := testutil.OpenBolt(t)
	url := serveAPI(t, st)
	testutil.Must(t, st.Close())
	_, err := testutil.CloudFront(url, testKeyID, testSecret).CreateDistribution(context.Background(), &cfsdk.CreateDistributionInput{DistributionConfig: distConfig("closed-store")})
	wantAPIError(t, err, "ServiceUnavailable", 503)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorMessage() != cf.ErrServiceUnavailable.Message {
		t.Errorf("message = %q; want %q", apiErr.ErrorMessage(), cf.ErrServiceUnavailable.Message)
	}
}

// TestLongCallerReference: a CallerReference of 32,800 characters (past
// bbolt's key limit) is a 400, for a distribution and an invalidation.
func TestLongCallerReference(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	long := strings.Repeat("r", 32800)
	_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: distConfig(long)})
	wantAPIError(t, err, "InvalidArgument", 400)
	id := e.createDistribution(distConfig("long-ref")).Distribution.Id
	_, err = e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: id, InvalidationBatch: &types.InvalidationBatch{
		CallerReference: aws.String(long), Paths: &types.Paths{Quantity: aws.Int32(1), Items: []string{"/a"}}}})
	wantAPIError(t, err, "InvalidArgument", 400)
	_, err = e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{PrimaryDistributionId: id, CallerReference: aws.String(long),
		IfMatch: aws.String(e.etag(aws.ToString(id))), Staging: aws.Bool(true)})
	wantAPIError(t, err, "InvalidArgument", 400)
}
