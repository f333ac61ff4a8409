package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/stagefront/stagefront/internal/testutil"
)

const (
	cfnKey    = "AKSFCFNTEST0000001"
	cfnSecret = "cloudformation-secret"
)

// cfnServer is a `stagefront serve` subprocess with an S3 stand-in origin
// that answers /<bucket>/<version>/index.html with "<version>".
type cfnServer struct {
	t                *testing.T
	bin, dir         string
	cmd              *exec.Cmd
	api, edge, admin string
	s3               *httptest.Server
	lastDeploy       int64 // the Unix second the last `deploy` ended in
}

func startCFNServer(t *testing.T, bin, dir string, s3 *httptest.Server, env ...string) *cfnServer {
	t.Helper()
	s := &cfnServer{t: t, bin: bin, dir: dir, s3: s3, api: testutil.FreeAddr(t), edge: testutil.FreeAddr(t), admin: testutil.FreeAddr(t)}
	s.cmd = exec.Command(bin, "serve", "--data-dir", dir, "--api-addr", s.api, "--edge-addr", s.edge, "--admin-addr", s.admin,
		"--s3-endpoint", s3.URL, "--log-level", "warn")
	// The edge signs S3 requests for origin access control: any key pair
	// will do for the stand-in origin.
	s.cmd.Env = append(append(os.Environ(), "STAGEFRONT_ACCESS_KEY_ID="+cfnKey, "STAGEFRONT_SECRET_ACCESS_KEY="+cfnSecret,
		"AWS_ACCESS_KEY_ID=AKIDEDGE", "AWS_SECRET_ACCESS_KEY=edge-secret", "AWS_EC2_METADATA_DISABLED=true"), env...)
	s.cmd.Stderr = os.Stderr
	testutil.Must(t, s.cmd.Start())
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	testutil.Eventually(t, 15*time.Second, "healthy", func() bool {
		resp, err := http.Get("http://" + s.admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

func s3Origin(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) != 3 || parts[0] != "site" || parts[2] != "index.html" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, parts[1])
	}))
	t.Cleanup(srv.Close)
	return srv
}

// aws runs the real AWS CLI against the server and returns its exit code
// and combined output.
func (s *cfnServer) aws(args ...string) (int, string) {
	s.t.Helper()
	// Bounded, so a hung call fails the test with its arguments.
	ctx, cancel := context.WithTimeout(s.t.Context(), 3*time.Minute)
	defer cancel()
	// `aws cloudformation deploy` names its change set
	// awscli-cloudformation-package-deploy-<Unix seconds>, and a change set
	// that failed for having no changes stays on the stack (on AWS too). A
	// second deploy in the same second would ask for the same name and get
	// AlreadyExistsException; on AWS a deploy never takes under a second.
	deploy := len(args) > 1 && args[0] == "cloudformation" && args[1] == "deploy"
	if deploy {
		if wait := time.Until(time.Unix(s.lastDeploy+1, 0)); wait > 0 {
			time.Sleep(wait)
		}
		defer func() { s.lastDeploy = time.Now().Unix() }()
	}
	cmd := exec.CommandContext(ctx, "aws", append(args, "--endpoint-url", "http://"+s.api)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cfnKey, "AWS_SECRET_ACCESS_KEY="+cfnSecret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		s.t.Fatalf("aws %v: %v", args, err)
	}
	return code, out.String()
}

