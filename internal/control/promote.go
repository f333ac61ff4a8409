package control

import (
	"context"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// CopyDistribution implements CopyDistribution: a staging copy of a primary
// (docs/cloudfront.md, "Staging copies"). stagingHeader is the raw `Staging` header.
func (s *Service) CopyDistribution(ctx context.Context, primaryID, stagingHeader, ifMatch string, req *cf.CopyDistributionRequest) (*DistributionResult, error) {
	if req == nil {
		return nil, cf.ErrMissingBody
	}
	if !strings.EqualFold(strings.TrimSpace(stagingHeader), "true") {
		return nil, cf.ErrInvalidArgument.WithMessage("The Staging header must be set to True: CopyDistribution only creates staging distributions.")
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, cf.ErrInvalidIfMatchVersion
	}
	if cf.Str(req.CallerReference) == "" {
		return nil, cf.ErrInvalidArgument.WithMessage("CallerReference is required.")
	}
	primary, err := s.getDistribution(ctx, primaryID)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, primary.etag(primaryID)); err != nil {
		return nil, err
	}
	if primary.rec.IsStaging() {
		return nil, cf.ErrInvalidArgument.WithMessage("Distribution %s is a staging distribution; copy its primary instead.", primaryID)
	}
	if err := s.checkStagingQuota(ctx); err != nil {
		return nil, err
	}
	cfg := deepCopy(primary.rec.Config)
	cfg.Staging = cf.Bool(true)
	cfg.CallerReference = req.CallerReference
	cfg.Enabled = cf.Bool(req.Enabled == nil || *req.Enabled)
	cfg.Aliases = &cf.Aliases{Quantity: cf.Int32(0)}
	cfg.ContinuousDeploymentPolicyId = cf.String("")
	// The primary's config passed these rules when it was written, but the
	// rules grow (unknown origin request policies were once accepted): a
	// copy is a new distribution and must pass today's.
	if err := s.validateDistribution(ctx, "", cfg); err != nil {
		return nil, err
	}
	return s.insertDistribution(ctx, &model.Distribution{Config: cfg}, nil) // tags are not copied
}

// PromoteStaging implements UpdateDistributionWithStagingConfig
// (docs/cloudfront.md, "Promotion"): the primary takes the staging config (keeping its Aliases,
// policy id and caller reference) and the policy is disabled, in one
// transaction guarded by both ETags and the policy's revision.
func (s *Service) PromoteStaging(ctx context.Context, primaryID, stagingID, ifMatch string) (*DistributionResult, error) {
	if stagingID == "" {
		return nil, cf.ErrInvalidArgument.WithMessage("StagingDistributionId is required.")
	}
	tokens := strings.Split(ifMatch, ",")
	if len(tokens) != 2 || strings.TrimSpace(tokens[0]) == "" || strings.TrimSpace(tokens[1]) == "" {
		return nil, cf.ErrInvalidIfMatchVersion.WithMessage("The If-Match header must hold the primary's and the staging distribution's ETags: \"<primary ETag>, <staging ETag>\".")
	}
	primary, err := s.getDistribution(ctx, primaryID)
	if err != nil {
		return nil, err
	}
	staging, err := s.getDistribution(ctx, stagingID)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(tokens[0], primary.etag(primaryID)); err != nil {
		return nil, err
	}
	if err := checkIfMatch(tokens[1], staging.etag(stagingID)); err != nil {
		return nil, err
	}
	if !staging.rec.IsStaging() {
		return nil, cf.ErrInvalidArgument.WithMessage("Distribution %s is not a staging distribution.", stagingID)
	}
	if primary.rec.IsStaging() {
		return nil, cf.ErrInvalidArgument.WithMessage("Distribution %s is a staging distribution, not a primary.", primaryID)
	}
	policyID := primary.rec.PolicyID()
	if policyID == "" {
		return nil, cf.ErrInvalidArgument.WithMessage("The primary distribution %s has no continuous deployment policy attached.", primaryID)
	}
	pol, err := s.getPolicy(ctx, policyID)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(pol.rec.StagingDNSName(), staging.rec.DomainName) {
		return nil, cf.ErrInvalidArgument.WithMessage("The continuous deployment policy %s does not name staging distribution %s.", policyID, stagingID)
	}

	cfg := deepCopy(staging.rec.Config)
	cfg.Aliases = primary.rec.Config.Aliases
	cfg.ContinuousDeploymentPolicyId = cf.String(policyID)
	cfg.CallerReference = primary.rec.Config.CallerReference
	cfg.Staging = cf.Bool(false)
	if err := s.validateDistribution(ctx, primaryID, cfg); err != nil {
		return nil, err
	}
	next := *primary.rec
	next.Config = cfg
	next.LastModified = s.now()

	nextPol := *pol.rec
	nextPol.Config = deepCopy(pol.rec.Config)
	nextPol.Config.Enabled = cf.Bool(false)
	nextPol.Generation++
	nextPol.LastModified = next.LastModified

	putPrimary, err := putOp(model.DistributionKey(primaryID), &next)
	if err != nil {
		return nil, err
	}
	putPolicy, err := putOp(model.PolicyKey(policyID), &nextPol)
	if err != nil {
		return nil, err
	}
	rev, err := s.txn(ctx, []store.Cond{
		{Key: model.DistributionKey(primaryID), ModRevision: primary.rev},
		{Key: model.DistributionKey(stagingID), ModRevision: staging.rev},
		{Key: model.PolicyKey(policyID), ModRevision: pol.rev},
	}, []store.Op{putPrimary, putPolicy})
	if err != nil {
		return nil, err
	}
	return s.wireWritten(ctx, loaded[model.Distribution]{rec: &next, rev: rev})
}
