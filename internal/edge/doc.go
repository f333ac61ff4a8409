// Package edge owns the viewer server: it follows the store (list, then
// watch from the next revision), compiles an immutable routing.Table off the
// hot path and publishes it with an atomic pointer; each request reads the
// table once, picks the distribution by Host, routes to primary or staging
// per the continuous-deployment policy, serves from the cache (keyed by
// origin identity) or fetches from the origin, and records per-distribution,
// per-variant metrics. A GET sends the origin only the query parameters,
// headers and cookies its cache key holds (never the sticky cookie), so a
// shared object cannot vary on anything else; a Compress behavior stores
// the gzip encoding once, keyed by the encodings the viewer accepts. Invalidations purge before the table that contains
// them is published, so "Completed" means purged. Lifecycle: New, then Run
// in an owned goroutine until ctx ends; ServeHTTP is safe meanwhile.
package edge
