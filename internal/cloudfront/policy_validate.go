package cloudfront

import (
	"fmt"
	"regexp"
	"strings"
)

// CloudFront's quotas on custom policies ("Quotas on policies" in the
// CloudFront Developer Guide).
const (
	MaxCustomPoliciesPerKind        = 20 // cache, origin request, response headers policies per account
	MaxCachePolicyItems             = 10 // headers, cookies and query strings in a cache policy, each
	MaxOriginRequestPolicyItems     = 10 // headers, cookies and query strings in an origin request policy, each
	MaxResponseHeadersCustomHeaders = 10
	MaxResponseHeadersRemoveHeaders = 10
	MaxCSPLength                    = 1783
	maxPolicyNameLen                = 128
	maxPolicyCommentLen             = 128
	defaultPolicyDefaultTTL         = 86400
	defaultPolicyMaxTTL             = 31536000
)

var policyNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func validatePolicyName(what, name string, comment *string) error {
	if name == "" || len(name) > maxPolicyNameLen || !policyNameRE.MatchString(name) {
		return ErrInvalidArgument.WithMessage("The %s name %q is not valid: use 1 to %d characters from A-Z, a-z, 0-9, hyphen (-) and underscore (_).", what, name, maxPolicyNameLen)
	}
	if len(Str(comment)) > maxPolicyCommentLen {
		return ErrInvalidArgument.WithMessage("The %s comment is too long (maximum %d characters).", what, maxPolicyCommentLen)
	}
	return nil
}

// itemRule checks a behavior (none, whitelist, allExcept, all, …) against
// its list of names: the list-based behaviors need names, the others take
// none; too many names is the kind's TooMany error.
func itemRule(what, behavior string, names []string, listBased map[string]bool, limit int, tooMany *Error) error {
	if listBased[behavior] {
		if len(names) == 0 {
			return ErrInvalidArgument.WithMessage("%s behavior %s needs at least one name.", what, behavior)
		}
	} else if len(names) > 0 {
		return ErrInvalidArgument.WithMessage("%s behavior %s takes no names; %d given.", what, behavior, len(names))
	}
	if len(names) > limit {
		return tooMany.WithMessage("%s: %d names given; the maximum is %d.", tooMany.Message, len(names), limit)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" {
			return ErrInvalidArgument.WithMessage("%s: an empty name is not valid.", what)
		}
		k := n
		if what == "Headers" {
			k = strings.ToLower(n)
		}
		if seen[k] {
			return ErrInvalidArgument.WithMessage("%s: %q is listed twice.", what, n)
		}
		seen[k] = true
	}
	return nil
}

func names[T any](p *T, items func(*T) []string) []string {
	if p == nil {
		return nil
	}
	return items(p)
}

var (
	cacheListBased = map[string]bool{"whitelist": true, "allExcept": true}
	orpListBased   = map[string]bool{"whitelist": true, "allExcept": true, "allViewerAndWhitelistCloudFront": true}
)

// ApplyCachePolicyDefaults fills DefaultTTL and MaxTTL as CloudFront does
// when they are left out: DefaultTTL is one day, or MinTTL when that is
// larger; MaxTTL is one year, or DefaultTTL when that is larger.
func ApplyCachePolicyDefaults(c *CachePolicyConfig) {
	if c.DefaultTTL == nil {
		c.DefaultTTL = Int64(max(defaultPolicyDefaultTTL, derefI64(c.MinTTL)))
	}
	if c.MaxTTL == nil {
		c.MaxTTL = Int64(max(defaultPolicyMaxTTL, derefI64(c.DefaultTTL)))
	}
	if c.Comment == nil {
		c.Comment = String("")
	}
}

