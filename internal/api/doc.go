// Package api owns the CloudFront-compatible REST-XML HTTP layer of the
// control plane (API version 2020-05-31): method+path routing with Go 1.22
// ServeMux patterns, SigV4 verification through internal/api/auth, XML
// decoding of request payloads and encoding of response payloads, the
// CloudFront headers (ETag, Location, x-amzn-RequestId) and the one place
// that turns any error into CloudFront's <ErrorResponse>.
//
// It knows nothing of the business rules: every handler parses the request,
// calls one internal/control method and writes what it returns. Errors from
// control are *cloudfront.Error values (possibly wrapped) and keep their
// code and status; anything else becomes a 500 InternalError whose details
// go to the log, never to the client.
//
// Lifecycle: main builds one handler with New (a control.Service, a
// verifier and a logger) and serves it; the handler holds no mutable state
// and is safe for concurrent use. Unknown elements in request documents are
// kept (cloudfront.RawXML) so that what a client PUTs, a GET returns.
package api
