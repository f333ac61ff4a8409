package routing

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// Errors a distribution's config can fail to compile with (besides
// ErrBadPathPattern). They are wrapped with the details.
var (
	ErrInvalidConfig      = errors.New("invalid distribution config")
	ErrUnknownOrigin      = errors.New("unknown origin")
	ErrUnknownCachePolicy = errors.New("unknown cache policy")
	// ErrUnknownOriginRequestPolicy is returned for an OriginRequestPolicyId
	// that names no managed origin request policy.
	ErrUnknownOriginRequestPolicy = errors.New("unknown origin request policy")
	// ErrUnknownResponseHeadersPolicy is returned for a
	// ResponseHeadersPolicyId that names no managed response headers policy.
	ErrUnknownResponseHeadersPolicy = errors.New("unknown response headers policy")
)

// Dist is one compiled distribution. It is immutable once its Table is
// published and may be shared by several Tables: read it, never write it.
type Dist struct {
	ID         string
	DomainName string   // lowercased
	Aliases    []string // lowercased, as configured
	// Revision is the store ModRevision of the config this entry was compiled
	// from. When Err is set, that is the last good config, not the current one.
	Revision          int64
	Enabled           bool
	Staging           bool
	DefaultRootObject string
	// PolicyID is the config's ContinuousDeploymentPolicyId. A staging
	// distribution shows its policy's id too (a reverse pointer); only a
	// primary's counts.
	PolicyID string
	// Logging is the config's Logging when Enabled is true; nil otherwise.
	Logging *Logging

	Origins      map[string]*Origin
	OriginGroups map[string]*OriginGroup
	// Behaviors are the CacheBehaviors in configured order; Default is the
	// DefaultCacheBehavior (pattern "*").
	Behaviors      []Behavior
	Default        Behavior
	ErrorResponses []ErrorResponse // sorted by ErrorCode

	// CD is the continuous-deployment decision data of a primary whose
	// policy is enabled and whose staging distribution exists and is
	// enabled; nil otherwise (then Decide always picks this distribution).
	CD *CD
	// Err is non-nil when the current config failed to compile and this
	// entry is the last good one.
	Err error
	// PolicyRevisions are the store revisions of the custom policies the
	// behaviors name, by id: a change to one of them recompiles the
	// distribution.
	PolicyRevisions map[string]int64
}

// Origin is one compiled origin. Custom, S3 and VPC origins share the
// fields; an S3 origin is always fetched over HTTPS.
type Origin struct {
	ID         string
	DomainName string
	OriginPath string
	S3         bool
	// OriginAccessControlID is the OAC that signs requests (S3 origins);
	// OriginAccessIdentity is the legacy OAI ("" for none).
	OriginAccessControlID string
	OriginAccessIdentity  string
	ProtocolPolicy        string // http-only | match-viewer | https-only
	HTTPPort, HTTPSPort   int
	SSLProtocols          []string
	ReadTimeout           time.Duration
	KeepaliveTimeout      time.Duration
	ConnectionAttempts    int
	ConnectionTimeout     time.Duration
	Headers               []Header // origin custom headers, in order
	// Shield is OriginShield.Enabled: the edges of a fleet send their
	// cache fills for this origin through one member, the shield, which
	// collapses them into one origin fetch per object (docs/architecture.md,
	// "Origin Shield"). ShieldRegion is OriginShieldRegion, kept for the
	// record: a fleet has no regions, its shield is chosen per object.
	Shield       bool
	ShieldRegion string
}

// Header is one origin custom header.
type Header struct{ Name, Value string }

// OriginGroup is an origin failover group: Members[0] is the primary
// origin, the next ones are tried on the FailoverStatusCodes.
type OriginGroup struct {
	ID                  string
	Members             []*Origin
	FailoverStatusCodes []int
}

