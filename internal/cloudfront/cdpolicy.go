package cloudfront

import (
	"math"
	"strings"
)

// Continuous-deployment policy limits (API reference,
// ContinuousDeploymentPolicyConfig; docs/cloudfront.md, "Limits").
const (
	MaxStagingWeight  = 0.15
	MinStickinessTTL  = 300
	MaxStickinessTTL  = 3600
	HeaderPrefix      = "aws-cf-cd-"
	MaxCDPolicies     = 20
	MaxStagingDists   = 20
	maxHeaderNameLen  = 256
	maxHeaderValueLen = 1783
	weightEpsilon     = 1e-9
	TrafficTypeWeight = "SingleWeight"
	TrafficTypeHeader = "SingleHeader"
)

// ValidateCDPolicyConfig applies the rules on a policy's own content, in
// the order CloudFront checks them (the staging lookup is the caller's). It returns a *Error.
func ValidateCDPolicyConfig(c *ContinuousDeploymentPolicyConfig) error {
	if err := CheckShape("ContinuousDeploymentPolicyConfig", c); err != nil {
		return err
	}
	if n := len(c.StagingDistributionDnsNames.Items); n != 1 {
		return ErrInvalidArgument.WithMessage("StagingDistributionDnsNames must name exactly one staging distribution (got %d).", n)
	}
	t := c.TrafficConfig
	if t == nil {
		return nil
	}
	switch Str(t.Type) {
	case TrafficTypeWeight:
		if t.SingleWeightConfig == nil {
			return ErrInvalidArgument.WithMessage("TrafficConfig of Type SingleWeight needs SingleWeightConfig.")
		}
		if t.SingleHeaderConfig != nil {
			return ErrInvalidArgument.WithMessage("TrafficConfig of Type SingleWeight cannot have SingleHeaderConfig.")
		}
		w := F64(t.SingleWeightConfig.Weight)
		if math.IsNaN(w) || w < -weightEpsilon || w > MaxStagingWeight+weightEpsilon {
			return ErrInvalidArgument.WithMessage("Weight %v is not valid: it must be between 0 and %.2f.", w, MaxStagingWeight)
		}
		if s := t.SingleWeightConfig.SessionStickinessConfig; s != nil {
			idle, maxTTL := I32(s.IdleTTL), I32(s.MaximumTTL)
			if idle < MinStickinessTTL || idle > MaxStickinessTTL || maxTTL < MinStickinessTTL || maxTTL > MaxStickinessTTL {
				return ErrInvalidArgument.WithMessage("IdleTTL and MaximumTTL must be between %d and %d seconds.", MinStickinessTTL, MaxStickinessTTL)
			}
			if idle > maxTTL {
				return ErrInvalidArgument.WithMessage("IdleTTL (%d) must be less than or equal to MaximumTTL (%d).", idle, maxTTL)
			}
		}
	case TrafficTypeHeader:
		if t.SingleHeaderConfig == nil {
			return ErrInvalidArgument.WithMessage("TrafficConfig of Type SingleHeader needs SingleHeaderConfig.")
		}
		if t.SingleWeightConfig != nil {
			return ErrInvalidArgument.WithMessage("TrafficConfig of Type SingleHeader cannot have SingleWeightConfig.")
		}
		h, v := Str(t.SingleHeaderConfig.Header), Str(t.SingleHeaderConfig.Value)
		if !strings.HasPrefix(strings.ToLower(h), HeaderPrefix) {
			return ErrInvalidArgument.WithMessage("The header name %q must start with %q.", h, HeaderPrefix)
		}
		if len(h) > maxHeaderNameLen || v == "" || len(v) > maxHeaderValueLen {
			return ErrInvalidArgument.WithMessage("Header must be at most %d characters and Value 1 to %d characters.", maxHeaderNameLen, maxHeaderValueLen)
		}
	default:
		return ErrInvalidArgument.WithMessage("TrafficConfig Type %q is not valid: use SingleWeight or SingleHeader.", Str(t.Type))
	}
	return nil
}

// CDAllowedChanges names the DistributionConfig members that may change
// while continuous deployment is active (docs/cloudfront.md); Enabled is our call
// for the primary (Terraform disables a primary before deleting it).
var cdAllowedChanges = map[string]bool{
	"DefaultCacheBehavior": true, "CacheBehaviors": true, "Origins": true, "OriginGroups": true,
	"CustomErrorResponses": true, "Restrictions": true, "DefaultRootObject": true, "Logging": true,
	"Comment": true, "ContinuousDeploymentPolicyId": true,
}

// CDAllowedChange reports whether member may change while continuous deployment is active.
func CDAllowedChange(member string) bool { return cdAllowedChanges[member] }
