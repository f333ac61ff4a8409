package auth

// Requests signed by real clients: aws-sdk-go-v2's CloudFront client,
// botocore (its CloudFront client and bare SigV4Auth / SigV4QueryAuth) and
// the aws CLI, all against an httptest server running Middleware. These
// catch canonicalization differences (path escaping, query encoding, which
// headers get signed) that SDK-signs-SDK tests cannot.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

const testARN = "arn:aws:cloudfront::123456789012:distribution/E123"

// verdict is what the server decided about one request.
type verdict struct {
	Method, RequestURI, Principal, Err string
}

// recordingServer runs the real Middleware with a time.Now clock (real
// clients sign with the real time) and records a verdict per request.
type recordingServer struct {
	*httptest.Server
	mu       sync.Mutex
	verdicts []verdict
}

func newRecordingServer(t *testing.T) *recordingServer {
	t.Helper()
	rs := &recordingServer{}
	v := NewVerifier(staticCreds{testKeyID: {testSecret, testName}}, time.Now, 0)
	onErr := func(w http.ResponseWriter, r *http.Request, err error) {
		rs.record(verdict{Method: r.Method, RequestURI: r.RequestURI, Err: err.Error()})
		cfErr := cloudfront.ErrInternalError
		errors.As(err, &cfErr)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(cfErr.Status)
		fmt.Fprintf(w, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>auth failed</Message></Error></ErrorResponse>", cfErr.Code)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.record(verdict{Method: r.Method, RequestURI: r.RequestURI, Principal: PrincipalFrom(r.Context())})
		w.WriteHeader(http.StatusNoContent)
	})
	rs.Server = httptest.NewServer(Middleware(v, onErr)(ok))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) record(v verdict) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.verdicts = append(rs.verdicts, v)
}

// check asserts that exactly the wanted "METHOD request-uri" lines were
// received, each verified as testName.
func (rs *recordingServer) check(t *testing.T, want []string) {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var got []string
	for _, v := range rs.verdicts {
		got = append(got, v.Method+" "+v.RequestURI)
		if v.Err != "" || v.Principal != testName {
			t.Errorf("%s %s: principal %q, error %q; want principal %q", v.Method, v.RequestURI, v.Principal, v.Err, testName)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("requests received:\n got %q\nwant %q", got, want)
	}
}

func TestRealClientGoSDK(t *testing.T) {
	rs := newRecordingServer(t)
	client := cfsdk.New(cfsdk.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(rs.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	// The responses are empty, so decoding may fail; the server's verdicts
	// are what this test checks.
	_, _ = client.ListDistributions(ctx, &cfsdk.ListDistributionsInput{MaxItems: aws.Int32(10)})
	_, _ = client.GetDistributionConfig(ctx, &cfsdk.GetDistributionConfigInput{Id: aws.String("E123")})
	_, _ = client.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: aws.String(testARN)})
	_, _ = client.TagResource(ctx, &cfsdk.TagResourceInput{Resource: aws.String(testARN), Tags: &cftypes.Tags{
		Items: []cftypes.Tag{{Key: aws.String("team"), Value: aws.String("edge delivery")}},
	}})
	_, _ = client.UpdateDistributionWithStagingConfig(ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
		Id: aws.String("E123"), StagingDistributionId: aws.String("E456"), IfMatch: aws.String("E1ETAG,E2ETAG"),
	})
	_, _ = client.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: aws.String("E123"),
		InvalidationBatch: &cftypes.InvalidationBatch{CallerReference: aws.String("ref-1"),
			Paths: &cftypes.Paths{Quantity: aws.Int32(2), Items: []string{"/images/*", "/a b/ü.html"}}}})
	rs.check(t, []string{
		"GET /2020-05-31/distribution?MaxItems=10",
		"GET /2020-05-31/distribution/E123/config",
		"GET /2020-05-31/tagging?Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"POST /2020-05-31/tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"PUT /2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
		"POST /2020-05-31/distribution/E123/invalidation",
	})
}

