// Package auth owns who may call the CloudFront-compatible API: SigV4
// request verification (Authorization header and presigned URLs, checked by
// recomputing the signature with the AWS SDK's own signer), the API
// credentials file in the data directory, and the HTTP middleware that puts
// the verified principal's name into the request context.
//
// Lifecycle: main loads the credentials once with LoadOrCreate (printing a
// generated admin key pair the first time), builds one Verifier from them (or
// None() when authentication is disabled) and wraps the API handler with
// Middleware. Verifier and CredentialFile are safe for concurrent use; a
// CredentialFile is the only writer of its file. Errors wrap the
// *cloudfront.Error that the API layer turns into an <ErrorResponse>.
package auth
