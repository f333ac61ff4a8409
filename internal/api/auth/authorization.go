package auth

import (
	"fmt"
	"strings"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// Algorithm is the only signing algorithm stagefront accepts.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	scopeTerminator = "aws4_request"
	signatureHexLen = 64 // hex of an HMAC-SHA256
)

// Authorization is a parsed SigV4 Authorization header (or the equivalent
// X-Amz-* query parameters of a presigned URL).
type Authorization struct {
	AccessKeyID string
	Date        string // YYYYMMDD of the credential scope
	Region      string
	Service     string
	// SignedHeaders are the lowercase header names, in the client's order
	// (SigV4 requires them sorted; the verifier compares, it does not sort).
	SignedHeaders []string
	Signature     string // 64 lowercase hex digits
}

// Scope is the credential scope: date/region/service/aws4_request.
func (a Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + scopeTerminator
}

// String renders a in the form the AWS SDKs send; ParseAuthorization of the
// result yields a again.
func (a Authorization) String() string {
	return Algorithm + " Credential=" + a.AccessKeyID + "/" + a.Scope() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + a.Signature
}

// ParseAuthorization parses a SigV4 Authorization header value:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// Like AWS it tolerates the components being separated by commas, spaces or
// both, in any order. A missing, repeated, unknown or malformed component is
// an IncompleteSignature error.
func ParseAuthorization(h string) (Authorization, error) {
	h = strings.Trim(h, " \t")
	algorithm, rest := h, ""
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		algorithm, rest = h[:i], h[i+1:]
	}
	if algorithm != Algorithm {
		return Authorization{}, incomplete("Unsupported AWS 'algorithm': '%s'.", truncate(algorithm, 32))
	}
	parts := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	var credential, signedHeaders, signature *string
	for _, part := range parts {
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Authorization{}, incomplete("Authorization header component '%s' is not of the form key=value.", truncate(part, 32))
		}
		var slot **string
		switch key {
		case "Credential":
			slot = &credential
		case "SignedHeaders":
			slot = &signedHeaders
		case "Signature":
			slot = &signature
		default:
			return Authorization{}, incomplete("Authorization header has an unknown component '%s'.", truncate(key, 32))
		}
		if *slot != nil {
			return Authorization{}, incomplete("Authorization header has a repeated '%s' component.", key)
		}
		*slot = &value
	}
	var missing []string
	for _, c := range []struct {
		name  string
		value *string
	}{{"Credential", credential}, {"Signature", signature}, {"SignedHeaders", signedHeaders}} {
		if c.value == nil {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", c.name))
		}
	}
	if len(missing) > 0 {
		return Authorization{}, incomplete("%s", strings.Join(missing, " "))
	}
	return buildAuthorization(*credential, *signedHeaders, *signature)
}

// buildAuthorization validates the three components shared by the header and
// the presigned-query forms.
func buildAuthorization(credential, signedHeaders, signature string) (Authorization, error) {
	var a Authorization
	fields := strings.Split(credential, "/")
	if len(fields) != 5 || fields[0] == "" || fields[2] == "" || fields[3] == "" {
		return a, incomplete("Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request, got '%s'.", truncate(credential, 128))
	}
	if !isDigits(fields[1], 8) {
		return a, incomplete("Credential date '%s' is not of the form YYYYMMDD.", truncate(fields[1], 16))
	}
	if fields[4] != scopeTerminator {
		return a, incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(fields[4], 32))
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = fields[0], fields[1], fields[2], fields[3]

	for name := range strings.SplitSeq(signedHeaders, ";") {
		if !isHeaderName(name) {
			return Authorization{}, incomplete("SignedHeaders must be a ';'-separated list of lowercase header names, got '%s'.", truncate(signedHeaders, 128))
		}
		a.SignedHeaders = append(a.SignedHeaders, name)
	}

	signature = strings.ToLower(signature)
	if len(signature) != signatureHexLen || strings.Trim(signature, "0123456789abcdef") != "" {
		return Authorization{}, incomplete("Signature must be %d hexadecimal digits.", signatureHexLen)
	}
	a.Signature = signature
	return a, nil
}

func incomplete(format string, args ...any) error {
	return fmt.Errorf("auth: %w", cloudfront.ErrIncompleteSignature.WithMessage(format, args...))
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHeaderName reports whether s is a non-empty lowercase RFC 9110 token.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// truncate keeps client-supplied text in error messages short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
