package control

import (
	"context"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// PolicyResult is a continuous-deployment policy as the API returns it.
type PolicyResult struct {
	Policy *cf.ContinuousDeploymentPolicy
	ETag   string
}

func policyWire(p loaded[model.Policy]) *PolicyResult {
	return &PolicyResult{
		ETag: p.etag(p.rec.ID),
		Policy: &cf.ContinuousDeploymentPolicy{
			Id:                               cf.String(p.rec.ID),
			LastModifiedTime:                 cf.NewTime(p.rec.LastModified),
			ContinuousDeploymentPolicyConfig: p.rec.Config,
		},
	}
}

// stagingFor checks the staging distribution a policy config names (it
// must exist, be a staging distribution and belong to no other policy) and returns it. selfID is the policy being updated ("" on create).
func (s *Service) stagingFor(ctx context.Context, cfg *cf.ContinuousDeploymentPolicyConfig, selfID string) (loaded[model.Distribution], error) {
	name := cfg.StagingDistributionDnsNames.Items[0]
	stg, err := s.distributionByDomain(ctx, name)
	if err != nil {
		return stg, err
	}
	if stg.rec == nil {
		return stg, cf.ErrInvalidArgument.WithMessage("No distribution has the domain name %s.", name)
	}
	if !stg.rec.IsStaging() {
		return stg, cf.ErrInvalidArgument.WithMessage("The distribution %s (%s) is not a staging distribution.", stg.rec.ID, name)
	}
	other, err := s.policyNamingStaging(ctx, name)
	if err != nil {
		return stg, err
	}
	if other.rec != nil && other.rec.ID != selfID {
		return stg, cf.ErrStagingDistributionInUse
	}
	return stg, nil
}

// CreatePolicy implements CreateContinuousDeploymentPolicy.
func (s *Service) CreatePolicy(ctx context.Context, cfg *cf.ContinuousDeploymentPolicyConfig) (*PolicyResult, error) {
	if cfg == nil {
		return nil, cf.ErrMissingBody
	}
	if err := cf.ValidateCDPolicyConfig(cfg); err != nil {
		return nil, err
	}
	stg, err := s.stagingFor(ctx, cfg, "")
	if err != nil {
		return nil, err
	}
	all, err := listRecords[model.Policy](ctx, s, model.PolicyPrefix)
	if err != nil {
		return nil, err
	}
	if len(all) >= cf.MaxCDPolicies {
		return nil, cf.ErrTooManyCDPolicies
	}
	id, err := s.newUUID()
	if err != nil {
		return nil, err
	}
	cfg.StagingDistributionDnsNames.Items[0] = stg.rec.DomainName
	rec := &model.Policy{ID: id, LastModified: s.now(), Config: cfg, Generation: 1}
	put, err := putOp(model.PolicyKey(id), rec)
	if err != nil {
		return nil, err
	}
	// The staging index key makes "one policy per staging" hold under
	// concurrent creates.
	idx := model.StagingPolicyKey(stg.rec.DomainName)
	conds := []store.Cond{{Key: model.PolicyKey(id)}, {Key: idx}}
	index := store.Op{Key: idx, Value: []byte(id)}
	rev, err := s.txn(ctx, conds, []store.Op{put, index})
	if err != nil {
		return nil, err
	}
	return policyWire(loaded[model.Policy]{rec: rec, rev: rev}), nil
}

// GetPolicy implements GetContinuousDeploymentPolicy(Config).
func (s *Service) GetPolicy(ctx context.Context, id string) (*PolicyResult, error) {
	p, err := s.getPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	return policyWire(p), nil
}

// UpdatePolicy implements UpdateContinuousDeploymentPolicy: full
// replacement; sessions reset (generation bump) when Enabled or stickiness
// changes; an attached primary gets a new ETag.
func (s *Service) UpdatePolicy(ctx context.Context, id, ifMatch string, cfg *cf.ContinuousDeploymentPolicyConfig) (*PolicyResult, error) {
	if cfg == nil {
		return nil, cf.ErrMissingBody
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, err
	}
	if err := cf.ValidateCDPolicyConfig(cfg); err != nil {
		return nil, err
	}
	stg, err := s.stagingFor(ctx, cfg, id)
	if err != nil {
		return nil, err
	}
	cfg.StagingDistributionDnsNames.Items[0] = stg.rec.DomainName
	next := *cur.rec
	next.Config = cfg
	next.LastModified = s.now()
	if cf.IsTrue(cur.rec.Config.Enabled) != cf.IsTrue(cfg.Enabled) || sticky(cur.rec.Config) != sticky(cfg) {
		next.Generation++
	}
	put, err := putOp(model.PolicyKey(id), &next)
	if err != nil {
		return nil, err
	}
	conds := []store.Cond{{Key: model.PolicyKey(id), ModRevision: cur.rev}}
	ops := []store.Op{put}
	if oldName := cur.rec.StagingDNSName(); !strings.EqualFold(oldName, stg.rec.DomainName) {
		conds = append(conds, store.Cond{Key: model.StagingPolicyKey(stg.rec.DomainName)})
		ops = append(ops, store.Op{Key: model.StagingPolicyKey(oldName), Delete: true},
			store.Op{Key: model.StagingPolicyKey(stg.rec.DomainName), Value: []byte(id)})
	}

	// The primary holding the policy and the old staging distribution come
	// from one listing, so an attach committed after it fails this
	// update's conditions and one committed before it is seen.
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return nil, err
	}
	primaryID := primaryHolding(all, id)
	if primaryID != "" {
		primary := withID(all, primaryID)
		touched := *primary.rec
		touched.LastModified = next.LastModified
		p, err := putOp(model.DistributionKey(primaryID), &touched)
		if err != nil {
			return nil, err
		}
		conds = append(conds, store.Cond{Key: model.DistributionKey(primaryID), ModRevision: primary.rev})
		ops = append(ops, p)
	}
	if oldName := cur.rec.StagingDNSName(); !strings.EqualFold(oldName, stg.rec.DomainName) {
		move, err := s.moveStaging(id, primaryID != "", withDomain(all, oldName), stg)
		if err != nil {
			return nil, err
		}
		conds, ops = append(conds, move.conds...), append(ops, move.ops...)
	}
	rev, err := s.txn(ctx, conds, ops)
	if err != nil {
		return nil, err
	}
	return policyWire(loaded[model.Policy]{rec: &next, rev: rev}), nil
}

