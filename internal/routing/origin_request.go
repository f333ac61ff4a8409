package routing

import (
	"slices"
	"strings"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// OriginRequest names the viewer request parts a GET sends the origin when
// the behavior has an origin request policy: the cache key's parts and the
// policy's together. CloudFront sends that union: what the cache policy
// puts in the key always reaches the origin, whatever the origin request
// policy leaves out, and the policy adds what the key ignores.
type OriginRequest struct {
	QueryStrings     Selection
	QueryStringNames []string
	// Headers selects the viewer headers other than Host and Cookie
	// (SelectAll: every one of them).
	Headers     Selection
	HeaderNames []string // canonical MIME header names, never Host
	// Host reports whether the viewer's Host header is forwarded; a custom
	// origin then gets it as its Host, otherwise its own domain name.
	Host bool
	// CloudFrontHeaders are the CloudFront-* headers (canonical) the policy
	// has the edge add. Whatever a viewer sends under these names is never
	// forwarded: the origin trusts them to come from the edge.
	CloudFrontHeaders []string
	Cookies           Selection
	CookieNames       []string
	// S3ExcludedQuery are query parameters never sent to an S3 origin.
	// With a managed policy CloudFront keeps S3's response header
	// overrides (response-content-type and the like) from the bucket,
	// unless the cache key holds them: a parameter outside the key that
	// changed the response would let one viewer pick the Content-Type
	// every other viewer is served.
	S3ExcludedQuery []string
}

// s3ResponseOverrides are the S3 query parameters that a managed origin
// request policy does not forward to an S3 origin (AWS "Use managed origin
// request policies").
var s3ResponseOverrides = [...]string{"response-content-type", "response-content-disposition", "response-content-encoding"}

// cloudFrontHeaderPrefix starts the canonical name of every header that
// CloudFront itself adds to origin requests.
const cloudFrontHeaderPrefix = "Cloudfront-"

// compileManagedOriginRequestPolicy compiles what a managed origin request
// policy forwards on its own, before the cache key is added (and Host is
// still among the header names).
func compileManagedOriginRequestPolicy(c *cloudfront.OriginRequestPolicyConfig) *OriginRequest {
	p := &OriginRequest{}
	if h := c.HeadersConfig; h != nil {
		var names []string
		if h.Headers != nil {
			names = canonicalHeaders(h.Headers.Items)
		}
		switch cloudfront.Str(h.HeaderBehavior) {
		case "whitelist":
			p.Headers = SelectAllowList
			for _, name := range names {
				if strings.HasPrefix(name, cloudFrontHeaderPrefix) {
					p.CloudFrontHeaders = append(p.CloudFrontHeaders, name)
				} else {
					p.HeaderNames = append(p.HeaderNames, name)
				}
			}
		case "allViewer":
			p.Headers = SelectAll
		case "allViewerAndWhitelistCloudFront":
			p.Headers = SelectAll
			for _, name := range names {
				if strings.HasPrefix(name, cloudFrontHeaderPrefix) {
					p.CloudFrontHeaders = append(p.CloudFrontHeaders, name)
				}
			}
		case "allExcept":
			p.Headers, p.HeaderNames = SelectAllExcept, names
		}
	}
	if ck := c.CookiesConfig; ck != nil {
		p.Cookies = selection(cloudfront.Str(ck.CookieBehavior))
		if ck.Cookies != nil {
			p.CookieNames = slices.Clone(ck.Cookies.Items)
		}
	}
	if q := c.QueryStringsConfig; q != nil {
		p.QueryStrings = selection(cloudfront.Str(q.QueryStringBehavior))
		if q.QueryStrings != nil {
			p.QueryStringNames = slices.Clone(q.QueryStrings.Items)
		}
	}
	for _, name := range s3ResponseOverrides {
		if selects(p.QueryStrings, p.QueryStringNames, name) {
			p.S3ExcludedQuery = append(p.S3ExcludedQuery, name)
		}
	}
	return p
}

// withCacheKey is what a behavior whose cache key is ck and whose origin
// request policy is p sends the origin (p as compileManagedOriginRequestPolicy
// made it).
func withCacheKey(ck *CacheKey, p *OriginRequest) *OriginRequest {
	out := &OriginRequest{}
	out.QueryStrings, out.QueryStringNames = unionSelection(ck.QueryStrings, ck.QueryStringNames, p.QueryStrings, p.QueryStringNames)
	out.Cookies, out.CookieNames = unionSelection(ck.Cookies, ck.CookieNames, p.Cookies, p.CookieNames)

	// The viewer's Host travels apart from the other headers (the edge
	// reads it from the request line, and a forwarded one replaces the
	// origin's own), so it leaves the header names for the Host flag.
	headers, names := unionSelection(ck.Headers, ck.HeaderNames, p.Headers, p.HeaderNames)
	// The viewer's Authorization reaches the origin of a GET or HEAD only
	// when the cache key holds it: an origin request policy cannot forward
	// it (not even AllViewer's "all headers"), so the origin never answers
	// one viewer's credentials with an object the cache gives to others.
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html
	if !selects(ck.Headers, ck.HeaderNames, AuthorizationHeader) {
		headers, names = deselect(headers, names, AuthorizationHeader)
	}
	switch headers {
	case SelectAll:
		out.Host = true
	case SelectAllowList:
		out.Host = slices.Contains(names, "Host")
	case SelectAllExcept:
		out.Host = !slices.Contains(names, "Host")
	}
	names = slices.DeleteFunc(names, func(name string) bool { return name == "Host" })
	switch {
	case headers == SelectAllowList && len(names) == 0:
		headers = SelectNone
	case headers == SelectAllExcept && len(names) == 0:
		headers, names = SelectAll, nil
	}
	out.Headers, out.HeaderNames = headers, names

	// A CloudFront-* header the cache key names keeps the cache key's
	// meaning (the viewer's value, the one the key was built from).
	for _, name := range p.CloudFrontHeaders {
		if !selects(ck.Headers, ck.HeaderNames, name) {
			out.CloudFrontHeaders = append(out.CloudFrontHeaders, name)
		}
	}
	for _, name := range p.S3ExcludedQuery {
		if !selects(ck.QueryStrings, ck.QueryStringNames, name) {
			out.S3ExcludedQuery = append(out.S3ExcludedQuery, name)
		}
	}
	return out
}

// AuthorizationHeader is the canonical name of the viewer's credentials header.
const AuthorizationHeader = "Authorization"

// deselect returns the selection sel/names without the item name.
func deselect(sel Selection, names []string, name string) (Selection, []string) {
	switch sel {
	case SelectAll:
		return SelectAllExcept, []string{name}
	case SelectAllExcept:
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	case SelectAllowList:
		names = slices.DeleteFunc(names, func(n string) bool { return n == name })
	}
	return sel, names
}

// unionSelection is the selection of the items that a or b selects. The
// names it returns are its own.
func unionSelection(a Selection, aNames []string, b Selection, bNames []string) (Selection, []string) {
	switch {
	case a == SelectAll || b == SelectAll:
		return SelectAll, nil
	case a == SelectNone:
		return b, slices.Clone(bNames)
	case b == SelectNone:
		return a, slices.Clone(aNames)
	case a == SelectAllowList && b == SelectAllowList:
		out := slices.Clone(aNames)
		for _, name := range bNames {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		return SelectAllowList, out
	}
	// At least one side excludes: an item stays out only when no side
	// selects it.
	var out []string
	for _, name := range exclusions(a, aNames, b, bNames) {
		if !selects(a, aNames, name) && !selects(b, bNames, name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return SelectAll, nil
	}
	return SelectAllExcept, out
}

// exclusions are the names of whichever of a and b is an allExcept list.
func exclusions(a Selection, aNames []string, b Selection, bNames []string) []string {
	if a == SelectAllExcept {
		return aNames
	}
	if b == SelectAllExcept {
		return bNames
	}
	return nil
}

// selects reports whether a selection takes the item name.
func selects(sel Selection, names []string, name string) bool {
	switch sel {
	case SelectAll:
		return true
	case SelectAllowList:
		return slices.Contains(names, name)
	case SelectAllExcept:
		return !slices.Contains(names, name)
	}
	return false
}
