package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

const (
	// Service is the SigV4 service name clients sign for.
	Service = "cloudfront"
	// DefaultSkew is how far X-Amz-Date may be from the server clock (AWS's).
	DefaultSkew = 15 * time.Minute
	// Anonymous is the principal of every request when authentication is off.
	Anonymous = "anonymous"

	amzDateLayout    = "20060102T150405Z"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	maxPresignExpiry = 7 * 24 * time.Hour
)

// ErrRequestTimeTooSkewed is returned when X-Amz-Date is further than the
// allowed skew from the server clock.
var ErrRequestTimeTooSkewed = cloudfront.ErrRequestTimeTooSkewed

// Credentials finds the secret of an access key and the name of the
// principal that owns it.
type Credentials interface {
	Lookup(accessKeyID string) (secret, name string, ok bool)
}

// Verifier checks SigV4 signatures. The signature is recomputed with the AWS
// SDK's own signer, never by hand, so that stagefront canonicalizes requests
// exactly as the clients do. It is safe for concurrent use.
type Verifier struct {
	creds     Credentials
	now       func() time.Time
	skew      time.Duration
	signer    *v4.Signer
	anonymous bool
	// service is the SigV4 service the signature must be scoped to; ""
	// means Service.
	service string
}

// NewVerifier returns a Verifier that looks keys up in creds and compares
// request times with now. skew <= 0 means DefaultSkew.
func NewVerifier(creds Credentials, now func() time.Time, skew time.Duration) *Verifier {
	if skew <= 0 {
		skew = DefaultSkew
	}
	return &Verifier{creds: creds, now: now, skew: skew, signer: v4.NewSigner()}
}

// None returns a Verifier that accepts every request as Anonymous.
func None() *Verifier { return &Verifier{anonymous: true} }

// ForService returns a Verifier with the same keys and clock that requires
// signatures scoped to another SigV4 service (the CloudFormation API shares
// the listener and the key pairs). A nil receiver stays nil.
func (v *Verifier) ForService(service string) *Verifier {
	if v == nil {
		return nil
	}
	c := *v
	c.service = service
	return &c
}

// Service returns the SigV4 service the verifier requires.
func (v *Verifier) Service() string {
	if v.service == "" {
		return Service
	}
	return v.service
}

// signedRequest is what a request claims about its own signature.
type signedRequest struct {
	auth      Authorization
	amzDate   string
	date      time.Time
	presigned bool
	expires   time.Duration // presigned only
}

// Verify checks r's SigV4 signature (Authorization header or presigned
// query) over r and body, and returns the name of the principal that signed
// it. Errors wrap a *cloudfront.Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (principalName string, err error) {
	if v.anonymous {
		return Anonymous, nil
	}
	c, err := v.claim(r)
	if err != nil {
		return "", err
	}
	return v.verifyClaim(r, body, c)
}

// claimed is a request's signature claim that passed every check that
// does not need the body.
type claimed struct {
	sr           signedRequest
	secret, name string
}

// claim checks what a request claims about its signature without reading
// its body: an Authorization header (or presigned query) that parses, a
// known access key, a time within the skew. A request that fails here is
// refused before its body is read, so an unauthenticated client cannot
// make the API hold its body.
func (v *Verifier) claim(r *http.Request) (claimed, error) {
	sr, err := readSignature(r)
	if err != nil {
		return claimed{}, err
	}
	if want := v.Service(); sr.auth.Service != want {
		return claimed{}, mismatch("Credential should be scoped to correct service: '%s'.", want)
	}
	secret, name, ok := v.creds.Lookup(sr.auth.AccessKeyID)
	if !ok {
		return claimed{}, fmt.Errorf("auth: access key %q: %w", truncate(sr.auth.AccessKeyID, 32), cloudfront.ErrInvalidClientTokenID)
	}
	if err := v.checkTime(sr); err != nil {
		return claimed{}, err
	}
	if sr.auth.Date != sr.amzDate[:8] {
		return claimed{}, mismatch("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'.", sr.auth.Date, sr.amzDate[:8])
	}
	return claimed{sr: sr, secret: secret, name: name}, nil
}

// verifyClaim checks the signature of a claim over the request and body.
func (v *Verifier) verifyClaim(r *http.Request, body []byte, c claimed) (string, error) {
	sr, secret, name := c.sr, c.secret, c.name
	hashes, err := payloadHashes(r, body, sr.presigned)
	if err != nil {
		return "", err
	}
	creds := aws.Credentials{AccessKeyID: sr.auth.AccessKeyID, SecretAccessKey: secret}
	for _, payloadHash := range hashes {
		want, err := v.sign(r, sr, creds, payloadHash)
		if err != nil {
			return "", err
		}
		if !slices.Equal(want.SignedHeaders, sr.auth.SignedHeaders) {
			return "", mismatch("%s", signedHeadersProblem(sr.auth.SignedHeaders, want.SignedHeaders))
		}
		if subtle.ConstantTimeCompare([]byte(want.Signature), []byte(sr.auth.Signature)) == 1 {
			return name, nil
		}
	}
	return "", fmt.Errorf("auth: %w", cloudfront.ErrSignatureDoesNotMatch)
}