// ValidateCachePolicyConfig applies CloudFront's rules to a cache policy
// config (after ApplyCachePolicyDefaults).
func ValidateCachePolicyConfig(c *CachePolicyConfig) error {
	if c == nil {
		return ErrMissingBody
	}
	if err := CheckShape("CachePolicyConfig", c); err != nil {
		return err
	}
	if err := validatePolicyName("cache policy", Str(c.Name), c.Comment); err != nil {
		return err
	}
	lo, def, hi := derefI64(c.MinTTL), derefI64(c.DefaultTTL), derefI64(c.MaxTTL)
	if lo < 0 || def < 0 || hi < 0 {
		return ErrInvalidArgument.WithMessage("The TTLs of a cache policy cannot be negative.")
	}
	if lo > def || def > hi {
		return ErrInvalidArgument.WithMessage("MinTTL (%d) <= DefaultTTL (%d) <= MaxTTL (%d) does not hold.", lo, def, hi)
	}
	p := c.ParametersInCacheKeyAndForwardedToOrigin
	if p == nil {
		return ErrInvalidArgument.WithMessage("The parameter ParametersInCacheKeyAndForwardedToOrigin is required.")
	}
	h, ck, q := p.HeadersConfig, p.CookiesConfig, p.QueryStringsConfig
	hn := names(h.Headers, func(x *Headers) []string { return x.Items })
	if err := itemRule("Headers", Str(h.HeaderBehavior), hn, cacheListBased, MaxCachePolicyItems, ErrTooManyHeadersInCachePolicy); err != nil {
		return err
	}
	cn := names(ck.Cookies, func(x *CookieNames) []string { return x.Items })
	if err := itemRule("Cookies", Str(ck.CookieBehavior), cn, cacheListBased, MaxCachePolicyItems, ErrTooManyCookiesInCachePolicy); err != nil {
		return err
	}
	qn := names(q.QueryStrings, func(x *QueryStringNames) []string { return x.Items })
	if err := itemRule("QueryStrings", Str(q.QueryStringBehavior), qn, cacheListBased, MaxCachePolicyItems, ErrTooManyQueryStringsInCachePolicy); err != nil {
		return err
	}
	// With caching disabled there is no cache key: CloudFront refuses key
	// parameters (use an origin request policy to forward them).
	if hi == 0 {
		if Str(h.HeaderBehavior) != "none" || Str(ck.CookieBehavior) != "none" || Str(q.QueryStringBehavior) != "none" ||
			IsTrue(p.EnableAcceptEncodingGzip) || IsTrue(p.EnableAcceptEncodingBrotli) {
			return ErrInvalidArgument.WithMessage("A cache policy whose MaxTTL is 0 disables caching: its headers, cookies and query strings behaviors must be none and Accept-Encoding normalization off.")
		}
	}
	return nil
}

// ValidateOriginRequestPolicyConfig applies CloudFront's rules to an
// origin request policy config.
func ValidateOriginRequestPolicyConfig(c *OriginRequestPolicyConfig) error {
	if c == nil {
		return ErrMissingBody
	}
	if c.Comment == nil {
		c.Comment = String("")
	}
	if err := CheckShape("OriginRequestPolicyConfig", c); err != nil {
		return err
	}
	if err := validatePolicyName("origin request policy", Str(c.Name), c.Comment); err != nil {
		return err
	}
	hn := names(c.HeadersConfig.Headers, func(x *Headers) []string { return x.Items })
	if err := itemRule("Headers", Str(c.HeadersConfig.HeaderBehavior), hn, orpListBased, MaxOriginRequestPolicyItems, ErrTooManyHeadersInORP); err != nil {
		return err
	}
	cn := names(c.CookiesConfig.Cookies, func(x *CookieNames) []string { return x.Items })
	if err := itemRule("Cookies", Str(c.CookiesConfig.CookieBehavior), cn, orpListBased, MaxOriginRequestPolicyItems, ErrTooManyCookiesInORP); err != nil {
		return err
	}
	qn := names(c.QueryStringsConfig.QueryStrings, func(x *QueryStringNames) []string { return x.Items })
	if err := itemRule("QueryStrings", Str(c.QueryStringsConfig.QueryStringBehavior), qn, orpListBased, MaxOriginRequestPolicyItems, ErrTooManyQueryStringsInORP); err != nil {
		return err
	}
	return nil
}

