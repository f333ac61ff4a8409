// Package edge owns the viewer server: it follows the store (list, then
// watch from the next revision), compiles an immutable routing.Table off the
// hot path and publishes it with an atomic pointer; each request reads the
// table once, picks the distribution by Host, routes to primary or staging
// per the continuous-deployment policy, serves from the cache (keyed by
// origin identity) or fetches from the origin, and records per-distribution,
// per-variant metrics. A GET sends the origin only the query parameters,
// headers and cookies its cache key holds (never the sticky cookie), so a
// shared object cannot vary on anything else; a Compress behavior stores
// each encoding it serves (br when the viewer accepts it and the policy
// enables it, else gzip) once, keyed by that encoding. Invalidations purge
// before the table that contains them is published, so "Completed" means
// purged. Lifecycle: New, then Run in an owned goroutine until ctx ends;
// ServeHTTP is safe meanwhile.
//
// The hot path allocates nothing on a cache hit: what a request needs of
// an origin (its origin.Spec, its encoded cache identity) is derived when a
// table is published (liveTable), the cache key is built in a pooled
// builder and looked up without copying, per-request scratch state and
// copy buffers are pooled, and the metric children of each distribution
// are cached. What remains per request is net/http's own work.
package edge
