package signed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Key is a trusted public key and the id a signer names it by (the
// CloudFront public key id, sent as Key-Pair-Id).
type Key struct {
	ID     string
	Public *rsa.PublicKey
	// ECDSA is set instead of Public for an ECDSA P-256 key (ecdsa.go).
	ECDSA *ecdsa.PublicKey
}

// Request is what verification reads of a viewer request.
type Request struct {
	// Scheme and Host start the URL the signer signed: scheme "http" or
	// "https", Host as the viewer sent it.
	Scheme, Host string
	// Path is the escaped path; RawQuery the query as sent.
	Path, RawQuery string
	// Cookies gives the viewer's cookies (may be nil).
	Cookies CookieSource
	// RemoteAddr is the viewer's address, host:port or host, read only
	// for an IpAddress condition, and only when Addr is nil: Addr then
	// gives the viewer's address instead.
	RemoteAddr string
	Addr       AddrSource
}

// AddrSource gives the viewer's address (invalid when unknown), for a
// caller that can find it without formatting and parsing RemoteAddr.
type AddrSource interface {
	Addr() netip.Addr
}

// CookieSource returns the value of a viewer cookie, or "".
type CookieSource interface {
	Cookie(name string) string
}

// addr parses the viewer's address.
func (r Request) addr() netip.Addr {
	if r.Addr != nil {
		return r.Addr.Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(strings.Trim(r.RemoteAddr, "[]"))
	return a.Unmap()
}

// Denial is CloudFront's answer to a request that fails verification.
type Denial struct {
	Code, Message string
}

// Body is the XML error document CloudFront sends with the 403.
func (d *Denial) Body() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + d.Code + "</Code><Message>" + d.Message + "</Message></Error>")
}

// The denials, as CloudFront words them.
var (
	denyMissingKey = &Denial{"MissingKey", "Missing Key-Pair-Id query parameter or cookie value"}
	denyUnknownKey = &Denial{"InvalidKey", "Unknown Key"}
	denyMalformed  = &Denial{"MalformedPolicy", "Malformed Policy"}
	denyAccess     = &Denial{"AccessDenied", "Access denied"}
)

// Query parameters and cookies that carry a signature.
const (
	paramExpires   = "Expires"
	paramPolicy    = "Policy"
	paramSignature = "Signature"
	paramKeyPairID = "Key-Pair-Id"
	paramHash      = "Hash-Algorithm"

	CookieExpires   = "CloudFront-Expires"
	CookiePolicy    = "CloudFront-Policy"
	CookieSignature = "CloudFront-Signature"
	CookieKeyPairID = "CloudFront-Key-Pair-Id"
	CookieHash      = "CloudFront-Hash-Algorithm"
)

// IsSigningCookie reports whether a cookie name is one of the four
// signing cookies, which the edge neither keys on nor forwards.
func IsSigningCookie(name string) bool {
	switch name {
	case CookieExpires, CookiePolicy, CookieSignature, CookieKeyPairID, CookieHash:
		return true
	}
	return false
}

// maxVerified bounds the set of verified signatures of one Verifier.
const maxVerified = 1 << 16

// maxMemoBytes bounds the bytes of the signed queries a Verifier
// remembers (see Verifier.byQuery).
const maxMemoBytes = 8 << 20

// Verifier checks the signed URLs and cookies of one protected behavior.
// It is safe for concurrent use.
type Verifier struct {
	keys map[string]*rsa.PublicKey
	// ecKeys are the trusted ECDSA keys (ecdsa.go), looked up only for a
	// key id that is not an RSA key's.
	ecKeys map[string]*ecdsa.PublicKey

	mu sync.RWMutex
	// verified maps a signature (as sent, base64) to what it was verified
	// against. Keyed by the signature alone, a lookup neither hashes nor
	// builds the signed statement; the entry's fields are compared instead.
	verified map[string]*verifiedEntry
	// byQuery maps a signed URL's whole query, as sent, to its verified
	// signature and its query without the signing parameters: a repeated
	// signed URL skips parsing the query. It only memoizes that work:
	// what the entry covers (the URL), its expiry and any IP condition
	// are checked on every request, as for a new one. Bounded by
	// memoBytes; full, it starts over.
	byQuery   map[string]queryMemo
	memoBytes int
}

type queryMemo struct {
	e    *verifiedEntry
	s    signature
	rest string
}

