// Package signed verifies CloudFront signed URLs and signed cookies for a
// cache behavior that trusts key groups (TrustedKeyGroups): the canned
// policy (Expires) and the custom policy (Policy, with DateLessThan,
// DateGreaterThan, IpAddress and a Resource with * and ? wildcards),
// SHA1-with-RSA signatures (SHA256 with Hash-Algorithm=SHA256) or the
// same with ECDSA P-256 keys (DER signatures, ecdsa.go), and
// CloudFront's URL-safe base64 alphabet
// ('-' for '+', '_' for '=', '~' for '/').
//
// The edge builds one Verifier per protected cache behavior when it
// publishes a routing table, from the public keys of the behavior's key
// groups, and asks it about every request of that behavior before the
// cache is reached. A request that passes is served as if it had no
// signing query parameters (Expires, Policy, Signature, Key-Pair-Id,
// Hash-Algorithm) and no signing cookies (CloudFront-Expires,
// CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id,
// CloudFront-Hash-Algorithm): they are neither in the
// cache key nor sent to the origin. A request that fails gets CloudFront's
// 403 and its XML error body.
//
// An RSA or ECDSA verification per request would cost far more than a cache hit,
// so a Verifier remembers the (key, policy, signature) triples it has
// verified, with their parsed policy, in a bounded set that is dropped
// whole when full; the policy's conditions (time, address, resource) are
// still checked on every request. The set lives as long as the routing
// table's behavior: a change to the key groups builds a new Verifier.
//
// References: "Create a signed URL using a canned policy", "… using a
// custom policy" and "Set signed cookies …" in the Amazon CloudFront
// Developer Guide.
package signed