// readSignature extracts the claimed signature from the Authorization header
// or, failing that, from presigned-URL query parameters.
func readSignature(r *http.Request) (signedRequest, error) {
	headers := r.Header.Values("Authorization")
	query := r.URL.Query()
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	switch {
	case len(headers) == 0 && !presigned:
		return signedRequest{}, fmt.Errorf("auth: %w", cloudfront.ErrMissingAuthenticationToken)
	case len(headers) > 0 && presigned:
		return signedRequest{}, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(headers) > 1:
		return signedRequest{}, incomplete("Only one Authorization header is allowed.")
	}

	var sr signedRequest
	if presigned {
		var err error
		if sr, err = readPresigned(query); err != nil {
			return signedRequest{}, err
		}
	} else {
		auth, err := ParseAuthorization(headers[0])
		if err != nil {
			return signedRequest{}, err
		}
		// The Date header fallback of SigV4 is not supported: the SDK signer
		// always signs x-amz-date, and every SDK sends it.
		sr = signedRequest{auth: auth, amzDate: r.Header.Get("X-Amz-Date")}
		if sr.amzDate == "" {
			return signedRequest{}, incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
		}
	}
	date, err := time.Parse(amzDateLayout, sr.amzDate)
	if err != nil {
		return signedRequest{}, incomplete("X-Amz-Date '%s' must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z').", truncate(sr.amzDate, 32))
	}
	sr.date = date
	return sr, nil
}

func readPresigned(query url.Values) (signedRequest, error) {
	var missing []string
	for _, key := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if len(query[key]) != 1 {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return signedRequest{}, incomplete("Presigned requests require exactly one of each query parameter: %s.", strings.Join(missing, ", "))
	}
	if algorithm := query.Get("X-Amz-Algorithm"); algorithm != Algorithm {
		return signedRequest{}, incomplete("Unsupported AWS 'algorithm': '%s'.", truncate(algorithm, 32))
	}
	auth, err := buildAuthorization(query.Get("X-Amz-Credential"), query.Get("X-Amz-SignedHeaders"), query.Get("X-Amz-Signature"))
	if err != nil {
		return signedRequest{}, err
	}
	seconds, err := strconv.ParseInt(query.Get("X-Amz-Expires"), 10, 64)
	if err != nil || seconds < 1 || time.Duration(seconds)*time.Second > maxPresignExpiry {
		return signedRequest{}, incomplete("X-Amz-Expires must be a number of seconds between 1 and %d.", int64(maxPresignExpiry/time.Second))
	}
	return signedRequest{
		auth:      auth,
		amzDate:   query.Get("X-Amz-Date"),
		presigned: true,
		expires:   time.Duration(seconds) * time.Second,
	}, nil
}

// checkTime applies AWS's rules: a signed request must be within the skew of
// now; a presigned one must not be from the future and must not be expired.
func (v *Verifier) checkTime(sr signedRequest) error {
	now := v.now().UTC()
	if latest := now.Add(v.skew); sr.date.After(latest) {
		return fmt.Errorf("auth: %w", ErrRequestTimeTooSkewed.WithMessage(
			"Signature not yet current: %s is still later than %s (%s + %s).",
			sr.amzDate, latest.Format(amzDateLayout), now.Format(amzDateLayout), formatSkew(v.skew)))
	}
	if sr.presigned {
		if expiry := sr.date.Add(sr.expires); now.After(expiry) {
			return fmt.Errorf("auth: %w", cloudfront.ErrRequestExpired.WithMessage(
				"Request has expired: it expired at %s and it is now %s.", expiry.Format(amzDateLayout), now.Format(amzDateLayout)))
		}
		return nil
	}
	if earliest := now.Add(-v.skew); sr.date.Before(earliest) {
		return fmt.Errorf("auth: %w", ErrRequestTimeTooSkewed.WithMessage(
			"Signature expired: %s is now earlier than %s (%s - %s).",
			sr.amzDate, earliest.Format(amzDateLayout), now.Format(amzDateLayout), formatSkew(v.skew)))
	}
	return nil
}

func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String()
}

// payloadHashes returns the payload hashes the client may have signed. An
// X-Amz-Content-Sha256 header is signed by the client but says nothing about
// the body we received, so it must match the body; UNSIGNED-PAYLOAD is only
// accepted for an empty body, because for a control-plane API an unsigned
// body would be an unauthenticated mutation.
func payloadHashes(r *http.Request, body []byte, presigned bool) ([]string, error) {
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" {
		if strings.EqualFold(claimed, bodyHash) || (claimed == unsignedPayload && len(body) == 0) {
			return []string{claimed}, nil
		}
		return nil, mismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if presigned && len(body) == 0 {
		// Presigners differ: botocore hashes the (empty) body, S3-style
		// presigners sign UNSIGNED-PAYLOAD.
		return []string{bodyHash, unsignedPayload}, nil
	}
	return []string{bodyHash}, nil
}