// verifiedEntry is a signature that verified, with what it covers.
type verifiedEntry struct {
	keyID, hash string
	// statement is the custom policy as sent (base64), or for a canned
	// policy "" with resource and expires.
	policyB64, resource, expires string
	policy                       *policy
}

// NewVerifier returns a Verifier trusting keys. With no keys every
// signed request is refused (Unknown Key), never served.
func NewVerifier(keys []Key) *Verifier {
	v := &Verifier{keys: make(map[string]*rsa.PublicKey, len(keys)), verified: map[string]*verifiedEntry{},
		byQuery: map[string]queryMemo{}}
	for _, k := range keys {
		if k.Public != nil {
			v.keys[k.ID] = k.Public
		} else if k.ECDSA != nil {
			if v.ecKeys == nil {
				v.ecKeys = map[string]*ecdsa.PublicKey{}
			}
			v.ecKeys[k.ID] = k.ECDSA
		}
	}
	return v
}

// signature is what one request presents.
type signature struct {
	keyID, sig, policyB64, expires string
	// hash is the Hash-Algorithm: "" or SHA1 (the default), or SHA256.
	hash                  string
	hasPolicy, hasExpires bool
}

// Verify checks req at now. On success it returns the query to serve the
// request with: req.RawQuery without the signing parameters (unchanged for
// signed cookies). On failure it returns the denial to send.
func (v *Verifier) Verify(req Request, now time.Time) (query string, denial *Denial) {
	if req.RawQuery != "" {
		v.mu.RLock()
		m, ok := v.byQuery[req.RawQuery]
		v.mu.RUnlock()
		if ok && m.e.covers(m.s, req, m.rest) {
			return m.e.check(req, m.rest, now)
		}
	}
	s, query, fromURL := fromQuery(req.RawQuery)
	if !fromURL {
		if req.Cookies != nil {
			s = fromCookies(req.Cookies.Cookie)
		}
		query = req.RawQuery
	}
	if s.keyID == "" {
		return "", denyMissingKey
	}
	pub := v.keys[s.keyID]
	var ecPub *ecdsa.PublicKey
	if pub == nil {
		if ecPub = v.ecKeys[s.keyID]; ecPub == nil {
			return "", denyUnknownKey
		}
	}
	if s.sig == "" || (!s.hasPolicy && !s.hasExpires) || (s.hash != "" && s.hash != "SHA1" && s.hash != "SHA256") {
		return "", denyAccess
	}
	v.mu.RLock()
	e := v.verified[s.sig]
	v.mu.RUnlock()
	if e == nil || !e.covers(s, req, query) {
		var denial *Denial
		if e, denial = v.verify(s, pub, ecPub, req, query); denial != nil {
			return "", denial
		}
	}
	if fromURL {
		v.memoize(req.RawQuery, queryMemo{e: e, s: s, rest: query})
	}
	return e.check(req, query, now)
}

// check applies a verified signature's conditions to req at now: its
// expiry, and for a custom policy its start, IP address and resource.
func (e *verifiedEntry) check(req Request, query string, now time.Time) (string, *Denial) {
	if e.policyB64 == "" { // canned: the signature covers the URL itself
		if now.Unix() >= e.policy.notAfter {
			return "", denyAccess
		}
		return query, nil
	}
	if !e.policy.allows(resourceOf(req, query), req.addr, now) {
		return "", denyAccess
	}
	return query, nil
}

// memoize remembers a signed query that verified (see byQuery).
func (v *Verifier) memoize(rawQuery string, m queryMemo) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.byQuery[rawQuery]; ok {
		return
	}
	if v.memoBytes+len(rawQuery) > maxMemoBytes {
		v.byQuery, v.memoBytes = map[string]queryMemo{}, 0
	}
	v.byQuery[rawQuery] = m
	v.memoBytes += len(rawQuery)
}

func resourceOf(req Request, query string) string {
	if query == "" {
		return req.Scheme + "://" + req.Host + req.Path
	}
	return req.Scheme + "://" + req.Host + req.Path + "?" + query
}

// covers reports whether a verified entry is for what s presents, on req.
func (e *verifiedEntry) covers(s signature, req Request, query string) bool {
	if e.keyID != s.keyID || e.hash != s.hash {
		return false
	}
	if s.hasPolicy {
		return e.policyB64 == s.policyB64
	}
	if e.policyB64 != "" || e.expires != s.expires {
		return false
	}
	// e.resource == resourceOf(req, query), without building it.
	r := e.resource
	for _, part := range [...]string{req.Scheme, "://", req.Host, req.Path} {
		if !strings.HasPrefix(r, part) {
			return false
		}
		r = r[len(part):]
	}
	if query == "" {
		return r == ""
	}
	return len(r) == len(query)+1 && r[0] == '?' && r[1:] == query
}