func (s *cfnServer) mustAWS(args ...string) string {
	s.t.Helper()
	code, out := s.aws(args...)
	if code != 0 {
		s.t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// outputs reads a stack's outputs with one describe-stacks.
func (s *cfnServer) outputs(stackName string) map[string]string {
	s.t.Helper()
	var list []struct{ OutputKey, OutputValue string }
	testutil.Must(s.t, json.Unmarshal([]byte(s.mustAWS("cloudformation", "describe-stacks", "--stack-name", stackName, "--query", "Stacks[0].Outputs")), &list))
	out := map[string]string{}
	for _, o := range list {
		out[o.OutputKey] = o.OutputValue
	}
	return out
}

func (s *cfnServer) cloudFront() *cloudfront.Client {
	return testutil.CloudFront("http://"+s.api, cfnKey, cfnSecret)
}

// get fetches /index.html from the edge as a viewer of domain.
func (s *cfnServer) get(domain string, header ...string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.edge+"/index.html", nil)
	req.Host = domain
	if len(header) == 2 {
		req.Header.Set(header[0], header[1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func seedTemplate(name string) string { return filepath.Join("testdata", "cfn", name) }

func cfnBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	return buildBinary(t)
}

// TestCloudFormationArticlePipeline runs the article's pipeline with the
// real AWS CLI: deploy the header template (verbatim, typo included),
// attach the policy to the primary as the article's Lambda does, see the
// edge route the header to staging, deploy again with no change, deploy
// the weight template, read the outputs, and delete.
func TestCloudFormationArticlePipeline(t *testing.T) {
	t.Parallel()
	bin := cfnBinary(t)
	srv := startCFNServer(t, bin, t.TempDir(), s3Origin(t))

	srv.mustAWS("cloudformation", "deploy", "--template-file", seedTemplate("primary.yml"), "--stack-name", "primary",
		"--parameter-overrides", "BucketName=site")
	primary := srv.outputs("primary")
	primaryID, oacID := primary["PrimaryDistributionId"], primary["OriginAccessControlId"]
	overrides := []string{"--parameter-overrides", "PrimaryDistributionId=" + primaryID, "StaticResourceBucketName=site", "OriginAccessControlId=" + oacID}

	deploy := func(template string, extra ...string) (int, string) {
		return srv.aws(append(append([]string{"cloudformation", "deploy", "--template-file", seedTemplate(template), "--stack-name", "cd-staging"}, overrides...), extra...)...)
	}
	if code, out := deploy("staging-header.yml"); code != 0 || !strings.Contains(out, "Successfully created/updated stack - cd-staging") {
		t.Fatalf("deploy header template: exit %d\n%s", code, out)
	}
	staging := srv.outputs("cd-staging")
	stagingID, policyID := staging["StagingDistributionId"], staging["ContinuousDeploymentPolicyId"]
	if stagingID == "" || policyID == "" {
		t.Fatalf("outputs: staging %q policy %q", stagingID, policyID)
	}
	var origin struct {
		S3OriginConfig     *struct{ OriginAccessIdentity string }
		CustomOriginConfig any
		OriginPath         string
	}
	testutil.Must(t, json.Unmarshal([]byte(srv.mustAWS("cloudfront", "get-distribution-config", "--id", stagingID,
		"--query", "DistributionConfig.Origins.Items[0]")), &origin))
	if origin.S3OriginConfig == nil || origin.CustomOriginConfig != nil || origin.OriginPath != "/2.0.0" {
		t.Errorf("staging origin = %+v, want an S3 origin at /2.0.0", origin)
	}

	// The article's activation Lambda: attach the policy to the primary.
	cf := srv.cloudFront()
	cur, err := cf.GetDistributionConfig(t.Context(), &cloudfront.GetDistributionConfigInput{Id: aws.String(primaryID)})
	testutil.Must(t, err)
	cur.DistributionConfig.ContinuousDeploymentPolicyId = aws.String(policyID)
	upd, err := cf.UpdateDistribution(t.Context(), &cloudfront.UpdateDistributionInput{Id: aws.String(primaryID), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig})
	testutil.Must(t, err)
	domain := aws.ToString(upd.Distribution.DomainName)
	// Without an HTTPS listener the edge serves redirect-to-https
	// behaviors over HTTP (internal/edge/server.go).
	testutil.Eventually(t, 10*time.Second, "the edge to route the header to staging", func() bool {
		code, body := srv.get(domain, "aws-cf-cd-env", "staging")
		return code == http.StatusOK && body == "2.0.0"
	})
	if code, body := srv.get(domain); code != http.StatusOK || body != "1.0.0" {
		t.Errorf("primary without the header: %d %q, want 200 1.0.0", code, body)
	}

	// No change: the CLI v1 reports it and exits 255, or 0 with the flag.
	if code, out := deploy("staging-header.yml"); code != 255 || !strings.Contains(out, "No changes to deploy. Stack cd-staging is up to date") {
		t.Errorf("no-change deploy: exit %d\n%s", code, out)
	}
	if code, out := deploy("staging-header.yml", "--no-fail-on-empty-changeset"); code != 0 || !strings.Contains(out, "No changes to deploy") {
		t.Errorf("no-change deploy with --no-fail-on-empty-changeset: exit %d\n%s", code, out)
	}

	// The weight template: both resources updated in place.
	if code, out := deploy("staging-weight.yml"); code != 0 {
		t.Fatalf("deploy weight template: exit %d\n%s", code, out)
	}
	if got := srv.outputs("cd-staging")["StagingDistributionId"]; got != stagingID {
		t.Errorf("staging replaced: %s → %s", stagingID, got)
	}
	weight := strings.TrimSpace(srv.mustAWS("cloudfront", "get-continuous-deployment-policy", "--id", policyID,
		"--query", "ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.TrafficConfig.SingleWeightConfig.Weight", "--output", "text"))
	if weight != "0.15" {
		t.Errorf("policy weight = %q", weight)
	}
	staged := 0
	for range 200 {
		if _, body := srv.get(domain); body == "3.0.0" {
			staged++
		}
	}
	if staged == 0 || staged > 60 {
		t.Errorf("%d of 200 viewers reached staging at 15%%", staged)
	}

	// boto3 reads the same stack.
	script := `import boto3,sys
c=boto3.client("cloudformation",endpoint_url=sys.argv[1],region_name="us-east-1",aws_access_key_id=sys.argv[2],aws_secret_access_key=sys.argv[3])
s=c.describe_stacks(StackName="cd-staging")["Stacks"][0]
print(s["StackStatus"], sorted(o["OutputKey"] for o in s["Outputs"]), len(c.list_exports()["Exports"]))`
	out, err := exec.Command("python3", "-c", script, "http://"+srv.api, cfnKey, cfnSecret).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "UPDATE_COMPLETE ['ContinuousDeploymentPolicyId', 'StagingDistributionId'] 1" {
		t.Errorf("boto3: %v %s", err, out)
	}

	// Delete while the primary still names the policy: DELETE_FAILED, as
	// on AWS; detach it and delete again.
	srv.mustAWS("cloudformation", "delete-stack", "--stack-name", "cd-staging")
	if status := strings.TrimSpace(srv.mustAWS("cloudformation", "describe-stacks", "--stack-name", "cd-staging", "--query", "Stacks[0].StackStatus", "--output", "text")); status != "DELETE_FAILED" {
		t.Errorf("delete with the policy attached: %s", status)
	}
	cur, err = cf.GetDistributionConfig(t.Context(), &cloudfront.GetDistributionConfigInput{Id: aws.String(primaryID)})
	testutil.Must(t, err)
	cur.DistributionConfig.ContinuousDeploymentPolicyId = aws.String("")
	_, err = cf.UpdateDistribution(t.Context(), &cloudfront.UpdateDistributionInput{Id: aws.String(primaryID), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig})
	testutil.Must(t, err)
	srv.mustAWS("cloudformation", "delete-stack", "--stack-name", "cd-staging")
	srv.mustAWS("cloudformation", "wait", "stack-delete-complete", "--stack-name", "cd-staging")
	if code, out := srv.aws("cloudfront", "get-distribution", "--id", stagingID); code == 0 || !strings.Contains(out, "NoSuchDistribution") {
		t.Errorf("staging distribution after delete-stack: exit %d %s", code, out)
	}
	if code, out := srv.aws("cloudformation", "describe-stacks", "--stack-name", "cd-staging"); code == 0 || !strings.Contains(out, "Stack with id cd-staging does not exist") {
		t.Errorf("describe after delete: exit %d %s", code, out)
	}
}

// TestCloudFormationFailuresWithTheCLI: an invalid template creates
// nothing; a failing resource rolls the stack back; the change-set
// commands and waiters work; a second create is refused.
func TestCloudFormationFailuresWithTheCLI(t *testing.T) {
	t.Parallel()
	bin := cfnBinary(t)
	srv := startCFNServer(t, bin, t.TempDir(), s3Origin(t))
	srv.mustAWS("cloudformation", "deploy", "--template-file", seedTemplate("primary.yml"), "--stack-name", "primary", "--parameter-overrides", "BucketName=site")
	primary := srv.outputs("primary")
	params := []string{"--parameters", "ParameterKey=PrimaryDistributionId,ParameterValue=" + primary["PrimaryDistributionId"],
		"ParameterKey=StaticResourceBucketName,ParameterValue=site", "ParameterKey=OriginAccessControlId,ParameterValue=" + primary["OriginAccessControlId"]}

	bad := filepath.Join(t.TempDir(), "bad.yml")
	testutil.Must(t, os.WriteFile(bad, []byte("Resources:\n  A:\n    Type: AWS::CloudFront::NoSuchThing\n"), 0o600))
	code, out := srv.aws("cloudformation", "deploy", "--template-file", bad, "--stack-name", "invalid")
	if code == 0 || !strings.Contains(out, "Template format error: Unrecognized resource types: [AWS::CloudFront::NoSuchThing]") {
		t.Errorf("invalid template: exit %d\n%s", code, out)
	}
	if code, out := srv.aws("cloudformation", "describe-stacks", "--stack-name", "invalid"); code == 0 || !strings.Contains(out, "Stack with id invalid does not exist") {
		t.Errorf("the invalid template created a stack: %s", out)
	}

	header, err := os.ReadFile(seedTemplate("staging-header.yml"))
	testutil.Must(t, err)
	failing := filepath.Join(t.TempDir(), "failing.yml")
	testutil.Must(t, os.WriteFile(failing, bytes.Replace(header, []byte("Header: aws-cf-cd-env"), []byte("Header: x-env"), 1), 0o600))
	srv.mustAWS(append([]string{"cloudformation", "create-stack", "--stack-name", "failing", "--template-body", "file://" + failing}, params...)...)
	if code, out := srv.aws("cloudformation", "wait", "stack-create-complete", "--stack-name", "failing"); code == 0 || !strings.Contains(out, "ROLLBACK_COMPLETE") {
		t.Errorf("wait on a failing create: exit %d %s", code, out)
	}
	events := srv.mustAWS("cloudformation", "describe-stack-events", "--stack-name", "failing", "--query", "StackEvents[].[LogicalResourceId,ResourceStatus,ResourceStatusReason]", "--output", "text")
	for _, want := range []string{"ContinuousDeploymentPolicy\tCREATE_FAILED\tResource handler returned message:", "The following resource(s) failed to create: [ContinuousDeploymentPolicy]. Rollback requested by user.",
		"SampleWebSiteDistributionStaging\tDELETE_COMPLETE", "failing\tROLLBACK_COMPLETE"} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}
	if n := strings.TrimSpace(srv.mustAWS("cloudfront", "list-distributions", "--query", "length(DistributionList.Items)")); n != "1" {
		t.Errorf("%s distributions after the rollback, want the primary only", n)
	}

	// Change sets by hand, and the waiters.
	srv.mustAWS(append([]string{"cloudformation", "create-change-set", "--stack-name", "cs", "--change-set-name", "first",
		"--change-set-type", "CREATE", "--template-body", "file://" + seedTemplate("staging-header.yml")}, params...)...)
	srv.mustAWS("cloudformation", "wait", "change-set-create-complete", "--stack-name", "cs", "--change-set-name", "first")
	changes := srv.mustAWS("cloudformation", "describe-change-set", "--stack-name", "cs", "--change-set-name", "first", "--query", "Changes[].ResourceChange.Action", "--output", "text")
	if strings.Fields(changes)[0] != "Add" || len(strings.Fields(changes)) != 2 {
		t.Errorf("changes = %q", changes)
	}
	srv.mustAWS("cloudformation", "execute-change-set", "--stack-name", "cs", "--change-set-name", "first")
	srv.mustAWS("cloudformation", "wait", "stack-create-complete", "--stack-name", "cs")
	if code, out := srv.aws(append([]string{"cloudformation", "create-stack", "--stack-name", "cs", "--template-body", "file://" + seedTemplate("staging-header.yml")}, params...)...); code == 0 || !strings.Contains(out, "AlreadyExistsException") || !strings.Contains(out, "Stack [cs] already exists") {
		t.Errorf("second create: exit %d %s", code, out)
	}
	if code, out := srv.aws(append([]string{"cloudformation", "update-stack", "--stack-name", "cs", "--template-body", "file://" + seedTemplate("staging-header.yml")}, params...)...); code == 0 || !strings.Contains(out, "No updates are to be performed.") {
		t.Errorf("no-op update-stack: exit %d %s", code, out)
	}
	// A signature for CloudFront's service is refused on the CloudFormation endpoint.
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.api+"/", strings.NewReader("Action=ListStacks&Version=2010-05-15"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cfnKey+"/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	resp, err := http.DefaultClient.Do(req)
	testutil.Must(t, err)
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(body.String(), "scoped to correct service: &#39;cloudformation&#39;") {
		t.Errorf("cloudfront-scoped signature: %d %s", resp.StatusCode, body.String())
	}
}

// TestCloudFormationSIGKILLMidCreate kills the server right after
// CloudFront made a distribution and before the stack recorded it; the
// restarted server finds it by its caller reference, rolls the stack back
// and leaves no orphan.
func TestCloudFormationSIGKILLMidCreate(t *testing.T) {
	t.Parallel()
	bin := cfnBinary(t)
	dir := t.TempDir()
	s3 := s3Origin(t)
	srv := startCFNServer(t, bin, dir, s3, "STAGEFRONT_TEST_CFN_CRASH_AT=created:Primary")
	code, _ := srv.aws("cloudformation", "create-stack", "--stack-name", "primary", "--template-body", "file://"+seedTemplate("primary.yml"),
		"--parameters", "ParameterKey=BucketName,ParameterValue=site")
	if code == 0 {
		t.Fatal("create-stack succeeded although the server was killed mid-create")
	}
	state, err := srv.cmd.Process.Wait()
	if err != nil || state.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("server did not die of SIGKILL: %v %v", state, err)
	}
	srv = startCFNServer(t, bin, dir, s3)
	var status string
	testutil.Eventually(t, 60*time.Second, "the recovery to finish", func() bool {
		status = strings.TrimSpace(srv.mustAWS("cloudformation", "describe-stacks", "--stack-name", "primary", "--query", "Stacks[0].StackStatus", "--output", "text"))
		return !strings.HasSuffix(status, "_IN_PROGRESS")
	})
	if status != "ROLLBACK_COMPLETE" {
		_, events := srv.aws("cloudformation", "describe-stack-events", "--stack-name", "primary", "--query", "StackEvents[].[LogicalResourceId,ResourceStatus,ResourceStatusReason]", "--output", "text")
		t.Fatalf("after restart: %s\n%s", status, events)
	}
	if n := strings.TrimSpace(srv.mustAWS("cloudfront", "list-distributions", "--query", "length(DistributionList.Items || `[]`)")); n != "0" {
		t.Errorf("%s orphan distributions after recovery", n)
	}
	if n := strings.TrimSpace(srv.mustAWS("cloudfront", "list-origin-access-controls", "--query", "length(OriginAccessControlList.Items || `[]`)")); n != "0" {
		t.Errorf("%s orphan origin access controls after recovery", n)
	}
	// The name is free again once the rolled-back stack is deleted.
	srv.mustAWS("cloudformation", "delete-stack", "--stack-name", "primary")
	srv.mustAWS("cloudformation", "deploy", "--template-file", seedTemplate("primary.yml"), "--stack-name", "primary", "--parameter-overrides", "BucketName=site")
}
