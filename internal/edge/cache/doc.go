// Package cache is the edge's object cache: the bounded in-memory store of
// origin responses, the cache keys, CloudFront's TTL rules, request
// coalescing and invalidation.
//
// # What it owns
//
//   - Keys. KeyBuilder turns an Identity, the viewer path and the query
//     parameters, headers and cookies that the cache policy includes into a
//     canonical Key. Parts are sorted, so the key never depends on
//     query-parameter order. The Identity (IdentityOf: a hash of a
//     canonical encoding of the whole compiled config the edge hands it)
//     stands for everything that shapes the origin request and the stored
//     response, so objects are keyed by the origin request, not by
//     distribution: a primary and its staging distribution share objects
//     exactly when their configs would fetch and store them alike.
//     A KeyBuilder can be Reset and reused, and GetBuilt looks its key up
//     without allocating, for the edge's hot path.
//   - TTLs. TTL applies a TTLPolicy (a cache policy's Min/Default/Max, as
//     the routing table compiled it from the managed or custom policy, or a
//     legacy behavior's from LegacyTTLPolicy) to the origin's Cache-Control
//     and Expires headers.
//   - Storage. Cache holds Entries, bounded by their size in bytes, and
//     expires each one StoredAt+TTL by the injected clock.
//   - Coalescing. GetOrFetch makes concurrent misses for one key share one
//     origin fetch (golang.org/x/sync/singleflight); the fetch is detached
//     from any single caller's cancellation and bounded by a timeout. A
//     response that may not be stored (TTL 0) goes only to the request
//     whose fetch it was; the others fetch for themselves, and the key is
//     marked uncacheable for a while (hit-for-miss) so that its requests
//     stop queueing behind one another. Entry.Private carries header
//     fields (an origin's Set-Cookie) that only the fetching request gets.
//   - Stale entries. An entry is kept past its expiry for its
//     stale-while-revalidate and stale-if-error windows (StaleWindows) and,
//     when it has a validator, for a revalidation. GetOrFetch hands one out
//     at once while a background flight refreshes it, or in place of an
//     origin failure; a fetch sees it through StaleEntry to revalidate it.
//     Fresh-hit lookups (GetBuilt) only ever return fresh entries.
//   - Invalidation. Purge removes entries by identity and path, with
//     PathMatcher implementing CloudFront's exact and trailing-"*" paths. An
//     epoch makes sure a fetch in flight during a Purge cannot store stale
//     content after it.
//   - The second tier. Config.Tier (the disk tier, package cache/disk) is
//     asked on a memory miss, inside the flight that coalesces the key's
//     misses, and gets every entry the cache stores; a memory hit never
//     reaches it. Purge reaches it too.
//   - Counters (Stats) that the edge exports; this package does not import
//     Prometheus.
//
// Deciding which status codes are cacheable, which request parts the cache
// policy includes, and fetching from the origin belong to the edge and to
// edge/origin.
//
// # Lifecycle
//
// main (through the edge) creates one Cache per edge process with New and
// shares it across routing-table swaps, so a config change does not empty
// it; after a promotion the primary finds what staging already cached under
// the same identity. Close on shutdown aborts in-flight fetches and
// stops otter's clean-up goroutine. Entries handed out are shared and
// read-only.
//
// # Why otter
//
// The store is github.com/maypok86/otter/v2 rather than
// github.com/dgraph-io/ristretto/v2. otter's Set is synchronous: the entry is
// visible to the next Get, and nothing is dropped. ristretto buffers Sets and
// may drop or refuse them (admission policy, contention), so "hit after
// store" needs Wait() and can still fail, which makes exact tests flaky and
// wastes origin fetches. otter also provides what we need directly: a
// weigher with a maximum weight (bytes), a per-entry ExpiryCalculator driven
// by an injectable Clock (ristretto reads the wall clock), an atomic deletion
// listener with the cause (evictions vs expirations), and CleanUp to enforce
// the bound synchronously.
package cache