// Behavior is one compiled cache behavior.
type Behavior struct {
	Pattern        PathPattern
	TargetOriginID string
	// Origin is the target origin, or the first member of the target group.
	Origin *Origin
	// Group is the target origin group; nil when the target is an origin.
	Group                   *OriginGroup
	ViewerProtocolPolicy    string // allow-all | https-only | redirect-to-https
	AllowedMethods          Methods
	CachedMethods           Methods
	Compress                bool
	CachePolicyID           string // "" for a legacy (ForwardedValues) behavior
	OriginRequestPolicyID   string
	ResponseHeadersPolicyID string
	TTL                     TTLs
	CacheKey                CacheKey
	// OriginRequest is what a GET sends the origin when the behavior has an
	// origin request policy (the cache key's parts and the policy's); nil
	// without one, and then a GET sends exactly the cache key's parts.
	OriginRequest *OriginRequest
	// ResponseHeaders is the behavior's response headers policy; nil
	// without one, and then the edge serves the origin's header as it is.
	ResponseHeaders *ResponseHeaders
	// Restricted is set when the behavior trusts key groups: the edge
	// serves only requests with a valid signed URL or signed cookies made
	// with one of TrustedKeys, the public keys of KeyGroupIDs.
	Restricted  bool
	KeyGroupIDs []string
	TrustedKeys []TrustedKey
}

// TrustedKey is a public key a restricted behavior trusts, by its id.
type TrustedKey struct {
	ID     string
	Public *rsa.PublicKey
	// ECDSA is set instead of Public for an ECDSA P-256 key.
	ECDSA *ecdsa.PublicKey
}

// TTLs are the Minimum, Default and Maximum TTL of the behavior's cache
// policy or of its legacy MinTTL/DefaultTTL/MaxTTL. The field set matches
// cache.TTLPolicy, so the edge can convert one into the other.
type TTLs struct {
	Min, Default, Max time.Duration
}

// Selection says which items of a kind (query strings, headers, cookies) go
// into the cache key.
type Selection uint8

// Selections, as CloudFront names them in cache policies.
const (
	SelectNone      Selection = iota // none
	SelectAllowList                  // whitelist: only Names
	SelectAllExcept                  // allExcept: all but Names
	SelectAll                        // all
)

// CacheKey names the request parts the cache policy puts into the key.
type CacheKey struct {
	QueryStrings     Selection
	QueryStringNames []string
	Headers          Selection // SelectNone, SelectAllowList, or SelectAll (legacy "*")
	HeaderNames      []string  // canonical MIME header names
	Cookies          Selection
	CookieNames      []string
	Gzip, Brotli     bool // normalized Accept-Encoding in the key
}

// ErrorResponse is one compiled custom error response.
type ErrorResponse struct {
	ErrorCode        int
	ResponsePagePath string
	ResponseCode     int // 0: keep the origin's status code
	CachingMinTTL    time.Duration
}

// defaultErrorCachingMinTTL is CloudFront's ErrorCachingMinTTL when unset.
const defaultErrorCachingMinTTL = 10 * time.Second

// Behavior returns the cache behavior for a request path: the first
// CacheBehavior whose pattern matches, else the default.
func (d *Dist) Behavior(path string) *Behavior {
	for i := range d.Behaviors {
		if d.Behaviors[i].Pattern.Match(path) {
			return &d.Behaviors[i]
		}
	}
	return &d.Default
}

// ErrorResponse returns the custom error response for an HTTP status code,
// or nil.
func (d *Dist) ErrorResponse(code int) *ErrorResponse {
	i, ok := slices.BinarySearchFunc(d.ErrorResponses, code, func(e ErrorResponse, c int) int { return e.ErrorCode - c })
	if !ok {
		return nil
	}
	return &d.ErrorResponses[i]
}

// Methods is a set of HTTP methods.
type Methods uint8

// The methods CloudFront lets a behavior allow.
const (
	MethodGet Methods = 1 << iota
	MethodHead
	MethodOptions
	MethodPut
	MethodPatch
	MethodPost
	MethodDelete
)

// Has reports whether method (upper case, as on the wire) is in the set.
func (m Methods) Has(method string) bool {
	bit := methodBit(method)
	return bit != 0 && m&bit != 0
}

