package cloudfront

import (
	"net/http"
	"strings"
)

// refusedOriginHeaders are the headers CloudFront cannot add to origin
// requests as origin custom headers ("Custom headers that CloudFront can't
// add to origin requests", Amazon CloudFront Developer Guide). Most of
// them frame the message or belong to one connection (Content-Length,
// Transfer-Encoding, Connection, TE, Trailer, Upgrade): a fixed value would
// desynchronise the origin connection. Keys are canonical header names.
var refusedOriginHeaders = map[string]bool{
	"Cache-Control": true, "Connection": true, "Content-Length": true, "Cookie": true, "Host": true,
	"If-Match": true, "If-Modified-Since": true, "If-None-Match": true, "If-Range": true,
	"If-Unmodified-Since": true, "Max-Forwards": true, "Pragma": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Range": true, "Request-Range": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Via": true, "X-Real-Ip": true,
}

// refusedOriginHeaderPrefixes are the name prefixes CloudFront reserves.
var refusedOriginHeaderPrefixes = []string{"x-amz-", "x-edge-"}

// Length limits of one origin custom header (CloudFront quotas).
const (
	maxOriginHeaderNameLen  = 256
	maxOriginHeaderValueLen = 1783
)

// validateOriginCustomHeaders checks one origin's custom headers: their
// total length (names and values) is at most maxBytes, names
// are RFC 9110 tokens CloudFront allows, values hold no control character
// but tab (so no CR or LF can split the header line), and no name appears
// twice.
func validateOriginCustomHeaders(originID string, h *CustomHeaders, maxBytes int) error {
	if h == nil {
		return nil
	}
	total := 0
	for _, item := range h.Items {
		total += len(Str(item.HeaderName)) + len(Str(item.HeaderValue))
	}
	if total > maxBytes {
		return ErrInvalidArgument.WithMessage("The custom headers of origin %q are %d characters long, names and values together; the maximum is %d.", originID, total, maxBytes)
	}
	seen := make(map[string]bool, len(h.Items))
	for _, item := range h.Items {
		name, value := Str(item.HeaderName), Str(item.HeaderValue)
		if name == "" || len(name) > maxOriginHeaderNameLen || !isToken(name) {
			return ErrInvalidArgument.WithMessage("The parameter HeaderName %q of origin %q is not valid: it must be 1 to %d characters of an HTTP header name.",
				name, originID, maxOriginHeaderNameLen)
		}
		canonical := http.CanonicalHeaderKey(name)
		if refusedOriginHeader(canonical) {
			return ErrInvalidArgument.WithMessage("The parameter HeaderName : %s is not allowed.", name)
		}
		if seen[canonical] {
			return ErrInvalidArgument.WithMessage("The parameter HeaderName : %s is used twice in origin %q.", name, originID)
		}
		seen[canonical] = true
		if len(value) > maxOriginHeaderValueLen || !isFieldValue(value) {
			return ErrInvalidArgument.WithMessage("The parameter HeaderValue of header %s in origin %q is not valid: it must be at most %d characters with no control character.",
				name, originID, maxOriginHeaderValueLen)
		}
	}
	return nil
}

func refusedOriginHeader(canonical string) bool {
	if refusedOriginHeaders[canonical] {
		return true
	}
	lower := strings.ToLower(canonical)
	for _, p := range refusedOriginHeaderPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// isToken reports whether s is an RFC 9110 token (a header name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isFieldValue reports whether s may be sent as a header value: visible
// characters, spaces and tabs, no other control character (RFC 9110
// field-value; CR, LF and NUL are what header injection needs).
func isFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
