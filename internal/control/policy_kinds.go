package control

import (
	"context"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// The three policy kinds. Managed policies come first in lists and are
// read-only; custom ones live in the store.

// managedPoliciesTime is the LastModifiedTime reported for managed policies.
var managedPoliciesTime = time.Date(2020, 10, 29, 0, 0, 0, 0, time.UTC)

func cachePolicies() *policyKind[cf.CachePolicyConfig, *cf.CachePolicy] {
	return &policyKind[cf.CachePolicyConfig, *cf.CachePolicy]{
		what: "cache policy", prefix: model.CachePolicyPrefix, namePrefix: model.CachePolicyNamePrefix,
		noSuch: cf.ErrNoSuchCachePolicy, dupName: cf.ErrCachePolicyAlreadyExists,
		inUse: cf.ErrCachePolicyInUse, tooMany: cf.ErrTooManyCachePolicies,
		managed: func() []*cf.CachePolicy {
			var out []*cf.CachePolicy
			for _, p := range cf.ManagedCachePolicies(managedPoliciesTime) {
				out = append(out, &p)
			}
			return out
		},
		idOf: func(p *cf.CachePolicy) string { return cf.Str(p.Id) },
		prepare: func(c *cf.CachePolicyConfig) error {
			cf.ApplyCachePolicyDefaults(c)
			return cf.ValidateCachePolicyConfig(c)
		},
		name: func(c *cf.CachePolicyConfig) string { return cf.Str(c.Name) },
		wire: func(r *model.CachePolicy) *cf.CachePolicy {
			return &cf.CachePolicy{Id: cf.String(r.ID), LastModifiedTime: cf.NewTime(r.LastModified), CachePolicyConfig: r.Config}
		},
		ref: func(b behaviorRefs) string { return b.cachePolicy },
	}
}

func originRequestPolicies() *policyKind[cf.OriginRequestPolicyConfig, *cf.OriginRequestPolicy] {
	return &policyKind[cf.OriginRequestPolicyConfig, *cf.OriginRequestPolicy]{
		what: "origin request policy", prefix: model.OriginRequestPolicyPrefix, namePrefix: model.OriginRequestPolicyNamePrefix,
		noSuch: cf.ErrNoSuchOriginRequestPolicy, dupName: cf.ErrOriginRequestPolicyAlreadyExists,
		inUse: cf.ErrOriginRequestPolicyInUse, tooMany: cf.ErrTooManyOriginRequestPolicies,
		managed: func() []*cf.OriginRequestPolicy {
			var out []*cf.OriginRequestPolicy
			for _, p := range cf.ManagedOriginRequestPolicies(managedPoliciesTime) {
				out = append(out, &p)
			}
			return out
		},
		idOf:    func(p *cf.OriginRequestPolicy) string { return cf.Str(p.Id) },
		prepare: cf.ValidateOriginRequestPolicyConfig,
		name:    func(c *cf.OriginRequestPolicyConfig) string { return cf.Str(c.Name) },
		wire: func(r *model.OriginRequestPolicy) *cf.OriginRequestPolicy {
			return &cf.OriginRequestPolicy{Id: cf.String(r.ID), LastModifiedTime: cf.NewTime(r.LastModified), OriginRequestPolicyConfig: r.Config}
		},
		ref: func(b behaviorRefs) string { return b.originRequestPolicy },
	}
}

func responseHeadersPolicies() *policyKind[cf.ResponseHeadersPolicyConfig, *cf.ResponseHeadersPolicy] {
	return &policyKind[cf.ResponseHeadersPolicyConfig, *cf.ResponseHeadersPolicy]{
		what: "response headers policy", prefix: model.ResponseHeadersPolicyPrefix, namePrefix: model.ResponseHeadersPolicyNamePrefix,
		noSuch: cf.ErrNoSuchResponseHeadersPolicy, dupName: cf.ErrResponseHeadersPolicyAlreadyExists,
		inUse: cf.ErrResponseHeadersPolicyInUse, tooMany: cf.ErrTooManyResponseHeadersPolicies,
		managed: func() []*cf.ResponseHeadersPolicy {
			var out []*cf.ResponseHeadersPolicy
			for _, p := range cf.ManagedResponseHeadersPolicies(managedPoliciesTime) {
				out = append(out, &p)
			}
			return out
		},
		idOf:    func(p *cf.ResponseHeadersPolicy) string { return cf.Str(p.Id) },
		prepare: cf.ValidateResponseHeadersPolicyConfig,
		name:    func(c *cf.ResponseHeadersPolicyConfig) string { return cf.Str(c.Name) },
		wire: func(r *model.ResponseHeadersPolicy) *cf.ResponseHeadersPolicy {
			return &cf.ResponseHeadersPolicy{Id: cf.String(r.ID), LastModifiedTime: cf.NewTime(r.LastModified), ResponseHeadersPolicyConfig: r.Config}
		},
		ref: func(b behaviorRefs) string { return b.responseHeadersPolicy },
	}
}

// Cache policies.

// GetCachePolicy implements GetCachePolicy(Config).
func (s *Service) GetCachePolicy(ctx context.Context, id string) (*cf.CachePolicy, string, error) {
	return cachePolicies().get(ctx, s, id)
}

// CreateCachePolicy implements CreateCachePolicy.
func (s *Service) CreateCachePolicy(ctx context.Context, cfg *cf.CachePolicyConfig) (*cf.CachePolicy, string, error) {
	return cachePolicies().create(ctx, s, cfg)
}

// UpdateCachePolicy implements UpdateCachePolicy: a full replacement; the
// edges recompile every distribution that uses the policy.
func (s *Service) UpdateCachePolicy(ctx context.Context, id, ifMatch string, cfg *cf.CachePolicyConfig) (*cf.CachePolicy, string, error) {
	return cachePolicies().update(ctx, s, id, ifMatch, cfg)
}

// DeleteCachePolicy implements DeleteCachePolicy.
func (s *Service) DeleteCachePolicy(ctx context.Context, id, ifMatch string) error {
	return cachePolicies().delete(ctx, s, id, ifMatch)
}

// ListCachePolicies implements ListCachePolicies; typ is managed, custom or "".
func (s *Service) ListCachePolicies(ctx context.Context, typ, marker string, maxItems int) (*cf.CachePolicyList, error) {
	ps, types, err := cachePolicies().list(ctx, s, typ)
	if err != nil {
		return nil, err
	}
	items := make([]cf.CachePolicySummary, len(ps))
	for i, p := range ps {
		items[i] = cf.CachePolicySummary{Type: cf.String(types[i]), CachePolicy: p}
	}
	page, next := pageAfter(items, func(it cf.CachePolicySummary) string { return cf.Str(it.CachePolicy.Id) }, marker, maxItems)
	return &cf.CachePolicyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(page))), Items: page, NextMarker: next}, nil
}

