package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/stagefront/stagefront/internal/cfn/stack"
)

// Stacks deploys the staging stack of a release whose staging comes from a
// template, and returns the stack's outputs.
type Stacks interface {
	DeployStaging(ctx context.Context, release string, t TemplateStaging) (outputs map[string]string, err error)
}

// The outputs a staging template must declare (those of the AWS article's
// staging template).
const (
	outputStagingID = "StagingDistributionId"
	outputPolicyID  = "ContinuousDeploymentPolicyId"
)

// StackManager deploys staging stacks with the in-process stack engine in region.
func StackManager(m *stack.Manager, region string) Stacks {
	return &stackManager{m: m, region: region}
}

type stackManager struct {
	m      *stack.Manager
	region string
}

// DeployStaging creates the stack, or updates it with a REVERT_DRIFT change
// set: the template's changes are applied and what was changed out of band
// (a promotion disables the policy) is put back.
func (d *stackManager) DeployStaging(ctx context.Context, release string, t TemplateStaging) (map[string]string, error) {
	in := stack.Input{Region: d.region, StackName: t.Stack, TemplateBody: t.Body}
	keys := make([]string, 0, len(t.Parameters))
	for k := range t.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Parameters = append(in.Parameters, stack.ParamInput{Key: k, Value: t.Parameters[k]})
	}
	existing, err := d.m.Describe(ctx, d.region, t.Stack)
	var s *stack.Stack
	switch {
	case err != nil && isNoStack(err):
		if s, err = d.m.CreateStack(ctx, in); err != nil {
			return nil, fmt.Errorf("create stack %s: %w", t.Stack, err)
		}
		if s.Status != stack.CreateComplete {
			return nil, fmt.Errorf("create stack %s: %s: %s", t.Stack, s.Status, s.StatusReason)
		}
	case err != nil:
		return nil, fmt.Errorf("describe stack %s: %w", t.Stack, err)
	default:
		s = existing[0]
		name := "stagefront-release-" + release
		cs, err := d.m.CreateChangeSet(ctx, stack.ChangeSetInput{Input: in, ChangeSetName: name, DeploymentMode: "REVERT_DRIFT"})
		if err != nil {
			return nil, fmt.Errorf("change set for stack %s: %w", t.Stack, err)
		}
		if cs.Status == "FAILED" { // no changes and no drift
			if err := d.m.DeleteChangeSet(ctx, d.region, cs.ID, ""); err != nil {
				return nil, fmt.Errorf("delete empty change set %s: %w", name, err)
			}
			break
		}
		if s, err = d.m.ExecuteChangeSet(ctx, d.region, cs.ID, "", false); err != nil {
			return nil, fmt.Errorf("execute change set %s on stack %s: %w", name, t.Stack, err)
		}
		if s.Status != stack.UpdateComplete {
			return nil, fmt.Errorf("update stack %s: %s: %s", t.Stack, s.Status, s.StatusReason)
		}
	}
	out := map[string]string{}
	for _, o := range s.Outputs {
		out[o.Key] = o.Value
	}
	return out, nil
}

func isNoStack(err error) bool {
	e, ok := stack.AsError(err)
	return ok && strings.Contains(e.Message, "does not exist")
}

// deployStaging deploys a release's staging stack and reads what its
// outputs name: the staging distribution and the policy routing to it.
func (c *cloud) deployStaging(ctx context.Context, stacks Stacks, rel *Release) (Result, error) {
	if stacks == nil {
		return Result{}, errors.New("staging from a template needs the CloudFormation engine, which this controller was not given")
	}
	t := rel.Spec.Staging.Template
	out, err := stacks.DeployStaging(ctx, rel.Name, *t)
	if err != nil {
		return Result{}, err
	}
	stagingID, policyID := out[outputStagingID], out[outputPolicyID]
	if stagingID == "" || policyID == "" {
		return Result{}, fmt.Errorf("stack %s (from %s) must output %s and %s", t.Stack, t.Path, outputStagingID, outputPolicyID)
	}
	staging, _, err := c.getDistribution(ctx, stagingID)
	if err != nil {
		return Result{}, err
	}
	pol, err := c.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: aws.String(policyID)})
	if err != nil {
		return Result{}, fmt.Errorf("get policy %s: %w", policyID, err)
	}
	cfg := pol.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig
	if !strings.EqualFold(policyStagingDomain(pol.ContinuousDeploymentPolicy), aws.ToString(staging.DomainName)) {
		return Result{}, fmt.Errorf("stack %s: policy %s does not route to staging %s", t.Stack, policyID, stagingID)
	}
	traffic := trafficOf(cfg)
	if !traffic.Enabled {
		return Result{}, fmt.Errorf("stack %s: the template's policy %s is disabled, so it routes nothing to staging", t.Stack, policyID)
	}
	return Result{
		StagingID: stagingID, StagingDomain: aws.ToString(staging.DomainName),
		PolicyID: policyID, StackTraffic: traffic,
	}, nil
}
