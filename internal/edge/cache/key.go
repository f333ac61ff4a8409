package cache

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Key is a built cache key. Build it with KeyBuilder; the zero Key is valid
// but names nothing useful.
type Key struct {
	str       string // the full canonical key: identity, path and all parts
	identity  string // Identity.String()
	purgePath string // path, plus "?"+canonical query when the key has query parts
}

// String returns the canonical key.
func (k Key) String() string { return k.str }

// OriginIdentity returns the encoded Identity the key was built from.
func (k Key) OriginIdentity() string { return k.identity }

// PurgePath returns the path invalidations are matched against: the viewer
// path, plus "?" and the key's query parameters sorted, when the policy puts
// query strings in the key (CloudFront then requires invalidation paths to
// name the query string, or to end with "*").
func (k Key) PurgePath() string { return k.purgePath }

type keyPart struct{ name, value string }

// KeyBuilder assembles a Key from an Identity, the viewer path and
// whichever query parameters, headers and cookies the cache policy includes.
// The caller selects the parts; the builder makes the result independent of
// the order they arrived in: parameters, headers and cookies are each sorted
// by name and then value, so ?a=1&b=2 and ?b=2&a=1 give the same Key.
// A KeyBuilder is not safe for concurrent use. Reset makes it reusable (a
// sync.Pool of builders lets the hot path build keys without allocating).
type KeyBuilder struct {
	identity string
	path     string
	query    []keyPart
	headers  []keyPart
	cookies  []keyPart
	buf      []byte // the encoded key, after encode
}

// NewKeyBuilder starts a key for the object at path (the viewer's request
// path, in its escaped form, without the query) fetched as id says.
func NewKeyBuilder(id Identity, path string) *KeyBuilder {
	return &KeyBuilder{identity: id.String(), path: path}
}

// Reset starts a new key on b, keeping its storage. The identity is
// computed once per configuration (IdentityOf), never per request.
func (b *KeyBuilder) Reset(id Identity, path string) {
	b.identity, b.path = id.String(), path
	clear(b.query) // drop references to the last request's strings
	clear(b.headers)
	clear(b.cookies)
	b.query, b.headers, b.cookies, b.buf = b.query[:0], b.headers[:0], b.cookies[:0], b.buf[:0]
}

// Query adds one query parameter (decoded name and value). Names are
// case-sensitive, as in CloudFront.
func (b *KeyBuilder) Query(name, value string) *KeyBuilder {
	b.query = append(b.query, keyPart{name, value})
	return b
}

// QueryValues adds every value of every parameter in v.
func (b *KeyBuilder) QueryValues(v url.Values) *KeyBuilder {
	for name, values := range v {
		for _, value := range values {
			b.Query(name, value)
		}
	}
	return b
}

// Header adds one header value; the name is case-insensitive (ASCII, as
// header names are): it is lowercased when the key is encoded, so adding
// a header costs no allocation.
func (b *KeyBuilder) Header(name, value string) *KeyBuilder {
	b.headers = append(b.headers, keyPart{name, value})
	return b
}

// Cookie adds one cookie; names are case-sensitive.
func (b *KeyBuilder) Cookie(name, value string) *KeyBuilder {
	b.cookies = append(b.cookies, keyPart{name, value})
	return b
}

// Key returns the canonical key. The builder may be reused afterwards, and
// the key shares no memory with the strings given to the builder (a caller
// may pass strings that alias a request's buffers).
func (b *KeyBuilder) Key() Key {
	b.encode()
	purgePath := strings.Clone(b.path)
	if len(b.query) > 0 {
		purgePath = b.path + "?" + canonicalQuery(b.query)
	}
	return Key{str: string(b.buf), identity: b.identity, purgePath: purgePath}
}

// encode sorts the parts and writes the canonical key into b.buf.
func (b *KeyBuilder) encode() {
	sortParts(b.query)
	sortHeaderParts(b.headers)
	sortParts(b.cookies)

	// Every variable field is length-prefixed, so no choice of values can
	// make two different part lists encode alike.
	buf := b.buf[:0]
	buf = append(buf, "v1|"...)
	buf = appendField(buf, b.identity)
	buf = appendField(buf, b.path)
	buf = appendParts(buf, 'q', b.query, false)
	buf = appendParts(buf, 'h', b.headers, true)
	buf = appendParts(buf, 'c', b.cookies, false)
	b.buf = buf
}

// sortHeaderParts sorts header parts by lowercased name, then value.
// Parts already in order (none, one, or added in order) skip the sort:
// a cache hit pays only the check.
func sortHeaderParts(parts []keyPart) {
	if len(parts) < 2 || slices.IsSortedFunc(parts, compareHeaderParts) {
		return
	}
	slices.SortFunc(parts, compareHeaderParts)
}

func compareHeaderParts(x, y keyPart) int {
	return cmp.Or(compareLower(x.name, y.name), strings.Compare(x.value, y.value))
}

// compareLower compares ASCII-lowercased a and b.
func compareLower(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func sortParts(parts []keyPart) {
	if len(parts) < 2 || slices.IsSortedFunc(parts, compareParts) {
		return
	}
	slices.SortFunc(parts, compareParts)
}

func compareParts(x, y keyPart) int {
	return cmp.Or(strings.Compare(x.name, y.name), strings.Compare(x.value, y.value))
}

func appendField(buf []byte, s string) []byte {
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	return append(buf, s...)
}

func appendParts(buf []byte, tag byte, parts []keyPart, lowerNames bool) []byte {
	buf = append(buf, '|', tag)
	buf = strconv.AppendInt(buf, int64(len(parts)), 10)
	for _, p := range parts {
		if lowerNames {
			buf = strconv.AppendInt(buf, int64(len(p.name)), 10)
			buf = append(buf, ':')
			start := len(buf)
			buf = append(buf, p.name...)
			for i, c := range buf[start:] {
				if 'A' <= c && c <= 'Z' {
					buf[start+i] = c + 'a' - 'A'
				}
			}
		} else {
			buf = appendField(buf, p.name)
		}
		buf = appendField(buf, p.value)
	}
	return buf
}

// canonicalQuery encodes sorted parts as name=value pairs joined by "&".
func canonicalQuery(parts []keyPart) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(p.name))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(p.value))
	}
	return sb.String()
}

// normalizeQueryPath puts the query of an exact invalidation path into the
// same canonical order as Key.PurgePath, so "/a?b=2&a=1" matches an object
// cached from "/a?a=1&b=2". A query that does not parse is left as written.
func normalizeQueryPath(p string) string {
	path, rawQuery, ok := strings.Cut(p, "?")
	if !ok {
		return p
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p
	}
	var parts []keyPart
	for name, vs := range values {
		for _, v := range vs {
			parts = append(parts, keyPart{name, v})
		}
	}
	if len(parts) == 0 {
		return path
	}
	sortParts(parts)
	return path + "?" + canonicalQuery(parts)
}
