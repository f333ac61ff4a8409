package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// routes registers every operation (paths, methods and statuses from the
// botocore model of CloudFront 2020-05-31). Operations that share a method
// and path and differ by a query key (CreateDistribution/WithTags,
// TagResource/UntagResource) share a handler that dispatches on that key.
func (s *server) routes() {
	const dist = "/2020-05-31/distribution"
	s.handle("POST "+dist, s.createDistribution)
	s.handle("GET "+dist, s.listDistributions)
	s.handle("GET "+dist+"/{Id}", s.getDistribution)
	s.handle("DELETE "+dist+"/{Id}", s.deleteDistribution)
	s.handle("GET "+dist+"/{Id}/config", s.getDistributionConfig)
	s.handle("PUT "+dist+"/{Id}/config", s.updateDistribution)
	s.handle("POST "+dist+"/{Id}/copy", s.copyDistribution)
	s.handle("PUT "+dist+"/{Id}/promote-staging-config", s.promoteStaging)
	s.handle("POST "+dist+"/{Id}/invalidation", s.createInvalidation)
	s.handle("GET "+dist+"/{Id}/invalidation", s.listInvalidations)
	s.handle("GET "+dist+"/{Id}/invalidation/{InvalidationId}", s.getInvalidation)

	const cdp = "/2020-05-31/continuous-deployment-policy"
	s.handle("POST "+cdp, s.createPolicy)
	s.handle("GET "+cdp, s.listPolicies)
	s.handle("GET "+cdp+"/{Id}", s.getPolicy)
	s.handle("GET "+cdp+"/{Id}/config", s.getPolicyConfig)
	s.handle("PUT "+cdp+"/{Id}", s.updatePolicy) // no /config, unlike UpdateDistribution
	s.handle("DELETE "+cdp+"/{Id}", s.deletePolicy)

	const oac = "/2020-05-31/origin-access-control"
	s.handle("POST "+oac, s.createOAC)
	s.handle("GET "+oac, s.listOACs)
	s.handle("GET "+oac+"/{Id}", s.getOAC)
	s.handle("DELETE "+oac+"/{Id}", s.deleteOAC)
	s.handle("GET "+oac+"/{Id}/config", s.getOACConfig)
	s.handle("PUT "+oac+"/{Id}/config", s.updateOAC)

	const by = "/2020-05-31/distributionsBy"
	handlePolicies(s, policyAPI[cf.CachePolicyConfig, *cf.CachePolicy]{
		path: "/2020-05-31/cache-policy", root: "CachePolicy", what: "cache policy", byPath: by + "CachePolicyId/{Id}",
		get: s.svc.GetCachePolicy, create: s.svc.CreateCachePolicy, update: s.svc.UpdateCachePolicy, delete: s.svc.DeleteCachePolicy,
		config: func(p *cf.CachePolicy) (any, string) { return p.CachePolicyConfig, cf.Str(p.Id) },
		list: func(ctx context.Context, typ, marker string, maxItems int) (any, error) {
			return s.svc.ListCachePolicies(ctx, typ, marker, maxItems)
		},
		byDist: s.svc.ListDistributionsByCachePolicy,
	})
	handlePolicies(s, policyAPI[cf.OriginRequestPolicyConfig, *cf.OriginRequestPolicy]{
		path: "/2020-05-31/origin-request-policy", root: "OriginRequestPolicy", what: "origin request policy", byPath: by + "OriginRequestPolicyId/{Id}",
		get: s.svc.GetOriginRequestPolicy, create: s.svc.CreateOriginRequestPolicy, update: s.svc.UpdateOriginRequestPolicy, delete: s.svc.DeleteOriginRequestPolicy,
		config: func(p *cf.OriginRequestPolicy) (any, string) { return p.OriginRequestPolicyConfig, cf.Str(p.Id) },
		list: func(ctx context.Context, typ, marker string, maxItems int) (any, error) {
			return s.svc.ListOriginRequestPolicies(ctx, typ, marker, maxItems)
		},
		byDist: s.svc.ListDistributionsByOriginRequestPolicy,
	})
	handlePolicies(s, policyAPI[cf.ResponseHeadersPolicyConfig, *cf.ResponseHeadersPolicy]{
		path: "/2020-05-31/response-headers-policy", root: "ResponseHeadersPolicy", what: "response headers policy", byPath: by + "ResponseHeadersPolicyId/{Id}",
		get: s.svc.GetResponseHeadersPolicy, create: s.svc.CreateResponseHeadersPolicy, update: s.svc.UpdateResponseHeadersPolicy, delete: s.svc.DeleteResponseHeadersPolicy,
		config: func(p *cf.ResponseHeadersPolicy) (any, string) { return p.ResponseHeadersPolicyConfig, cf.Str(p.Id) },
		list: func(ctx context.Context, typ, marker string, maxItems int) (any, error) {
			return s.svc.ListResponseHeadersPolicies(ctx, typ, marker, maxItems)
		},
		byDist: s.svc.ListDistributionsByResponseHeadersPolicy,
	})

	s.keyRoutes()

	const tagging = "/2020-05-31/tagging"
	s.handle("POST "+tagging, s.tagOrUntag)
	s.handle("GET "+tagging, s.listTags)
}

// List paging defaults (the model types MaxItems as a string; CloudFront
// accepts at most 1000).
const (
	defaultMaxItems = 100
	maxMaxItems     = 1000
)

// listParams reads the Marker and MaxItems query strings.
func listParams(r *http.Request) (marker string, maxItems int, err error) {
	q := r.URL.Query()
	marker = q.Get("Marker")
	raw := strings.TrimSpace(q.Get("MaxItems"))
	if raw == "" {
		return marker, defaultMaxItems, nil
	}
	n, convErr := strconv.Atoi(raw)
	if convErr != nil || n < 1 || n > maxMaxItems {
		return "", 0, cf.ErrInvalidArgument.WithMessage("The parameter MaxItems %q is not valid: it must be an integer from 1 to %d.", raw, maxMaxItems)
	}
	return marker, n, nil
}

// ifMatch is the If-Match header as sent. CloudFront's ETags are unquoted;
// a quoted one (as generic HTTP tooling sends) is unquoted here.
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.Contains(v, ",") {
		v = v[1 : len(v)-1]
	}
	return v
}

// document reads and decodes the request payload into v.
func (s *server) document(r *http.Request, root string, v any) error {
	body, err := readBody(r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	return decodeXML(body, root, v)
}

// requiredQuery returns a query parameter that the operation needs.
func requiredQuery(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", cf.ErrInvalidArgument.WithMessage("The query parameter %s is required.", name)
	}
	return v, nil
}
