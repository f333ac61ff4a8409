package stack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/cfn/resource"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

type harness struct {
	t   *testing.T
	svc *control.Service
	m   *Manager
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := control.New(st, control.Options{})
	return &harness{t: t, svc: svc, m: New(st, &resource.Env{Svc: svc}, opts)}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func params(kv ...string) []ParamInput {
	var out []ParamInput
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, ParamInput{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func output(s *Stack, key string) string {
	for _, o := range s.Outputs {
		if o.Key == key {
			return o.Value
		}
	}
	return ""
}

// seedParams creates the primary stack and returns the seed's three parameters.
func (h *harness) seedParams(ctx context.Context) []ParamInput {
	h.t.Helper()
	primary, err := h.m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "primary", TemplateBody: readFile(h.t, "primary.yml"),
		Parameters: params("BucketName", "site")})
	if err != nil || primary.Status != CreateComplete {
		h.t.Fatalf("primary stack: %v %+v", err, primary)
	}
	return params("PrimaryDistributionId", output(primary, "PrimaryDistributionId"), "StaticResourceBucketName", "site",
		"OriginAccessControlId", output(primary, "OriginAccessControlId"))
}

func TestSeedTemplatesHeaderThenWeight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, Options{})
	ps := h.seedParams(ctx)
	s, err := h.m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "cd-staging", TemplateBody: readFile(t, "staging-header.yml"), Parameters: ps})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != CreateComplete {
		t.Fatalf("status %s: %s", s.Status, s.StatusReason)
	}
	stagingID, policyID := output(s, "StagingDistributionId"), output(s, "ContinuousDeploymentPolicyId")
	d, err := h.svc.GetDistribution(ctx, stagingID)
	if err != nil {
		t.Fatal(err)
	}
	origin := d.Distribution.DistributionConfig.Origins.Items[0]
	if origin.S3OriginConfig == nil || origin.CustomOriginConfig != nil || cf.Str(origin.OriginPath) != "/2.0.0" || !cf.IsTrue(d.Distribution.DistributionConfig.Staging) {
		t.Errorf("staging origin = %+v", origin)
	}
	p, err := h.svc.GetPolicy(ctx, policyID)
	if err != nil {
		t.Fatal(err)
	}
	if tc := p.Policy.ContinuousDeploymentPolicyConfig.TrafficConfig; cf.Str(tc.Type) != "SingleHeader" || cf.Str(tc.SingleHeaderConfig.Header) != "aws-cf-cd-env" {
		t.Errorf("policy traffic = %+v", tc)
	}
	events, err := h.m.Events(ctx, "us-east-1", "cd-staging")
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, e := range events {
		warned = warned || strings.Contains(e.StatusReason, `property "S3OriginConfig," read as "S3OriginConfig"`)
	}
	if !warned {
		t.Errorf("no key-repair warning in the events")
	}

	// The same template again: nothing to do.
	in := Input{Region: "us-east-1", StackName: "cd-staging", TemplateBody: readFile(t, "staging-header.yml"), Parameters: ps}
	if _, err := h.m.UpdateStack(ctx, in); err == nil || err.Error() != "ValidationError: No updates are to be performed." {
		t.Errorf("no-op update: %v", err)
	}
	cs, err := h.m.CreateChangeSet(ctx, ChangeSetInput{Input: in, ChangeSetName: "same"})
	if err != nil || cs.Status != "FAILED" || cs.StatusReason != noChangesReason {
		t.Errorf("empty change set = %+v, %v", cs, err)
	}

	// The weight template updates both resources in place.
	in.TemplateBody = readFile(t, "staging-weight.yml")
	cs, err = h.m.CreateChangeSet(ctx, ChangeSetInput{Input: in, ChangeSetName: "weight"})
	if err != nil || cs.Status != "CREATE_COMPLETE" || len(cs.Changes) != 2 {
		t.Fatalf("weight change set = %+v, %v", cs, err)
	}
	for _, c := range cs.Changes {
		if c.Action != "Modify" || c.Replacement != "False" {
			t.Errorf("change %+v, want an in-place Modify", c)
		}
	}
	s, err = h.m.ExecuteChangeSet(ctx, "us-east-1", cs.ID, "", false)
	if err != nil || s.Status != UpdateComplete {
		t.Fatalf("execute: %v %+v", err, s)
	}
	if output(s, "StagingDistributionId") != stagingID || output(s, "ContinuousDeploymentPolicyId") != policyID {
		t.Errorf("update replaced resources: %v", s.Outputs)
	}
	p, _ = h.svc.GetPolicy(ctx, policyID)
	if tc := p.Policy.ContinuousDeploymentPolicyConfig.TrafficConfig; cf.Str(tc.Type) != "SingleWeight" || *tc.SingleWeightConfig.Weight != 0.15 || tc.SingleHeaderConfig != nil {
		t.Errorf("policy traffic after update = %+v", tc)
	}
	d, _ = h.svc.GetDistribution(ctx, stagingID)
	if got := cf.Str(d.Distribution.DistributionConfig.Origins.Items[0].OriginPath); got != "/3.0.0" {
		t.Errorf("origin path = %s", got)
	}

	// Disable the policy out of band (what a promotion does): drift.
	cfg := *p.Policy.ContinuousDeploymentPolicyConfig
	cfg.Enabled = cf.Bool(false)
	if _, err := h.svc.UpdatePolicy(ctx, policyID, p.ETag, &cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.DetectStackDrift(ctx, "us-east-1", "cd-staging", nil); err != nil {
		t.Fatal(err)
	}
	_, recs, _ := h.m.Resources(ctx, "us-east-1", "cd-staging", "", "")
	for _, r := range recs {
		want := "IN_SYNC"
		if r.LogicalID == "ContinuousDeploymentPolicy" {
			want = "MODIFIED"
			if len(r.Drift.Differences) != 1 || r.Drift.Differences[0].PropertyPath != "/ContinuousDeploymentPolicyConfig/Enabled" ||
				r.Drift.Differences[0].ExpectedValue != "true" || r.Drift.Differences[0].ActualValue != "false" {
				t.Errorf("policy drift = %+v", r.Drift.Differences)
			}
		}
		if r.Drift == nil || r.Drift.Status != want {
			t.Errorf("%s drift = %+v, want %s", r.LogicalID, r.Drift, want)
		}
	}
	// An ordinary change set on the unchanged template is empty; a
	// REVERT_DRIFT one re-enables the policy.
	cs, _ = h.m.CreateChangeSet(ctx, ChangeSetInput{Input: in, ChangeSetName: "again"})
	if cs.Status != "FAILED" {
		t.Errorf("plain change set after drift = %s", cs.Status)
	}
	cs, err = h.m.CreateChangeSet(ctx, ChangeSetInput{Input: in, ChangeSetName: "revert", DeploymentMode: "REVERT_DRIFT"})
	if err != nil || cs.Status != "CREATE_COMPLETE" || len(cs.Changes) != 1 {
		t.Fatalf("revert change set = %+v, %v", cs, err)
	}
	if _, err := h.m.ExecuteChangeSet(ctx, "us-east-1", "revert", "cd-staging", false); err != nil {
		t.Fatal(err)
	}
	p, _ = h.svc.GetPolicy(ctx, policyID)
	if !cf.IsTrue(p.Policy.ContinuousDeploymentPolicyConfig.Enabled) {
		t.Errorf("REVERT_DRIFT did not re-enable the policy")
	}

	// Delete: the policy goes first, then the distribution.
	if err := h.m.DeleteStack(ctx, "us-east-1", "cd-staging", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.GetDistribution(ctx, stagingID); err == nil {
		t.Errorf("staging distribution survived delete-stack")
	}
	if _, err := h.m.Describe(ctx, "us-east-1", "cd-staging"); err == nil || !strings.Contains(err.Error(), "Stack with id cd-staging does not exist") {
		t.Errorf("describe after delete: %v", err)
	}
}

func TestFailingResourceRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, Options{})
	ps := h.seedParams(ctx)
	bad := strings.Replace(readFile(t, "staging-header.yml"), "Header: aws-cf-cd-env", "Header: x-env", 1)
	s, err := h.m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "bad", TemplateBody: bad, Parameters: ps})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != RollbackComplete || len(s.Resources) != 0 {
		t.Fatalf("status %s, resources %v", s.Status, s.Resources)
	}
	list, _ := h.svc.ListDistributions(ctx, "", 100)
	if n := len(list.Items); n != 1 {
		t.Errorf("%d distributions after rollback, want only the primary", n)
	}
	events, _ := h.m.Events(ctx, "us-east-1", "bad")
	var reason string
	for _, e := range events {
		if e.ResourceStatus == CreateFailed {
			reason = e.StatusReason
		}
	}
	if !strings.Contains(reason, "Resource handler returned message:") || !strings.Contains(reason, "aws-cf-cd-") {
		t.Errorf("CREATE_FAILED reason = %q", reason)
	}
	// A rolled-back stack can only be deleted.
	_, err = h.m.UpdateStack(ctx, Input{Region: "us-east-1", StackName: "bad", TemplateBody: bad, Parameters: ps})
	if err == nil || !strings.Contains(err.Error(), "is in ROLLBACK_COMPLETE state and can not be updated.") {
		t.Errorf("update of ROLLBACK_COMPLETE: %v", err)
	}
}

