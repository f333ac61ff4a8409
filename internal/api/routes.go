package api

import (
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

	s.resourceRoutes()

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
