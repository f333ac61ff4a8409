// Package edge owns the viewer server: it serves from the immutable
// routing.Table last handed to Publish (by the config follower in
// internal/edge/follow; the server knows nothing of the store), held in an
// atomic pointer; each request reads the table once, picks the distribution by Host, routes to primary or staging
// per the continuous-deployment policy, serves from the cache (keyed by
// origin identity) or fetches from the origin, and records per-distribution,
// per-variant metrics. A GET sends the origin only the query parameters,
// headers and cookies its cache key holds (never the sticky cookie), so a
// shared object cannot vary on anything else; a Compress behavior stores
// each encoding it serves (br when the viewer accepts it and the policy
// enables it, else gzip) once, keyed by that encoding. Publish purges
// for the invalidations it is given before it swaps the table, so
// "Completed" means purged. Lifecycle: New, then Publish from one goroutine
// (the follower's); ServeHTTP is safe meanwhile, and answers 503 before the
// first table.
//
// The hot path allocates nothing on a cache hit: what a request needs of
// an origin (its origin.Spec, its encoded cache identity) is derived when a
// table is published (liveTable), the cache key is built in a pooled
// builder and looked up without copying, per-request scratch state and
// copy buffers are pooled, and the metric children of each distribution
// are cached. What remains per request is net/http's own work.
package edge
