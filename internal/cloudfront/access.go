package cloudfront

import "strings"

// The access controls below are enforced by CloudFront at the edge. The
// stagefront edge does not enforce them (yet), so the API refuses a config
// that asks for one rather than accept it and serve every viewer anyway:
// an access control must never fail open.

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
			return notEnforced(b.field("TrustedSigners"))
		}
		if err := refuseTrustedKeyGroups(b.field("TrustedKeyGroups"), b.trustedKeyGroups, look); err != nil {
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

// refuseTrustedKeyGroups refuses signed-URL protection by key groups until
// the edge verifies signed URLs and cookies. A key group that does not
// exist is CloudFront's TrustedKeyGroupDoesNotExist whatever Enabled says;
// stagefront holds no key groups unless look.KeyGroupExists says so.
func refuseTrustedKeyGroups(field string, tkg *TrustedKeyGroups, look Lookups) error {
	if tkg == nil {
		return nil
	}
	for _, id := range tkg.Items {
		if look.KeyGroupExists == nil || !look.KeyGroupExists(id) {
			return ErrTrustedKeyGroupDoesNotExist
		}
	}
	if IsTrue(tkg.Enabled) {
		return notEnforced(field)
	}
	return nil
}

func geoRestrictionOf(c *DistributionConfig) *GeoRestriction {
	if c.Restrictions == nil {
		return nil
	}
	return c.Restrictions.GeoRestriction
}
