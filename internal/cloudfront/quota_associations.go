package cloudfront

import (
	"cmp"
	"slices"
)

// AssociationKind is a kind of resource that many distributions may name
// and whose number of distributions CloudFront bounds ("Distributions
// associated with the same cache policy", "… with a single key group",
// "Distributions per origin access control" in the Developer Guide's
// quotas).
type AssociationKind int

// The kinds, in the order a config's associations are checked.
const (
	AssocCachePolicy AssociationKind = iota
	AssocOriginRequestPolicy
	AssocResponseHeadersPolicy
	AssocKeyGroup
	AssocOriginAccessControl
)

// Association is one resource a distribution names.
type Association struct {
	Kind AssociationKind
	ID   string
}

// Associations returns the custom resources c names, each once, sorted:
// the custom policies its behaviors use, the key groups they trust
// (enabled or not, as ListDistributionsByKeyGroup counts them) and the
// origin access controls of its origins. Managed policies are left out:
// every account shares them, and CloudFront's quotas on policies are about
// an account's own.
func Associations(c *DistributionConfig) []Association {
	if c == nil {
		return nil
	}
	var out []Association
	add := func(kind AssociationKind, id string) {
		if id != "" {
			out = append(out, Association{kind, id})
		}
	}
	behavior := func(cachePolicy, orp, rhp *string, tkg *TrustedKeyGroups) {
		if _, managed := ManagedCachePolicyTTLs(Str(cachePolicy)); !managed {
			add(AssocCachePolicy, Str(cachePolicy))
		}
		if !IsManagedOriginRequestPolicy(Str(orp)) {
			add(AssocOriginRequestPolicy, Str(orp))
		}
		if !IsManagedResponseHeadersPolicy(Str(rhp)) {
			add(AssocResponseHeadersPolicy, Str(rhp))
		}
		if tkg != nil {
			for _, g := range tkg.Items {
				add(AssocKeyGroup, g)
			}
		}
	}
	if b := c.DefaultCacheBehavior; b != nil {
		behavior(b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.TrustedKeyGroups)
	}
	if c.CacheBehaviors != nil {
		for _, b := range c.CacheBehaviors.Items {
			behavior(b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.TrustedKeyGroups)
		}
	}
	if c.Origins != nil {
		for _, o := range c.Origins.Items {
			add(AssocOriginAccessControl, Str(o.OriginAccessControlId))
		}
	}
	slices.SortFunc(out, func(a, b Association) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return slices.Compact(out)
}

// CheckAssociations refuses a distribution config naming resources
// (mine, from Associations) that as many other distributions as the quota
// allows already name; others counts, for each resource, the other
// distributions that name it.
func (q Quotas) CheckAssociations(mine []Association, others map[Association]int) error {
	for _, a := range mine {
		limit, err := q.associationLimit(a.Kind)
		if others[a]+1 > limit {
			return err.WithMessage("%s The quota is %d distributions, and %s is associated with %d others.", err.Message, limit, a.ID, others[a])
		}
	}
	return nil
}

func (q Quotas) associationLimit(k AssociationKind) (int, *Error) {
	switch k {
	case AssocCachePolicy:
		return q.DistributionsPerCachePolicy, ErrTooManyDistributionsToCachePolicy
	case AssocOriginRequestPolicy:
		return q.DistributionsPerOriginRequestPolicy, ErrTooManyDistributionsToORP
	case AssocResponseHeadersPolicy:
		return q.DistributionsPerResponseHeadersPolicy, ErrTooManyDistributionsToRHP
	case AssocKeyGroup:
		return q.DistributionsPerKeyGroup, ErrTooManyDistributionsToKeyGroup
	default:
		return q.DistributionsPerOriginAccessControl, ErrTooManyDistributionsToOAC
	}
}
