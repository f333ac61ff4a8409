package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// Rollback puts generation `to`'s config back on the primary and records
// it as a new generation. It holds the primary's active-release slot while
// it works, so it cannot interleave with a release.
//
// It goes through UpdateDistribution. The primary keeps its policy
// attached (and disabled) between releases, and CloudFront then only lets
// the members continuous deployment allows change (origins, behaviours,
// error pages, …; docs/cloudfront.md). When the generation differs elsewhere (say
// PriceClass) the API answers IllegalUpdate: Rollback then detaches the
// policy, applies the config, and re-attaches the policy in the same update
// (attaching has no such restriction). Staging is reset to the restored
// config, so the next release starts from it.
func (c *Controller) Rollback(ctx context.Context, primaryRef string, to int, by string) (*Generation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	primary, err := c.cloud.resolvePrimary(ctx, primaryRef)
	if err != nil {
		return nil, err
	}
	primaryID := aws.ToString(primary.Id)
	lock := activeKey(primaryID)
	if err := c.store.Write(ctx, []Write{{Key: lock, Value: []byte("rollback")}}); err != nil {
		if errors.Is(err, ErrConflict) {
			active, _, _ := c.store.Get(ctx, lock)
			return nil, fmt.Errorf("%s is busy with %q: %w", primaryID, active, ErrPrimaryBusy)
		}
		return nil, err
	}
	gen, err := c.rollback(ctx, primaryID, to, by)
	if err != nil {
		// Free the primary again; the generation was not recorded.
		if delErr := c.store.Write(ctx, []Write{{Key: lock, Delete: true, Rev: -1}}); delErr != nil {
			err = errors.Join(err, delErr)
		}
		return nil, err
	}
	return gen, nil
}

func (c *Controller) rollback(ctx context.Context, primaryID string, to int, by string) (*Generation, error) {
	gens, err := listGenerations(ctx, c.store, primaryID)
	if err != nil {
		return nil, err
	}
	var target *Generation
	for i := range gens {
		if gens[i].Number == to {
			target = &gens[i]
		}
	}
	if target == nil {
		return nil, fmt.Errorf("generation %d of %s: %w", to, primaryID, ErrNotFound)
	}
	cfg, err := unmarshalConfig(target.Config)
	if err != nil {
		return nil, err
	}
	primary, etag, err := c.cloud.getDistribution(ctx, primaryID)
	if err != nil {
		return nil, err
	}
	before, err := configJSONOf(primary.DistributionConfig)
	if err != nil {
		return nil, err
	}
	desired := withOwnMembers(cfg, primary.DistributionConfig)
	_, err = c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: primary.Id, IfMatch: aws.String(etag), DistributionConfig: desired})
	if isAPIError(err, "IllegalUpdate") && aws.ToString(desired.ContinuousDeploymentPolicyId) != "" {
		detached := *primary.DistributionConfig
		detached.ContinuousDeploymentPolicyId = aws.String("")
		out, derr := c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: primary.Id, IfMatch: aws.String(etag), DistributionConfig: &detached})
		if derr != nil {
			return nil, fmt.Errorf("detach the policy of %s: %w", primaryID, derr)
		}
		_, err = c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: primary.Id, IfMatch: out.ETag, DistributionConfig: desired})
	}
	if err != nil {
		return nil, fmt.Errorf("restore generation %d on %s: %w", to, primaryID, err)
	}

	w := &world{}
	if w.primary, w.primaryETag, err = c.cloud.getDistribution(ctx, primaryID); err != nil {
		return nil, err
	}
	if id := aws.ToString(w.primary.DistributionConfig.ContinuousDeploymentPolicyId); id != "" {
		if pol, err := c.cloud.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: aws.String(id)}); err == nil {
			if stagingID, err := c.cloud.stagingByDomain(ctx, policyStagingDomain(pol.ContinuousDeploymentPolicy)); err == nil && stagingID != "" {
				if w.staging, w.stagingETag, err = c.cloud.getDistribution(ctx, stagingID); err == nil {
					if err := c.cloud.resetStaging(ctx, w); err != nil {
						c.log.Warn("rollback: staging keeps its config", "primary", primaryID, "err", err)
					}
				}
			}
		}
	}
	after, err := configJSONOf(w.primary.DistributionConfig)
	if err != nil {
		return nil, err
	}
	gen := Generation{
		Primary: primaryID, Number: len(gens), Kind: "rollback", From: to, By: by, At: c.now(),
		Before: before, Config: after, Digest: ConfigDigest(w.primary.DistributionConfig),
	}
	if n := len(gens); n > 0 {
		gen.Number = gens[n-1].Number + 1
	}
	raw, err := encode(&gen)
	if err != nil {
		return nil, err
	}
	if err := c.store.Write(ctx, []Write{
		{Key: generationKey(primaryID, gen.Number), Value: raw},
		{Key: activeKey(primaryID), Delete: true, Rev: -1},
	}); err != nil {
		return nil, fmt.Errorf("record generation: %w", err)
	}
	return &gen, nil
}
