package cloudfront

import (
	"regexp"
	"slices"
	"strings"
)

// ApplyDistributionDefaults fills in what CloudFront fills in on create and
// update when the client leaves a member out (the defaults of
// the create-distribution response in the AWS CLI's examples), so that
// GetDistributionConfig returns them. Members the client set are untouched.
func ApplyDistributionDefaults(c *DistributionConfig) {
	def := func(p **string, v string) {
		if *p == nil {
			*p = String(v)
		}
	}
	defB := func(p **bool, v bool) {
		if *p == nil {
			*p = Bool(v)
		}
	}
	if c.Aliases == nil {
		c.Aliases = &Aliases{Quantity: Int32(0)}
	}
	def(&c.DefaultRootObject, "")
	if c.Origins != nil {
		for i := range c.Origins.Items {
			o := &c.Origins.Items[i]
			def(&o.OriginPath, "")
			if o.CustomHeaders == nil {
				o.CustomHeaders = &CustomHeaders{Quantity: Int32(0)}
			}
			if o.ConnectionAttempts == nil {
				o.ConnectionAttempts = Int32(3)
			}
			if o.ConnectionTimeout == nil {
				o.ConnectionTimeout = Int32(10)
			}
			if o.OriginShield == nil {
				o.OriginShield = &OriginShield{Enabled: Bool(false)}
			}
			def(&o.OriginAccessControlId, "")
			if co := o.CustomOriginConfig; co != nil {
				if co.OriginSslProtocols == nil {
					co.OriginSslProtocols = &OriginSslProtocols{Quantity: Int32(1), Items: []string{"TLSv1.2"}}
				}
				if co.OriginReadTimeout == nil {
					co.OriginReadTimeout = Int32(30)
				}
				if co.OriginKeepaliveTimeout == nil {
					co.OriginKeepaliveTimeout = Int32(5)
				}
			}
		}
	}
	if c.OriginGroups == nil {
		c.OriginGroups = &OriginGroups{Quantity: Int32(0)}
	}
	if b := c.DefaultCacheBehavior; b != nil {
		applyBehaviorDefaults(&b.TrustedSigners, &b.TrustedKeyGroups, &b.AllowedMethods, &b.SmoothStreaming,
			&b.Compress, &b.LambdaFunctionAssociations, &b.FunctionAssociations, &b.FieldLevelEncryptionId,
			b.ForwardedValues != nil, &b.MinTTL, &b.DefaultTTL, &b.MaxTTL)
	}
	if c.CacheBehaviors == nil {
		c.CacheBehaviors = &CacheBehaviors{Quantity: Int32(0)}
	}
	for i := range c.CacheBehaviors.Items {
		b := &c.CacheBehaviors.Items[i]
		applyBehaviorDefaults(&b.TrustedSigners, &b.TrustedKeyGroups, &b.AllowedMethods, &b.SmoothStreaming,
			&b.Compress, &b.LambdaFunctionAssociations, &b.FunctionAssociations, &b.FieldLevelEncryptionId,
			b.ForwardedValues != nil, &b.MinTTL, &b.DefaultTTL, &b.MaxTTL)
	}
	if c.CustomErrorResponses == nil {
		c.CustomErrorResponses = &CustomErrorResponses{Quantity: Int32(0)}
	}
	def(&c.Comment, "")
	if c.Logging == nil {
		c.Logging = &LoggingConfig{Enabled: Bool(false), IncludeCookies: Bool(false), Bucket: String(""), Prefix: String("")}
	}
	def(&c.PriceClass, "PriceClass_All")
	if c.ViewerCertificate == nil {
		c.ViewerCertificate = &ViewerCertificate{CloudFrontDefaultCertificate: Bool(true),
			SSLSupportMethod: String("vip"), MinimumProtocolVersion: String("TLSv1"), CertificateSource: String("cloudfront")}
	}
	if c.Restrictions == nil {
		c.Restrictions = &Restrictions{GeoRestriction: &GeoRestriction{RestrictionType: String("none"), Quantity: Int32(0)}}
	}
	def(&c.WebACLId, "")
	def(&c.HttpVersion, "http2")
	defB(&c.IsIPV6Enabled, true)
	def(&c.ContinuousDeploymentPolicyId, "")
	defB(&c.Staging, false)
}