func methodBit(method string) Methods {
	switch method {
	case "GET":
		return MethodGet
	case "HEAD":
		return MethodHead
	case "OPTIONS":
		return MethodOptions
	case "PUT":
		return MethodPut
	case "PATCH":
		return MethodPatch
	case "POST":
		return MethodPost
	case "DELETE":
		return MethodDelete
	}
	return 0
}

func parseMethods(items []string) (Methods, error) {
	var m Methods
	for _, it := range items {
		bit := methodBit(it)
		if bit == 0 {
			return 0, fmt.Errorf("%w: unknown method %q", ErrInvalidConfig, it)
		}
		m |= bit
	}
	return m, nil
}

// managedPolicy is what a managed cache policy, origin request policy or
// response headers policy contributes to a behavior. One map holds the
// three kinds (their ids are distinct UUIDs): orp and rhp are nil for a
// cache policy, orp is set for an origin request policy and rhp for a
// response headers policy.
type managedPolicy struct {
	ttl TTLs
	key CacheKey
	orp *OriginRequest
	rhp *ResponseHeaders
	// keys are the public keys of a key group (a key group is in the map
	// too, by its id).
	keys []TrustedKey
	// rev is the store revision of a custom policy or key group; 0 for a
	// managed policy.
	rev int64
}

// managedPolicies reads the managed cache, origin request and response
// headers policies' shapes once per Compile.
func managedPolicies() map[string]managedPolicy {
	out := make(map[string]managedPolicy)
	for _, p := range cloudfront.ManagedCachePolicies(time.Time{}) {
		out[cloudfront.Str(p.Id)] = compileCachePolicy(p.CachePolicyConfig)
	}
	for _, p := range cloudfront.ManagedOriginRequestPolicies(time.Time{}) {
		if p.OriginRequestPolicyConfig != nil {
			out[cloudfront.Str(p.Id)] = managedPolicy{orp: compileManagedOriginRequestPolicy(p.OriginRequestPolicyConfig)}
		}
	}
	for _, p := range cloudfront.ManagedResponseHeadersPolicies(time.Time{}) {
		if p.ResponseHeadersPolicyConfig != nil {
			out[cloudfront.Str(p.Id)] = managedPolicy{rhp: CompileResponseHeadersPolicy(p.ResponseHeadersPolicyConfig)}
		}
	}
	return out
}

// compileCachePolicy compiles a cache policy's TTLs and cache key.
func compileCachePolicy(c *cloudfront.CachePolicyConfig) managedPolicy {
	mp := managedPolicy{ttl: TTLs{
		Min: seconds(c.MinTTL), Default: seconds(c.DefaultTTL), Max: seconds(c.MaxTTL),
	}}
	if k := c.ParametersInCacheKeyAndForwardedToOrigin; k != nil {
		mp.key.Gzip = cloudfront.IsTrue(k.EnableAcceptEncodingGzip)
		mp.key.Brotli = cloudfront.IsTrue(k.EnableAcceptEncodingBrotli)
		if q := k.QueryStringsConfig; q != nil {
			mp.key.QueryStrings = selection(cloudfront.Str(q.QueryStringBehavior))
			if q.QueryStrings != nil {
				mp.key.QueryStringNames = slices.Clone(q.QueryStrings.Items)
			}
		}
		if h := k.HeadersConfig; h != nil {
			mp.key.Headers = selection(cloudfront.Str(h.HeaderBehavior))
			if h.Headers != nil {
				mp.key.HeaderNames = canonicalHeaders(h.Headers.Items)
			}
		}
		if ck := k.CookiesConfig; ck != nil {
			mp.key.Cookies = selection(cloudfront.Str(ck.CookieBehavior))
			if ck.Cookies != nil {
				mp.key.CookieNames = slices.Clone(ck.Cookies.Items)
			}
		}
	}
	return mp
}

func selection(behavior string) Selection {
	switch behavior {
	case "whitelist":
		return SelectAllowList
	case "allExcept":
		return SelectAllExcept
	case "all":
		return SelectAll
	}
	return SelectNone
}

func canonicalHeaders(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = textproto.CanonicalMIMEHeaderKey(n)
	}
	return out
}

