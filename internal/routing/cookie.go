package routing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// CookieName is the sticky-session cookie: CloudFront's own name for it,
// as seen in browsers (docs/cloudfront.md, "Sticky sessions").
const CookieName = "x-amz-continuous-deployment-state"

// The cookie's value is base64url (no padding) of 48 bytes:
//
//	[0]      version (1)
//	[1]      variant (0 primary, 1 staging)
//	[2:10]   scope: SHA-256(primary id, policy id)[:8]
//	[10:18]  policy generation, big-endian
//	[18:26]  session start, Unix seconds, big-endian
//	[26:30]  last seen - start, seconds, big-endian
//	[30:48]  HMAC-SHA256(key, bytes 0..29), truncated to 144 bits
//
// 48 bytes make exactly 64 characters, so the encoding has no spare bits:
// every value decodes to one byte string and back, and a changed character
// always changes the bytes the MAC covers.
const (
	cookieVersion  = 1
	payloadLen     = 30
	macLen         = 18
	rawCookieLen   = payloadLen + macLen
	cookieValueLen = rawCookieLen / 3 * 4
)

// cookieState is what a cookie carries.
type cookieState struct {
	variant     Variant
	scope       [8]byte
	generation  int64
	start, last int64 // Unix seconds
}

// signer computes HMAC-SHA256 over cookie payloads with one key. It keeps
// HMAC states in a pool because crypto/hmac allocates on New, and a reset
// HMAC restores its precomputed key pads (two SHA-256 blocks per MAC instead
// of four). The pool is per signer: no package-level state.
type signer struct {
	key  []byte
	pool sync.Pool // of *macState
}

// macState is one pooled HMAC with buffers that live as long as it does,
// so nothing escapes from the caller's stack through the hash.Hash calls.
type macState struct {
	h   hash.Hash
	msg [payloadLen]byte
	sum [sha256.Size]byte
}

func newSigner(key []byte) *signer {
	if len(key) == 0 {
		return nil
	}
	s := &signer{key: bytes.Clone(key)}
	s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, s.key)} }
	return s
}

func (s *signer) mac(payload *[payloadLen]byte) [sha256.Size]byte {
	m := s.pool.Get().(*macState)
	m.msg = *payload
	m.h.Reset()
	m.h.Write(m.msg[:])
	out := [sha256.Size]byte(m.h.Sum(m.sum[:0]))
	s.pool.Put(m)
	return out
}

// scopeOf binds a cookie to one primary and one policy.
func scopeOf(primaryID, policyID string) [8]byte {
	sum := sha256.Sum256([]byte(primaryID + "\x00" + policyID))
	var out [8]byte
	copy(out[:], sum[:8])
	return out
}

// appendCookieValue appends the signed, encoded state to dst.
func (s *signer) appendCookieValue(dst []byte, st cookieState) []byte {
	var raw [rawCookieLen]byte
	raw[0] = cookieVersion
	raw[1] = byte(st.variant)
	copy(raw[2:10], st.scope[:])
	binary.BigEndian.PutUint64(raw[10:18], uint64(st.generation))
	binary.BigEndian.PutUint64(raw[18:26], uint64(st.start))
	delta := st.last - st.start
	delta = min(max(delta, 0), 1<<32-1)
	binary.BigEndian.PutUint32(raw[26:30], uint32(delta))
	mac := s.mac((*[payloadLen]byte)(raw[:payloadLen]))
	copy(raw[payloadLen:], mac[:macLen])
	return base64.RawURLEncoding.AppendEncode(dst, raw[:])
}

// decodeCookie decodes and authenticates a cookie value. It only checks the
// format and the MAC; whether the session still holds is the caller's.
func (s *signer) decodeCookie(value string) (cookieState, bool) {
	if s == nil || len(value) != cookieValueLen {
		return cookieState{}, false
	}
	// Copying into an array keeps the []byte that Decode wants on the stack.
	var src [cookieValueLen]byte
	copy(src[:], value)
	var raw [rawCookieLen]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], src[:]); err != nil || n != rawCookieLen {
		return cookieState{}, false
	}
	mac := s.mac((*[payloadLen]byte)(raw[:payloadLen]))
	if subtle.ConstantTimeCompare(mac[:macLen], raw[payloadLen:]) != 1 {
		return cookieState{}, false
	}
	if raw[0] != cookieVersion || raw[1] > byte(VariantStaging) {
		return cookieState{}, false
	}
	st := cookieState{
		variant:    Variant(raw[1]),
		generation: int64(binary.BigEndian.Uint64(raw[10:18])),
		start:      int64(binary.BigEndian.Uint64(raw[18:26])),
	}
	copy(st.scope[:], raw[2:10])
	st.last = st.start + int64(binary.BigEndian.Uint32(raw[26:30]))
	return st, true
}

// StickyCookieValue returns the value of the sticky-session cookie in the
// request's Cookie headers, or "". Unlike http.Request.Cookie it does not
// allocate: the value is a substring of the header.
func StickyCookieValue(h http.Header) string {
	for _, line := range h["Cookie"] {
		if v, ok := StickyCookieInLine(line); ok {
			return v
		}
	}
	return ""
}

// StickyCookieInLine returns the sticky-session cookie's value in one
// Cookie header line, as StickyCookieValue does for a whole header.
func StickyCookieInLine(line string) (string, bool) {
	for line != "" {
		var part string
		part, line, _ = strings.Cut(line, ";")
		part = strings.TrimSpace(part)
		name, value, ok := strings.Cut(part, "=")
		if !ok || name != CookieName {
			continue
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		return value, true
	}
	return "", false
}