func applyBehaviorDefaults(ts **TrustedSigners, tkg **TrustedKeyGroups, am **AllowedMethods, smooth, compress **bool,
	lfa **LambdaFunctionAssociations, fa **FunctionAssociations, fle **string, legacy bool, minTTL, defTTL, maxTTL **int64) {
	if *ts == nil {
		*ts = &TrustedSigners{Enabled: Bool(false), Quantity: Int32(0)}
	}
	if *tkg == nil {
		*tkg = &TrustedKeyGroups{Enabled: Bool(false), Quantity: Int32(0)}
	}
	if *am == nil {
		*am = &AllowedMethods{Quantity: Int32(2), Items: []string{"HEAD", "GET"},
			CachedMethods: &CachedMethods{Quantity: Int32(2), Items: []string{"HEAD", "GET"}}}
	} else if (*am).CachedMethods == nil {
		(*am).CachedMethods = &CachedMethods{Quantity: Int32(2), Items: []string{"HEAD", "GET"}}
	}
	if *smooth == nil {
		*smooth = Bool(false)
	}
	if *compress == nil {
		*compress = Bool(false)
	}
	if *lfa == nil {
		*lfa = &LambdaFunctionAssociations{Quantity: Int32(0)}
	}
	if *fa == nil {
		*fa = &FunctionAssociations{Quantity: Int32(0)}
	}
	if *fle == nil {
		*fle = String("")
	}
	if legacy {
		if *minTTL == nil {
			*minTTL = Int64(0)
		}
		if *defTTL == nil {
			*defTTL = Int64(86400)
		}
		if *maxTTL == nil {
			*maxTTL = Int64(31536000)
		}
	}
}

// Lookups answers the questions about other resources that validating a
// distribution config needs. A nil func means "accept".
type Lookups struct {
	CachePolicyExists         func(id string) bool
	OriginRequestPolicyExists func(id string) bool
	// ResponseHeadersPolicyExists answers for a behavior's
	// ResponseHeadersPolicyId.
	ResponseHeadersPolicyExists func(id string) bool
	OriginAccessControlExists   func(id string) bool
	// OriginAccessIdentityExists answers for an S3 origin's
	// OriginAccessIdentity ("origin-access-identity/cloudfront/<Id>").
	OriginAccessIdentityExists func(id string) bool
	// KeyGroupExists answers for a behavior's TrustedKeyGroups. Unlike the
	// others, nil means "no key group exists": stagefront holds none.
	KeyGroupExists func(id string) bool
	// Quotas are the limits to enforce; nil means DefaultQuotas().
	Quotas *Quotas
}

func (l Lookups) quotas() Quotas {
	if l.Quotas != nil {
		return *l.Quotas
	}
	return DefaultQuotas()
}

// Length limits of CloudFront ("Quotas on distributions").
const (
	maxPathPatternLen = 255
	maxOriginPathLen  = 255
)