// seconds converts wire seconds to a Duration; nil and negative count as 0,
// and values are capped at 2^31 s so the Duration cannot overflow.
func seconds(s *int64) time.Duration { return secondsOr(s, 0) }

func secondsOr(s *int64, def int64) time.Duration {
	v := def
	if s != nil {
		v = *s
	}
	return time.Duration(min(max(v, 0), 1<<31)) * time.Second
}

func durationOr(s *int32, def time.Duration) time.Duration {
	if s == nil || *s <= 0 {
		return def
	}
	return time.Duration(*s) * time.Second
}

// Logging is where a distribution's access logs go (its LoggingConfig).
type Logging struct {
	Bucket, Prefix string
	IncludeCookies bool
}

// compileDist compiles one stored distribution. It fails as a whole: a
// config with one bad part yields no Dist.
func compileDist(rec *model.Distribution, revision int64, managed map[string]managedPolicy) (*Dist, error) {
	c := rec.Config
	if c == nil {
		return nil, fmt.Errorf("%w: no config", ErrInvalidConfig)
	}
	d := &Dist{
		ID:                rec.ID,
		DomainName:        strings.ToLower(rec.DomainName),
		Revision:          revision,
		Enabled:           cloudfront.IsTrue(c.Enabled),
		Staging:           cloudfront.IsTrue(c.Staging),
		DefaultRootObject: cloudfront.Str(c.DefaultRootObject),
		PolicyID:          cloudfront.Str(c.ContinuousDeploymentPolicyId),
		Origins:           make(map[string]*Origin),
		OriginGroups:      make(map[string]*OriginGroup),
	}
	if l := c.Logging; l != nil && cloudfront.IsTrue(l.Enabled) {
		d.Logging = &Logging{Bucket: cloudfront.Str(l.Bucket), Prefix: cloudfront.Str(l.Prefix), IncludeCookies: cloudfront.IsTrue(l.IncludeCookies)}
	}
	if c.Aliases != nil {
		for _, a := range c.Aliases.Items {
			d.Aliases = append(d.Aliases, strings.ToLower(a))
		}
	}
	if c.Origins == nil || len(c.Origins.Items) == 0 {
		return nil, fmt.Errorf("%w: no origins", ErrInvalidConfig)
	}
	for i := range c.Origins.Items {
		o := compileOrigin(&c.Origins.Items[i])
		if o.ID == "" || o.DomainName == "" {
			return nil, fmt.Errorf("%w: origin %d needs an Id and a DomainName", ErrInvalidConfig, i)
		}
		if _, dup := d.Origins[o.ID]; dup {
			return nil, fmt.Errorf("%w: origin id %q is used twice", ErrInvalidConfig, o.ID)
		}
		d.Origins[o.ID] = o
	}
	if c.OriginGroups != nil {
		for _, g := range c.OriginGroups.Items {
			og, err := compileGroup(&g, d.Origins)
			if err != nil {
				return nil, err
			}
			d.OriginGroups[og.ID] = og
		}
	}
	if c.DefaultCacheBehavior == nil {
		return nil, fmt.Errorf("%w: no DefaultCacheBehavior", ErrInvalidConfig)
	}
	db := c.DefaultCacheBehavior
	def, err := compileBehavior(d, "*", behaviorFields{
		db.TargetOriginId, db.ViewerProtocolPolicy, db.AllowedMethods, db.Compress,
		db.CachePolicyId, db.OriginRequestPolicyId, db.ResponseHeadersPolicyId,
		db.ForwardedValues, db.MinTTL, db.DefaultTTL, db.MaxTTL, db.TrustedSigners, db.TrustedKeyGroups,
	}, managed)
	if err != nil {
		return nil, fmt.Errorf("DefaultCacheBehavior: %w", err)
	}
	d.Default = def
	if c.CacheBehaviors != nil {
		d.Behaviors = make([]Behavior, 0, len(c.CacheBehaviors.Items))
		for _, cb := range c.CacheBehaviors.Items {
			pattern := cloudfront.Str(cb.PathPattern)
			b, err := compileBehavior(d, pattern, behaviorFields{
				cb.TargetOriginId, cb.ViewerProtocolPolicy, cb.AllowedMethods, cb.Compress,
				cb.CachePolicyId, cb.OriginRequestPolicyId, cb.ResponseHeadersPolicyId,
				cb.ForwardedValues, cb.MinTTL, cb.DefaultTTL, cb.MaxTTL, cb.TrustedSigners, cb.TrustedKeyGroups,
			}, managed)
			if err != nil {
				return nil, fmt.Errorf("CacheBehavior %q: %w", pattern, err)
			}
			d.Behaviors = append(d.Behaviors, b)
		}
	}
	if c.CustomErrorResponses != nil {
		for _, e := range c.CustomErrorResponses.Items {
			er, err := compileErrorResponse(&e)
			if err != nil {
				return nil, err
			}
			d.ErrorResponses = append(d.ErrorResponses, er)
		}
		slices.SortStableFunc(d.ErrorResponses, func(a, b ErrorResponse) int { return a.ErrorCode - b.ErrorCode })
		d.ErrorResponses = slices.CompactFunc(d.ErrorResponses, func(a, b ErrorResponse) bool { return a.ErrorCode == b.ErrorCode })
	}
	d.PolicyRevisions = customRevisionsOf(d, managed)
	return d, nil
}

