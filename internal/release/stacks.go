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
	// RestoreStack puts the stack's resources back to what its recorded
	// template and parameters say (nothing when there is no such stack).
	RestoreStack(ctx context.Context, release string, t TemplateStaging) error
}

// The outputs a staging template must declare (those of the AWS article's
// staging template).
const (
	outputStagingID = "StagingDistributionId"
	outputPolicyID  = "ContinuousDeploymentPolicyId"
)

// DefaultStackRegion is the region of a staging stack whose spec names
// none: CloudFront is global, but stack ARNs carry a region, and the aws
// CLI's usual one for CloudFront is us-east-1.
const DefaultStackRegion = "us-east-1"

// StackManager deploys staging stacks with the in-process stack engine,
// in the spec's region or else defaultRegion.
func StackManager(m *stack.Manager, defaultRegion string) Stacks {
	if defaultRegion == "" {
		defaultRegion = DefaultStackRegion
	}
	return &stackManager{m: m, region: defaultRegion}
}

type stackManager struct {
	m      *stack.Manager
	region string
}

func (d *stackManager) regionOf(t TemplateStaging) string {
	if t.Region != "" {
		return t.Region
	}
	return d.region
}

// DeployStaging creates the stack, or updates it with a REVERT_DRIFT change
// set: the template's changes are applied and what was changed out of band
// (a promotion disables the policy) is put back.
func (d *stackManager) DeployStaging(ctx context.Context, release string, t TemplateStaging) (map[string]string, error) {
	region := d.regionOf(t)
	in := stack.Input{Region: region, StackName: t.Stack, TemplateBody: t.Body}
	keys := make([]string, 0, len(t.Parameters))
	for k := range t.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Parameters = append(in.Parameters, stack.ParamInput{Key: k, Value: t.Parameters[k]})
	}
	existing, err := d.m.Describe(ctx, region, t.Stack)
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
		if s, err = d.revertDrift(ctx, changeSetName("stagefront-release-", release), in, existing[0]); err != nil {
			return nil, err
		}
	}
	out := map[string]string{}
	for _, o := range s.Outputs {
		out[o.Key] = o.Value
	}
	return out, nil
}

// revertDrift runs a REVERT_DRIFT change set: the input's changes are
// applied and what was changed out of band is put back. It returns the
// stack as it is afterwards (s itself when there was nothing to do).
func (d *stackManager) revertDrift(ctx context.Context, name string, in stack.Input, s *stack.Stack) (*stack.Stack, error) {
	cs, err := d.m.CreateChangeSet(ctx, stack.ChangeSetInput{Input: in, ChangeSetName: name, DeploymentMode: "REVERT_DRIFT"})
	if err != nil {
		return nil, fmt.Errorf("change set for stack %s: %w", in.StackName, err)
	}
	if cs.Status == "FAILED" { // no changes and no drift
		if err := d.m.DeleteChangeSet(ctx, in.Region, cs.ID, ""); err != nil {
			return nil, fmt.Errorf("delete empty change set %s: %w", name, err)
		}
		return s, nil
	}
	if s, err = d.m.ExecuteChangeSet(ctx, in.Region, cs.ID, "", false); err != nil {
		return nil, fmt.Errorf("execute change set %s on stack %s: %w", name, in.StackName, err)
	}
	if s.Status != stack.UpdateComplete {
		return nil, fmt.Errorf("update stack %s: %s: %s", in.StackName, s.Status, s.StatusReason)
	}
	return s, nil
}

// RestoreStack reverts the drift of the stack's recorded template and
// parameters (not the release's: a failed update left the previous ones
// recorded). A stack that does not exist, or that no update may touch
// (ROLLBACK_COMPLETE after a failed create), has nothing to restore.
func (d *stackManager) RestoreStack(ctx context.Context, release string, t TemplateStaging) error {
	region := d.regionOf(t)
	existing, err := d.m.Describe(ctx, region, t.Stack)
	if err != nil && isNoStack(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe stack %s: %w", t.Stack, err)
	}
	s := existing[0]
	switch s.Status {
	case stack.CreateComplete, stack.UpdateComplete, stack.UpdateRollbackComplete:
	default:
		return nil
	}
	in := stack.Input{Region: region, StackName: t.Stack, UsePreviousTemplate: true}
	keys := make([]string, 0, len(s.Parameters))
	for k := range s.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Parameters = append(in.Parameters, stack.ParamInput{Key: k, UsePrevious: true})
	}
	_, err = d.revertDrift(ctx, changeSetName("stagefront-restore-", release), in, s)
	return err
}

// changeSetName makes a change set name of prefix and a release name:
// CloudFormation allows [a-zA-Z][-a-zA-Z0-9]* up to 128 characters, and
// release names have dots (site-2.0.0), so anything else becomes "-".
func changeSetName(prefix, release string) string {
	b := []byte(prefix + release)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 128)])
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
