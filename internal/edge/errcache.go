package edge

import (
	"net/http"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/routing"
)

// defaultErrorCachingMinTTL is how long CloudFront keeps an origin error
// when the distribution has no custom error response for its status code:
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html
const defaultErrorCachingMinTTL = 10 * time.Second

// cachedErrorStatus reports whether an origin error with this status is
// cached at all: the 4xx and 5xx codes CloudFront caches (416 never is),
// plus 410, which RFC 9110 §15.5.11 makes cacheable by default.
func cachedErrorStatus(code int) bool {
	switch code {
	case 400, 403, 404, 405, 410, 414, 500, 501, 502, 503, 504:
		return true
	}
	return false
}

// errorTTL is how long an origin error response with header hdr is kept,
// following CloudFront's "Control how long CloudFront caches errors":
//
//   - the error caching minimum TTL is the distribution's
//     ErrorCachingMinTTL for that code, else 10 s; 0 keeps nothing;
//   - with s-maxage, max-age or Expires (capped at the behavior's MaxTTL),
//     the larger of that lifetime and the minimum;
//   - with no-cache, nothing for 404, 410, 414 and 501, the minimum for
//     the others (CloudFront ignores the directive there);
//   - with no-store or private, nothing. CloudFront would keep a 5xx for
//     the minimum anyway; the edge never lets a response marked for one
//     viewer reach another (as cache.TTL does for every response);
//   - otherwise the minimum.
//
// The behavior's MinTTL and DefaultTTL do not apply to errors.
func errorTTL(d *routing.Dist, b *routing.Behavior, code int, hdr http.Header, now time.Time) time.Duration {
	if !cachedErrorStatus(code) {
		return 0
	}
	minTTL := defaultErrorCachingMinTTL
	if d != nil {
		if er := d.ErrorResponse(code); er != nil {
			minTTL = er.CachingMinTTL
		}
	}
	if minTTL <= 0 {
		return 0
	}
	noStore, noCache := cacheControlRefuses(hdr)
	switch {
	case noStore:
		return 0
	case noCache:
		switch code {
		case 404, 410, 414, 501:
			return 0
		}
		return minTTL
	}
	// The origin's own lifetime, if it gave one: no Min, no Default.
	lifetime, _ := cache.TTL(cache.TTLPolicy{Max: b.TTL.Max}, hdr, now)
	return max(lifetime, minTTL)
}

// cacheControlRefuses reports the Cache-Control directives that keep a
// response from being stored (no-store, private) or reused without
// revalidation (no-cache), in any field line and any case.
func cacheControlRefuses(hdr http.Header) (noStore, noCache bool) {
	for _, line := range hdr.Values("Cache-Control") {
		for dir := range strings.SplitSeq(line, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "private":
				noStore = true
			case "no-cache":
				noCache = true
			}
		}
	}
	return noStore, noCache
}