func compileOrigin(o *cloudfront.Origin) *Origin {
	out := &Origin{
		ID:                    cloudfront.Str(o.Id),
		DomainName:            cloudfront.Str(o.DomainName),
		OriginPath:            strings.TrimSuffix(cloudfront.Str(o.OriginPath), "/"),
		OriginAccessControlID: cloudfront.Str(o.OriginAccessControlId),
		ProtocolPolicy:        "match-viewer",
		HTTPPort:              80,
		HTTPSPort:             443,
		ReadTimeout:           30 * time.Second,
		KeepaliveTimeout:      5 * time.Second,
		ConnectionAttempts:    3,
		ConnectionTimeout:     durationOr(o.ConnectionTimeout, 10*time.Second),
	}
	if n := cloudfront.I32(o.ConnectionAttempts); n > 0 {
		out.ConnectionAttempts = int(n)
	}
	if o.OriginShield != nil && cloudfront.IsTrue(o.OriginShield.Enabled) {
		out.Shield = true
		out.ShieldRegion = cloudfront.Str(o.OriginShield.OriginShieldRegion)
	}
	if o.CustomHeaders != nil {
		for _, h := range o.CustomHeaders.Items {
			out.Headers = append(out.Headers, Header{cloudfront.Str(h.HeaderName), cloudfront.Str(h.HeaderValue)})
		}
	}
	switch {
	case o.S3OriginConfig != nil:
		out.S3 = true
		out.ProtocolPolicy = "https-only"
		out.OriginAccessIdentity = cloudfront.Str(o.S3OriginConfig.OriginAccessIdentity)
		out.ReadTimeout = durationOr(o.S3OriginConfig.OriginReadTimeout, out.ReadTimeout)
	case o.CustomOriginConfig != nil:
		co := o.CustomOriginConfig
		if p := cloudfront.Str(co.OriginProtocolPolicy); p != "" {
			out.ProtocolPolicy = p
		}
		if p := cloudfront.I32(co.HTTPPort); p > 0 {
			out.HTTPPort = int(p)
		}
		if p := cloudfront.I32(co.HTTPSPort); p > 0 {
			out.HTTPSPort = int(p)
		}
		if co.OriginSslProtocols != nil {
			out.SSLProtocols = slices.Clone(co.OriginSslProtocols.Items)
		}
		out.ReadTimeout = durationOr(co.OriginReadTimeout, out.ReadTimeout)
		out.KeepaliveTimeout = durationOr(co.OriginKeepaliveTimeout, out.KeepaliveTimeout)
	case o.VpcOriginConfig != nil:
		out.ReadTimeout = durationOr(o.VpcOriginConfig.OriginReadTimeout, out.ReadTimeout)
		out.KeepaliveTimeout = durationOr(o.VpcOriginConfig.OriginKeepaliveTimeout, out.KeepaliveTimeout)
	}
	return out
}