// botocoreScript makes requests with botocore: through its CloudFront client
// (as boto3 and the aws CLI do), and with bare SigV4Auth / SigV4QueryAuth on
// hand-written URLs.
const botocoreScript = `
import json, sys
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

endpoint, key, secret, arn = sys.argv[1:5]
client = botocore.session.get_session().create_client(
    'cloudfront', region_name='us-east-1', endpoint_url=endpoint,
    aws_access_key_id=key, aws_secret_access_key=secret,
    config=Config(retries={'total_max_attempts': 1}))
calls = [
    lambda: client.list_distributions(),
    lambda: client.get_distribution(Id='E123'),
    lambda: client.list_tags_for_resource(Resource=arn),
    lambda: client.tag_resource(Resource=arn, Tags={'Items': [{'Key': 'team', 'Value': 'edge delivery'}]}),
    lambda: client.update_distribution_with_staging_config(Id='E123', StagingDistributionId='E456', IfMatch='E1ETAG'),
]
for call in calls:
    try:
        call()
    except Exception as e:  # empty responses may not decode; the server judges
        print('call:', type(e).__name__, e, file=sys.stderr)

creds = Credentials(key, secret)
session = URLLib3Session()
raw = [
    ('GET', endpoint + '/2020-05-31/distribution/E123?WithTags', b'', 'eu-west-3'),
    ('GET', endpoint + '/2020-05-31/function/my%20func%2Bv2/describe?Stage=LIVE', b'', 'us-east-1'),
    ('POST', endpoint + '/2020-05-31/distribution/E123/invalidation', b'<InvalidationBatch/>', 'us-east-1'),
]
for method, url, body, region in raw:
    req = AWSRequest(method=method, url=url, data=body, headers={'Content-Type': 'application/xml'})
    SigV4Auth(creds, 'cloudfront', region).add_auth(req)
    session.send(req.prepare())
req = AWSRequest(method='GET', url=endpoint + '/2020-05-31/distribution/E123/config')
SigV4QueryAuth(creds, 'cloudfront', 'us-east-1', expires=300).add_auth(req)
session.send(req.prepare())
`

func TestRealClientBotocore(t *testing.T) {
	rs := newRecordingServer(t)
	cmd := exec.Command("python3", "-c", botocoreScript, rs.URL, testKeyID, testSecret, testARN)
	cmd.Env = cleanAWSEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 botocore: %v\n%s", err, out)
	}
	want := []string{
		"GET /2020-05-31/distribution",
		"GET /2020-05-31/distribution/E123",
		"GET /2020-05-31/tagging?Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"POST /2020-05-31/tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"PUT /2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
		"GET /2020-05-31/distribution/E123?WithTags",
		"GET /2020-05-31/function/my%20func%2Bv2/describe?Stage=LIVE",
		"POST /2020-05-31/distribution/E123/invalidation",
	}
	// The presigned request's URI carries a fresh date and signature.
	rs.mu.Lock()
	for _, v := range rs.verdicts {
		if strings.HasPrefix(v.RequestURI, "/2020-05-31/distribution/E123/config?") && strings.Contains(v.RequestURI, "X-Amz-Signature=") {
			want = append(want, "GET "+v.RequestURI)
		}
	}
	rs.mu.Unlock()
	if len(want) != 9 {
		t.Errorf("no presigned request received")
	}
	rs.check(t, want)
}

func TestRealClientAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	rs := newRecordingServer(t)
	env := cleanAWSEnv(t)
	commands := [][]string{
		{"list-distributions"},
		{"list-tags-for-resource", "--resource", testARN},
		{"tag-resource", "--resource", testARN, "--tags", `{"Items":[{"Key":"team","Value":"edge delivery"}]}`},
		{"update-distribution-with-staging-config", "--id", "E123", "--staging-distribution-id", "E456", "--if-match", "E1ETAG"},
	}
	var wg sync.WaitGroup
	for _, args := range commands {
		wg.Go(func() {
			cmd := exec.Command("aws", append([]string{"cloudfront", "--endpoint-url", rs.URL}, args...)...)
			cmd.Env = env
			// Exit status is not checked: empty responses may not decode.
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("aws %s: %v\n%s", args[0], err, out)
			}
		})
	}
	wg.Wait()
	rs.check(t, []string{
		"GET /2020-05-31/distribution",
		"GET /2020-05-31/tagging?Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"POST /2020-05-31/tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
		"PUT /2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
	})
}

// cleanAWSEnv is the process environment with the test key pair and without
// anything that could point the clients at real AWS configuration.
func cleanAWSEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	dir := t.TempDir()
	return append(env,
		"AWS_ACCESS_KEY_ID="+testKeyID,
		"AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+dir+"/config",
		"AWS_SHARED_CREDENTIALS_FILE="+dir+"/credentials",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
}
