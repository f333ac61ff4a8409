package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"
)

// CloudFront is the part of the aws-sdk-go-v2 CloudFront client the
// controller uses; *cloudfront.Client implements it. Every change a release
// makes goes through these calls, so it works against any
// CloudFront-compatible endpoint.
type CloudFront interface {
	GetDistribution(context.Context, *cloudfront.GetDistributionInput, ...func(*cloudfront.Options)) (*cloudfront.GetDistributionOutput, error)
	GetDistributionConfig(context.Context, *cloudfront.GetDistributionConfigInput, ...func(*cloudfront.Options)) (*cloudfront.GetDistributionConfigOutput, error)
	ListDistributions(context.Context, *cloudfront.ListDistributionsInput, ...func(*cloudfront.Options)) (*cloudfront.ListDistributionsOutput, error)
	CopyDistribution(context.Context, *cloudfront.CopyDistributionInput, ...func(*cloudfront.Options)) (*cloudfront.CopyDistributionOutput, error)
	UpdateDistribution(context.Context, *cloudfront.UpdateDistributionInput, ...func(*cloudfront.Options)) (*cloudfront.UpdateDistributionOutput, error)
	UpdateDistributionWithStagingConfig(context.Context, *cloudfront.UpdateDistributionWithStagingConfigInput, ...func(*cloudfront.Options)) (*cloudfront.UpdateDistributionWithStagingConfigOutput, error)
	CreateContinuousDeploymentPolicy(context.Context, *cloudfront.CreateContinuousDeploymentPolicyInput, ...func(*cloudfront.Options)) (*cloudfront.CreateContinuousDeploymentPolicyOutput, error)
	GetContinuousDeploymentPolicy(context.Context, *cloudfront.GetContinuousDeploymentPolicyInput, ...func(*cloudfront.Options)) (*cloudfront.GetContinuousDeploymentPolicyOutput, error)
	UpdateContinuousDeploymentPolicy(context.Context, *cloudfront.UpdateContinuousDeploymentPolicyInput, ...func(*cloudfront.Options)) (*cloudfront.UpdateContinuousDeploymentPolicyOutput, error)
	ListContinuousDeploymentPolicies(context.Context, *cloudfront.ListContinuousDeploymentPoliciesInput, ...func(*cloudfront.Options)) (*cloudfront.ListContinuousDeploymentPoliciesOutput, error)
	CreateInvalidation(context.Context, *cloudfront.CreateInvalidationInput, ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error)
}

// world is what one pass read through the API, with the ETags to write with.
type world struct {
	primary     *types.Distribution
	primaryETag string
	staging     *types.Distribution // nil when there is none yet
	stagingETag string
	policy      *types.ContinuousDeploymentPolicy // the one attached to the primary, if any
	policyETag  string
}

// cloud executes actions through the CloudFront API.
type cloud struct {
	cf CloudFront
}

// isAPIError reports whether err is the API answering with one of codes.
func isAPIError(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// permanent reports whether the API refused a request for a reason that a
// retry will not fix (a 4xx other than a stale ETag or throttling).
func permanent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "PreconditionFailed", "Throttling", "InternalError", "ServiceUnavailable", "RequestTimeout":
		return false
	}
	return ae.ErrorFault() != smithy.FaultServer
}

func (c *cloud) getDistribution(ctx context.Context, id string) (*types.Distribution, string, error) {
	out, err := c.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
	if err != nil {
		return nil, "", fmt.Errorf("get distribution %s: %w", id, err)
	}
	return out.Distribution, aws.ToString(out.ETag), nil
}

