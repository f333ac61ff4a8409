package cache

import (
	"context"
	"time"
)

// Tier is a larger, slower store below the memory cache: the disk tier
// (package cache/disk), which keeps objects beyond the memory bound and
// across restarts. The cache calls it only on a memory miss, from the
// flight that coalesces the misses of one key, and hands it every entry it
// stores; a memory hit never reaches it.
type Tier interface {
	// Load returns the entry stored under key if the tier keeps it at now
	// (fresh, or expired but within a stale window or kept for a
	// revalidation). The entry is new: the cache takes it.
	Load(key Key, now time.Time) (*Entry, bool)
	// Store keeps e under key until keepUntil. It must not block: it may
	// write the entry later, or not at all. e is shared and read-only.
	Store(key Key, e *Entry, keepUntil time.Time)
	// Purge removes every entry for which match(originIdentity, path) is
	// true and returns how many. An entry handed to Store before Purge was
	// called is never kept after Purge returns.
	Purge(match func(originIdentity, path string) bool) int
}

// loadTier looks key up in the tier after a memory miss, in the flight
// that started at epoch. The entry found is put in memory (unless a Purge
// started since). A fresh one is returned as fresh; an expired one, kept
// for its stale windows or a revalidation, as stale: the flight's fetch
// then revalidates it, and it stands in for an origin failure within its
// stale-if-error window, as a memory entry would.
func (c *Cache) loadTier(key Key, epoch uint64) (fresh, stale *Entry) {
	now := c.now()
	e, ok := c.tier.Load(key, now)
	if !ok {
		return nil, nil
	}
	e.Private = nil
	e.OriginIdentity, e.Path = key.identity, key.purgePath
	e.weight = computeWeight(key, e)
	e.keep = revalidationKeep(e)
	c.storeEntry(key, e, epoch, nil)
	if e.Fresh(now) {
		return e, nil
	}
	return nil, e
}

// withTierStale returns ctx carrying the tier's stale entry for the fetch
// to revalidate, unless ctx has one from memory already.
func withTierStale(ctx context.Context, stale *Entry) context.Context {
	if stale == nil || StaleEntry(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, staleKey{}, stale)
}
