package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/identity"
)

// MaxBodyBytes caps the request body the middleware reads to verify it
// (1 MiB: CloudFront's largest documents, a DistributionConfig at its
// quotas, stay well below it).
const MaxBodyBytes = 1 << 20

// ErrRequestEntityTooLarge is returned for request bodies over MaxBodyBytes.
var ErrRequestEntityTooLarge = cloudfront.ErrRequestEntityTooLarge

// WithPrincipal returns a copy of ctx carrying the principal's name (in
// package identity, where the control plane reads it to record who acted).
func WithPrincipal(ctx context.Context, name string) context.Context {
	return identity.With(ctx, name)
}

// PrincipalFrom returns the principal name stored by Middleware, or "" if
// the request was not authenticated.
func PrincipalFrom(ctx context.Context) string {
	return identity.From(ctx)
}

// Middleware verifies every request with v before calling the next handler.
// What can be checked without the body is checked first (a missing or
// malformed Authorization is MissingAuthenticationToken or
// IncompleteSignature, an unknown key InvalidClientTokenId, a skewed clock
// RequestTimeTooSkewed), and such a request is answered without its body
// being read. Then it reads the body (at most MaxBodyBytes) because SigV4
// signs it, and puts it back so the handler can read it again. Requests that fail go to onErr,
// which writes the error response; the next handler is not called.
// Use None() for no authentication; a nil v panics.
func Middleware(v *Verifier, onErr func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	if v == nil {
		panic("auth.Middleware: nil *Verifier (use auth.None() to disable authentication)")
	}
	if onErr == nil {
		panic("auth.Middleware: nil onErr")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v.anonymous {
				next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), Anonymous)))
				return
			}
			c, err := v.claim(r)
			if err != nil {
				refuseUnread(w, r)
				onErr(w, r, err)
				return
			}
			body, err := readBody(w, r)
			if err != nil {
				refuseUnread(w, r)
				onErr(w, r, err)
				return
			}
			principal, err := v.verifyClaim(r, body, c)
			if err != nil {
				onErr(w, r, err)
				return
			}
			r = r.WithContext(WithPrincipal(r.Context(), principal))
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, fmt.Errorf("auth: body of %d bytes: %w", r.ContentLength, ErrRequestEntityTooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if maxErr := (*http.MaxBytesError)(nil); errors.As(err, &maxErr) {
			return nil, fmt.Errorf("auth: body over %d bytes: %w", maxErr.Limit, ErrRequestEntityTooLarge)
		}
		return nil, fmt.Errorf("auth: reading request body: %w", cloudfront.ErrInvalidArgument.WithMessage("The request body could not be read."))
	}
	return body, nil
}

// refuseUnread closes the connection after an error response to a request
// whose body was not read: the server would otherwise read (and discard) it
// to reuse the connection.
func refuseUnread(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		w.Header().Set("Connection", "close")
	}
}