// verify checks a signature the Verifier has not seen (RSA or ECDSA work,
// with pub or ecPub) and remembers it.
func (v *Verifier) verify(s signature, pub *rsa.PublicKey, ecPub *ecdsa.PublicKey, req Request, query string) (*verifiedEntry, *Denial) {
	e := &verifiedEntry{keyID: s.keyID, hash: s.hash}
	var statement string
	if s.hasPolicy {
		b, err := decodeBase64(s.policyB64)
		if err != nil {
			return nil, denyMalformed
		}
		statement, e.policyB64 = string(b), s.policyB64
	} else {
		exp, err := strconv.ParseInt(s.expires, 10, 64)
		if err != nil || exp < 0 {
			return nil, denyAccess
		}
		e.resource, e.expires = resourceOf(req, query), s.expires
		statement = CannedPolicy(e.resource, exp)
	}
	sig, err := decodeBase64(s.sig)
	if err != nil {
		return nil, denyAccess
	}
	if ecPub != nil {
		if !verifyECDSA(ecPub, s.hash, statement, sig) {
			return nil, denyAccess
		}
	} else if s.hash == "SHA256" {
		digest := sha256.Sum256([]byte(statement))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	} else {
		digest := sha1.Sum([]byte(statement))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest[:], sig)
	}
	if err != nil {
		return nil, denyAccess
	}
	if e.policy, err = parsePolicy([]byte(statement)); err != nil {
		return nil, denyMalformed
	}
	v.mu.Lock()
	if len(v.verified) >= maxVerified {
		// Full: start over rather than track recency on the hot path.
		v.verified = make(map[string]*verifiedEntry)
	}
	v.verified[s.sig] = e
	v.mu.Unlock()
	return e, nil
}

// fromQuery finds the signing parameters in a raw query. fromURL reports
// whether it has any; rest is the query without them, in the viewer's
// order and encoding.
func fromQuery(raw string) (s signature, rest string, fromURL bool) {
	if raw == "" {
		return s, raw, false
	}
	// The signing parameters come last in a CloudFront signed URL: then
	// the rest is a prefix of the query, kept without copying.
	restEnd, signing, interleaved := 0, false, false
	for start := 0; start <= len(raw); {
		end := strings.IndexByte(raw[start:], '&')
		if end < 0 {
			end = len(raw)
		} else {
			end += start
		}
		param := raw[start:end]
		next := end + 1
		rawName, rawValue, _ := strings.Cut(param, "=")
		name := unescape(rawName)
		switch name {
		case paramKeyPairID, paramSignature, paramPolicy, paramExpires, paramHash:
		default:
			if signing {
				interleaved = true
			} else if param != "" {
				restEnd = end
			}
			start = next
			continue
		}
		value := unescape(rawValue)
		switch name {
		case paramKeyPairID:
			s.keyID = value
		case paramSignature:
			s.sig = value
		case paramPolicy:
			s.policyB64, s.hasPolicy = value, true
		case paramExpires:
			s.expires, s.hasExpires = value, true
		case paramHash:
			s.hash = value
		}
		signing, fromURL = true, true
		start = next
	}
	if !interleaved {
		return s, raw[:restEnd], fromURL
	}
	var out strings.Builder
	for param := range strings.SplitSeq(raw, "&") {
		rawName, _, _ := strings.Cut(param, "=")
		switch unescape(rawName) {
		case paramKeyPairID, paramSignature, paramPolicy, paramExpires, paramHash:
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('&')
		}
		out.WriteString(param)
	}
	return s, out.String(), fromURL
}

func fromCookies(cookie func(string) string) signature {
	s := signature{keyID: cookie(CookieKeyPairID), sig: cookie(CookieSignature)}
	if p := cookie(CookiePolicy); p != "" {
		s.policyB64, s.hasPolicy = p, true
	}
	if e := cookie(CookieExpires); e != "" {
		s.expires, s.hasExpires = e, true
	}
	s.hash = cookie(CookieHash)
	return s
}

// unescape decodes a query component; one with nothing to decode (a
// signature, an expiry, a key id) is returned as it is, without a scan by
// net/url.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