// ListDistributionsByCachePolicy implements ListDistributionsByCachePolicyId.
func (s *Service) ListDistributionsByCachePolicy(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error) {
	return listDistributionsBy(ctx, s, cachePolicies(), id, marker, maxItems)
}

// Origin request policies.

// GetOriginRequestPolicy implements GetOriginRequestPolicy(Config).
func (s *Service) GetOriginRequestPolicy(ctx context.Context, id string) (*cf.OriginRequestPolicy, string, error) {
	return originRequestPolicies().get(ctx, s, id)
}

// CreateOriginRequestPolicy implements CreateOriginRequestPolicy.
func (s *Service) CreateOriginRequestPolicy(ctx context.Context, cfg *cf.OriginRequestPolicyConfig) (*cf.OriginRequestPolicy, string, error) {
	return originRequestPolicies().create(ctx, s, cfg)
}

// UpdateOriginRequestPolicy implements UpdateOriginRequestPolicy.
func (s *Service) UpdateOriginRequestPolicy(ctx context.Context, id, ifMatch string, cfg *cf.OriginRequestPolicyConfig) (*cf.OriginRequestPolicy, string, error) {
	return originRequestPolicies().update(ctx, s, id, ifMatch, cfg)
}

// DeleteOriginRequestPolicy implements DeleteOriginRequestPolicy.
func (s *Service) DeleteOriginRequestPolicy(ctx context.Context, id, ifMatch string) error {
	return originRequestPolicies().delete(ctx, s, id, ifMatch)
}

