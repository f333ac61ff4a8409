package control

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// DistributionResult is a distribution as the API returns it, with its ETag.
type DistributionResult struct {
	Distribution *cf.Distribution
	ETag         string
}

// errIllegalCDUpdate is CloudFront's observed message for a change CD forbids.
var errIllegalCDUpdate = cf.ErrIllegalUpdate.WithMessage("One or more fields updated are not supported for continuous deployment.")

func (s *Service) arn(id string) string {
	return fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", s.opts.AccountID, id)
}

// wire builds the API shape of a stored distribution as a read shows it:
// Deployed once every edge serves its revision.
func (s *Service) wire(ctx context.Context, d loaded[model.Distribution]) (*DistributionResult, error) {
	return s.wireStatus(ctx, d, false)
}

// wireWritten builds the answer to a write. CloudFront answers every write
// InProgress, however fast the change spreads; only a later read says
// Deployed. Clients rely on it: a waiter that saw Deployed in the write's
// answer would skip waiting for the edges.
func (s *Service) wireWritten(ctx context.Context, d loaded[model.Distribution]) (*DistributionResult, error) {
	return s.wireStatus(ctx, d, true)
}

func (s *Service) wireStatus(ctx context.Context, d loaded[model.Distribution], written bool) (*DistributionResult, error) {
	rev, err := s.servedRevision(ctx, s.st, d)
	if err != nil {
		return nil, err
	}
	invs, err := listRecords[model.Invalidation](ctx, s, model.InvalidationPrefix+d.rec.ID+"/")
	if err != nil {
		return nil, err
	}
	cfg, err := s.shownConfig(ctx, d.rec)
	if err != nil {
		return nil, err
	}
	out := s.wireWith(ctx, d, rev, s.opts.Deployment.Watermark(ctx), invs)
	out.Distribution.DistributionConfig = cfg
	if written {
		out.Distribution.Status = cf.String("InProgress")
	}
	return out, nil
}

// wireWith builds the API shape of d, which the edges must serve at rev
// (servedRevision) to be Deployed, from what they serve (wm) and d's
// invalidations, so a list reads them once for all its items.
func (s *Service) wireWith(ctx context.Context, d loaded[model.Distribution], rev int64, wm model.Watermark, invs []loaded[model.Invalidation]) *DistributionResult {
	status := "InProgress"
	if wm.Deployed(d.rec.ID, rev) {
		status = "Deployed"
	}
	inProgress := int32(0)
	for _, inv := range invs {
		if !wm.Served(inv.rev) {
			inProgress++
		}
	}
	return &DistributionResult{
		ETag: d.etag(d.rec.ID),
		Distribution: &cf.Distribution{
			Id:                            cf.String(d.rec.ID),
			ARN:                           cf.String(d.rec.ARN),
			Status:                        cf.String(status),
			LastModifiedTime:              cf.NewTime(d.rec.LastModified),
			InProgressInvalidationBatches: cf.Int32(inProgress),
			DomainName:                    cf.String(d.rec.DomainName),
			ActiveTrustedSigners:          &cf.ActiveTrustedSigners{Enabled: cf.Bool(false), Quantity: cf.Int32(0)},
			ActiveTrustedKeyGroups:        s.activeKeyGroups(ctx, d.rec.Config),
			DistributionConfig:            d.rec.Config,
		},
	}
}

func (s *Service) lookups(ctx context.Context) cf.Lookups {
	return cf.Lookups{
		CachePolicyExists:           func(id string) bool { return cachePolicies().exists(ctx, s, id) },
		OriginRequestPolicyExists:   func(id string) bool { return originRequestPolicies().exists(ctx, s, id) },
		ResponseHeadersPolicyExists: func(id string) bool { return responseHeadersPolicies().exists(ctx, s, id) },
		OriginAccessControlExists: func(id string) bool {
			_, err := s.st.Get(ctx, model.OACKey(id))
			return err == nil
		},
		KeyGroupExists:             func(id string) bool { return s.keyGroupExists(ctx, id) },
		OriginAccessIdentityExists: func(id string) bool { return s.oaiExists(ctx, id) },
		Quotas:                     s.opts.Quotas,
	}
}