// sign recomputes the signature of r with the SDK signer and returns it in
// the same shape as the client's claim.
//
// The SDK signer decides on its own which headers to sign: host (from
// req.Host), content-length (only if req.ContentLength > 0), x-amz-date
// (always, overwritten with the signing time) and every other header present
// except User-Agent, Expect, Transfer-Encoding, X-Amzn-Trace-Id and
// Authorization. So the clone carries exactly the headers the client signed;
// whatever the SDK then signs beyond or short of that list is reported by the
// caller as unverifiable rather than as a wrong secret.
func (v *Verifier) sign(r *http.Request, sr signedRequest, creds aws.Credentials, payloadHash string) (Authorization, error) {
	clone, err := signingClone(r, sr)
	if err != nil {
		return Authorization{}, err
	}
	if !sr.presigned {
		if err := v.signer.SignHTTP(r.Context(), creds, clone, payloadHash, sr.auth.Service, sr.auth.Region, sr.date); err != nil {
			return Authorization{}, fmt.Errorf("auth: signing: %w", cloudfront.ErrInternalError.WithMessage("signing: %v", err))
		}
		auth, err := ParseAuthorization(clone.Header.Get("Authorization"))
		if err != nil {
			return Authorization{}, fmt.Errorf("auth: parsing the SDK's own signature: %w", err)
		}
		return auth, nil
	}
	signedURI, _, err := v.signer.PresignHTTP(r.Context(), creds, clone, payloadHash, sr.auth.Service, sr.auth.Region, sr.date,
		func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
	if err != nil {
		return Authorization{}, fmt.Errorf("auth: presigning: %w", cloudfront.ErrInternalError.WithMessage("presigning: %v", err))
	}
	u, err := url.Parse(signedURI)
	if err != nil {
		return Authorization{}, fmt.Errorf("auth: parsing the SDK's presigned URL: %w", cloudfront.ErrInternalError.WithMessage("%v", err))
	}
	q := u.Query()
	auth, err := buildAuthorization(q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"))
	if err != nil {
		return Authorization{}, fmt.Errorf("auth: parsing the SDK's own presigned URL: %w", err)
	}
	return auth, nil
}

// signingClone builds the request the SDK signer sees: same method, host,
// path (escaped as received) and query, and only the signed headers.
func signingClone(r *http.Request, sr signedRequest) (*http.Request, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if sr.presigned {
		q := r.URL.Query()
		q.Del("X-Amz-Signature")
		u.RawQuery = q.Encode()
	}
	// Built by hand rather than with http.NewRequest so that RawPath, the
	// path exactly as the client escaped it, survives.
	clone := (&http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}).WithContext(r.Context())
	for _, name := range sr.auth.SignedHeaders {
		switch name {
		case "host": // the signer reads clone.Host
		case "content-length":
			n := r.ContentLength
			if cl := r.Header.Get("Content-Length"); cl != "" {
				var err error
				if n, err = strconv.ParseInt(cl, 10, 64); err != nil {
					return nil, mismatch("Content-Length '%s' is not a number.", truncate(cl, 32))
				}
			}
			clone.ContentLength = n
		default:
			if values := r.Header.Values(name); len(values) > 0 {
				clone.Header[textproto.CanonicalMIMEHeaderKey(name)] = slices.Clone(values)
			}
		}
	}
	return clone, nil
}

// signedHeadersProblem explains why the SDK signer could not sign the same
// header list as the client.
func signedHeadersProblem(client, sdk []string) string {
	var reasons []string
	for _, name := range client {
		if slices.Contains(sdk, name) {
			continue
		}
		switch name {
		case "content-length":
			reasons = append(reasons, "a content-length of 0 cannot be verified")
		case "user-agent", "expect", "transfer-encoding", "x-amzn-trace-id", "authorization":
			reasons = append(reasons, fmt.Sprintf("header '%s' must not be signed", name))
		default:
			reasons = append(reasons, fmt.Sprintf("signed header '%s' is not in the request", name))
		}
	}
	for _, name := range sdk {
		if !slices.Contains(client, name) {
			reasons = append(reasons, fmt.Sprintf("header '%s' must be signed", name))
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "SignedHeaders must be sorted and without duplicates")
	}
	return fmt.Sprintf("The request signature cannot be verified: SignedHeaders '%s': %s.",
		truncate(strings.Join(client, ";"), 256), strings.Join(reasons, "; "))
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("auth: %w", cloudfront.ErrSignatureDoesNotMatch.WithMessage(format, args...))
}