var (
	hostnameRE   = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	errorCodes   = []int32{400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
	methodGroups = [][]string{{"GET", "HEAD"}, {"GET", "HEAD", "OPTIONS"}, {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}}
)

// ValidateDistributionConfig applies CloudFront's rules to a complete config
// (after ApplyDistributionDefaults). It returns a *Error.
func ValidateDistributionConfig(c *DistributionConfig, look Lookups) error {
	if err := CheckShape("DistributionConfig", c); err != nil {
		return err
	}
	if len(Str(c.Comment)) > 128 {
		return ErrInvalidArgument.WithMessage("The parameter Comment is too long (maximum 128 characters).")
	}
	if strings.HasPrefix(Str(c.DefaultRootObject), "/") {
		return ErrInvalidDefaultRootObject.WithMessage("The specified default root object %q must not begin with a slash.", Str(c.DefaultRootObject))
	}
	if c.Aliases != nil {
		if len(c.Aliases.Items) > look.quotas().AliasesPerDistribution {
			return ErrTooManyDistributionCNAMEs
		}
		for _, a := range c.Aliases.Items {
			if !hostnameRE.MatchString(a) || len(a) > 253 {
				return ErrInvalidArgument.WithMessage("The parameter CNAME contains an invalid domain name: %q.", a)
			}
		}
		if IsTrue(c.Staging) && len(c.Aliases.Items) > 0 {
			return ErrInvalidArgument.WithMessage("A staging distribution cannot have alternate domain names (Aliases).")
		}
	}
	targets := map[string]bool{}
	if c.Origins == nil || len(c.Origins.Items) == 0 {
		return ErrInvalidArgument.WithMessage("The parameter Origins must contain at least one origin.")
	}
	if len(c.Origins.Items) > look.quotas().OriginsPerDistribution {
		return ErrTooManyOrigins
	}
	for i := range c.Origins.Items {
		if err := validateOrigin(&c.Origins.Items[i], look); err != nil {
			return err
		}
		id := Str(c.Origins.Items[i].Id)
		if targets[id] {
			return ErrInvalidArgument.WithMessage("The parameter Origin Id must be unique: %q is used twice.", id)
		}
		targets[id] = true
	}
	if c.OriginGroups != nil {
		if len(c.OriginGroups.Items) > look.quotas().OriginGroupsPerDistribution {
			return ErrTooManyOriginGroups.WithMessage("Processing your request would cause you to exceed the maximum number of origin groups allowed (%d).", look.quotas().OriginGroupsPerDistribution)
		}
		for _, g := range c.OriginGroups.Items {
			targets[Str(g.Id)] = true
		}
	}
	if err := validateBehavior("DefaultCacheBehavior", Str(c.DefaultCacheBehavior.TargetOriginId), c.DefaultCacheBehavior.CachePolicyId,
		c.DefaultCacheBehavior.OriginRequestPolicyId, c.DefaultCacheBehavior.ResponseHeadersPolicyId, c.DefaultCacheBehavior.ForwardedValues != nil, c.DefaultCacheBehavior.AllowedMethods,
		c.DefaultCacheBehavior.MinTTL, c.DefaultCacheBehavior.DefaultTTL, c.DefaultCacheBehavior.MaxTTL, targets, look); err != nil {
		return err
	}
	if c.CacheBehaviors != nil {
		if n := look.quotas().CacheBehaviorsPerDistribution; len(c.CacheBehaviors.Items) > n {
			return ErrTooManyCacheBehaviors.WithMessage("You cannot create more cache behaviors for the distribution: the quota is %d.", n)
		}
		for _, b := range c.CacheBehaviors.Items {
			if p := Str(b.PathPattern); len(p) > maxPathPatternLen {
				return ErrInvalidArgument.WithMessage("The parameter PathPattern is too long (maximum %d characters).", maxPathPatternLen)
			}
			if err := validateBehavior("CacheBehavior "+Str(b.PathPattern), Str(b.TargetOriginId), b.CachePolicyId,
				b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.ForwardedValues != nil, b.AllowedMethods, b.MinTTL, b.DefaultTTL, b.MaxTTL, targets, look); err != nil {
				return err
			}
		}
	}
	if c.CustomErrorResponses != nil {
		seenCodes := map[int32]bool{}
		for _, e := range c.CustomErrorResponses.Items {
			if seenCodes[I32(e.ErrorCode)] {
				return ErrInvalidArgument.WithMessage("The error code %d has more than one custom error response.", I32(e.ErrorCode))
			}
			seenCodes[I32(e.ErrorCode)] = true
			if !slices.Contains(errorCodes, I32(e.ErrorCode)) {
				return ErrInvalidErrorCode.WithMessage("The error code %d is not valid for custom error responses.", I32(e.ErrorCode))
			}
			if p := Str(e.ResponsePagePath); p != "" && !strings.HasPrefix(p, "/") {
				return ErrInvalidRelativePath.WithMessage("The ResponsePagePath %q must begin with a slash (/).", p)
			}
			if rc := Str(e.ResponseCode); rc != "" && (len(rc) != 3 || rc[0] < '1' || rc[0] > '5') {
				return ErrInvalidResponseCode.WithMessage("The response code %q is not valid.", rc)
			}
		}
	}
	if err := validateLogging(c.Logging); err != nil {
		return err
	}
	if r := c.Restrictions; r != nil && r.GeoRestriction != nil {
		g := r.GeoRestriction
		if Str(g.RestrictionType) == "none" && len(g.Items) > 0 {
			return ErrInvalidGeoRestrictionParameter.WithMessage("Locations must be empty when RestrictionType is none.")
		}
		if Str(g.RestrictionType) != "none" && len(g.Items) == 0 {
			return ErrInvalidGeoRestrictionParameter.WithMessage("RestrictionType %s needs at least one location.", Str(g.RestrictionType))
		}
		for _, l := range g.Items {
			if len(l) != 2 || strings.ToUpper(l) != l {
				return ErrInvalidLocationCode.WithMessage("The location code %q is not a valid ISO 3166-1 alpha-2 code.", l)
			}
		}
	}
	if err := checkForwardedValuesQuotas(c, look.quotas()); err != nil {
		return err
	}
	return checkAccessControls(c, look)
}

func validateOrigin(o *Origin, look Lookups) error {
	kinds := 0
	for _, set := range []bool{o.S3OriginConfig != nil, o.CustomOriginConfig != nil, o.VpcOriginConfig != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return ErrInvalidOrigin.WithMessage("Origin %q must have exactly one of S3OriginConfig, CustomOriginConfig and VpcOriginConfig.", Str(o.Id))
	}
	if err := validateOriginDomain(o); err != nil {
		return err
	}
	if p := Str(o.OriginPath); len(p) > maxOriginPathLen {
		return ErrInvalidArgument.WithMessage("The parameter OriginPath is too long (maximum %d characters).", maxOriginPathLen)
	}
	if p := Str(o.OriginPath); p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
		return ErrInvalidArgument.WithMessage("The parameter OriginPath %q must begin with a slash (/) and must not end with one.", p)
	}
	if n := I32(o.ConnectionAttempts); n < 1 || n > 3 {
		return ErrInvalidArgument.WithMessage("The parameter ConnectionAttempts must be between 1 and 3.")
	}
	if n := I32(o.ConnectionTimeout); n < 1 || n > 10 {
		return ErrInvalidArgument.WithMessage("The parameter ConnectionTimeout must be between 1 and 10.")
	}
	if co := o.CustomOriginConfig; co != nil {
		if n := I32(co.OriginReadTimeout); n < 1 || n > 180 {
			return ErrInvalidOriginReadTimeout.WithMessage("The OriginReadTimeout %d is not valid: it must be between 1 and 180 seconds.", n)
		}
		if n := I32(co.OriginKeepaliveTimeout); n < 1 || n > 180 {
			return ErrInvalidOriginKeepaliveTimeout.WithMessage("The OriginKeepaliveTimeout %d is not valid: it must be between 1 and 180 seconds.", n)
		}
		for _, port := range []int32{I32(co.HTTPPort), I32(co.HTTPSPort)} {
			if port < 1 || port > 65535 {
				return ErrInvalidArgument.WithMessage("The origin port %d is not valid.", port)
			}
		}
	}
	if id := Str(o.OriginAccessControlId); id != "" && look.OriginAccessControlExists != nil && !look.OriginAccessControlExists(id) {
		return ErrInvalidOriginAccessControl.WithMessage("The origin access control %q does not exist.", id)
	}
	if err := checkOriginAccessIdentity(o, look); err != nil {
		return err
	}
	if o.CustomHeaders != nil && len(o.CustomHeaders.Items) > look.quotas().CustomHeadersPerOrigin {
		return ErrTooManyOriginCustomHeaders
	}
	return validateOriginCustomHeaders(Str(o.Id), o.CustomHeaders, look.quotas().CustomHeadersBytesPerOrigin)
}

