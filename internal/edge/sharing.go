package edge

import (
	"net/http"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/routing"
)

// sharing applies the rules under which a response the cache would keep
// for ttl may reach other viewers than the one whose request fetched it.
// It returns the TTL to keep it for (0: it is that viewer's alone, see
// cache.FetchFunc) and the header fields only that viewer gets, which it
// takes out of header.
//
//   - A response to a request that carried the viewer's Authorization is
//     shared only when it says it may be (RFC 9111 §3.5:
//     cache.SharedWithAuthorization). Authorization reaches the origin of
//     a GET only when the cache key holds it, so such a response is keyed
//     by the credentials; a custom header or an OAC signature the edge
//     itself adds does not count, being the same for everyone.
//   - Set-Cookie is never served from the cache to another viewer. When no
//     viewer cookie reaches the origin (the cache policy and the origin
//     request policy forward none), the cookie was not made from anything
//     the viewer sent: CloudFront then removes Set-Cookie from responses
//     altogether. Here the viewer whose request fetched the object still
//     gets it, and the object is stored without it.
//   - When viewer cookies reach the origin, CloudFront caches the
//     Set-Cookie with the object and replays it on every hit, to every
//     viewer who sends the same cookies the key holds:
//     https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Cookies.html
//     The edge does not: the same key cookies do not make the same viewer
//     (viewers without cookies all share one key, and an allow-listed
//     "lang=en" is sent by many), so an origin that starts a session would
//     hand one session to all of them. Such a response is not stored, like
//     a private one: every viewer gets the cookie the origin made for its
//     own request (nginx, by default, and Varnish's built-in VCL do the
//     same).
func sharing(b *routing.Behavior, v viewer, header http.Header, ttl time.Duration) (time.Duration, http.Header) {
	if v.HeaderGet(routing.AuthorizationHeader) != "" && keyHoldsHeader(&b.CacheKey, routing.AuthorizationHeader) &&
		!cache.SharedWithAuthorization(header) {
		return 0, nil
	}
	cookies := header["Set-Cookie"]
	if len(cookies) == 0 {
		return ttl, nil
	}
	if cookiesReachOrigin(b) {
		return 0, nil
	}
	delete(header, "Set-Cookie")
	return ttl, http.Header{"Set-Cookie": cookies}
}

// keyHoldsHeader reports whether the cache key holds the viewer header
// name (canonical).
func keyHoldsHeader(ck *routing.CacheKey, name string) bool {
	return selected(ck.Headers, ck.HeaderNames, name)
}

// cookiesReachOrigin reports whether a GET of behavior b sends the origin
// any viewer cookie: through its cache key, or its origin request policy
// (OriginRequest holds the union of both).
func cookiesReachOrigin(b *routing.Behavior) bool {
	if b.OriginRequest != nil {
		return b.OriginRequest.Cookies != routing.SelectNone
	}
	return b.CacheKey.Cookies != routing.SelectNone
}