// disallowedResponseHeaders are headers a response headers policy may not
// add or remove (CloudFront manages them itself).
var disallowedResponseHeaders = map[string]bool{
	"connection": true, "content-length": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "proxy-connection": true, "trailer": true, "transfer-encoding": true,
	"upgrade": true, "via": true, "warning": true, "x-accel-buffering": true, "x-accel-charset": true,
	"x-accel-limit-rate": true, "x-accel-redirect": true, "x-cache": true, "x-forwarded-proto": true,
	"x-real-ip": true, "set-cookie": true, "date": true, "content-encoding": true, "server": true,
}

var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// ValidateResponseHeadersPolicyConfig applies CloudFront's rules to a
// response headers policy config.
func ValidateResponseHeadersPolicyConfig(c *ResponseHeadersPolicyConfig) error {
	if c == nil {
		return ErrMissingBody
	}
	if err := CheckShape("ResponseHeadersPolicyConfig", c); err != nil {
		return err
	}
	if err := validatePolicyName("response headers policy", Str(c.Name), c.Comment); err != nil {
		return err
	}
	if c.CorsConfig == nil && c.SecurityHeadersConfig == nil && c.ServerTimingHeadersConfig == nil &&
		c.CustomHeadersConfig == nil && c.RemoveHeadersConfig == nil {
		return ErrInvalidArgument.WithMessage("A response headers policy needs at least one of CorsConfig, SecurityHeadersConfig, ServerTimingHeadersConfig, CustomHeadersConfig and RemoveHeadersConfig.")
	}
	seen := map[string]string{}
	check := func(where, name string) error {
		lower := strings.ToLower(name)
		if !headerNameRE.MatchString(name) {
			return ErrInvalidArgument.WithMessage("%s: %q is not a valid header name.", where, name)
		}
		if disallowedResponseHeaders[lower] {
			return ErrInvalidArgument.WithMessage("%s: the header %s cannot be set or removed by a response headers policy.", where, name)
		}
		if other, dup := seen[lower]; dup {
			return ErrInvalidArgument.WithMessage("The header %s appears in both %s and %s.", name, other, where)
		}
		seen[lower] = where
		return nil
	}
	if ch := c.CustomHeadersConfig; ch != nil {
		if len(ch.Items) > MaxResponseHeadersCustomHeaders {
			return ErrTooManyCustomHeadersInRHP.WithMessage("%s The maximum is %d; %d given.", ErrTooManyCustomHeadersInRHP.Message, MaxResponseHeadersCustomHeaders, len(ch.Items))
		}
		for _, h := range ch.Items {
			if err := check("CustomHeadersConfig", Str(h.Header)); err != nil {
				return err
			}
		}
	}
	if rh := c.RemoveHeadersConfig; rh != nil {
		if len(rh.Items) > MaxResponseHeadersRemoveHeaders {
			return ErrTooManyRemoveHeadersInRHP.WithMessage("%s The maximum is %d; %d given.", ErrTooManyRemoveHeadersInRHP.Message, MaxResponseHeadersRemoveHeaders, len(rh.Items))
		}
		for _, h := range rh.Items {
			if err := check("RemoveHeadersConfig", Str(h.Header)); err != nil {
				return err
			}
		}
	}
	if sec := c.SecurityHeadersConfig; sec != nil && sec.ContentSecurityPolicy != nil {
		if n := len(Str(sec.ContentSecurityPolicy.ContentSecurityPolicy)); n > MaxCSPLength {
			return ErrTooLongCSPInRHP.WithMessage("%s The maximum is %d characters; %d given.", ErrTooLongCSPInRHP.Message, MaxCSPLength, n)
		}
	}
	if st := c.ServerTimingHeadersConfig; st != nil && st.SamplingRate != nil {
		if r := *st.SamplingRate; r < 0 || r > 100 {
			return ErrInvalidArgument.WithMessage("ServerTimingHeadersConfig SamplingRate %s must be between 0 and 100.", fmt.Sprint(r))
		}
	}
	if cors := c.CorsConfig; cors != nil && cors.AccessControlMaxAgeSec != nil && *cors.AccessControlMaxAgeSec < 0 {
		return ErrInvalidArgument.WithMessage("CorsConfig AccessControlMaxAgeSec cannot be negative.")
	}
	return nil
}
