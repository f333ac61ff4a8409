package cache

import (
	"strings"

	"github.com/maypok86/otter/v2"
)

// PathMatcher compiles CloudFront invalidation paths into a predicate over
// Entry.Path (Key.PurgePath). A path is either exact ("/images/a.png",
// "/a.png?v=2") or ends with the "*" wildcard, which matches zero or more
// characters ("/images/*", "/images/a.png*" for every query-string version,
// "/*" for everything). A "*" elsewhere is a literal character: CloudFront
// rejects such paths before they get here. Matching is case-sensitive.
// A missing leading "/" is added, as the console does. Exact paths with a
// query have it put in canonical order, like the keys they must match.
func PathMatcher(paths []string) func(path string) bool {
	exact := make(map[string]struct{}, len(paths))
	var prefixes []string
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if prefix == "/" {
				return func(string) bool { return true }
			}
			prefixes = append(prefixes, prefix)
			continue
		}
		exact[normalizeQueryPath(p)] = struct{}{}
	}
	return func(path string) bool {
		if _, ok := exact[path]; ok {
			return true
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		}
		return false
	}
}

// Purge removes every stored entry for which match(originIdentity, path)
// is true, and returns how many it removed.
//
// Purge also starts a new epoch: a fetch that was in flight when Purge began
// still answers the requests waiting for it, but its response is not stored,
// and requests that arrive after Purge began do not join it. So once Purge
// returns, no response fetched before it can be served from the cache.
// That is stricter than needed for fetches of unrelated objects (they are
// not stored either), which costs at most one extra origin fetch each.
func (c *Cache) Purge(match func(originIdentity, path string) bool) int {
	c.epochMu.Lock()
	c.epoch.Add(1)
	c.epochMu.Unlock()

	removed := 0
	for key, e := range c.store.All() {
		if !match(e.OriginIdentity, e.Path) {
			continue
		}
		// Remove this entry only: a fresh one stored under the same key
		// since the epoch changed must stay.
		c.store.ComputeIfPresent(key, func(current *Entry) (*Entry, otter.ComputeOp) {
			if current != e {
				return current, otter.CancelOp
			}
			removed++
			return nil, otter.InvalidateOp
		})
	}
	if c.tier != nil {
		removed += c.tier.Purge(match)
	}
	c.purged.Add(uint64(removed))
	return removed
}

// Invalidate purges the objects of the given identities (the
// Identity.String of each cache behavior of one distribution) whose path
// matches one of the CloudFront invalidation paths.
func (c *Cache) Invalidate(originIdentities []string, paths []string) int {
	identities := make(map[string]struct{}, len(originIdentities))
	for _, id := range originIdentities {
		identities[id] = struct{}{}
	}
	matchPath := PathMatcher(paths)
	return c.Purge(func(originIdentity, path string) bool {
		_, ok := identities[originIdentity]
		return ok && matchPath(path)
	})
}