// CreateDistribution implements CreateDistribution and CreateDistributionWithTags.
func (s *Service) CreateDistribution(ctx context.Context, cfg *cf.DistributionConfig, tags *cf.Tags) (*DistributionResult, error) {
	if cfg == nil {
		return nil, cf.ErrMissingBody
	}
	if cf.Str(cfg.ContinuousDeploymentPolicyId) != "" {
		return nil, cf.ErrInvalidArgument.WithMessage("Continuous deployment policy is not supported during distribution creation")
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	cf.ApplyDistributionDefaults(cfg)
	if err := s.validateDistribution(ctx, "", cfg); err != nil {
		return nil, err
	}
	if cf.IsTrue(cfg.Staging) {
		if err := s.checkStagingQuota(ctx); err != nil {
			return nil, err
		}
	}
	rec := &model.Distribution{Config: cfg}
	var tagItems []cf.Tag
	if tags != nil {
		tagItems = tags.Items
	}
	return s.insertDistribution(ctx, rec, tagItems)
}

func (s *Service) checkStagingQuota(ctx context.Context) error {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return err
	}
	n := 0
	for _, d := range all {
		if d.rec.IsStaging() {
			n++
		}
	}
	if n >= cf.MaxStagingDists {
		return cf.ErrTooManyDistributions.WithMessage("You cannot have more than %d staging distributions.", cf.MaxStagingDists)
	}
	return nil
}

// insertDistribution gives rec an id and domain and writes it with its
// caller-reference and alias index keys, all in one transaction.
func (s *Service) insertDistribution(ctx context.Context, rec *model.Distribution, tags []cf.Tag) (*DistributionResult, error) {
	ref := cf.Str(rec.Config.CallerReference)
	if kv, err := s.st.Get(ctx, model.CallerRefKey(ref)); err == nil {
		return nil, cf.DistributionAlreadyExists(string(kv.Value))
	}
	aliases := aliasesOf(rec.Config)
	if err := s.checkAliasesFree(ctx, "", aliases); err != nil {
		return nil, err
	}
	id, err := s.randomString(upperAlnum, 13)
	if err != nil {
		return nil, err
	}
	dom, err := s.randomString(lowerAlnum, 13)
	if err != nil {
		return nil, err
	}
	rec.ID = "E" + id
	rec.ARN = s.arn(rec.ID)
	rec.DomainName = "d" + dom + "." + s.opts.DomainSuffix
	rec.LastModified = s.now()
	put, err := putOp(model.DistributionKey(rec.ID), rec)
	if err != nil {
		return nil, err
	}
	conds := []store.Cond{{Key: model.CallerRefKey(ref)}, {Key: model.DistributionKey(rec.ID)}}
	ops := []store.Op{put, {Key: model.CallerRefKey(ref), Value: []byte(rec.ID)}}
	if len(tags) > 0 {
		tagOp, err := putOp(model.TagsKey(rec.ID), tags)
		if err != nil {
			return nil, err
		}
		ops = append(ops, tagOp)
	}
	for _, a := range aliases {
		conds = append(conds, store.Cond{Key: model.AliasKey(a)})
		ops = append(ops, store.Op{Key: model.AliasKey(a), Value: []byte(rec.ID)})
	}
	rev, err := s.txnOr(ctx, conds, ops, func() error {
		// A concurrent create took the reference or an alias: report which.
		if kv, err := s.st.Get(ctx, model.CallerRefKey(ref)); err == nil {
			return cf.DistributionAlreadyExists(string(kv.Value))
		}
		return cf.ErrCNAMEAlreadyExists
	})
	if err != nil {
		return nil, fmt.Errorf("create distribution: %w", err)
	}
	return s.wireWritten(ctx, loaded[model.Distribution]{rec: rec, rev: rev})
}

