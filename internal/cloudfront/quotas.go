package cloudfront

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Quotas are the limits CloudFront enforces on a distribution and on the
// distributions one policy, key group or origin access control may serve
// ("Quotas", Amazon CloudFront Developer Guide). DefaultQuotas has
// CloudFront's default values; an operator may change them (as AWS raises
// them on request) with `--quota name=value`, names as in QuotaNames.
type Quotas struct {
	// CacheBehaviorsPerDistribution: TooManyCacheBehaviors past it.
	CacheBehaviorsPerDistribution int
	// OriginsPerDistribution: TooManyOrigins past it.
	OriginsPerDistribution int
	// OriginGroupsPerDistribution: TooManyOriginGroupsPerDistribution.
	OriginGroupsPerDistribution int
	// AliasesPerDistribution: alternate domain names (CNAMEs);
	// TooManyDistributionCNAMEs past it.
	AliasesPerDistribution int
	// CustomHeadersPerOrigin: TooManyOriginCustomHeaders past it.
	CustomHeadersPerOrigin int
	// CustomHeadersBytesPerOrigin: all names and values of one origin's
	// custom headers together.
	CustomHeadersBytesPerOrigin int
	// WhitelistedCookiesPerBehavior, ForwardedHeadersPerBehavior and
	// QueryStringKeysPerBehavior bound a legacy ForwardedValues:
	// TooManyCookieNamesInWhiteList, TooManyHeadersInForwardedValues,
	// TooManyQueryStringParameters.
	WhitelistedCookiesPerBehavior int
	ForwardedHeadersPerBehavior   int
	QueryStringKeysPerBehavior    int
	// DistributionsPerCachePolicy, …PerOriginRequestPolicy,
	// …PerResponseHeadersPolicy, …PerKeyGroup and …PerOriginAccessControl
	// bound how many distributions may name one custom policy, key group
	// or origin access control: TooManyDistributionsAssociatedTo… past it
	// (see Associations).
	DistributionsPerCachePolicy           int
	DistributionsPerOriginRequestPolicy   int
	DistributionsPerResponseHeadersPolicy int
	DistributionsPerKeyGroup              int
	DistributionsPerOriginAccessControl   int
}

// DefaultQuotas returns CloudFront's default quotas.
func DefaultQuotas() Quotas {
	return Quotas{
		CacheBehaviorsPerDistribution: 25,
		OriginsPerDistribution:        25,
		OriginGroupsPerDistribution:   10,
		AliasesPerDistribution:        100,
		CustomHeadersPerOrigin:        10,
		CustomHeadersBytesPerOrigin:   10240,
		WhitelistedCookiesPerBehavior: 10,
		ForwardedHeadersPerBehavior:   10,
		QueryStringKeysPerBehavior:    10,

		DistributionsPerCachePolicy:           100,
		DistributionsPerOriginRequestPolicy:   100,
		DistributionsPerResponseHeadersPolicy: 100,
		DistributionsPerKeyGroup:              100,
		DistributionsPerOriginAccessControl:   100,
	}
}

// fields maps each quota's flag name to its field.
func (q *Quotas) fields() map[string]*int {
	return map[string]*int{
		"cache-behaviors":             &q.CacheBehaviorsPerDistribution,
		"origins":                     &q.OriginsPerDistribution,
		"origin-groups":               &q.OriginGroupsPerDistribution,
		"aliases":                     &q.AliasesPerDistribution,
		"origin-custom-headers":       &q.CustomHeadersPerOrigin,
		"origin-custom-headers-bytes": &q.CustomHeadersBytesPerOrigin,
		"whitelisted-cookies":         &q.WhitelistedCookiesPerBehavior,
		"forwarded-headers":           &q.ForwardedHeadersPerBehavior,
		"query-string-keys":           &q.QueryStringKeysPerBehavior,

		"distributions-per-cache-policy":            &q.DistributionsPerCachePolicy,
		"distributions-per-origin-request-policy":   &q.DistributionsPerOriginRequestPolicy,
		"distributions-per-response-headers-policy": &q.DistributionsPerResponseHeadersPolicy,
		"distributions-per-key-group":               &q.DistributionsPerKeyGroup,
		"distributions-per-origin-access-control":   &q.DistributionsPerOriginAccessControl,
	}
}

// QuotaNames lists the names ParseQuotas accepts, sorted.
func QuotaNames() []string {
	var q Quotas
	return slices.Sorted(func(yield func(string) bool) {
		for name := range q.fields() {
			if !yield(name) {
				return
			}
		}
	})
}

// ParseQuotas starts from DefaultQuotas and applies each "name=value"
// setting (a positive integer) in order.
func ParseQuotas(settings []string) (Quotas, error) {
	q := DefaultQuotas()
	fields := q.fields()
	for _, s := range settings {
		name, value, ok := strings.Cut(s, "=")
		field, known := fields[strings.TrimSpace(name)]
		if !ok || !known {
			return q, fmt.Errorf("quota %q: want name=value with a name among %s", s, strings.Join(QuotaNames(), ", "))
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 1 {
			return q, fmt.Errorf("quota %q: the value must be a positive integer", s)
		}
		*field = n
	}
	return q, nil
}

// checkForwardedValuesQuotas bounds every legacy ForwardedValues.
func checkForwardedValuesQuotas(c *DistributionConfig, q Quotas) error {
	check := func(where string, fv *ForwardedValues) error {
		if fv == nil {
			return nil
		}
		if ck := fv.Cookies; ck != nil && ck.WhitelistedNames != nil && len(ck.WhitelistedNames.Items) > q.WhitelistedCookiesPerBehavior {
			return ErrTooManyCookieNamesInWhiteList.WithMessage("%s: more than %d whitelisted cookie names.", where, q.WhitelistedCookiesPerBehavior)
		}
		if h := fv.Headers; h != nil && len(h.Items) > q.ForwardedHeadersPerBehavior {
			return ErrTooManyHeadersInForwardedValues.WithMessage("%s: more than %d forwarded headers.", where, q.ForwardedHeadersPerBehavior)
		}
		if k := fv.QueryStringCacheKeys; k != nil && len(k.Items) > q.QueryStringKeysPerBehavior {
			return ErrTooManyQueryStringParameters.WithMessage("%s: more than %d query string cache keys.", where, q.QueryStringKeysPerBehavior)
		}
		return nil
	}
	if c.DefaultCacheBehavior != nil {
		if err := check("DefaultCacheBehavior", c.DefaultCacheBehavior.ForwardedValues); err != nil {
			return err
		}
	}
	if c.CacheBehaviors != nil {
		for _, b := range c.CacheBehaviors.Items {
			if err := check("CacheBehavior "+Str(b.PathPattern), b.ForwardedValues); err != nil {
				return err
			}
		}
	}
	return nil
}