// ListOriginRequestPolicies implements ListOriginRequestPolicies. marker
// is the id of the last policy of the previous page.
func (s *Service) ListOriginRequestPolicies(ctx context.Context, typ, marker string, maxItems int) (*cf.OriginRequestPolicyList, error) {
	ps, types, err := originRequestPolicies().list(ctx, s, typ)
	if err != nil {
		return nil, err
	}
	items := make([]cf.OriginRequestPolicySummary, len(ps))
	for i, p := range ps {
		items[i] = cf.OriginRequestPolicySummary{Type: cf.String(types[i]), OriginRequestPolicy: p}
	}
	page, next := pageAfter(items, func(it cf.OriginRequestPolicySummary) string { return cf.Str(it.OriginRequestPolicy.Id) }, marker, maxItems)
	return &cf.OriginRequestPolicyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(page))), Items: page, NextMarker: next}, nil
}

// ListDistributionsByOriginRequestPolicy implements ListDistributionsByOriginRequestPolicyId.
func (s *Service) ListDistributionsByOriginRequestPolicy(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error) {
	return listDistributionsBy(ctx, s, originRequestPolicies(), id, marker, maxItems)
}

// Response headers policies.

// GetResponseHeadersPolicy implements GetResponseHeadersPolicy(Config).
func (s *Service) GetResponseHeadersPolicy(ctx context.Context, id string) (*cf.ResponseHeadersPolicy, string, error) {
	return responseHeadersPolicies().get(ctx, s, id)
}

// CreateResponseHeadersPolicy implements CreateResponseHeadersPolicy.
func (s *Service) CreateResponseHeadersPolicy(ctx context.Context, cfg *cf.ResponseHeadersPolicyConfig) (*cf.ResponseHeadersPolicy, string, error) {
	return responseHeadersPolicies().create(ctx, s, cfg)
}

// UpdateResponseHeadersPolicy implements UpdateResponseHeadersPolicy.
func (s *Service) UpdateResponseHeadersPolicy(ctx context.Context, id, ifMatch string, cfg *cf.ResponseHeadersPolicyConfig) (*cf.ResponseHeadersPolicy, string, error) {
	return responseHeadersPolicies().update(ctx, s, id, ifMatch, cfg)
}

// DeleteResponseHeadersPolicy implements DeleteResponseHeadersPolicy.
func (s *Service) DeleteResponseHeadersPolicy(ctx context.Context, id, ifMatch string) error {
	return responseHeadersPolicies().delete(ctx, s, id, ifMatch)
}

// ListResponseHeadersPolicies implements ListResponseHeadersPolicies.
// marker is the id of the last policy of the previous page.
func (s *Service) ListResponseHeadersPolicies(ctx context.Context, typ, marker string, maxItems int) (*cf.ResponseHeadersPolicyList, error) {
	ps, types, err := responseHeadersPolicies().list(ctx, s, typ)
	if err != nil {
		return nil, err
	}
	items := make([]cf.ResponseHeadersPolicySummary, len(ps))
	for i, p := range ps {
		items[i] = cf.ResponseHeadersPolicySummary{Type: cf.String(types[i]), ResponseHeadersPolicy: p}
	}
	page, next := pageAfter(items, func(it cf.ResponseHeadersPolicySummary) string { return cf.Str(it.ResponseHeadersPolicy.Id) }, marker, maxItems)
	return &cf.ResponseHeadersPolicyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(page))), Items: page, NextMarker: next}, nil
}

// ListDistributionsByResponseHeadersPolicy implements ListDistributionsByResponseHeadersPolicyId.
func (s *Service) ListDistributionsByResponseHeadersPolicy(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error) {
	return listDistributionsBy(ctx, s, responseHeadersPolicies(), id, marker, maxItems)
}

func listDistributionsBy[C, P any](ctx context.Context, s *Service, k *policyKind[C, P], id, marker string, maxItems int) (*cf.DistributionIdList, error) {
	if !k.exists(ctx, s, id) {
		return nil, k.noSuch.WithMessage("The %s %s does not exist.", k.what, id)
	}
	ids, err := s.distributionsNaming(ctx, func(b behaviorRefs) bool { return k.ref(b) == id })
	if err != nil {
		return nil, err
	}
	return distributionIDList(ids, marker, maxItems), nil
}