func aliasesOf(c *cf.DistributionConfig) []string {
	if c.Aliases == nil {
		return nil
	}
	out := make([]string, 0, len(c.Aliases.Items))
	for _, a := range c.Aliases.Items {
		out = append(out, strings.ToLower(a))
	}
	return out
}

func (s *Service) checkAliasesFree(ctx context.Context, ownerID string, aliases []string) error {
	seen := map[string]bool{}
	for _, a := range aliases {
		if seen[a] {
			return cf.ErrInvalidArgument.WithMessage("The CNAME %q is listed twice.", a)
		}
		seen[a] = true
		kv, err := s.st.Get(ctx, model.AliasKey(a))
		if err == nil && string(kv.Value) != ownerID {
			return cf.ErrCNAMEAlreadyExists.WithMessage("One or more of the CNAMEs you provided are already associated with a different resource: %s.", a)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("alias index: %w", err)
		}
	}
	return nil
}

// GetDistribution implements GetDistribution and GetDistributionConfig.
func (s *Service) GetDistribution(ctx context.Context, id string) (*DistributionResult, error) {
	d, err := s.getDistribution(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.wire(ctx, d)
}

// ListDistributions implements ListDistributions.
func (s *Service) ListDistributions(ctx context.Context, marker string, maxItems int) (*cf.DistributionList, error) {
	// One read of the whole config answers for every item: the
	// distributions, their invalidations and the custom resources they
	// name (servedRevision).
	snap, err := s.readConfig(ctx)
	if err != nil {
		return nil, err
	}
	all, err := snapshotRecords[model.Distribution](s, snap, model.DistributionPrefix)
	if err != nil {
		return nil, err
	}
	items, next, _ := page(all, func(d loaded[model.Distribution]) string { return d.rec.ID }, marker, maxItems)
	list := &cf.DistributionList{
		Marker:      cf.String(marker),
		MaxItems:    cf.Int32(int32(maxItems)),
		IsTruncated: cf.Bool(next != ""),
		Quantity:    cf.Int32(int32(len(items))),
	}
	if next != "" {
		list.NextMarker = cf.String(next)
	}
	if len(items) == 0 {
		return list, nil
	}
	allInvs, err := snapshotRecords[model.Invalidation](s, snap, model.InvalidationPrefix)
	if err != nil {
		return nil, err
	}
	invs := map[string][]loaded[model.Invalidation]{}
	for _, inv := range allInvs {
		invs[inv.rec.DistributionID] = append(invs[inv.rec.DistributionID], inv)
	}
	wm := s.opts.Deployment.Watermark(ctx)
	for _, d := range items {
		rev, err := s.servedRevision(ctx, snap, d)
		if err != nil {
			return nil, err
		}
		list.Items = append(list.Items, summary(s.wireWith(ctx, d, rev, wm, invs[d.rec.ID])))
	}
	return list, nil
}

func summary(w *DistributionResult) cf.DistributionSummary {
	d, c := w.Distribution, w.Distribution.DistributionConfig
	return cf.DistributionSummary{
		Id: d.Id, ARN: d.ARN, ETag: cf.String(w.ETag), Status: d.Status, LastModifiedTime: d.LastModifiedTime,
		DomainName: d.DomainName, Aliases: c.Aliases, Origins: c.Origins, OriginGroups: c.OriginGroups,
		DefaultCacheBehavior: c.DefaultCacheBehavior, CacheBehaviors: c.CacheBehaviors,
		CustomErrorResponses: c.CustomErrorResponses, Comment: c.Comment, PriceClass: c.PriceClass,
		Enabled: c.Enabled, ViewerCertificate: c.ViewerCertificate, Restrictions: c.Restrictions,
		WebACLId: c.WebACLId, HttpVersion: c.HttpVersion, IsIPV6Enabled: c.IsIPV6Enabled,
		Staging: c.Staging, AnycastIpListId: c.AnycastIpListId, ConnectionMode: c.ConnectionMode,
	}
}

// UpdateDistribution implements UpdateDistribution: a full replacement, with
// the continuous-deployment exceptions of cloudfront.CDAllowedChange
// (docs/cloudfront.md, "What may change while continuous deployment is on").
func (s *Service) UpdateDistribution(ctx context.Context, id, ifMatch string, cfg *cf.DistributionConfig) (*DistributionResult, error) {
	if cfg == nil {
		return nil, cf.ErrMissingBody
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getDistribution(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, err
	}
	old := cur.rec.Config
	if cfg.Staging == nil {
		cfg.Staging = cf.Bool(cf.IsTrue(old.Staging))
	}
	if cf.Str(cfg.CallerReference) != cf.Str(old.CallerReference) {
		return nil, cf.ErrIllegalUpdate.WithMessage("The CallerReference of a distribution cannot be changed.")
	}
	if cf.IsTrue(cfg.Staging) != cf.IsTrue(old.Staging) {
		return nil, cf.ErrIllegalUpdate.WithMessage("The Staging flag of a distribution cannot be changed.")
	}
	// The policy id the client saw is the visible one: a stored pointer
	// that no longer holds neither shows nor restricts the update.
	oldPolicy, err := s.visiblePolicyID(ctx, cur.rec)
	if err != nil {
		return nil, err
	}
	var newPolicy string
	if cur.rec.IsStaging() {
		if newPolicy, err = resolveStagingPolicyID(cfg.ContinuousDeploymentPolicyId, cur.rec.PolicyID(), oldPolicy); err != nil {
			return nil, err
		}
	} else {
		newPolicy = resolvePrimaryPolicyID(cfg.ContinuousDeploymentPolicyId, cur.rec.PolicyID(), oldPolicy)
	}
	cfg.ContinuousDeploymentPolicyId = cf.String(newPolicy)
	cf.ApplyDistributionDefaults(cfg)
	if err := s.validateDistribution(ctx, id, cfg); err != nil {
		return nil, err
	}
	next := *cur.rec
	next.Config = cfg
	next.LastModified = s.now()
	conds := []store.Cond{{Key: model.DistributionKey(id), ModRevision: cur.rev}}
	var ops []store.Op

	if cur.rec.IsStaging() {
		if !cf.IsTrue(cfg.Enabled) {
			if pol, err := s.policyNamingStaging(ctx, cur.rec.DomainName); err != nil {
				return nil, err
			} else if pol.rec != nil {
				return nil, cf.ErrStagingDistributionInUse.WithMessage("The specified staging distribution is currently used by a continuous deployment policy. Please the update policy before deleting.")
			}
			// A policy created from here on must see this write.
			conds = append(conds, store.Cond{Key: model.StagingPolicyKey(cur.rec.DomainName)})
		}
		if oldPolicy != "" && cdChanged(old, cfg, false) {
			return nil, errIllegalCDUpdate
		}
	} else {
		if oldPolicy != "" && cdChanged(old, cfg, true) {
			return nil, errIllegalCDUpdate
		}
		link, err := s.relink(ctx, id, oldPolicy, newPolicy, cfg)
		if err != nil {
			return nil, err
		}
		conds, ops = append(conds, link.conds...), append(ops, link.ops...)
	}

	aliasConds, aliasOps, err := s.aliasChanges(ctx, id, aliasesOf(old), aliasesOf(cfg))
	if err != nil {
		return nil, err
	}
	conds = append(conds, aliasConds...)
	ops = append(ops, aliasOps...)
	put, err := putOp(model.DistributionKey(id), &next)
	if err != nil {
		return nil, err
	}
	ops = append(ops, put)
	rev, err := s.txn(ctx, conds, ops)
	if err != nil {
		return nil, err
	}
	return s.wireWritten(ctx, loaded[model.Distribution]{rec: &next, rev: rev})
}

// cdChanged reports whether an update touches a member that continuous
// deployment does not allow to change.
func cdChanged(old, next *cf.DistributionConfig, primary bool) bool {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(next).Elem()
	for i := 0; i < ov.NumField(); i++ {
		name := ov.Type().Field(i).Name
		if cf.CDAllowedChange(name) || name == "Unknown" || (primary && name == "Enabled") {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			return true
		}
	}
	return false
}

func (s *Service) aliasChanges(ctx context.Context, id string, old, next []string) ([]store.Cond, []store.Op, error) {
	if err := s.checkAliasesFree(ctx, id, next); err != nil {
		return nil, nil, err
	}
	var conds []store.Cond
	var ops []store.Op
	for _, a := range old {
		if !slices.Contains(next, a) {
			ops = append(ops, store.Op{Key: model.AliasKey(a), Delete: true})
		}
	}
	for _, a := range next {
		if !slices.Contains(old, a) {
			conds = append(conds, store.Cond{Key: model.AliasKey(a)})
			ops = append(ops, store.Op{Key: model.AliasKey(a), Value: []byte(id)})
		}
	}
	return conds, ops, nil
}

// DeleteDistribution implements DeleteDistribution.
func (s *Service) DeleteDistribution(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getDistribution(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	if cf.IsTrue(cur.rec.Config.Enabled) || !s.opts.Deployment.Watermark(ctx).Served(cur.rev) {
		return cf.ErrDistributionNotDisabled
	}
	conds := []store.Cond{{Key: model.DistributionKey(id), ModRevision: cur.rev}}
	ops := []store.Op{
		{Key: model.DistributionKey(id), Delete: true},
		{Key: model.CallerRefKey(cf.Str(cur.rec.Config.CallerReference)), Delete: true},
		{Key: model.TagsKey(id), Delete: true},
	}
	for _, a := range aliasesOf(cur.rec.Config) {
		ops = append(ops, store.Op{Key: model.AliasKey(a), Delete: true})
	}
	if cur.rec.IsStaging() {
		// A staging distribution a policy names is in use; the condition
		// holds that true against a policy created meanwhile.
		if pol, err := s.policyNamingStaging(ctx, cur.rec.DomainName); err != nil {
			return err
		} else if pol.rec != nil {
			return cf.ErrResourceInUse
		}
		conds = append(conds, store.Cond{Key: model.StagingPolicyKey(cur.rec.DomainName)})
	} else if pid := cur.rec.PolicyID(); pid != "" {
		// A primary goes with its policy attached once the policy is
		// disabled (Terraform deletes in that order); the staging
		// distribution's reverse pointer goes with it.
		pol, err := s.getPolicy(ctx, pid)
		switch {
		case errors.Is(err, cf.ErrNoSuchCDPolicy):
		case err != nil:
			return err
		case cf.IsTrue(pol.rec.Config.Enabled):
			return cf.ErrResourceInUse
		default:
			conds = append(conds, store.Cond{Key: model.PolicyKey(pid), ModRevision: pol.rev})
			unlink, err := s.clearReversePointer(ctx, pid)
			if err != nil {
				return err
			}
			conds, ops = append(conds, unlink.conds...), append(ops, unlink.ops...)
		}
	}
	if _, err := s.txn(ctx, conds, ops); err != nil {
		return err
	}
	// The distribution is gone atomically above; its invalidation history
	// follows in bounded batches (etcd caps a transaction at 128 ops).
	for _, prefix := range []string{model.InvalidationPrefix + id + "/", model.InvalidationRefPrefix + id + "/"} {
		kvs, _, err := s.st.List(ctx, prefix)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for start := 0; start < len(kvs); start += 100 {
			var batch []store.Op
			for _, kv := range kvs[start:min(start+100, len(kvs))] {
				batch = append(batch, store.Op{Key: kv.Key, Delete: true})
			}
			if _, err := s.txn(ctx, nil, batch); err != nil {
				return fmt.Errorf("delete invalidations of %s: %w", id, err)
			}
		}
	}
	return nil
}
