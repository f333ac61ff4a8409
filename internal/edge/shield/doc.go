// Package shield holds the parts of Origin Shield that know nothing of
// HTTP serving: which fleet member is an object's shield, and how an
// edge's request to a shield is authenticated.
//
// # What it owns
//
//   - Ring: the live members that run a shield listener, replaced as a
//     whole whenever fleet membership changes (Set), and Pick, which names
//     the shield of a cache key by rendezvous (highest random weight)
//     hashing: every member scores xxhash64(node, key) and the highest
//     wins. Every edge with the same view of the fleet picks the same
//     member for a key, and a member joining or leaving moves only the
//     keys it wins or won (Thaler and Ravishankar, "Using name-based
//     mappings to increase hit rates", IEEE/ACM ToN 1998).
//   - Signer: an HMAC-SHA256 over the fields of a shield request under the
//     fleet's secret, with a timestamp checked against a window, so that
//     only a member of the fleet can make a shield treat a request as
//     coming from another edge (which skips signed-URL checks done by
//     that edge already and fetches for the cache key it names).
//
// The HTTP exchange itself (the request an edge sends, the listener that
// answers it) is the edge's (internal/edge/shield.go); membership comes
// from internal/fleet, wired by internal/server.
//
// # Lifecycle
//
// NewRing, then Set from the one goroutine that watches the fleet; Pick is
// safe meanwhile (an atomic pointer to an immutable member list).
// NewSigner once per process; it is read-only and safe for concurrent use.
package shield
