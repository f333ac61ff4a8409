package routing

import (
	"net/textproto"
	"strconv"
	"strings"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// ResponseHeaders is a behavior's response headers policy, compiled once
// so that the edge only assigns ready-made values. Every []string in it is
// shared by all the responses it is applied to: read-only, len == cap, so
// an append to one copies it.
type ResponseHeaders struct {
	// Set are the security and custom headers, in the order applied.
	Set []ResponseHeader
	// Remove are the canonical names of headers taken out of the origin's
	// response.
	Remove []string
	// CORS is nil when the policy has no CORS part.
	CORS *CORS
}

// ResponseHeader is one header a policy sets.
type ResponseHeader struct {
	Name  string   // canonical
	Value []string // one value
	// Override replaces the origin's header; without it the origin's
	// header, when it sent one, wins.
	Override bool
}

// CORS is a compiled CorsConfig. The header values are empty when the
// policy does not set that header.
type CORS struct {
	// AnyOrigin is set for the origin "*": every viewer Origin is allowed
	// and Access-Control-Allow-Origin is "*".
	AnyOrigin bool
	// Origins are the allowed origins (lowercased) besides "*".
	Origins          []string
	AllowCredentials []string // "true", or empty
	AllowHeaders     []string // preflight only
	AllowMethods     []string // preflight only
	MaxAge           []string // preflight only
	ExposeHeaders    []string // other requests only
	OriginOverride   bool
}

// AllowsOrigin reports whether a viewer's Origin header value is allowed.
func (c *CORS) AllowsOrigin(origin string) bool {
	if c.AnyOrigin {
		return true
	}
	for _, o := range c.Origins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// allMethods is what the method ALL stands for in AccessControlAllowMethods.
const allMethods = "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT"

// CompileResponseHeadersPolicy compiles a response headers policy config.
// It takes any config, not only the managed ones, so that custom policies
// need no second compiler.
func CompileResponseHeadersPolicy(c *cloudfront.ResponseHeadersPolicyConfig) *ResponseHeaders {
	p := &ResponseHeaders{}
	if cors := c.CorsConfig; cors != nil {
		p.CORS = compileCORS(cors)
	}
	if sec := c.SecurityHeadersConfig; sec != nil {
		set := func(name, value string, override *bool) {
			p.Set = append(p.Set, ResponseHeader{Name: name, Value: []string{value}, Override: cloudfront.IsTrue(override)})
		}
		if h := sec.StrictTransportSecurity; h != nil {
			v := "max-age=" + strconv.Itoa(int(cloudfront.I32(h.AccessControlMaxAgeSec)))
			if cloudfront.IsTrue(h.IncludeSubdomains) {
				v += "; includeSubDomains"
			}
			if cloudfront.IsTrue(h.Preload) {
				v += "; preload"
			}
			set("Strict-Transport-Security", v, h.Override)
		}
		if h := sec.ContentTypeOptions; h != nil {
			set("X-Content-Type-Options", "nosniff", h.Override)
		}
		if h := sec.FrameOptions; h != nil {
			set("X-Frame-Options", cloudfront.Str(h.FrameOption), h.Override)
		}
		if h := sec.XSSProtection; h != nil {
			v := "0"
			if cloudfront.IsTrue(h.Protection) {
				v = "1"
				if cloudfront.IsTrue(h.ModeBlock) {
					v += "; mode=block"
				} else if uri := cloudfront.Str(h.ReportUri); uri != "" {
					v += "; report=" + uri
				}
			}
			set("X-Xss-Protection", v, h.Override)
		}
		if h := sec.ReferrerPolicy; h != nil {
			set("Referrer-Policy", cloudfront.Str(h.ReferrerPolicy), h.Override)
		}
		if h := sec.ContentSecurityPolicy; h != nil {
			set("Content-Security-Policy", cloudfront.Str(h.ContentSecurityPolicy), h.Override)
		}
	}
	if ch := c.CustomHeadersConfig; ch != nil {
		for _, h := range ch.Items {
			p.Set = append(p.Set, ResponseHeader{
				Name:     textproto.CanonicalMIMEHeaderKey(cloudfront.Str(h.Header)),
				Value:    []string{cloudfront.Str(h.Value)},
				Override: cloudfront.IsTrue(h.Override),
			})
		}
	}
	if rh := c.RemoveHeadersConfig; rh != nil {
		for _, h := range rh.Items {
			p.Remove = append(p.Remove, textproto.CanonicalMIMEHeaderKey(cloudfront.Str(h.Header)))
		}
	}
	return p
}

func compileCORS(c *cloudfront.ResponseHeadersPolicyCorsConfig) *CORS {
	out := &CORS{OriginOverride: cloudfront.IsTrue(c.OriginOverride)}
	if o := c.AccessControlAllowOrigins; o != nil {
		for _, origin := range o.Items {
			if origin == "*" {
				out.AnyOrigin = true
			} else {
				out.Origins = append(out.Origins, strings.ToLower(origin))
			}
		}
	}
	if cloudfront.IsTrue(c.AccessControlAllowCredentials) {
		out.AllowCredentials = []string{"true"}
	}
	if h := c.AccessControlAllowHeaders; h != nil && len(h.Items) > 0 {
		out.AllowHeaders = []string{strings.Join(h.Items, ", ")}
	}
	if m := c.AccessControlAllowMethods; m != nil && len(m.Items) > 0 {
		v := strings.Join(m.Items, ", ")
		for _, item := range m.Items {
			if item == "ALL" {
				v = allMethods
			}
		}
		out.AllowMethods = []string{v}
	}
	if c.AccessControlMaxAgeSec != nil {
		out.MaxAge = []string{strconv.Itoa(int(*c.AccessControlMaxAgeSec))}
	}
	if h := c.AccessControlExposeHeaders; h != nil && len(h.Items) > 0 {
		out.ExposeHeaders = []string{strings.Join(h.Items, ", ")}
	}
	return out
}