func sticky(c *cf.ContinuousDeploymentPolicyConfig) bool {
	t := c.TrafficConfig
	return t != nil && t.SingleWeightConfig != nil && t.SingleWeightConfig.SessionStickinessConfig != nil &&
		cf.Str(t.Type) == cf.TrafficTypeWeight
}

// DeletePolicy implements DeleteContinuousDeploymentPolicy. A policy a
// primary holds is in use, enabled or not: the primary must detach it (or
// be deleted) first. Staging distributions that still show it are cleared.
func (s *Service) DeletePolicy(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getPolicy(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	conds := []store.Cond{{Key: model.PolicyKey(id), ModRevision: cur.rev}}
	ops := []store.Op{{Key: model.PolicyKey(id), Delete: true}, {Key: model.StagingPolicyKey(cur.rec.StagingDNSName()), Delete: true}}
	unlink, err := s.unlinkDeletedPolicy(ctx, cur)
	if err != nil {
		return err
	}
	_, err = s.txn(ctx, append(conds, unlink.conds...), append(ops, unlink.ops...))
	return err
}

// ListPolicies implements ListContinuousDeploymentPolicies.
func (s *Service) ListPolicies(ctx context.Context, marker string, maxItems int) (*cf.ContinuousDeploymentPolicyList, error) {
	all, err := listRecords[model.Policy](ctx, s, model.PolicyPrefix)
	if err != nil {
		return nil, err
	}
	items, next, found := page(all, func(p loaded[model.Policy]) string { return p.rec.ID }, marker, maxItems)
	if !found {
		return nil, cf.ErrNoSuchCDPolicy.WithMessage("The marker %s names no continuous deployment policy.", marker)
	}
	list := &cf.ContinuousDeploymentPolicyList{
		MaxItems: cf.Int32(int32(maxItems)),
		// Unlike the other lists, Quantity is the total number of policies
		// in the account, whatever MaxItems is (API reference,
		// ContinuousDeploymentPolicyList).
		Quantity: cf.Int32(int32(len(all))),
	}
	if next != "" {
		list.NextMarker = cf.String(next)
	}
	for _, p := range items {
		list.Items = append(list.Items, cf.ContinuousDeploymentPolicySummary{ContinuousDeploymentPolicy: policyWire(p).Policy})
	}
	return list, nil
}