func compileGroup(g *cloudfront.OriginGroup, origins map[string]*Origin) (*OriginGroup, error) {
	og := &OriginGroup{ID: cloudfront.Str(g.Id)}
	if og.ID == "" {
		return nil, fmt.Errorf("%w: origin group without an Id", ErrInvalidConfig)
	}
	if _, clash := origins[og.ID]; clash {
		return nil, fmt.Errorf("%w: origin group id %q is also an origin id", ErrInvalidConfig, og.ID)
	}
	if g.Members != nil {
		for _, m := range g.Members.Items {
			o := origins[cloudfront.Str(m.OriginId)]
			if o == nil {
				return nil, fmt.Errorf("%w: origin group %q names origin %q", ErrUnknownOrigin, og.ID, cloudfront.Str(m.OriginId))
			}
			og.Members = append(og.Members, o)
		}
	}
	if len(og.Members) == 0 {
		return nil, fmt.Errorf("%w: origin group %q has no members", ErrInvalidConfig, og.ID)
	}
	if fc := g.FailoverCriteria; fc != nil && fc.StatusCodes != nil {
		for _, sc := range fc.StatusCodes.Items {
			og.FailoverStatusCodes = append(og.FailoverStatusCodes, int(sc))
		}
	}
	return og, nil
}

// behaviorFields are the members DefaultCacheBehavior and CacheBehavior share.
type behaviorFields struct {
	target, viewerPolicy                    *string
	allowed                                 *cloudfront.AllowedMethods
	compress                                *bool
	cachePolicy, originRequest, respHeaders *string
	forwarded                               *cloudfront.ForwardedValues
	minTTL, defaultTTL, maxTTL              *int64
	trustedSigners                          *cloudfront.TrustedSigners
	trustedKeyGroups                        *cloudfront.TrustedKeyGroups
}

// Legacy TTL defaults CloudFront fills in when a behavior uses ForwardedValues.
const (
	legacyDefaultTTL int64 = 86400
	legacyMaxTTL     int64 = 31536000
)

func compileBehavior(d *Dist, pattern string, f behaviorFields, managed map[string]managedPolicy) (Behavior, error) {
	pp, err := ParsePathPattern(pattern)
	if err != nil {
		return Behavior{}, err
	}
	b := Behavior{
		Pattern:                 pp,
		TargetOriginID:          cloudfront.Str(f.target),
		ViewerProtocolPolicy:    cloudfront.Str(f.viewerPolicy),
		Compress:                cloudfront.IsTrue(f.compress),
		CachePolicyID:           cloudfront.Str(f.cachePolicy),
		OriginRequestPolicyID:   cloudfront.Str(f.originRequest),
		ResponseHeadersPolicyID: cloudfront.Str(f.respHeaders),
		AllowedMethods:          MethodGet | MethodHead,
		CachedMethods:           MethodGet | MethodHead,
	}
	if o := d.Origins[b.TargetOriginID]; o != nil {
		b.Origin = o
	} else if g := d.OriginGroups[b.TargetOriginID]; g != nil {
		b.Group, b.Origin = g, g.Members[0]
	} else {
		return Behavior{}, fmt.Errorf("%w: TargetOriginId %q names no origin or origin group", ErrUnknownOrigin, b.TargetOriginID)
	}
	switch b.ViewerProtocolPolicy {
	case "allow-all", "https-only", "redirect-to-https":
	case "":
		b.ViewerProtocolPolicy = "allow-all"
	default:
		return Behavior{}, fmt.Errorf("%w: ViewerProtocolPolicy %q", ErrInvalidConfig, b.ViewerProtocolPolicy)
	}
	if am := f.allowed; am != nil {
		if b.AllowedMethods, err = parseMethods(am.Items); err != nil {
			return Behavior{}, err
		}
		if am.CachedMethods != nil {
			if b.CachedMethods, err = parseMethods(am.CachedMethods.Items); err != nil {
				return Behavior{}, err
			}
		}
	}
	if err := restrict(&b, f, managed); err != nil {
		return Behavior{}, err
	}
	if b.ResponseHeadersPolicyID != "" {
		// Unlike an origin request policy, a response headers policy goes
		// with legacy ForwardedValues too.
		mp, ok := managed[b.ResponseHeadersPolicyID]
		if !ok || mp.rhp == nil {
			return Behavior{}, fmt.Errorf("%w: %q names no response headers policy", ErrUnknownResponseHeadersPolicy, b.ResponseHeadersPolicyID)
		}
		b.ResponseHeaders = mp.rhp
	}
	if b.CachePolicyID != "" {
		mp, ok := managed[b.CachePolicyID]
		if !ok || mp.orp != nil || mp.rhp != nil {
			return Behavior{}, fmt.Errorf("%w: %q names no cache policy", ErrUnknownCachePolicy, b.CachePolicyID)
		}
		b.TTL, b.CacheKey = mp.ttl, mp.key
		if b.OriginRequestPolicyID != "" {
			orp, ok := managed[b.OriginRequestPolicyID]
			if !ok || orp.orp == nil {
				return Behavior{}, fmt.Errorf("%w: %q names no origin request policy", ErrUnknownOriginRequestPolicy, b.OriginRequestPolicyID)
			}
			b.OriginRequest = withCacheKey(&b.CacheKey, orp.orp)
		}
		return b, nil
	}
	if b.OriginRequestPolicyID != "" {
		// The API refuses this too; a config stored before it did is
		// refused here rather than served with the policy ignored.
		return Behavior{}, fmt.Errorf("%w: OriginRequestPolicyId %q needs a CachePolicyId, not ForwardedValues", ErrInvalidConfig, b.OriginRequestPolicyID)
	}
	b.TTL = TTLs{
		Min:     seconds(f.minTTL),
		Default: secondsOr(f.defaultTTL, legacyDefaultTTL),
		Max:     secondsOr(f.maxTTL, legacyMaxTTL),
	}
	if fv := f.forwarded; fv != nil {
		b.CacheKey = legacyCacheKey(fv)
	}
	return b, nil
}

