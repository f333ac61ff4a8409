package shield

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names of a shield request (the edge's side of the exchange).
const (
	// HeaderAuth carries "<unix seconds>.<base64url HMAC>".
	HeaderAuth = "X-Stagefront-Shield-Auth"
	// HeaderRequest carries the signed fields other than the HTTP request
	// line and Host, as a query string.
	HeaderRequest = "X-Stagefront-Shield-Request"
)

// MaxSkew is how far a shield request's timestamp may be from the
// shield's clock: a captured request cannot be replayed for longer.
const MaxSkew = time.Minute

// Errors of Verify.
var (
	ErrBadSignature = errors.New("shield request signature does not match")
	ErrExpired      = errors.New("shield request timestamp outside the accepted window")
)

// Signer signs and verifies shield requests under the fleet's secret.
type Signer struct{ secret []byte }

// NewSigner returns a Signer; secret must not be empty.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 16 {
		return nil, errors.New("shield: the fleet secret must be at least 16 bytes")
	}
	return &Signer{secret: append([]byte(nil), secret...)}, nil
}

// Sign returns the HeaderAuth value for fields at now.
func (s *Signer) Sign(now time.Time, fields ...string) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(s.mac(ts, fields))
}

// Verify checks an HeaderAuth value against fields at now.
func (s *Signer) Verify(now time.Time, auth string, fields ...string) error {
	ts, sig, ok := strings.Cut(auth, ".")
	if !ok {
		return ErrBadSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(ts, fields)) {
		return ErrBadSignature
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrExpired
	}
	return nil
}

// mac is HMAC-SHA256 over the timestamp and the fields, each preceded by
// its length so that no two field lists sign the same bytes.
func (s *Signer) mac(ts string, fields []string) []byte {
	m := hmac.New(sha256.New, s.secret)
	var n [20]byte
	for _, f := range append([]string{ts}, fields...) {
		m.Write(strconv.AppendInt(n[:0], int64(len(f)), 10))
		m.Write([]byte{':'})
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}
