package control

import (
	"context"
	"errors"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// The links of a continuous-deployment trio, kept here in one place:
//
//   - the primary's config holds the policy id (set and cleared only by
//     UpdateDistribution on the primary);
//   - the policy names the staging distribution by domain, and the index key
//     StagingPolicyKey(domain) holds the policy id;
//   - while a primary holds the policy, the staging distribution's config
//     shows the same id, the reverse pointer CloudFront shows after attach.
//
// Every write that changes a link writes the staging distribution's record,
// or at least conditions its transaction on that record's revision. The
// staging record therefore serialises concurrent attaches, detaches and
// deletes of one trio: of two racing writers, the second fails its condition
// and nothing of it is written.
//
// Records written before these rules (a staging left pointing at a policy
// whose primary was deleted, a primary pointing at a deleted policy) are
// repaired on read: visiblePolicyID hides a pointer that does not hold, and
// the next update stores the visible value.

// linkEdit is the conditions and operations a link change adds to the
// transaction of the write that causes it.
type linkEdit struct {
	conds []store.Cond
	ops   []store.Op
}

func (e *linkEdit) add(o linkEdit) {
	e.conds = append(e.conds, o.conds...)
	e.ops = append(e.ops, o.ops...)
}

// visiblePolicyID is the ContinuousDeploymentPolicyId the API shows for a
// stored distribution. A primary's id holds while its policy exists; a
// staging distribution's reverse pointer holds while the policy exists,
// names this staging distribution and is held by a primary.
func (s *Service) visiblePolicyID(ctx context.Context, rec *model.Distribution) (string, error) {
	id := rec.PolicyID()
	if id == "" {
		return "", nil
	}
	pol, err := s.getPolicy(ctx, id)
	if errors.Is(err, cf.ErrNoSuchCDPolicy) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !rec.IsStaging() {
		return id, nil
	}
	if !strings.EqualFold(pol.rec.StagingDNSName(), rec.DomainName) {
		return "", nil
	}
	primaryID, err := s.primaryOfPolicy(ctx, id)
	if err != nil || primaryID == "" {
		return "", err
	}
	return id, nil
}

// shownConfig is the config of a stored distribution as the API shows it.
// Stored records are shared and read-only: a repaired pointer goes into a
// shallow copy.
func (s *Service) shownConfig(ctx context.Context, rec *model.Distribution) (*cf.DistributionConfig, error) {
	visible, err := s.visiblePolicyID(ctx, rec)
	if err != nil {
		return nil, err
	}
	if visible == rec.PolicyID() {
		return rec.Config, nil
	}
	shown := *rec.Config
	shown.ContinuousDeploymentPolicyId = cf.String(visible)
	return &shown, nil
}

// resolveStagingPolicyID decides the ContinuousDeploymentPolicyId an update
// of a staging distribution stores. The reverse pointer belongs to the
// primary: the client may send it back as shown, as stored (a stale id it
// read earlier) or leave it out; anything else is IllegalUpdate.
func resolveStagingPolicyID(sent *string, stored, visible string) (string, error) {
	if sent == nil || *sent == visible || *sent == stored {
		return visible, nil
	}
	return "", cf.ErrIllegalUpdate.WithMessage("The ContinuousDeploymentPolicyId of a staging distribution is set by its primary; send the current value (%q).", visible)
}

// resolvePrimaryPolicyID decides the policy id an update of a primary asks
// for: omitted means no change, and echoing a stale id means none.
func resolvePrimaryPolicyID(sent *string, stored, visible string) string {
	switch {
	case sent == nil:
		return visible
	case *sent == stored && visible == "":
		return ""
	default:
		return *sent
	}
}

// relink attaches, detaches or switches the policy of a primary, moving
// the reverse pointer with it. cfg is the primary's new config.
func (s *Service) relink(ctx context.Context, primaryID, oldPolicy, newPolicy string, cfg *cf.DistributionConfig) (linkEdit, error) {
	var edit linkEdit
	if oldPolicy == newPolicy {
		return edit, nil
	}
	if oldPolicy != "" {
		detach, err := s.clearReversePointer(ctx, oldPolicy)
		if err != nil {
			return edit, err
		}
		edit.add(detach)
	}
	if newPolicy == "" {
		return edit, nil
	}
	pol, err := s.getPolicy(ctx, newPolicy)
	if err != nil {
		return edit, err
	}
	if hv := cf.Str(cfg.HttpVersion); hv == "http3" || hv == "http2and3" {
		return edit, cf.ErrInvalidArgument.WithMessage("Continuous deployment cannot be used with a distribution that supports HTTP/3 (HttpVersion %s).", hv)
	}
	// Who holds the policy and the staging distribution's revision come
	// from one listing. Read apart, an attach committed between the two
	// reads would be missed by the first and pass the second's condition,
	// and two primaries would hold the policy.
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return edit, err
	}
	if owner := primaryHolding(all, newPolicy); owner != "" && owner != primaryID {
		return edit, cf.ErrCDPolicyInUse.WithMessage("The continuous deployment policy %s is already attached to distribution %s.", newPolicy, owner)
	}
	stg := withDomain(all, pol.rec.StagingDNSName())
	if stg.rec == nil {
		return edit, cf.ErrInvalidArgument.WithMessage("The staging distribution %s named by policy %s does not exist.", pol.rec.StagingDNSName(), newPolicy)
	}
	attach, err := s.writeReversePointer(stg, newPolicy)
	if err != nil {
		return edit, err
	}
	edit.conds = append(edit.conds, store.Cond{Key: model.PolicyKey(newPolicy), ModRevision: pol.rev})
	edit.add(attach)
	return edit, nil
}

