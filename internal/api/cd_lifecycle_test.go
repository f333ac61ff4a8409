package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/stagefront/stagefront/internal/testutil"
)

// wantAPIMessage checks an error's code, status and exact message: SDKs
// and infrastructure tools match on all three.
func wantAPIMessage(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	wantAPIError(t, err, code, status)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorMessage() != message {
		t.Errorf("%s message = %q, want %q", code, apiErr.ErrorMessage(), message)
	}
}

func (e *env) update(id string, change func(*types.DistributionConfig)) (*cfsdk.UpdateDistributionOutput, error) {
	e.t.Helper()
	c := e.getConfig(id)
	change(c.DistributionConfig)
	return e.cf.UpdateDistribution(context.Background(), &cfsdk.UpdateDistributionInput{
		Id: aws.String(id), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
}

func (e *env) setPolicyEnabled(id string, enabled bool) {
	e.t.Helper()
	pc := e.policyConfig(id)
	pc.ContinuousDeploymentPolicyConfig.Enabled = aws.Bool(enabled)
	testutil.MustGet(e.cf.UpdateContinuousDeploymentPolicy(context.Background(), &cfsdk.UpdateContinuousDeploymentPolicyInput{
		Id: aws.String(id), IfMatch: pc.ETag, ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig}))(e.t)
}

func (e *env) deletePolicy(id string) error {
	e.t.Helper()
	_, err := e.cf.DeleteContinuousDeploymentPolicy(context.Background(), &cfsdk.DeleteContinuousDeploymentPolicyInput{
		Id: aws.String(id), IfMatch: e.policyConfig(id).ETag})
	return err
}

func (e *env) deleteDistribution(id string) error {
	e.t.Helper()
	_, err := e.cf.DeleteDistribution(context.Background(), &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: aws.String(e.etag(id))})
	return err
}

// TestTerraformDestroyOrderSDK replays, through the real SDK, the calls the
// hashicorp/aws provider makes to destroy a primary, its attached policy
// and the policy's staging distribution.
func TestTerraformDestroyOrderSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.cdFixture("tfd", "tfd.example.com")
	policyID := aws.ToString(e.createPolicy(headerPolicy(fx.stagingDomain)).ContinuousDeploymentPolicy.Id)
	e.attach(fx.primaryID, policyID)

	e.setPolicyEnabled(policyID, false)
	testutil.MustGet(e.update(fx.primaryID, func(c *types.DistributionConfig) { c.Enabled = aws.Bool(false) }))(t)
	if err := e.deleteDistribution(fx.primaryID); err != nil {
		t.Fatalf("delete the disabled primary with its disabled policy attached: %v", err)
	}
	if got := aws.ToString(e.getConfig(fx.stagingID).DistributionConfig.ContinuousDeploymentPolicyId); got != "" {
		t.Errorf("staging still shows policy %q after its primary was deleted", got)
	}
	if err := e.deletePolicy(policyID); err != nil {
		t.Fatalf("delete the policy: %v", err)
	}
	// The provider sends the staging config back with Enabled=false and an
	// empty ContinuousDeploymentPolicyId.
	upd := testutil.MustGet(e.update(fx.stagingID, func(c *types.DistributionConfig) {
		c.Enabled = aws.Bool(false)
		c.ContinuousDeploymentPolicyId = aws.String("")
	}))(t)
	if aws.ToBool(upd.Distribution.DistributionConfig.Enabled) {
		t.Error("the staging distribution is still enabled")
	}
	if err := e.deleteDistribution(fx.stagingID); err != nil {
		t.Fatalf("delete the staging distribution: %v", err)
	}
	l := testutil.MustGet(e.cf.ListDistributions(context.Background(), &cfsdk.ListDistributionsInput{}))(t).DistributionList
	if aws.ToInt32(l.Quantity) != 0 {
		t.Errorf("%d distributions left", aws.ToInt32(l.Quantity))
	}
}

func TestDeletePolicyInUseSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.cdFixture("piu", "piu.example.com")
	policyID := aws.ToString(e.createPolicy(headerPolicy(fx.stagingDomain)).ContinuousDeploymentPolicy.Id)
	e.attach(fx.primaryID, policyID)
	const inUse = "You cannot delete a continuous deployment policy that is associated with a primary distribution."

	wantAPIMessage(t, e.deletePolicy(policyID), "ContinuousDeploymentPolicyInUse", 409, inUse)
	e.setPolicyEnabled(policyID, false)
	wantAPIMessage(t, e.deletePolicy(policyID), "ContinuousDeploymentPolicyInUse", 409, inUse)
	if got := aws.ToString(e.getConfig(fx.primaryID).DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
		t.Errorf("the refused delete detached the policy: primary shows %q", got)
	}

	// Detached, the policy goes; the staging distribution it named can then
	// be disabled and deleted.
	testutil.MustGet(e.update(fx.primaryID, func(c *types.DistributionConfig) { c.ContinuousDeploymentPolicyId = aws.String("") }))(t)
	if err := e.deletePolicy(policyID); err != nil {
		t.Fatalf("delete a detached policy: %v", err)
	}
	testutil.MustGet(e.update(fx.stagingID, func(c *types.DistributionConfig) { c.Enabled = aws.Bool(false) }))(t)
	if err := e.deleteDistribution(fx.stagingID); err != nil {
		t.Fatal(err)
	}
}

func TestDisablingStagingInUseSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.cdFixture("siu", "siu.example.com")
	policyID := aws.ToString(e.createPolicy(headerPolicy(fx.stagingDomain)).ContinuousDeploymentPolicy.Id)
	e.attach(fx.primaryID, policyID)
	_, err := e.update(fx.stagingID, func(c *types.DistributionConfig) { c.Enabled = aws.Bool(false) })
	wantAPIMessage(t, err, "StagingDistributionInUse", 409,
		"The specified staging distribution is currently used by a continuous deployment policy. Please the update policy before deleting.")
}

// TestWritesAnswerInProgressSDK: 300 writes through the SDK, none answers
// Deployed; a read right after each says Deployed (no edges to wait for).
func TestWritesAnswerInProgressSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := range 150 {
		out := e.createDistribution(distConfig(fmt.Sprintf("ip%03d", i)))
		if s := aws.ToString(out.Distribution.Status); s != "InProgress" {
			t.Fatalf("create %d answered %s, want InProgress", i, s)
		}
		ids = append(ids, aws.ToString(out.Distribution.Id))
	}
	for i, id := range ids {
		out := testutil.MustGet(e.update(id, func(c *types.DistributionConfig) { c.Comment = aws.String(fmt.Sprint("updated ", i)) }))(t)
		if s := aws.ToString(out.Distribution.Status); s != "InProgress" {
			t.Fatalf("update %d answered %s, want InProgress", i, s)
		}
	}
	got := testutil.MustGet(e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String(ids[0])}))(t)
	if s := aws.ToString(got.Distribution.Status); s != "Deployed" {
		t.Errorf("GetDistribution after the writes: %s, want Deployed", s)
	}
	stg := e.copyStaging(ids[0], "ip-staging")
	if s := aws.ToString(stg.Status); s != "InProgress" {
		t.Errorf("copy answered %s, want InProgress", s)
	}
}
