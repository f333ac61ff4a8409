package edge

import (
	"net/http"
	"strings"

	"github.com/stagefront/stagefront/internal/routing"
)

// applyResponseHeaders applies a behavior's response headers policy to the
// header of the response about to go to viewer v: it removes what the
// policy removes, sets its security and custom headers and, for a CORS
// request from an allowed origin, its CORS headers. A header whose
// setting does not override keeps the origin's value when the origin sent
// one.
//
// h may hold a cached entry's values, shared by every response that serves
// it: entries are replaced or deleted here, never appended to. The values
// assigned are the policy's own read-only slices (len == cap), so a later
// append copies them too.
func applyResponseHeaders(h http.Header, v viewer, p *routing.ResponseHeaders) {
	for _, name := range p.Remove {
		delete(h, name)
	}
	for i := range p.Set {
		s := &p.Set[i]
		if s.Override || len(h[s.Name]) == 0 {
			h[s.Name] = s.Value
		}
	}
	if p.CORS != nil {
		applyCORS(h, v, p.CORS)
	}
}

// Access-Control-Allow-Origin for a policy that allows any origin
// (read-only, len == cap).
var anyOriginValue = []string{"*"}

// applyCORS adds the CORS headers of c to a response to a CORS request: one
// whose viewer sent an Origin that c allows. A viewer without Origin (not
// a browser's cross-origin request) or from another origin gets none.
//
// A preflight (OPTIONS with Access-Control-Request-Method) gets the allowed
// methods, headers and max age; other requests get the exposed headers.
// The edge does not answer a preflight itself: AWS's documentation says
// CloudFront adds these headers to the response, which the origin gives.
func applyCORS(h http.Header, v viewer, c *routing.CORS) {
	origin := v.HeaderGet("Origin")
	if origin == "" || !c.AllowsOrigin(origin) {
		return
	}
	set := func(name string, value []string) {
		if len(value) > 0 && (c.OriginOverride || len(h[name]) == 0) {
			h[name] = value
		}
	}
	if c.AnyOrigin {
		set("Access-Control-Allow-Origin", anyOriginValue)
	} else {
		// HeaderGet's string may share the engine's buffer: the header
		// outlives it only as a copy.
		set("Access-Control-Allow-Origin", []string{strings.Clone(origin)})
	}
	set("Access-Control-Allow-Credentials", c.AllowCredentials)
	if v.Method() == http.MethodOptions && v.HeaderGet("Access-Control-Request-Method") != "" {
		set("Access-Control-Allow-Methods", c.AllowMethods)
		set("Access-Control-Allow-Headers", c.AllowHeaders)
		set("Access-Control-Max-Age", c.MaxAge)
		return
	}
	set("Access-Control-Expose-Headers", c.ExposeHeaders)
}