// resolvePrimary finds a primary by id or alias.
func (c *cloud) resolvePrimary(ctx context.Context, ref string) (*types.Distribution, error) {
	d, _, err := c.getDistribution(ctx, ref)
	if err == nil {
		if aws.ToBool(d.DistributionConfig.Staging) {
			return nil, fmt.Errorf("%s is a staging distribution; name its primary: %w", ref, ErrInvalidSpec)
		}
		return d, nil
	}
	if !isAPIError(err, "NoSuchDistribution") {
		return nil, err
	}
	var found *types.DistributionSummary
	err = c.eachDistribution(ctx, func(s types.DistributionSummary) bool {
		if aws.ToString(s.DomainName) == ref || (s.Aliases != nil && containsFold(s.Aliases.Items, ref)) {
			found = &s
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("no distribution has the id or alias %q: %w", ref, ErrNotFound)
	}
	d, _, err = c.getDistribution(ctx, aws.ToString(found.Id))
	return d, err
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// eachDistribution calls fn for each distribution until it returns false.
func (c *cloud) eachDistribution(ctx context.Context, fn func(types.DistributionSummary) bool) error {
	var marker *string
	for {
		out, err := c.cf.ListDistributions(ctx, &cloudfront.ListDistributionsInput{Marker: marker})
		if err != nil {
			return fmt.Errorf("list distributions: %w", err)
		}
		l := out.DistributionList
		if l == nil {
			return nil
		}
		for _, s := range l.Items {
			if !fn(s) {
				return nil
			}
		}
		if !aws.ToBool(l.IsTruncated) || l.NextMarker == nil {
			return nil
		}
		marker = l.NextMarker
	}
}

// observe reads the primary, its policy and the staging distribution, and
// condenses them into an Observation for the planner.
func (c *cloud) observe(ctx context.Context, rel *Release, metrics MetricsSource) (*world, Observation, error) {
	w := &world{}
	var err error
	if w.primary, w.primaryETag, err = c.getDistribution(ctx, rel.PrimaryID); err != nil {
		return nil, Observation{}, err
	}
	if id := aws.ToString(w.primary.DistributionConfig.ContinuousDeploymentPolicyId); id != "" {
		out, err := c.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: aws.String(id)})
		if err != nil && !isAPIError(err, "NoSuchContinuousDeploymentPolicy") {
			return nil, Observation{}, fmt.Errorf("get policy %s: %w", id, err)
		}
		if err == nil {
			w.policy, w.policyETag = out.ContinuousDeploymentPolicy, aws.ToString(out.ETag)
		}
	}
	switch {
	case rel.State.StagingID != "":
		w.staging, w.stagingETag, err = c.getDistribution(ctx, rel.State.StagingID)
		if isAPIError(err, "NoSuchDistribution") {
			w.staging, err = nil, nil
		}
	case w.policy != nil: // reuse the staging of the policy already attached
		var id string
		if id, err = c.stagingByDomain(ctx, policyStagingDomain(w.policy)); err == nil && id != "" {
			w.staging, w.stagingETag, err = c.getDistribution(ctx, id)
		}
	}
	if err != nil {
		return nil, Observation{}, err
	}

	obs := Observation{StagingMatchesPrimary: true}
	primaryCfg := w.primary.DistributionConfig
	if w.staging != nil {
		stagingCfg := w.staging.DistributionConfig
		stagingDigest := ConfigDigest(stagingCfg)
		obs.StagingMatchesPrimary = stagingDigest == ConfigDigest(primaryCfg)
		if rel.Spec.Staging.Template != nil {
			// The stack owns staging: it is ready once this release deployed it.
			obs.StagingReady = rel.State.StagingID != ""
		} else {
			desired, err := DesiredStaging(primaryCfg, stagingCfg, rel.Spec.Staging)
			if err != nil {
				return nil, Observation{}, fmt.Errorf("apply the change: %w", err)
			}
			obs.StagingReady = stagingDigest == ConfigDigest(desired) ||
				(rel.State.StagingBase == ConfigDigest(primaryCfg) && rel.State.StagingResult == stagingDigest)
		}
		if w.policy != nil && strings.EqualFold(policyStagingDomain(w.policy), aws.ToString(w.staging.DomainName)) {
			obs.Attached = true
			obs.Traffic = trafficOf(w.policy.ContinuousDeploymentPolicyConfig)
		}
	}
	if metrics != nil {
		families, err := metrics.Gather()
		if err != nil {
			return nil, Observation{}, fmt.Errorf("gather metrics: %w", err)
		}
		snap := SnapshotOf(families, rel.PrimaryID)
		obs.Metrics = &snap
	}
	return w, obs, nil
}

func policyStagingDomain(p *types.ContinuousDeploymentPolicy) string {
	if p == nil || p.ContinuousDeploymentPolicyConfig == nil || p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames == nil {
		return ""
	}
	if items := p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items; len(items) > 0 {
		return items[0]
	}
	return ""
}

func (c *cloud) stagingByDomain(ctx context.Context, domain string) (string, error) {
	var id string
	err := c.eachDistribution(ctx, func(s types.DistributionSummary) bool {
		if strings.EqualFold(aws.ToString(s.DomainName), domain) {
			id = aws.ToString(s.Id)
			return false
		}
		return true
	})
	return id, err
}

// trafficOf reads what a policy config routes.
func trafficOf(cfg *types.ContinuousDeploymentPolicyConfig) Traffic {
	if cfg == nil {
		return Traffic{}
	}
	t := Traffic{Enabled: aws.ToBool(cfg.Enabled)}
	tc := cfg.TrafficConfig
	switch {
	case tc == nil:
	case tc.Type == types.ContinuousDeploymentPolicyTypeSingleHeader && tc.SingleHeaderConfig != nil:
		t.Kind, t.Header, t.Value = TrafficHeader, aws.ToString(tc.SingleHeaderConfig.Header), aws.ToString(tc.SingleHeaderConfig.Value)
	case tc.Type == types.ContinuousDeploymentPolicyTypeSingleWeight && tc.SingleWeightConfig != nil:
		t.Kind = TrafficWeight
		t.WeightBP = int(math.Round(float64(aws.ToFloat32(tc.SingleWeightConfig.Weight)) * 10000))
		if sk := tc.SingleWeightConfig.SessionStickinessConfig; sk != nil {
			t.IdleTTL, t.MaxTTL = aws.ToInt32(sk.IdleTTL), aws.ToInt32(sk.MaximumTTL)
		}
	}
	return t
}

// policyConfig is the policy config that routes t to the staging domain.
func policyConfig(domain string, t Traffic) *types.ContinuousDeploymentPolicyConfig {
	cfg := &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(t.Enabled),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{domain}},
	}
	switch t.Kind {
	case TrafficHeader:
		cfg.TrafficConfig = &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String(t.Header), Value: aws.String(t.Value)}}
	case TrafficWeight:
		wc := &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(float32(t.WeightBP) / 10000)}
		if t.IdleTTL > 0 {
			wc.SessionStickinessConfig = &types.SessionStickinessConfig{IdleTTL: aws.Int32(t.IdleTTL), MaximumTTL: aws.Int32(t.MaxTTL)}
		}
		cfg.TrafficConfig = &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleWeight, SingleWeightConfig: wc}
	}
	return cfg
}