func TestStrictRejectsTheTypo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, Options{Strict: true})
	ps := h.seedParams(ctx)
	s, err := h.m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "strict", TemplateBody: readFile(t, "staging-header.yml"), Parameters: ps})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != RollbackComplete {
		t.Fatalf("status %s", s.Status)
	}
	events, _ := h.m.Events(ctx, "us-east-1", "strict")
	found := false
	for _, e := range events {
		found = found || e.StatusReason == "Properties validation failed for resource SampleWebSiteDistributionStaging with message: #/DistributionConfig/Origins/0: extraneous key [S3OriginConfig,] is not permitted"
	}
	if !found {
		t.Errorf("no extraneous-key failure in the events")
	}
}

func TestInvalidTemplateCreatesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, Options{})
	cases := map[string]string{
		"Resources:\n  A:\n    Type: AWS::CloudFront::NoSuchThing\n": "Template format error: Unrecognized resource types: [AWS::CloudFront::NoSuchThing]",
		"Resources:\n  A:\n    Type: AWS::CloudFront::Function\n":    "Template format error: Unrecognized resource types: [AWS::CloudFront::Function] (stagefront does not implement the CloudFront API of AWS::CloudFront::Function yet)",
		"Resources:\n  A:\n    Type: AWS::CloudFront::OriginAccessControl\n  B:\n    Type: AWS::CloudFront::Distribution\n    Properties: {DistributionConfig: {Comment: !GetAtt A.Nope}}\n": "Template error: resource A does not support attribute type Nope in Fn::GetAtt",
	}
	for body, want := range cases {
		_, err := h.m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "x", TemplateBody: body})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CreateStack: %v, want %q", err, want)
		}
	}
	if stacks, _ := h.m.List(ctx, "us-east-1"); len(stacks) != 0 {
		t.Errorf("invalid templates created %d stacks", len(stacks))
	}
}

func TestBusyStackRefusesASecondOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	paused, resume := make(chan struct{}), make(chan struct{})
	h := newHarness(t, Options{CrashPoint: func(point string) {
		if point == "before-update:ContinuousDeploymentPolicy" {
			close(paused)
			<-resume
		}
	}})
	ps := h.seedParams(ctx)
	in := Input{Region: "us-east-1", StackName: "cd-staging", TemplateBody: readFile(t, "staging-header.yml"), Parameters: ps}
	if _, err := h.m.CreateStack(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.TemplateBody = readFile(t, "staging-weight.yml")
	done := make(chan error, 1)
	go func() { _, err := h.m.UpdateStack(ctx, in); done <- err }()
	<-paused
	s, _ := h.m.Describe(ctx, "us-east-1", "cd-staging")
	_, err := h.m.UpdateStack(ctx, in)
	want := "ValidationError: Stack:" + s[0].StackID + " is in UPDATE_IN_PROGRESS state and can not be updated."
	if err == nil || err.Error() != want {
		t.Errorf("second update = %v, want %q", err, want)
	}
	if err := h.m.DeleteStack(ctx, "us-east-1", "cd-staging", nil); err == nil || !strings.Contains(err.Error(), "cannot be deleted while in status UPDATE_IN_PROGRESS") {
		t.Errorf("delete during update = %v", err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFailedUpdateRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, Options{})
	ps := h.seedParams(ctx)
	in := Input{Region: "us-east-1", StackName: "cd-staging", TemplateBody: readFile(t, "staging-header.yml"), Parameters: ps}
	s, err := h.m.CreateStack(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	stagingID := output(s, "StagingDistributionId")
	// The distribution update succeeds, then the policy's 0.5 weight fails:
	// the distribution goes back to /2.0.0.
	in.TemplateBody = strings.Replace(readFile(t, "staging-weight.yml"), "Weight: 0.15", "Weight: 0.5", 1)
	s, err = h.m.UpdateStack(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != UpdateRollbackComplete {
		t.Fatalf("status %s (%s)", s.Status, s.StatusReason)
	}
	d, _ := h.svc.GetDistribution(ctx, stagingID)
	if got := cf.Str(d.Distribution.DistributionConfig.Origins.Items[0].OriginPath); got != "/2.0.0" {
		t.Errorf("origin path after rollback = %s", got)
	}
	tpl, _ := h.m.Template(ctx, "us-east-1", "cd-staging", "")
	if tpl != readFile(t, "staging-header.yml") {
		t.Errorf("GetTemplate after rollback is not the previous template")
	}
}
