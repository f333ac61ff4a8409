package cloudfront

import "strings"

// The access controls below are enforced by CloudFront at the edge. Those
// the stagefront edge does not enforce (yet) are refused rather than
// accepted and ignored: an access control must never fail open. Signed
// URLs and cookies (TrustedKeyGroups) are enforced.

// behaviorControls is what one cache behavior asks of the edge beyond
// routing and caching.
type behaviorControls struct {
	where                  string // "DefaultCacheBehavior" or "CacheBehavior <PathPattern>:"
	trustedSigners         *TrustedSigners
	trustedKeyGroups       *TrustedKeyGroups
	functions              *FunctionAssociations
	lambdas                *LambdaFunctionAssociations
	fieldLevelEncryptionID string
	realtimeLogConfigARN   string
}

func (b behaviorControls) field(name string) string {
	if strings.HasPrefix(b.where, "CacheBehavior ") {
		return b.where + ": " + name
	}
	return b.where + "." + name
}

func behaviorsOf(c *DistributionConfig) []behaviorControls {
	var out []behaviorControls
	if d := c.DefaultCacheBehavior; d != nil {
		out = append(out, behaviorControls{"DefaultCacheBehavior", d.TrustedSigners, d.TrustedKeyGroups,
			d.FunctionAssociations, d.LambdaFunctionAssociations, Str(d.FieldLevelEncryptionId), Str(d.RealtimeLogConfigArn)})
	}
	if c.CacheBehaviors != nil {
		for _, b := range c.CacheBehaviors.Items {
			out = append(out, behaviorControls{"CacheBehavior " + Str(b.PathPattern), b.TrustedSigners, b.TrustedKeyGroups,
				b.FunctionAssociations, b.LambdaFunctionAssociations, Str(b.FieldLevelEncryptionId), Str(b.RealtimeLogConfigArn)})
		}
	}
	return out
}

// notEnforced is the refusal of an access control the edge does not apply.
func notEnforced(field string) error {
	return ErrInvalidArgument.WithMessage("stagefront does not enforce %s at the edge yet; remove it or disable it.", field)
}

// checkAccessControls refuses every access control the edge would ignore,
// and every reference to a kind of resource stagefront does not hold
// (field-level encryption configs, real-time log configs, web ACLs): such a
// reference names a resource that does not exist, which CloudFront refuses
// with the codes used here.
func checkAccessControls(c *DistributionConfig, look Lookups) error {
	for _, b := range behaviorsOf(c) {
		if ts := b.trustedSigners; ts != nil && IsTrue(ts.Enabled) {
			return ErrInvalidArgument.WithMessage("%s: stagefront does not support TrustedSigners (the legacy CloudFront key pairs of AWS accounts); "+
				"restrict viewer access with TrustedKeyGroups, whose key groups hold the public keys that verify signed URLs and cookies.", b.field("TrustedSigners"))
		}
		if err := checkTrustedKeyGroups(b.field("TrustedKeyGroups"), b.trustedKeyGroups, look); err != nil {
			return err
		}
		if f := b.functions; f != nil && len(f.Items) > 0 {
			return notEnforced(b.field("FunctionAssociations") + " (" + Str(f.Items[0].EventType) + ")")
		}
		if l := b.lambdas; l != nil && len(l.Items) > 0 {
			return notEnforced(b.field("LambdaFunctionAssociations") + " (" + Str(l.Items[0].EventType) + ")")
		}
		if id := b.fieldLevelEncryptionID; id != "" {
			return ErrNoSuchFieldLevelEncryptionConfig
		}
		if arn := b.realtimeLogConfigARN; arn != "" {
			return ErrNoSuchRealtimeLogConfig
		}
	}
	if g := geoRestrictionOf(c); g != nil && Str(g.RestrictionType) != "none" {
		return notEnforced("Restrictions.GeoRestriction (" + Str(g.RestrictionType) + ")")
	}
	if id := Str(c.WebACLId); id != "" {
		return ErrInvalidWebACLId.WithMessage("The WebACLId %q does not name a web ACL: stagefront does not enforce AWS WAF web ACLs at the edge.", id)
	}
	return nil
}

// checkTrustedKeyGroups checks a behavior's key groups: each must exist
// (CloudFront's TrustedKeyGroupDoesNotExist, whatever Enabled says), an
// enabled restriction needs at least one, and a behavior trusts at most
// MaxKeyGroupsPerBehavior. The edge enforces an enabled restriction: only
// requests with a valid signed URL or signed cookies are served.
func checkTrustedKeyGroups(field string, tkg *TrustedKeyGroups, look Lookups) error {
	if tkg == nil {
		return nil
	}
	if len(tkg.Items) > MaxKeyGroupsPerBehavior {
		return ErrTooManyKeyGroupsAssociatedToDist.WithMessage("%s: %d key groups; a cache behavior can trust at most %d.", field, len(tkg.Items), MaxKeyGroupsPerBehavior)
	}
	for _, id := range tkg.Items {
		if look.KeyGroupExists == nil || !look.KeyGroupExists(id) {
			return ErrTrustedKeyGroupDoesNotExist.WithMessage("%s: the key group %q does not exist.", field, id)
		}
	}
	if IsTrue(tkg.Enabled) && len(tkg.Items) == 0 {
		return ErrInvalidArgument.WithMessage("%s: Enabled is true but no key group is given.", field)
	}
	return nil
}

func geoRestrictionOf(c *DistributionConfig) *GeoRestriction {
	if c.Restrictions == nil {
		return nil
	}
	return c.Restrictions.GeoRestriction
}