// stagingRef is the CallerReference of a primary's staging copy: a retried
// CopyDistribution finds the copy made before instead of making another.
func stagingRef(primaryID string) string { return "stagefront-staging-" + primaryID }

// ensureStaging copies a staging distribution if there is none and applies
// the change to it.
func (c *cloud) ensureStaging(ctx context.Context, rel *Release, w *world) (Result, error) {
	if w.staging == nil {
		var err error
		if w.staging, w.stagingETag, err = c.findOrCopyStaging(ctx, rel.PrimaryID, w.primaryETag); err != nil {
			return Result{}, err
		}
	}
	primaryCfg := w.primary.DistributionConfig
	desired, err := DesiredStaging(primaryCfg, w.staging.DistributionConfig, rel.Spec.Staging)
	if err != nil {
		return Result{}, fmt.Errorf("apply the change: %w", err)
	}
	result := w.staging
	if ConfigDigest(desired) != ConfigDigest(w.staging.DistributionConfig) {
		out, err := c.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{
			Id: w.staging.Id, IfMatch: aws.String(w.stagingETag), DistributionConfig: desired,
		})
		if err != nil {
			return Result{}, fmt.Errorf("update staging %s: %w", aws.ToString(w.staging.Id), err)
		}
		result = out.Distribution
	}
	return Result{
		StagingID: aws.ToString(result.Id), StagingDomain: aws.ToString(result.DomainName),
		StagingBase: ConfigDigest(primaryCfg), StagingResult: ConfigDigest(result.DistributionConfig),
	}, nil
}

