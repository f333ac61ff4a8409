// Package routing compiles the stored configuration into an immutable
// routing Table and answers the edge's per-request questions from it.
//
// # What it owns
//
//   - The compiler. Compile turns a Snapshot (the distributions and
//     continuous-deployment policies an edge read from the store, each with
//     its ModRevision, plus the sticky-cookie key) into a Table: a host
//     index (domain names and aliases; exact beats a one-label wildcard),
//     one compiled Dist per distribution (origins, origin groups, cache
//     behaviors with compiled path patterns, TTLs and cache-key parts,
//     custom error responses) and, for each primary with an enabled policy
//     and an enabled staging distribution, its CD decision data.
//   - Failure isolation. A distribution whose config does not compile keeps
//     its entry from the previous Table (Dist.Err says why) and is reported
//     as a CompileError; every other distribution still changes. Unchanged
//     records (same ModRevision) are taken over without recompiling.
//   - The data plane's decisions: Table.Lookup (host → distribution, with
//     403 statuses for staging and disabled ones), Dist.Behavior (path →
//     first matching cache behavior, else the default) and Dist.Decide
//     (primary or staging, by header or by weight with sticky
//     sessions).
//   - The sticky-session cookie (x-amz-continuous-deployment-state). It is
//     stateless across nodes: it carries the variant, the session's start
//     and last-seen times, the policy generation and a tag of the primary
//     and policy, authenticated with HMAC-SHA256 under the store's key, so
//     any edge node honours any other's decision. Both variants get a
//     cookie, so stickiness does not skew the weight. A cookie that is
//     expired, foreign, from an older generation, malformed or forged only
//     causes a new draw.
//
// This package is pure: no I/O, no clock, no randomness. The caller passes
// the time and a random draw into Decide. It must not import api or store.
//
// # Lifecycle
//
// The edge compiles a Table off the hot path, after each store change it
// watched, passing the Table in use as prev, and publishes the result with
// atomic.Pointer.Store. A request loads the pointer once and uses that
// Table to the end, so in-flight requests finish on the table they started
// with. Tables, Dists and everything reachable from them are never modified
// after Compile returns; successive Tables share unchanged parts. Lookup,
// Behavior and Decide do not allocate; AppendCookie writes the cookie into a
// buffer the caller can reuse.
package routing
