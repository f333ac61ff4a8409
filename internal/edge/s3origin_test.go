package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// s3Recorder stands in for S3: it answers every request with "object" and
// remembers the Authorization header each one carried.
type s3Recorder struct {
	mu   sync.Mutex
	auth []string
}

// newS3Harness starts an s3Recorder and a harness whose edge sends S3
// origins' requests to it.
func newS3Harness(t *testing.T) (*harness, *s3Recorder) {
	t.Helper()
	rec := &s3Recorder{}
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		_, _ = io.WriteString(w, "object")
	}))
	t.Cleanup(s3.Close)
	endpoint, _ := url.Parse(s3.URL)
	return newHarness(t, harnessOptions{s3Endpoint: endpoint}), rec
}

// last is the Authorization header of the latest request ("" for none,
// "<no request>" before any).
func (rec *s3Recorder) last() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.auth) == 0 {
		return "<no request>"
	}
	return rec.auth[len(rec.auth)-1]
}

// s3DistConfig is a distribution config with one S3 origin, with the
// origin access identity path oaiPath ("" for none) and the origin access
// control oacID (nil for none).
func s3DistConfig(ref, oaiPath string, oacID *string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("s3"), DomainName: aws.String("bucket.s3.us-east-1.amazonaws.com"),
			OriginAccessControlId: oacID,
			S3OriginConfig:        &types.S3OriginConfig{OriginAccessIdentity: aws.String(oaiPath)},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("s3"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled)},
	}
}