func legacyCacheKey(fv *cloudfront.ForwardedValues) CacheKey {
	var k CacheKey
	if cloudfront.IsTrue(fv.QueryString) {
		k.QueryStrings = SelectAll
		if qk := fv.QueryStringCacheKeys; qk != nil && len(qk.Items) > 0 {
			k.QueryStrings, k.QueryStringNames = SelectAllowList, slices.Clone(qk.Items)
		}
	}
	if h := fv.Headers; h != nil && len(h.Items) > 0 {
		if slices.Contains(h.Items, "*") {
			k.Headers = SelectAll
		} else {
			k.Headers, k.HeaderNames = SelectAllowList, canonicalHeaders(h.Items)
		}
	}
	if ck := fv.Cookies; ck != nil {
		k.Cookies = selection(cloudfront.Str(ck.Forward))
		if ck.WhitelistedNames != nil {
			k.CookieNames = slices.Clone(ck.WhitelistedNames.Items)
		}
	}
	return k
}

func compileErrorResponse(e *cloudfront.CustomErrorResponse) (ErrorResponse, error) {
	er := ErrorResponse{
		ErrorCode:        int(cloudfront.I32(e.ErrorCode)),
		ResponsePagePath: cloudfront.Str(e.ResponsePagePath),
		CachingMinTTL:    defaultErrorCachingMinTTL,
	}
	if e.ErrorCachingMinTTL != nil {
		er.CachingMinTTL = seconds(e.ErrorCachingMinTTL)
	}
	if rc := cloudfront.Str(e.ResponseCode); rc != "" {
		code, err := strconv.Atoi(rc)
		if err != nil || code < 100 || code > 599 {
			return ErrorResponse{}, fmt.Errorf("%w: custom error response %d has ResponseCode %q", ErrInvalidConfig, er.ErrorCode, rc)
		}
		er.ResponseCode = code
	}
	if er.ErrorCode < 400 || er.ErrorCode > 599 {
		return ErrorResponse{}, fmt.Errorf("%w: custom error response for status %d", ErrInvalidConfig, er.ErrorCode)
	}
	return er, nil
}
