package origin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// The kinds of failure the edge must tell apart: CloudFront answers 502 when
// it cannot get a usable response from the origin and 504 when the origin is
// too slow. Match them with errors.Is; StatusFor does the mapping.
var (
	// ErrOriginUnreachable: connection refused or reset, DNS failure, TLS
	// failure, a malformed response, or the fetch was canceled.
	ErrOriginUnreachable = errors.New("origin unreachable")
	// ErrOriginTimeout: every connection attempt timed out
	// (ConnectTimeout), or no response header arrived within ReadTimeout.
	ErrOriginTimeout = errors.New("origin timeout")
)

// Error is what Fetch returns when it got no response from the origin. Kind
// is ErrOriginUnreachable or ErrOriginTimeout; Err is the cause from net,
// net/http or crypto/tls. errors.Is matches both.
type Error struct {
	OriginID string
	Kind     error
	// Attempts is the number of connection attempts made when the failure
	// was connecting; 0 when a connection was made (or reused).
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	msg := "origin " + strconv.Quote(e.OriginID) + ": " + e.Kind.Error()
	if e.Attempts > 0 {
		msg += " after " + strconv.Itoa(e.Attempts) + " connection attempt(s)"
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap lets errors.Is and errors.As see both the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// StatusFor maps an error from Fetch, or from reading a response body, to
// the status the edge answers the viewer with: 504 for timeouts (a body
// read past the origin's read timeout is one), 502 for every other
// failure, 200 for nil.
func StatusFor(err error) int {
	var timeout interface{ Timeout() bool }
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrOriginTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &timeout) && timeout.Timeout():
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// connectError is what the transport's dial function returns once every
// connection attempt failed; it carries the attempt count out of net/http,
// which returns dial errors unchanged.
type connectError struct {
	attempts int
	err      error
}

func (e *connectError) Error() string { return "connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// fetchError wraps a RoundTrip failure in an *Error of the right kind.
func fetchError(originID string, err error) *Error {
	e := &Error{OriginID: originID, Kind: ErrOriginUnreachable, Err: err}
	var ce *connectError
	if errors.As(err, &ce) {
		e.Attempts = ce.attempts
	}
	var timeout interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &timeout) && timeout.Timeout()) {
		e.Kind = ErrOriginTimeout
	}
	return e
}
