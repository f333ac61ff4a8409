package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// TTLPolicy is the Minimum, Default and Maximum TTL of a cache policy (or of
// a legacy cache behavior's MinTTL/DefaultTTL/MaxTTL).
type TTLPolicy struct {
	Min, Default, Max time.Duration
}

// LegacyTTLPolicy converts a cache behavior's legacy MinTTL, DefaultTTL and
// MaxTTL (seconds, as on the wire) into a TTLPolicy. Negative values count as 0.
func LegacyTTLPolicy(minTTL, defaultTTL, maxTTL int64) TTLPolicy {
	return TTLPolicy{Min: seconds(minTTL), Default: seconds(defaultTTL), Max: seconds(maxTTL)}
}

// maxDeltaSeconds caps delta-seconds values; RFC 9111 §1.2.2 lets a cache
// treat anything larger as 2^31, and it keeps the Duration from overflowing.
const maxDeltaSeconds = 1 << 31

func seconds(s int64) time.Duration {
	return time.Duration(min(max(s, 0), maxDeltaSeconds)) * time.Second
}

// TTL decides whether, and for how long, the edge may keep a response with
// header hdr, received at now, under policy, following CloudFront's rules
// ("Manage how long content stays in the cache"):
//
//   - Max 0 never stores (CachingDisabled is 0/0/0).
//   - Cache-Control no-store or private: never stored, whatever Min. This
//     is stricter than CloudFront, which keeps such a response for the
//     minimum TTL when it is above 0 (CachingOptimized's is 1 s); a
//     response marked for one viewer must never reach another, not even
//     for a second (RFC 9111 §5.2.2.3 and §5.2.2.7).
//   - Cache-Control no-cache: stored for Min only, so not at all when Min
//     is 0, as CloudFront does. These win over max-age.
//   - s-maxage, else max-age, else Expires (minus now): clamped to [Min, Max].
//     An unparsable Expires is already expired (RFC 9111 §5.3).
//   - none of these: Default, clamped to [Min, Max].
//
// store is false when the resulting TTL is 0. Which status codes are cacheable
// at all is the caller's decision.
func TTL(policy TTLPolicy, hdr http.Header, now time.Time) (ttl time.Duration, store bool) {
	if policy.Max <= 0 {
		return 0, false
	}
	clamp := func(d time.Duration) time.Duration { return min(max(d, policy.Min), policy.Max) }
	cc := parseCacheControl(hdr.Values("Cache-Control"))
	switch {
	case cc.noStore || cc.private:
		return 0, false
	case cc.noCache:
		ttl = min(policy.Min, policy.Max)
	case cc.sMaxAge >= 0:
		ttl = clamp(cc.sMaxAge)
	case cc.maxAge >= 0:
		ttl = clamp(cc.maxAge)
	case hdr.Get("Expires") != "":
		var lifetime time.Duration
		if expires, err := http.ParseTime(hdr.Get("Expires")); err == nil {
			lifetime = expires.Sub(now)
		}
		ttl = clamp(lifetime)
	default:
		ttl = clamp(policy.Default)
	}
	if ttl <= 0 {
		return 0, false
	}
	return ttl, true
}

// StaleWindows returns how long after expiry a response with header hdr
// may be served stale (RFC 5861), as CloudFront honours them: the
// stale-while-revalidate window, during which viewers get the stale object
// at once while the edge refreshes it in the background, and the
// stale-if-error window, during which an origin error, timeout or refused
// connection is answered with the stale object. Each is at most policy's
// Max. A response that forbids serving it stale (must-revalidate,
// proxy-revalidate, no-cache, no-store, private) gets neither.
func StaleWindows(policy TTLPolicy, hdr http.Header) (whileRevalidate, ifError time.Duration) {
	cc := parseCacheControl(hdr.Values("Cache-Control"))
	if cc.noStore || cc.private || cc.noCache || cc.mustRevalidate || cc.proxyRevalidate {
		return 0, 0
	}
	clamp := func(d time.Duration) time.Duration { return min(max(d, 0), max(policy.Max, 0)) }
	return clamp(cc.staleWhileRevalidate), clamp(cc.staleIfError)
}

// SharedWithAuthorization reports whether a shared cache may store a
// response to a request that carried the viewer's Authorization header:
// only when the response says so with must-revalidate, public or s-maxage
// (RFC 9111 §3.5). Without one of them the response is that viewer's.
func SharedWithAuthorization(hdr http.Header) bool {
	cc := parseCacheControl(hdr.Values("Cache-Control"))
	return cc.public || cc.mustRevalidate || cc.sMaxAge >= 0
}

// cacheControl holds the response directives TTL looks at; maxAge and
// sMaxAge are -1 when absent or malformed.
type cacheControl struct {
	noStore, noCache, private bool
	public, mustRevalidate    bool
	proxyRevalidate           bool
	maxAge, sMaxAge           time.Duration
	// staleWhileRevalidate and staleIfError are -1 when absent or malformed.
	staleWhileRevalidate, staleIfError time.Duration
}

// parseCacheControl reads all Cache-Control field lines. Directive names are
// case-insensitive; a repeated max-age keeps its first value; qualified forms
// such as no-cache="Set-Cookie" count as the plain directive (conservative).
func parseCacheControl(lines []string) cacheControl {
	cc := cacheControl{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}
	for _, line := range lines {
		for line != "" {
			var directive string
			directive, line, _ = strings.Cut(line, ",")
			name, value, _ := strings.Cut(directive, "=")
			name = strings.TrimSpace(name)
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch {
			case strings.EqualFold(name, "no-store"):
				cc.noStore = true
			case strings.EqualFold(name, "no-cache"):
				cc.noCache = true
			case strings.EqualFold(name, "private"):
				cc.private = true
			case strings.EqualFold(name, "public"):
				cc.public = true
			case strings.EqualFold(name, "must-revalidate"):
				cc.mustRevalidate = true
			case strings.EqualFold(name, "proxy-revalidate"):
				cc.proxyRevalidate = true
			case strings.EqualFold(name, "stale-while-revalidate"):
				if cc.staleWhileRevalidate < 0 {
					cc.staleWhileRevalidate = parseDeltaSeconds(value)
				}
			case strings.EqualFold(name, "stale-if-error"):
				if cc.staleIfError < 0 {
					cc.staleIfError = parseDeltaSeconds(value)
				}
			case strings.EqualFold(name, "max-age"):
				if cc.maxAge < 0 {
					cc.maxAge = parseDeltaSeconds(value)
				}
			case strings.EqualFold(name, "s-maxage"):
				if cc.sMaxAge < 0 {
					cc.sMaxAge = parseDeltaSeconds(value)
				}
			}
		}
	}
	return cc
}

// parseDeltaSeconds parses a non-negative integer of seconds; -1 if malformed.
func parseDeltaSeconds(value string) time.Duration {
	if value == "" || strings.TrimLeft(value, "0123456789") != "" {
		return -1
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil { // only a range error is left: all digits, too large
		n = maxDeltaSeconds
	}
	return seconds(n)
}
