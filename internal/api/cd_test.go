package api_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// cdFixture is a primary with an alias and its staging copy whose origin
// path moved to /v2 (the canonical CD demo).
type cdFixture struct {
	primaryID, stagingID         string
	primaryDomain, stagingDomain string
}

func (e *env) cdFixture(ref, alias string) cdFixture {
	e.t.Helper()
	ctx := context.Background()
	cfg := distConfig(ref)
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{alias}}
	primary := e.createDistribution(cfg).Distribution
	stg := e.copyStaging(aws.ToString(primary.Id), ref+"-staging")
	sc := e.getConfig(aws.ToString(stg.Id))
	sc.DistributionConfig.Origins.Items[0].OriginPath = aws.String("/v2")
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: stg.Id, IfMatch: sc.ETag, DistributionConfig: sc.DistributionConfig}))(e.t)
	return cdFixture{
		primaryID: aws.ToString(primary.Id), stagingID: aws.ToString(stg.Id),
		primaryDomain: aws.ToString(primary.DomainName), stagingDomain: aws.ToString(stg.DomainName),
	}
}

func (e *env) createPolicy(cfg *types.ContinuousDeploymentPolicyConfig) *cfsdk.CreateContinuousDeploymentPolicyOutput {
	e.t.Helper()
	return testutil.MustGet(e.cf.CreateContinuousDeploymentPolicy(context.Background(),
		&cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: cfg}))(e.t)
}

// attach sets the primary's ContinuousDeploymentPolicyId.
func (e *env) attach(primaryID, policyID string) {
	e.t.Helper()
	c := e.getConfig(primaryID)
	c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String(policyID)
	testutil.MustGet(e.cf.UpdateDistribution(context.Background(), &cfsdk.UpdateDistributionInput{
		Id: aws.String(primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig}))(e.t)
}

func (e *env) policyConfig(id string) *cfsdk.GetContinuousDeploymentPolicyConfigOutput {
	e.t.Helper()
	return testutil.MustGet(e.cf.GetContinuousDeploymentPolicyConfig(context.Background(),
		&cfsdk.GetContinuousDeploymentPolicyConfigInput{Id: aws.String(id)}))(e.t)
}

func TestContinuousDeploymentPolicyValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fx := e.cdFixture("val", "val.example.com")

	weight := func(w float64, idle, maxTTL int32) *types.ContinuousDeploymentPolicyConfig {
		c := headerPolicy(fx.stagingDomain)
		c.TrafficConfig = &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleWeight,
			SingleWeightConfig: &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(float32(w))}}
		if idle > 0 {
			c.TrafficConfig.SingleWeightConfig.SessionStickinessConfig = &types.SessionStickinessConfig{IdleTTL: aws.Int32(idle), MaximumTTL: aws.Int32(maxTTL)}
		}
		return c
	}
	cases := []struct {
		name   string
		cfg    *types.ContinuousDeploymentPolicyConfig
		code   string
		status int
	}{
		{"bad header prefix", func() *types.ContinuousDeploymentPolicyConfig {
			c := headerPolicy(fx.stagingDomain)
			c.TrafficConfig.SingleHeaderConfig.Header = aws.String("x-test")
			return c
		}(), "InvalidArgument", 400},
		{"weight over 0.15", weight(0.2, 0, 0), "InvalidArgument", 400},
		{"negative weight", weight(-0.01, 0, 0), "InvalidArgument", 400},
		{"IdleTTL under 300", weight(0.1, 200, 600), "InvalidArgument", 400},
		{"IdleTTL over MaximumTTL", weight(0.1, 900, 600), "InvalidArgument", 400},
		{"MaximumTTL over 3600", weight(0.1, 300, 3601), "InvalidArgument", 400},
		{"quantity mismatch", func() *types.ContinuousDeploymentPolicyConfig {
			c := headerPolicy(fx.stagingDomain)
			c.StagingDistributionDnsNames.Quantity = aws.Int32(2)
			return c
		}(), "InconsistentQuantities", 400},
		{"unknown staging DNS name", headerPolicy("dzzzzzzzzzzzzz.cloudfront.net"), "InvalidArgument", 400},
		{"primary's DNS name", headerPolicy(fx.primaryDomain), "InvalidArgument", 400},
		{"two staging names", func() *types.ContinuousDeploymentPolicyConfig {
			c := headerPolicy(fx.stagingDomain)
			c.StagingDistributionDnsNames = &types.StagingDistributionDnsNames{Quantity: aws.Int32(2), Items: []string{fx.stagingDomain, fx.primaryDomain}}
			return c
		}(), "InvalidArgument", 400},
		{"header config on a weight policy", func() *types.ContinuousDeploymentPolicyConfig {
			c := weight(0.1, 0, 0)
			c.TrafficConfig.SingleHeaderConfig = headerPolicy("x").TrafficConfig.SingleHeaderConfig
			return c
		}(), "InvalidArgument", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cf.CreateContinuousDeploymentPolicy(ctx, &cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: tc.cfg})
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
	t.Run("weight 0.15 with stickiness is accepted", func(t *testing.T) {
		out := e.createPolicy(weight(0.15, 300, 3600))
		if httpStatus(t, out.ResultMetadata) != 201 {
			t.Errorf("status = %d", httpStatus(t, out.ResultMetadata))
		}
		_, err := e.cf.CreateContinuousDeploymentPolicy(ctx, &cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: headerPolicy(fx.stagingDomain)})
		wantAPIError(t, err, "StagingDistributionInUse", 409)
	})
}

func TestContinuousDeploymentLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fx := e.cdFixture("life", "www.example.com")

	// Create a header policy.
	created := e.createPolicy(headerPolicy(fx.stagingDomain))
	policyID := aws.ToString(created.ContinuousDeploymentPolicy.Id)
	if httpStatus(t, created.ResultMetadata) != 201 || !etagRE.MatchString(aws.ToString(created.ETag)) || !uuidRE.MatchString(policyID) {
		t.Errorf("create policy: status %d, ETag %q, Id %q", httpStatus(t, created.ResultMetadata), aws.ToString(created.ETag), policyID)
	}
	if got, want := aws.ToString(created.Location), e.url+"/2020-05-31/continuous-deployment-policy/"+policyID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	t.Run("staging already in a policy", func(t *testing.T) {
		_, err := e.cf.CreateContinuousDeploymentPolicy(ctx, &cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: headerPolicy(fx.stagingDomain)})
		wantAPIError(t, err, "StagingDistributionInUse", 409)
	})
	t.Run("get, get config and list", func(t *testing.T) {
		got := testutil.MustGet(e.cf.GetContinuousDeploymentPolicy(ctx, &cfsdk.GetContinuousDeploymentPolicyInput{Id: aws.String(policyID)}))(t)
		gotCfg := e.policyConfig(policyID)
		if aws.ToString(got.ETag) != aws.ToString(created.ETag) || aws.ToString(gotCfg.ETag) != aws.ToString(created.ETag) {
			t.Errorf("ETags differ: create %s, get %s, config %s", aws.ToString(created.ETag), aws.ToString(got.ETag), aws.ToString(gotCfg.ETag))
		}
		tc := gotCfg.ContinuousDeploymentPolicyConfig.TrafficConfig
		if tc.Type != types.ContinuousDeploymentPolicyTypeSingleHeader || aws.ToString(tc.SingleHeaderConfig.Value) != "blue" {
			t.Errorf("TrafficConfig = %+v", tc)
		}
		// A second primary/staging pair and policy, so the list pages.
		fx2 := e.cdFixture("life2", "two.example.com")
		e.createPolicy(headerPolicy(fx2.stagingDomain))
		l := testutil.MustGet(e.cf.ListContinuousDeploymentPolicies(ctx, &cfsdk.ListContinuousDeploymentPoliciesInput{MaxItems: aws.Int32(1)}))(t).ContinuousDeploymentPolicyList
		if aws.ToInt32(l.MaxItems) != 1 || len(l.Items) != 1 || l.NextMarker == nil {
			t.Fatalf("first page: MaxItems %d, %d items, NextMarker %v", aws.ToInt32(l.MaxItems), len(l.Items), l.NextMarker)
		}
		if aws.ToInt32(l.Quantity) != 2 {
			t.Errorf("Quantity = %d, want 2 (the total, as the API reference says)", aws.ToInt32(l.Quantity))
		}
		l2 := testutil.MustGet(e.cf.ListContinuousDeploymentPolicies(ctx, &cfsdk.ListContinuousDeploymentPoliciesInput{MaxItems: aws.Int32(1), Marker: l.NextMarker}))(t).ContinuousDeploymentPolicyList
		if len(l2.Items) != 1 || l2.NextMarker != nil ||
			aws.ToString(l2.Items[0].ContinuousDeploymentPolicy.Id) == aws.ToString(l.Items[0].ContinuousDeploymentPolicy.Id) {
			t.Errorf("second page: %d items, NextMarker %v", len(l2.Items), l2.NextMarker)
		}
		_, err := e.cf.ListContinuousDeploymentPolicies(ctx, &cfsdk.ListContinuousDeploymentPoliciesInput{Marker: aws.String("no-such-policy")})
		wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404)
	})
	t.Run("unknown policy", func(t *testing.T) {
		_, err := e.cf.GetContinuousDeploymentPolicy(ctx, &cfsdk.GetContinuousDeploymentPolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
		wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404)
		_, err = e.cf.GetContinuousDeploymentPolicyConfig(ctx, &cfsdk.GetContinuousDeploymentPolicyConfigInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
		wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404)
	})
	t.Run("attach an unknown policy", func(t *testing.T) {
		c := e.getConfig(fx.primaryID)
		c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String("00000000-0000-0000-0000-000000000000")
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404)
	})

	// Attach: the staging distribution shows the policy too.
	stagingETag := e.etag(fx.stagingID)
	e.attach(fx.primaryID, policyID)
	if got := aws.ToString(e.getConfig(fx.primaryID).DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
		t.Fatalf("primary policy id = %q, want %q", got, policyID)
	}
	if got := aws.ToString(e.getConfig(fx.stagingID).DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
		t.Errorf("staging policy id (reverse pointer) = %q, want %q", got, policyID)
	}
	if e.etag(fx.stagingID) == stagingETag {
		t.Error("the staging distribution kept its ETag after the reverse pointer was written")
	}

	t.Run("IllegalUpdate on the primary", func(t *testing.T) {
		c := e.getConfig(fx.primaryID)
		c.DistributionConfig.PriceClass = types.PriceClassPriceClass100
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "IllegalUpdate", 400)
	})
	t.Run("omitting the policy id keeps it", func(t *testing.T) {
		c := e.getConfig(fx.primaryID)
		c.DistributionConfig.ContinuousDeploymentPolicyId = nil
		c.DistributionConfig.Comment = aws.String("allowed change")
		testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig}))(t)
		if got := aws.ToString(e.getConfig(fx.primaryID).DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
			t.Errorf("policy id = %q, want %q", got, policyID)
		}
	})
	t.Run("staging cannot be disabled while in use", func(t *testing.T) {
		c := e.getConfig(fx.stagingID)
		c.DistributionConfig.Enabled = aws.Bool(false)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.stagingID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "StagingDistributionInUse", 409)
	})
	t.Run("staging cannot drop the reverse pointer", func(t *testing.T) {
		c := e.getConfig(fx.stagingID)
		c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String("")
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.stagingID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "IllegalUpdate", 400)
	})
	t.Run("policy cannot be deleted while attached", func(t *testing.T) {
		_, err := e.cf.DeleteContinuousDeploymentPolicy(ctx, &cfsdk.DeleteContinuousDeploymentPolicyInput{Id: aws.String(policyID), IfMatch: e.policyConfig(policyID).ETag})
		wantAPIError(t, err, "ContinuousDeploymentPolicyInUse", 409)
	})

	// Switch to weight with stickiness.
	pc := e.policyConfig(policyID)
	pc.ContinuousDeploymentPolicyConfig.TrafficConfig = &types.TrafficConfig{
		Type: types.ContinuousDeploymentPolicyTypeSingleWeight,
		SingleWeightConfig: &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(0.15),
			SessionStickinessConfig: &types.SessionStickinessConfig{IdleTTL: aws.Int32(300), MaximumTTL: aws.Int32(600)}},
	}
	t.Run("update policy without If-Match", func(t *testing.T) {
		_, err := e.cf.UpdateContinuousDeploymentPolicy(ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
			Id: aws.String(policyID), ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig})
		wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	})
	upd := testutil.MustGet(e.cf.UpdateContinuousDeploymentPolicy(ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
		Id: aws.String(policyID), IfMatch: pc.ETag, ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig}))(t)
	if aws.ToString(upd.ETag) == aws.ToString(pc.ETag) {
		t.Error("policy ETag unchanged by update")
	}
	tc := upd.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.TrafficConfig
	if tc.SingleHeaderConfig != nil || aws.ToFloat32(tc.SingleWeightConfig.Weight) != 0.15 {
		t.Errorf("TrafficConfig after update = %+v", tc)
	}
	t.Run("update policy with a stale ETag", func(t *testing.T) {
		_, err := e.cf.UpdateContinuousDeploymentPolicy(ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
			Id: aws.String(policyID), IfMatch: pc.ETag, ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig})
		wantAPIError(t, err, "PreconditionFailed", 412)
	})

	// Promote.
	promote := func(ifMatch string) (*cfsdk.UpdateDistributionWithStagingConfigOutput, error) {
		return e.cf.UpdateDistributionWithStagingConfig(ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
			Id: aws.String(fx.primaryID), StagingDistributionId: aws.String(fx.stagingID), IfMatch: aws.String(ifMatch)})
	}
	primaryETag, stagingETag := e.etag(fx.primaryID), e.etag(fx.stagingID)
	t.Run("promote with one ETag", func(t *testing.T) {
		_, err := promote(primaryETag)
		wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	})
	t.Run("promote with a stale ETag", func(t *testing.T) {
		_, err := promote("EAAAAAAAAAAAAA," + stagingETag)
		wantAPIError(t, err, "PreconditionFailed", 412)
		_, err = promote(primaryETag + ",EAAAAAAAAAAAAA")
		wantAPIError(t, err, "PreconditionFailed", 412)
	})
	t.Run("promote without a staging id", func(t *testing.T) {
		_, err := e.cf.UpdateDistributionWithStagingConfig(ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
			Id: aws.String(fx.primaryID), IfMatch: aws.String(primaryETag + "," + stagingETag)})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
	promoted := testutil.MustGet(promote(primaryETag + ", " + stagingETag))(t)
	if httpStatus(t, promoted.ResultMetadata) != 200 {
		t.Errorf("promote status = %d", httpStatus(t, promoted.ResultMetadata))
	}
	newETag := aws.ToString(promoted.ETag)
	if newETag == primaryETag || newETag != e.etag(fx.primaryID) {
		t.Errorf("promote ETag = %q (before %q, now %q)", newETag, primaryETag, e.etag(fx.primaryID))
	}
	checkPromoted := func(t *testing.T, wantPath string) {
		t.Helper()
		c := e.getConfig(fx.primaryID).DistributionConfig
		if got := aws.ToString(c.Origins.Items[0].OriginPath); got != wantPath {
			t.Errorf("primary OriginPath = %q, want %q", got, wantPath)
		}
		if len(c.Aliases.Items) != 1 || c.Aliases.Items[0] != "www.example.com" {
			t.Errorf("primary Aliases = %+v, want www.example.com kept", c.Aliases)
		}
		if aws.ToString(c.ContinuousDeploymentPolicyId) != policyID || aws.ToBool(c.Staging) || aws.ToString(c.CallerReference) != "life" {
			t.Errorf("primary after promote: policy %q, Staging %v, ref %q",
				aws.ToString(c.ContinuousDeploymentPolicyId), aws.ToBool(c.Staging), aws.ToString(c.CallerReference))
		}
		if aws.ToBool(e.policyConfig(policyID).ContinuousDeploymentPolicyConfig.Enabled) {
			t.Error("the policy is still enabled after the promotion")
		}
		if !aws.ToBool(e.getConfig(fx.stagingID).DistributionConfig.Staging) {
			t.Error("the staging distribution lost Staging=true")
		}
	}
	checkPromoted(t, "/v2")

	// Next cycle: re-enable the policy, change staging, promote with "a,b".
	pc = e.policyConfig(policyID)
	pc.ContinuousDeploymentPolicyConfig.Enabled = aws.Bool(true)
	testutil.MustGet(e.cf.UpdateContinuousDeploymentPolicy(ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
		Id: aws.String(policyID), IfMatch: pc.ETag, ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig}))(t)
	sc := e.getConfig(fx.stagingID)
	sc.DistributionConfig.Origins.Items[0].OriginPath = aws.String("/v3")
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.stagingID), IfMatch: sc.ETag, DistributionConfig: sc.DistributionConfig}))(t)
	testutil.MustGet(promote(e.etag(fx.primaryID) + "," + e.etag(fx.stagingID)))(t)
	checkPromoted(t, "/v3")

	// Teardown in Terraform's order.
	pc = e.policyConfig(policyID)
	c := e.getConfig(fx.primaryID)
	c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String("")
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig}))(t)
	if got := aws.ToString(e.getConfig(fx.stagingID).DistributionConfig.ContinuousDeploymentPolicyId); got != "" {
		t.Errorf("staging reverse pointer after detach = %q", got)
	}
	t.Run("delete policy with a stale ETag", func(t *testing.T) {
		_, err := e.cf.DeleteContinuousDeploymentPolicy(ctx, &cfsdk.DeleteContinuousDeploymentPolicyInput{Id: aws.String(policyID), IfMatch: created.ETag})
		wantAPIError(t, err, "PreconditionFailed", 412)
	})
	del := testutil.MustGet(e.cf.DeleteContinuousDeploymentPolicy(ctx, &cfsdk.DeleteContinuousDeploymentPolicyInput{Id: aws.String(policyID), IfMatch: pc.ETag}))(t)
	if httpStatus(t, del.ResultMetadata) != 204 {
		t.Errorf("delete policy status = %d", httpStatus(t, del.ResultMetadata))
	}
	for _, id := range []string{fx.stagingID, fx.primaryID} {
		c := e.getConfig(id)
		c.DistributionConfig.Enabled = aws.Bool(false)
		upd := testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig}))(t)
		testutil.MustGet(e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: upd.ETag}))(t)
	}
}

func TestContinuousDeploymentAttachRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fx := e.cdFixture("rules", "rules.example.com")
	other := e.cdFixture("rules2", "rules2.example.com")
	policyID := aws.ToString(e.createPolicy(headerPolicy(fx.stagingDomain)).ContinuousDeploymentPolicy.Id)

	t.Run("promote without an attached policy", func(t *testing.T) {
		_, err := e.cf.UpdateDistributionWithStagingConfig(ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
			Id: aws.String(fx.primaryID), StagingDistributionId: aws.String(fx.stagingID),
			IfMatch: aws.String(e.etag(fx.primaryID) + "," + e.etag(fx.stagingID))})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
	t.Run("HTTP/3 primary", func(t *testing.T) {
		c := e.getConfig(other.primaryID)
		c.DistributionConfig.HttpVersion = types.HttpVersionHttp2and3
		c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String(policyID)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(other.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
	t.Run("policy on a staging distribution", func(t *testing.T) {
		c := e.getConfig(fx.stagingID)
		c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String(policyID)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(fx.stagingID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "IllegalUpdate", 400)
	})

	e.attach(fx.primaryID, policyID)
	t.Run("policy attached to another primary", func(t *testing.T) {
		c := e.getConfig(other.primaryID)
		c.DistributionConfig.ContinuousDeploymentPolicyId = aws.String(policyID)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(other.primaryID), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "ContinuousDeploymentPolicyInUse", 409)
	})
	t.Run("promote a staging the policy does not name", func(t *testing.T) {
		_, err := e.cf.UpdateDistributionWithStagingConfig(ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
			Id: aws.String(fx.primaryID), StagingDistributionId: aws.String(other.stagingID),
			IfMatch: aws.String(e.etag(fx.primaryID) + "," + e.etag(other.stagingID))})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
	t.Run("policy update moves the reverse pointer and touches the primary", func(t *testing.T) {
		primaryETag := e.etag(fx.primaryID)
		newStaging := e.copyStaging(fx.primaryID, "rules-staging-2")
		pc := e.policyConfig(policyID)
		pc.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items = []string{aws.ToString(newStaging.DomainName)}
		testutil.MustGet(e.cf.UpdateContinuousDeploymentPolicy(ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
			Id: aws.String(policyID), IfMatch: pc.ETag, ContinuousDeploymentPolicyConfig: pc.ContinuousDeploymentPolicyConfig}))(t)
		if e.etag(fx.primaryID) == primaryETag {
			t.Error("the primary kept its ETag after its policy changed")
		}
		if got := aws.ToString(e.getConfig(fx.stagingID).DistributionConfig.ContinuousDeploymentPolicyId); got != "" {
			t.Errorf("old staging still points at the policy: %q", got)
		}
		if got := aws.ToString(e.getConfig(aws.ToString(newStaging.Id)).DistributionConfig.ContinuousDeploymentPolicyId); got != policyID {
			t.Errorf("new staging policy id = %q, want %q", got, policyID)
		}
		// The old staging is free again.
		e.createPolicy(headerPolicy(fx.stagingDomain))
	})
}
