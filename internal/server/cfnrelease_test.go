package server

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	cfnstack "github.com/stagefront/stagefront/internal/cfn/stack"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

func stackOutput(s *cfnstack.Stack, key string) string {
	for _, o := range s.Outputs {
		if o.Key == key {
			return o.Value
		}
	}
	return ""
}

// TestReleaseFromStagingTemplate: a release whose staging is the AWS
// article's header template deploys the stack, attaches its policy to the
// primary, waits for the approval and promotes; at the end the primary
// stops naming the policy and the stack is put back to its template, so
// drift detection finds it IN_SYNC (the promotion had disabled the policy)
// and the next release from the same template routes by the header again.
// A rejected release ends the same way; a spec's region is the stack's.
func TestReleaseFromStagingTemplate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := control.New(st, control.Options{})
	if err := svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{auth.EnvAccessKeyID: "AKSFCFNRELEASE01", auth.EnvSecretAccessKey: "cfn-release-secret"}
	creds, _, err := auth.LoadOrCreate(filepath.Join(dir, "credentials.json"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	verifier := auth.NewVerifier(creds, time.Now, 15*time.Minute)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stacks := newStackManager(svc, false, nil, "", 0)
	rt, err := NewReleaseRuntime(ReleaseWiring{
		Store: st, APIAddr: ln.Addr().String(),
		Credentials: credentials.NewStaticCredentialsProvider(env[auth.EnvAccessKeyID], env[auth.EnvSecretAccessKey], ""),
		Stacks:      release.StackManager(stacks, stagingStackRegion),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: api.New(svc, api.Options{Verifier: verifier})}}
	srv.Start()
	t.Cleanup(srv.Close)

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	primaryStack, err := stacks.CreateStack(ctx, cfnstack.Input{Region: stagingStackRegion, StackName: "primary",
		TemplateBody: read("primary.yml"), Parameters: []cfnstack.ParamInput{{Key: "BucketName", Value: "site"}}})
	if err != nil || primaryStack.Status != cfnstack.CreateComplete {
		t.Fatalf("primary stack: %v %+v", err, primaryStack)
	}
	primaryID := stackOutput(primaryStack, "PrimaryDistributionId")
	spec := func(name, region string) *release.Spec {
		return &release.Spec{
			Name: name, Primary: primaryID,
			Staging: release.StagingChange{Template: &release.TemplateStaging{
				Path: "staging-cloudfront-distribution.yml", Stack: "cd-staging", Body: read("staging-header.yml"), Region: region,
				Parameters: map[string]string{"PrimaryDistributionId": primaryID, "StaticResourceBucketName": "site",
					"OriginAccessControlId": stackOutput(primaryStack, "OriginAccessControlId")},
			}},
			Steps: []release.Step{{Kind: release.StepApprove, Approve: &release.ApproveStep{}}, {Kind: release.StepPromote, Promote: &release.PromoteStep{}}},
		}
	}
	ctrl := rt.Controller()
	policyOf := func(id string) *cf.ContinuousDeploymentPolicyConfig {
		t.Helper()
		p, err := svc.GetPolicy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Policy.ContinuousDeploymentPolicyConfig
	}
	originPath := func(id string) string {
		t.Helper()
		d, err := svc.GetDistribution(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return cf.Str(d.Distribution.DistributionConfig.Origins.Items[0].OriginPath)
	}

	inSync := func(name, region string) {
		t.Helper()
		if _, err := stacks.DetectStackDrift(ctx, region, "cd-staging", nil); err != nil {
			t.Fatalf("%s: detect drift: %v", name, err)
		}
		s, err := stacks.Describe(ctx, region, "cd-staging")
		if err != nil {
			t.Fatal(err)
		}
		if s[0].Drift.Status != "IN_SYNC" {
			_, recs, _ := stacks.Resources(ctx, region, "cd-staging", "", "")
			for _, r := range recs {
				if r.Drift != nil && r.Drift.Status != "IN_SYNC" {
					t.Logf("%s: %s %+v", name, r.LogicalID, r.Drift.Differences)
				}
			}
			t.Errorf("%s: stack drift %s, want IN_SYNC", name, s[0].Drift.Status)
		}
	}
	detached := func(name string) {
		t.Helper()
		d, err := svc.GetDistribution(ctx, primaryID)
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Str(d.Distribution.DistributionConfig.ContinuousDeploymentPolicyId); got != "" {
			t.Errorf("%s: the primary still names policy %s", name, got)
		}
	}

	var policyID, stagingID string
	for i, name := range []string{"r1", "r2"} {
		rel, err := ctrl.Start(ctx, spec(name, ""), "alice")
		if err != nil {
			t.Fatalf("%s: start: %v", name, err)
		}
		if rel.State.Phase != release.PhaseProgressing || rel.State.Step != 0 || rel.State.LastError != "" {
			t.Fatalf("%s after start: phase %s step %d error %q events %v", name, rel.State.Phase, rel.State.Step, rel.State.LastError, rel.State.Events)
		}
		if i == 0 {
			policyID, stagingID = rel.State.PolicyID, rel.State.StagingID
		} else if rel.State.PolicyID != policyID || rel.State.StagingID != stagingID {
			t.Errorf("%s: staging %s policy %s, want the stack's %s and %s", name, rel.State.StagingID, rel.State.PolicyID, stagingID, policyID)
		}
		if want := (release.Traffic{Enabled: true, Kind: release.TrafficHeader, Header: "aws-cf-cd-env", Value: "staging"}); rel.State.StackTraffic != want {
			t.Errorf("%s: traffic %+v, want %+v", name, rel.State.StackTraffic, want)
		}
		// Waiting for the approval, the primary routes by the template's policy, enabled.
		pol := policyOf(policyID)
		if !cf.IsTrue(pol.Enabled) || cf.Str(pol.TrafficConfig.SingleHeaderConfig.Header) != "aws-cf-cd-env" {
			t.Fatalf("%s: policy before approval = enabled %v %+v", name, cf.IsTrue(pol.Enabled), pol.TrafficConfig)
		}
		d, err := svc.GetDistribution(ctx, primaryID)
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Str(d.Distribution.DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
			t.Fatalf("%s: primary's policy %q, want %s", name, got, policyID)
		}
		if got := originPath(stagingID); got != "/2.0.0" {
			t.Errorf("%s: staging origin path %s", name, got)
		}

		rel, err = ctrl.Decide(ctx, name, release.VerdictApproved, "bob", "")
		if err != nil {
			t.Fatalf("%s: approve: %v", name, err)
		}
		if rel.State.Phase != release.PhasePromoted {
			t.Fatalf("%s after approval: phase %s, error %q, events %v", name, rel.State.Phase, rel.State.LastError, rel.State.Events)
		}
		if got := originPath(primaryID); got != "/2.0.0" {
			t.Errorf("%s: primary origin path after promotion %s, want /2.0.0", name, got)
		}
		// The promotion disabled the policy; the release put the stack back.
		if !cf.IsTrue(policyOf(policyID).Enabled) {
			t.Errorf("%s: policy left disabled after the promotion", name)
		}
		detached(name)
		inSync(name, stagingStackRegion)
	}

	// A rejection: routing ends, and the stack is as its template says.
	rel, err := ctrl.Start(ctx, spec("r3", ""), "alice")
	if err != nil || rel.State.Phase != release.PhaseProgressing {
		t.Fatalf("r3: start: %v %+v", err, rel)
	}
	if rel, err = ctrl.Decide(ctx, "r3", release.VerdictRejected, "bob", "not today"); err != nil || rel.State.Phase != release.PhaseRejected {
		t.Fatalf("r3: reject: %v phase %s error %q events %v", err, rel.State.Phase, rel.State.LastError, rel.State.Events)
	}
	detached("r3")
	inSync("r3", stagingStackRegion)

	// Another region is another stack (of the same name).
	rel, err = ctrl.Start(ctx, spec("r4", "eu-west-1"), "alice")
	if err != nil {
		t.Fatalf("r4: start: %v", err)
	}
	if rel.State.StagingID == stagingID || rel.State.PolicyID == policyID {
		t.Errorf("r4 in eu-west-1 reused the us-east-1 stack's staging %s", rel.State.StagingID)
	}
	if s, err := stacks.Describe(ctx, "eu-west-1", "cd-staging"); err != nil || !strings.HasPrefix(s[0].StackID, "arn:aws:cloudformation:eu-west-1:") {
		t.Errorf("r4: stack in eu-west-1: %v", err)
	}
	if _, err = ctrl.Decide(ctx, "r4", release.VerdictRejected, "bob", ""); err != nil {
		t.Fatal(err)
	}
	inSync("r4", "eu-west-1")
}