func (c *cloud) findOrCopyStaging(ctx context.Context, primaryID, primaryETag string) (*types.Distribution, string, error) {
	out, err := c.cf.CopyDistribution(ctx, &cloudfront.CopyDistributionInput{
		PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String(stagingRef(primaryID)),
		IfMatch: aws.String(primaryETag), Staging: aws.Bool(true), Enabled: aws.Bool(true),
	})
	if err == nil {
		return out.Distribution, aws.ToString(out.ETag), nil
	}
	if !isAPIError(err, "DistributionAlreadyExists") {
		return nil, "", fmt.Errorf("copy distribution %s: %w", primaryID, err)
	}
	var found string
	var lookErr error
	err = c.eachDistribution(ctx, func(s types.DistributionSummary) bool {
		if !aws.ToBool(s.Staging) {
			return true
		}
		cfg, err := c.cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: s.Id})
		if err != nil {
			lookErr = err
			return false
		}
		if aws.ToString(cfg.DistributionConfig.CallerReference) == stagingRef(primaryID) {
			found = aws.ToString(s.Id)
			return false
		}
		return true
	})
	if err = errors.Join(err, lookErr); err != nil {
		return nil, "", err
	}
	if found == "" {
		return nil, "", fmt.Errorf("staging copy of %s: CallerReference %s is taken but no staging distribution has it", primaryID, stagingRef(primaryID))
	}
	return c.getDistribution(ctx, found)
}

// setTraffic makes the policy naming our staging route want, creating it
// if needed, and attaches it to the primary. Enabled is written every time
// the routing differs, so a policy a promotion disabled is enabled again.
func (c *cloud) setTraffic(ctx context.Context, rel *Release, w *world, want Traffic) (Result, error) {
	if w.staging == nil {
		return Result{}, errors.New("no staging distribution yet")
	}
	domain := aws.ToString(w.staging.DomainName)
	pol, etag := w.policy, w.policyETag
	if pol == nil || !strings.EqualFold(policyStagingDomain(pol), domain) {
		var err error
		if pol, etag, err = c.policyNaming(ctx, domain); err != nil {
			return Result{}, err
		}
	}
	cfg := policyConfig(domain, want)
	switch {
	case pol == nil:
		out, err := c.cf.CreateContinuousDeploymentPolicy(ctx, &cloudfront.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: cfg})
		if err != nil {
			return Result{}, fmt.Errorf("create policy: %w", err)
		}
		pol = out.ContinuousDeploymentPolicy
	case trafficOf(pol.ContinuousDeploymentPolicyConfig) != want:
		if _, err := c.cf.UpdateContinuousDeploymentPolicy(ctx, &cloudfront.UpdateContinuousDeploymentPolicyInput{
			Id: pol.Id, IfMatch: aws.String(etag), ContinuousDeploymentPolicyConfig: cfg,
		}); err != nil {
			return Result{}, fmt.Errorf("update policy %s: %w", aws.ToString(pol.Id), err)
		}
	}
	policyID := aws.ToString(pol.Id)
	if aws.ToString(w.primary.DistributionConfig.ContinuousDeploymentPolicyId) != policyID {
		// Re-read: updating the policy may have given the primary a new ETag.
		primary, primaryETag, err := c.getDistribution(ctx, rel.PrimaryID)
		if err != nil {
			return Result{}, err
		}
		next := *primary.DistributionConfig
		next.ContinuousDeploymentPolicyId = aws.String(policyID)
		if _, err := c.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{
			Id: primary.Id, IfMatch: aws.String(primaryETag), DistributionConfig: &next,
		}); err != nil {
			return Result{}, fmt.Errorf("attach policy %s to %s: %w", policyID, rel.PrimaryID, err)
		}
	}
	return Result{PolicyID: policyID}, nil
}

