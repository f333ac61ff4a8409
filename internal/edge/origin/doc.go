// Package origin fetches objects from a distribution's origins: custom
// HTTP(S) servers and S3 buckets, the latter signed with SigV4 when an origin
// access control (OAC) says so.
//
// # What it owns
//
//   - The origin request. Fetch turns a Spec (one compiled cloudfront.Origin)
//     and a Request (what the edge forwards of the viewer's request) into the
//     URL, Host and headers CloudFront would send: scheme and port from the
//     protocol policy, OriginPath + path, the query as forwarded, the selected
//     viewer headers minus hop-by-hop headers and minus the
//     continuous-deployment cookie (CDCookie), the origin's custom headers,
//     Via and X-Forwarded-For.
//   - S3 addressing. ParseS3Domain recognizes bucket domains. Requests go
//     virtual-hosted to the real domain over HTTPS, or path-style to
//     Options.S3Endpoint (an S3-compatible server such as MinIO or moto).
//     With an OAC (always, or no-override when the viewer sent no
//     Authorization) they are signed for service s3 with credentials from the
//     standard AWS chain, loaded once by New.
//   - Connections. GET and HEAD, the cache's and almost every viewer's
//     methods, run on this package's own keep-alive pools (conn.go): one per
//     (connect timeout, attempts, read timeout, keepalive) tuple and origin
//     address; the calling goroutine writes the request and reads the
//     response on a pooled connection, which returns to the pool when the
//     body has been read to its end (a body closed early closes it). That
//     avoids http.Transport's per-request hand-offs between its read and
//     write goroutines, which cost more than the HTTP work on small objects.
//     A request that fails on a reused connection before any response byte
//     (the origin closed it while idle) is retried on another connection.
//     Requests with a body use one tuned http.Transport per tuple, created
//     on first use. ConnectionAttempts retries connecting only (each attempt
//     bounded by ConnectTimeout), never a request; ReadTimeout bounds the
//     wait for the response header (up to a quarter more on a reused
//     connection, whose deadline moves only when needed); KeepaliveTimeout is the idle-connection
//     timeout. HTTP/1.1, no proxy from the environment, no transparent gzip.
//   - Failure kinds. An *Error wraps ErrOriginUnreachable or ErrOriginTimeout
//     with the cause; StatusFor maps them to 502 and 504.
//
// Choosing the distribution, the cache behavior and its origin, selecting
// the headers, cookies and query the policies forward, caching the response
// and writing it to the viewer belong to the edge and edge/cache.
//
// # Lifecycle
//
// main (through the edge) creates one Fetcher with New and shares it across
// routing-table swaps, so connection pools survive config changes. Fetch is
// safe for concurrent use; its ctx bounds the whole exchange, body reading
// included, and the caller closes the response body. Close on shutdown
// closes idle connections; no goroutine of this package outlives a fetch
// (a pool with idle connections holds one timer, which closes them).
package origin
