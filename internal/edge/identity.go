package edge

import (
	"reflect"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// identitySource is everything a cached object's identity is made of: the
// distribution and cache behavior that fetch it, and the origin specs the
// fetcher gets (the behavior's origin, then each member of its origin
// group, with the origin access control's signing behavior). The whole
// value is encoded (cache.IdentityOf), fields and nested structs alike,
// except what omitFromIdentity names, so a field added to any of these
// structs later counts until someone decides it does not.
type identitySource struct {
	Dist     *routing.Dist
	Behavior *routing.Behavior
	Specs    []*origin.Spec
}

// cacheIdentity is the one function from compiled config to cache
// identity. Two requests for the same path and key parts share a cached
// object exactly when their identities are equal, that is when their
// distributions would send the same origin request and treat the response
// the same way before storing it: same host, port, protocol policy, origin
// path, custom headers, signing, forwarded headers, cookies and query
// strings, TTLs, compression and error responses. Identical configs (a
// staging copy, a promotion that changed nothing the origin sees) share
// objects; any difference splits them. It is computed when a table is
// published, never per request.
func cacheIdentity(d *routing.Dist, b *routing.Behavior, specs []*origin.Spec) cache.Identity {
	return cache.IdentityOf(identitySource{Dist: d, Behavior: b, Specs: specs}, omitFromIdentity)
}

// omitFromIdentity names the fields of the compiled config that change
// neither the origin request nor the response as stored. Everything else,
// including every field not listed here, is part of the identity.
func omitFromIdentity(t reflect.Type, field string) bool {
	switch t {
	case reflect.TypeFor[routing.Dist]():
		// Of a distribution only its custom error responses count (how
		// long an error is kept, what replaces it); the rest either
		// names it, picks the behavior, or is encoded through the
		// behavior (its origins). The path the edge asks for after
		// DefaultRootObject is in the key.
		switch field {
		case "ID", "DomainName", "Aliases", "Revision", "Enabled", "Staging", "DefaultRootObject",
			"PolicyID", "Origins", "OriginGroups", "Behaviors", "Default", "CD", "Err",
			"PolicyRevisions", // when to recompile; what the policies hold is in the behaviors
			"Logging":         // where the access log goes
			return true
		}
	case reflect.TypeFor[routing.Behavior]():
		switch field {
		case "Pattern", // picks the behavior; the path itself is in the key
			"TargetOriginID",                  // a name: Origin and Group hold what it names
			"ViewerProtocolPolicy",            // answered before the cache is reached
			"AllowedMethods", "CachedMethods", // whether the cache is used, not what it holds
			"ResponseHeadersPolicyID", "ResponseHeaders", // applied to each response as served, never stored
			"Restricted", "KeyGroupIDs", "TrustedKeys": // checked before the cache; what is stored does not change
			return true
		}
	case reflect.TypeFor[routing.Origin](), reflect.TypeFor[routing.OriginGroup]():
		// The id names the origin (or group); the timeouts and attempts
		// bound how long a fetch may take, not what it asks or gets; Origin
		// Shield changes which node fetches, not what it asks or gets.
		switch field {
		case "ID", "ReadTimeout", "KeepaliveTimeout", "ConnectionAttempts", "ConnectionTimeout", "Shield", "ShieldRegion":
			return true
		}
	case reflect.TypeFor[origin.Spec]():
		switch field {
		case "ID", "ReadTimeout", "KeepaliveTimeout", "ConnectTimeout", "ConnectionAttempts":
			return true
		}
	}
	return false
}

// behaviorSpecs are the origin specs a behavior may fetch from, in order:
// its origin, then the members of its origin group.
func behaviorSpecs(lt *liveTable, b *routing.Behavior) []*origin.Spec {
	specs := []*origin.Spec{lt.upstream(b.Origin).spec}
	if b.Group != nil {
		for _, m := range b.Group.Members {
			specs = append(specs, lt.upstream(m).spec)
		}
	}
	return specs
}