func validateBehavior(where, target string, cachePolicyID, originRequestPolicyID, responseHeadersPolicyID *string, legacy bool, am *AllowedMethods,
	minTTL, defTTL, maxTTL *int64, targets map[string]bool, look Lookups) error {
	if !targets[target] {
		return ErrNoSuchOrigin.WithMessage("%s: no origin or origin group has the Id %q (TargetOriginId).", where, target)
	}
	id := Str(cachePolicyID)
	switch {
	case id == "" && !legacy:
		return ErrInvalidArgument.WithMessage("%s: the parameter CachePolicyId or ForwardedValues is required.", where)
	case id != "" && legacy:
		return ErrInvalidArgument.WithMessage("%s: CachePolicyId and ForwardedValues cannot both be set.", where)
	case id != "" && look.CachePolicyExists != nil && !look.CachePolicyExists(id):
		return ErrNoSuchCachePolicy.WithMessage("The cache policy %q does not exist.", id)
	}
	// An origin request policy only adds to what a cache policy forwards;
	// CloudFront refuses one on a behavior without a cache policy.
	switch orp := Str(originRequestPolicyID); {
	case orp != "" && legacy:
		return ErrInvalidArgument.WithMessage("%s: OriginRequestPolicyId needs a CachePolicyId; it cannot be used with ForwardedValues.", where)
	case orp != "" && look.OriginRequestPolicyExists != nil && !look.OriginRequestPolicyExists(orp):
		return ErrNoSuchOriginRequestPolicy.WithMessage("The origin request policy %q does not exist.", orp)
	}
	// A response headers policy, unlike an origin request policy, goes with
	// legacy ForwardedValues too: it only touches the viewer's response.
	if rhp := Str(responseHeadersPolicyID); rhp != "" && look.ResponseHeadersPolicyExists != nil && !look.ResponseHeadersPolicyExists(rhp) {
		return ErrNoSuchResponseHeadersPolicy.WithMessage("The response headers policy %q does not exist.", rhp)
	}
	if legacy {
		lo, def, hi := derefI64(minTTL), derefI64(defTTL), derefI64(maxTTL)
		if lo < 0 || lo > def || def > hi {
			return ErrInvalidTTLOrder.WithMessage("%s: MinTTL (%d) <= DefaultTTL (%d) <= MaxTTL (%d) does not hold.", where, lo, def, hi)
		}
	}
	if am != nil {
		if !validMethodSet(am.Items) {
			return ErrInvalidArgument.WithMessage("%s: AllowedMethods must be GET,HEAD or GET,HEAD,OPTIONS or all seven methods.", where)
		}
		if am.CachedMethods != nil {
			cm := slices.Sorted(slices.Values(am.CachedMethods.Items))
			if !slices.Equal(cm, methodGroups[0]) && !slices.Equal(cm, methodGroups[1]) {
				return ErrInvalidArgument.WithMessage("%s: CachedMethods must be GET,HEAD or GET,HEAD,OPTIONS.", where)
			}
		}
	}
	return nil
}