// policyNaming finds the policy that names a staging domain.
func (c *cloud) policyNaming(ctx context.Context, domain string) (*types.ContinuousDeploymentPolicy, string, error) {
	var marker *string
	for {
		out, err := c.cf.ListContinuousDeploymentPolicies(ctx, &cloudfront.ListContinuousDeploymentPoliciesInput{Marker: marker})
		if err != nil {
			return nil, "", fmt.Errorf("list policies: %w", err)
		}
		if out.ContinuousDeploymentPolicyList == nil {
			return nil, "", nil
		}
		for _, s := range out.ContinuousDeploymentPolicyList.Items {
			if p := s.ContinuousDeploymentPolicy; p != nil && strings.EqualFold(policyStagingDomain(p), domain) {
				got, err := c.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: p.Id})
				if err != nil {
					return nil, "", fmt.Errorf("get policy %s: %w", aws.ToString(p.Id), err)
				}
				return got.ContinuousDeploymentPolicy, aws.ToString(got.ETag), nil
			}
		}
		if out.ContinuousDeploymentPolicyList.NextMarker == nil {
			return nil, "", nil
		}
		marker = out.ContinuousDeploymentPolicyList.NextMarker
	}
}

// disableRouting disables the attached policy: every viewer gets the primary.
func (c *cloud) disableRouting(ctx context.Context, w *world) error {
	cfg := *w.policy.ContinuousDeploymentPolicyConfig
	cfg.Enabled = aws.Bool(false)
	if _, err := c.cf.UpdateContinuousDeploymentPolicy(ctx, &cloudfront.UpdateContinuousDeploymentPolicyInput{
		Id: w.policy.Id, IfMatch: aws.String(w.policyETag), ContinuousDeploymentPolicyConfig: &cfg,
	}); err != nil {
		return fmt.Errorf("disable policy %s: %w", aws.ToString(w.policy.Id), err)
	}
	return nil
}

// detachRouting makes the primary name no policy.
func (c *cloud) detachRouting(ctx context.Context, w *world) error {
	next := *w.primary.DistributionConfig
	next.ContinuousDeploymentPolicyId = aws.String("")
	if _, err := c.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{
		Id: w.primary.Id, IfMatch: aws.String(w.primaryETag), DistributionConfig: &next,
	}); err != nil {
		return fmt.Errorf("detach the policy from %s: %w", aws.ToString(w.primary.Id), err)
	}
	return nil
}

// resetStaging gives staging the primary's config (keeping its own members).
func (c *cloud) resetStaging(ctx context.Context, w *world) error {
	if w.staging == nil {
		return nil
	}
	cfg, err := cloneConfig(w.primary.DistributionConfig)
	if err != nil {
		return err
	}
	cfg = withOwnMembers(cfg, w.staging.DistributionConfig)
	cfg.Enabled = aws.Bool(true)
	if _, err := c.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{
		Id: w.staging.Id, IfMatch: aws.String(w.stagingETag), DistributionConfig: cfg,
	}); err != nil {
		return fmt.Errorf("reset staging %s: %w", aws.ToString(w.staging.Id), err)
	}
	return nil
}

func (c *cloud) promote(ctx context.Context, w *world) error {
	if w.staging == nil {
		return errors.New("no staging distribution to promote")
	}
	if _, err := c.cf.UpdateDistributionWithStagingConfig(ctx, &cloudfront.UpdateDistributionWithStagingConfigInput{
		Id: w.primary.Id, StagingDistributionId: w.staging.Id,
		IfMatch: aws.String(w.primaryETag + ", " + w.stagingETag),
	}); err != nil {
		return fmt.Errorf("promote %s onto %s: %w", aws.ToString(w.staging.Id), aws.ToString(w.primary.Id), err)
	}
	return nil
}

// invalidate creates the promotion's invalidation; its CallerReference is
// the release's, so a retry returns the same invalidation.
func (c *cloud) invalidate(ctx context.Context, rel *Release, paths []string) error {
	if _, err := c.cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(rel.PrimaryID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String("stagefront-release-" + rel.Name),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	}); err != nil {
		return fmt.Errorf("invalidate %v on %s: %w", paths, rel.PrimaryID, err)
	}
	return nil
}

func configJSONOf(cfg *types.DistributionConfig) (json.RawMessage, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode distribution config: %w", err)
	}
	return raw, nil
}