// clearReversePointer clears the reverse pointer of the staging
// distribution policyID names, when its primary lets go of the policy
// (detach, switch, or the primary's deletion). A policy that no longer
// exists has nothing to clear.
func (s *Service) clearReversePointer(ctx context.Context, policyID string) (linkEdit, error) {
	pol, err := s.getPolicy(ctx, policyID)
	if errors.Is(err, cf.ErrNoSuchCDPolicy) {
		return linkEdit{}, nil
	}
	if err != nil {
		return linkEdit{}, err
	}
	stg, err := s.distributionByDomain(ctx, pol.rec.StagingDNSName())
	if err != nil || stg.rec == nil {
		return linkEdit{}, err
	}
	return s.writeReversePointer(stg, "")
}

// writeReversePointer stores policyID as the staging distribution's
// reverse pointer, conditioned on the revision it was read at. The write
// always happens, even when the value does not change: it is what makes a
// concurrent link change on the same trio conflict.
func (s *Service) writeReversePointer(stg loaded[model.Distribution], policyID string) (linkEdit, error) {
	next := *stg.rec
	next.Config = deepCopy(stg.rec.Config)
	next.Config.ContinuousDeploymentPolicyId = cf.String(policyID)
	next.LastModified = s.now()
	put, err := putOp(model.DistributionKey(next.ID), &next)
	if err != nil {
		return linkEdit{}, err
	}
	return linkEdit{
		conds: []store.Cond{{Key: model.DistributionKey(next.ID), ModRevision: stg.rev}},
		ops:   []store.Op{put},
	}, nil
}

// moveStaging is what renaming a policy's staging distribution does to the
// distributions: when a primary holds the policy, the reverse pointer moves
// from the old staging distribution to the new one; when none does, both
// are held at the revisions read, so an attach racing the rename fails.
func (s *Service) moveStaging(policyID string, attached bool, oldStg, newStg loaded[model.Distribution]) (linkEdit, error) {
	var edit linkEdit
	if !attached {
		for _, d := range []loaded[model.Distribution]{oldStg, newStg} {
			if d.rec != nil {
				edit.conds = append(edit.conds, store.Cond{Key: model.DistributionKey(d.rec.ID), ModRevision: d.rev})
			}
		}
		return edit, nil
	}
	if oldStg.rec != nil {
		clear, err := s.writeReversePointer(oldStg, "")
		if err != nil {
			return edit, err
		}
		edit.add(clear)
	}
	set, err := s.writeReversePointer(newStg, policyID)
	if err != nil {
		return edit, err
	}
	edit.add(set)
	return edit, nil
}

// unlinkDeletedPolicy is what deleting policyID does to the distributions:
// refused while a primary holds it; otherwise every staging distribution
// that still stores it as a reverse pointer is cleared, and the staging
// distribution it names is held at the revision read. One listing answers
// both, so an attach committed after it changes the staging record and
// fails the delete's condition, and one committed before it is seen.
func (s *Service) unlinkDeletedPolicy(ctx context.Context, pol loaded[model.Policy]) (linkEdit, error) {
	var edit linkEdit
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return edit, err
	}
	for _, d := range all {
		if !d.rec.IsStaging() && d.rec.PolicyID() == pol.rec.ID {
			return edit, cf.ErrCDPolicyInUse
		}
	}
	for _, d := range all {
		named := strings.EqualFold(d.rec.DomainName, pol.rec.StagingDNSName())
		switch {
		case d.rec.IsStaging() && d.rec.PolicyID() == pol.rec.ID:
			clear, err := s.writeReversePointer(d, "")
			if err != nil {
				return edit, err
			}
			edit.add(clear)
		case named:
			edit.conds = append(edit.conds, store.Cond{Key: model.DistributionKey(d.rec.ID), ModRevision: d.rev})
		}
	}
	return edit, nil
}

func (s *Service) distributionByDomain(ctx context.Context, domain string) (loaded[model.Distribution], error) {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return loaded[model.Distribution]{}, err
	}
	return withDomain(all, domain), nil
}

// withDomain returns the distribution named domain, or a zero value.
func withDomain(all []loaded[model.Distribution], domain string) loaded[model.Distribution] {
	for _, d := range all {
		if strings.EqualFold(d.rec.DomainName, domain) {
			return d
		}
	}
	return loaded[model.Distribution]{}
}

// withID returns the distribution with id, or a zero value.
func withID(all []loaded[model.Distribution], id string) loaded[model.Distribution] {
	for _, d := range all {
		if d.rec.ID == id {
			return d
		}
	}
	return loaded[model.Distribution]{}
}

// primaryOfPolicy returns the id of the primary the policy is attached to, or "".
func (s *Service) primaryOfPolicy(ctx context.Context, policyID string) (string, error) {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return "", err
	}
	return primaryHolding(all, policyID), nil
}

// primaryHolding returns the id of the primary in all that holds
// policyID, or "".
func primaryHolding(all []loaded[model.Distribution], policyID string) string {
	for _, d := range all {
		if !d.rec.IsStaging() && d.rec.PolicyID() == policyID {
			return d.rec.ID
		}
	}
	return ""
}

func (s *Service) policyNamingStaging(ctx context.Context, domain string) (loaded[model.Policy], error) {
	all, err := listRecords[model.Policy](ctx, s, model.PolicyPrefix)
	if err != nil {
		return loaded[model.Policy]{}, err
	}
	for _, p := range all {
		if strings.EqualFold(p.rec.StagingDNSName(), domain) {
			return p, nil
		}
	}
	return loaded[model.Policy]{}, nil
}