func validMethodSet(items []string) bool {
	got := slices.Sorted(slices.Values(items))
	for _, g := range methodGroups {
		want := slices.Clone(g)
		slices.Sort(want)
		if slices.Equal(got, want) {
			return true
		}
	}
	return false
}

func derefI64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// OAIPathPrefix starts an S3 origin's OriginAccessIdentity.
const OAIPathPrefix = "origin-access-identity/cloudfront/"

// checkOriginAccessIdentity checks an S3 origin's OriginAccessIdentity:
// empty, or OAIPathPrefix + the id of an existing origin access identity,
// and never together with an origin access control.
func checkOriginAccessIdentity(o *Origin, look Lookups) error {
	if o.S3OriginConfig == nil {
		return nil
	}
	oai := Str(o.S3OriginConfig.OriginAccessIdentity)
	if oai == "" {
		return nil
	}
	if Str(o.OriginAccessControlId) != "" {
		return ErrIllegalOriginAccessCfg
	}
	id, ok := strings.CutPrefix(oai, OAIPathPrefix)
	if !ok || id == "" || (look.OriginAccessIdentityExists != nil && !look.OriginAccessIdentityExists(id)) {
		return ErrInvalidOAI.WithMessage("The origin access identity %q is not valid or doesn't exist: use %s<Id> with the Id of an existing origin access identity.", oai, OAIPathPrefix)
	}
	return nil
}
