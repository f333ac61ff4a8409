package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
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
// config, so the next release starts from it. PlanRollback picks each step
// from what is observed, so the steps are the same whether a rollback runs
// once or is re-run after a failure.
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

// RollbackAction is the next thing a rollback does.
type RollbackAction string

// The rollback actions, in the order a rollback normally takes them.
const (
	// RollbackRestore updates the primary to the generation's config.
	RollbackRestore RollbackAction = "restore"
	// RollbackRestoreDetached detaches the policy, then restores and
	// re-attaches in one update: for a config continuous deployment does not
	// let change while a policy is attached.
	RollbackRestoreDetached RollbackAction = "restore-detached"
	// RollbackResetStaging puts the restored config on staging too.
	RollbackResetStaging RollbackAction = "reset-staging"
	// RollbackRecord records the new generation and frees the primary.
	RollbackRecord RollbackAction = "record"
)

// RollbackObservation is what a rollback sees before each action.
type RollbackObservation struct {
	PrimaryRestored bool // the primary serves the generation's config
	Refused         bool // the last plain restore answered IllegalUpdate
	PolicyAttached  bool // the primary has a continuous-deployment policy
	StagingMatches  bool // no staging distribution, or it serves the primary's config
}

// PlanRollback is the rollback's pure planner: the next action for what is
// observed. Every action is safe to repeat, so a rollback that failed half
// way (its error is returned, never dropped) is finished by running it again.
func PlanRollback(o RollbackObservation) RollbackAction {
	switch {
	case !o.PrimaryRestored && o.Refused && o.PolicyAttached:
		return RollbackRestoreDetached
	case !o.PrimaryRestored:
		return RollbackRestore
	case !o.StagingMatches:
		return RollbackResetStaging
	}
	return RollbackRecord
}

// maxRollbackActions bounds one rollback (at most four actions are needed).
const maxRollbackActions = 6

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
	var before json.RawMessage
	refused := false
	for range maxRollbackActions {
		w, obs, err := c.observeRollback(ctx, primaryID, cfg)
		if err != nil {
			return nil, err
		}
		obs.Refused = refused
		if before == nil {
			if before, err = configJSONOf(w.primary.DistributionConfig); err != nil {
				return nil, err
			}
		}
		desired := withOwnMembers(cfg, w.primary.DistributionConfig)
		switch act := PlanRollback(obs); act {
		case RollbackRestore:
			_, err = c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: w.primary.Id, IfMatch: aws.String(w.primaryETag), DistributionConfig: desired})
			if isAPIError(err, "IllegalUpdate") && obs.PolicyAttached {
				refused, err = true, nil
			}
		case RollbackRestoreDetached:
			detached := *w.primary.DistributionConfig
			detached.ContinuousDeploymentPolicyId = aws.String("")
			out, derr := c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: w.primary.Id, IfMatch: aws.String(w.primaryETag), DistributionConfig: &detached})
			if derr != nil {
				return nil, fmt.Errorf("detach the policy of %s: %w", primaryID, derr)
			}
			_, err = c.cloud.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: w.primary.Id, IfMatch: out.ETag, DistributionConfig: desired})
		case RollbackResetStaging:
			err = c.cloud.resetStaging(ctx, w)
		case RollbackRecord:
			return c.recordRollback(ctx, gens, w, to, by, before)
		}
		if err != nil {
			return nil, fmt.Errorf("rollback of %s to generation %d (%s): %w", primaryID, to, PlanRollback(obs), err)
		}
	}
	return nil, fmt.Errorf("rollback of %s to generation %d did not settle in %d actions", primaryID, to, maxRollbackActions)
}

// observeRollback reads the primary, its policy and its staging, returning
// every error but a policy that no longer exists.
func (c *Controller) observeRollback(ctx context.Context, primaryID string, target *types.DistributionConfig) (*world, RollbackObservation, error) {
	w := &world{}
	var err error
	if w.primary, w.primaryETag, err = c.cloud.getDistribution(ctx, primaryID); err != nil {
		return nil, RollbackObservation{}, err
	}
	primaryCfg := w.primary.DistributionConfig
	obs := RollbackObservation{
		PrimaryRestored: ConfigDigest(primaryCfg) == ConfigDigest(withOwnMembers(target, primaryCfg)),
		StagingMatches:  true,
	}
	id := aws.ToString(primaryCfg.ContinuousDeploymentPolicyId)
	if id == "" {
		return w, obs, nil
	}
	obs.PolicyAttached = true
	pol, err := c.cloud.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: aws.String(id)})
	if isAPIError(err, "NoSuchContinuousDeploymentPolicy") {
		return w, obs, nil
	}
	if err != nil {
		return nil, obs, fmt.Errorf("get policy %s: %w", id, err)
	}
	stagingID, err := c.cloud.stagingByDomain(ctx, policyStagingDomain(pol.ContinuousDeploymentPolicy))
	if err != nil {
		return nil, obs, err
	}
	if stagingID == "" {
		return w, obs, nil
	}
	if w.staging, w.stagingETag, err = c.cloud.getDistribution(ctx, stagingID); err != nil {
		return nil, obs, err
	}
	obs.StagingMatches = ConfigDigest(w.staging.DistributionConfig) == ConfigDigest(primaryCfg)
	return w, obs, nil
}

// recordRollback writes the new generation and frees the primary, in one
// store write.
func (c *Controller) recordRollback(ctx context.Context, gens []Generation, w *world, to int, by string, before json.RawMessage) (*Generation, error) {
	primaryID := aws.ToString(w.primary.Id)
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
