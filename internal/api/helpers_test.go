package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

const (
	testKeyID  = "AKIDSTAGEFRONTTEST01"
	testSecret = "stagefront-test-secret-key-0123456789abcd"

	cachingDisabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

	allViewer                 = "216adef6-5c7f-47e4-b989-5492eafa07d3"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	corsS3Origin              = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
)

// staticCreds is the credential store the test server verifies against.
type staticCreds map[string]string

func (c staticCreds) Lookup(accessKeyID string) (secret, name string, ok bool) {
	secret, ok = c[accessKeyID]
	return secret, "tester", ok
}

// errorLog counts the error-level records the API logs: a test that sees
// one got a 500 it did not ask for.
type errorLog struct {
	mu      sync.Mutex
	records []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, b.String())
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

// env is one API server over a fresh bbolt store, with an SDK client.
type env struct {
	t      *testing.T
	url    string
	cf     *cfsdk.Client
	svc    *control.Service
	errLog *errorLog
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, control.Options{})
}

// newEnvWith is newEnv with the service's options (its quotas, say).
func newEnvWith(t *testing.T, opts control.Options) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	opts.DomainSuffix = "cdn.test"
	svc := control.New(st, opts)
	errLog := &errorLog{}
	h := api.New(svc, api.Options{
		Verifier: auth.NewVerifier(staticCreds{testKeyID: testSecret}, time.Now, 0),
		Logger:   slog.New(errLog),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		errLog.mu.Lock()
		defer errLog.mu.Unlock()
		for _, rec := range errLog.records {
			t.Errorf("unexpected server error log: %s", rec)
		}
	})
	return &env{t: t, url: srv.URL, cf: newClient(srv.URL, testKeyID, testSecret), svc: svc, errLog: errLog}
}

func newClient(url, keyID, secret string) *cfsdk.Client {
	return cfsdk.New(cfsdk.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// wantAPIError asserts that err is the CloudFront error code with status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s (%d)", code, status)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) {
		t.Fatalf("got %v, want an HTTP response error", err)
	}
	if got := respErr.HTTPStatusCode(); got != status {
		t.Fatalf("%s: HTTP status = %d, want %d", code, got, status)
	}
	if respErr.ServiceRequestID() == "" {
		t.Errorf("%s: the error carries no request id", code)
	}
}

// must checks a call's error: must(client.Op(ctx, in))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// distConfig is a small valid primary config, as a user would send it.
func distConfig(ref string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("primary " + ref),
		Enabled:         aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id:         aws.String("web"),
			DomainName: aws.String("origin.example.com"),
			OriginPath: aws.String("/v1"),
			CustomOriginConfig: &types.CustomOriginConfig{
				HTTPPort: aws.Int32(8081), HTTPSPort: aws.Int32(443),
				OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly,
			},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId:       aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId:        aws.String(cachingDisabled),
		},
	}
}

func (e *env) createDistribution(cfg *types.DistributionConfig) *cfsdk.CreateDistributionOutput {
	e.t.Helper()
	return must(e.cf.CreateDistribution(context.Background(), &cfsdk.CreateDistributionInput{DistributionConfig: cfg}))(e.t)
}

func (e *env) getConfig(id string) *cfsdk.GetDistributionConfigOutput {
	e.t.Helper()
	return must(e.cf.GetDistributionConfig(context.Background(), &cfsdk.GetDistributionConfigInput{Id: aws.String(id)}))(e.t)
}

func (e *env) etag(id string) string {
	e.t.Helper()
	return aws.ToString(e.getConfig(id).ETag)
}

// copyStaging makes a staging copy of primaryID.
func (e *env) copyStaging(primaryID, ref string) *types.Distribution {
	e.t.Helper()
	out := must(e.cf.CopyDistribution(context.Background(), &cfsdk.CopyDistributionInput{
		PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String(ref),
		IfMatch: aws.String(e.etag(primaryID)), Staging: aws.Bool(true),
	}))(e.t)
	return out.Distribution
}

func headerPolicy(stagingDomain string) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(true),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &types.TrafficConfig{
			Type:               types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String("aws-cf-cd-test"), Value: aws.String("blue")},
		},
	}
}

// rawResponse is a response read by rawRequest.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest sends a request signed with the test credentials (or
// unsigned when unsigned is set), bypassing the SDK's serializers.
func (e *env) rawRequest(method, path string, header http.Header, body []byte, unsigned bool) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if len(body) == 0 {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	if !unsigned {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
			req, hex.EncodeToString(sum[:]), "cloudfront", "us-east-1", time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// wantRawError asserts a CloudFront <ErrorResponse> with code and status.
func wantRawError(t *testing.T, resp rawResponse, code string, status int) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">`,
		"<Code>" + code + "</Code>", "<RequestId>" + resp.header.Get("X-Amzn-Requestid") + "</RequestId>"} {
		if !strings.Contains(resp.body, want) {
			t.Errorf("error body lacks %q:\n%s", want, resp.body)
		}
	}
	wantType := "Sender"
	if status >= 500 {
		wantType = "Receiver"
	}
	if !strings.Contains(resp.body, "<Type>"+wantType+"</Type>") {
		t.Errorf("error body lacks <Type>%s</Type>:\n%s", wantType, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type = %q, want text/xml", ct)
	}
}
