package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
)

// Identity is the part of every cache key that says where and how an
// object is fetched and how the response is treated before it is stored.
// Two requests for the same path and key parts share a cached object
// exactly when their identities are equal, so an Identity must change
// whenever anything that changes the origin request or the stored
// response changes. Build it with IdentityOf from the compiled config; the
// zero Identity is valid but names nothing useful.
//
// An Identity is opaque: the SHA-256 of a canonical encoding, in base64url.
// A cryptographic hash keeps keys short and makes it infeasible to craft a
// config whose identity collides with another one's (distributions of
// different owners may share an origin host).
type Identity string

// String returns the identity as it appears in keys and as Entry.OriginIdentity,
// which Purge match functions receive.
func (id Identity) String() string { return string(id) }

// Omit reports the struct fields that IdentityOf leaves out: those of the
// struct type t named field. A nil Omit leaves nothing out.
type Omit func(t reflect.Type, field string) bool

// IdentityOf returns the identity of v: the hash of AppendCanonical(v).
// Every exported and unexported field of every struct reachable from v
// counts unless omit says otherwise, so a field added to a config struct
// later is part of the identity until someone decides it is not.
func IdentityOf(v any, omit Omit) Identity {
	sum := sha256.Sum256(AppendCanonical(nil, v, omit))
	return Identity(base64.RawURLEncoding.EncodeToString(sum[:]))
}

// maxCanonicalDepth bounds the nesting AppendCanonical follows; a config
// graph is shallow, so a deeper one is a cycle.
const maxCanonicalDepth = 64

// AppendCanonical appends to buf an encoding of v that is injective for
// values of one type: two values encode alike exactly when they are equal
// field by field (a nil and an empty slice or map count as equal, and
// pointers are compared by what they point to). Every element is tagged
// with its kind and strings are length-prefixed, so no value can shift
// into its neighbour; structs carry their type and field names; map entries
// are sorted by their encoding. Funcs, channels and complex numbers cannot
// be encoded: AppendCanonical panics on them, and on a cycle.
func AppendCanonical(buf []byte, v any, omit Omit) []byte {
	return appendValue(buf, reflect.ValueOf(v), omit, 0)
}

func appendValue(buf []byte, v reflect.Value, omit Omit, depth int) []byte {
	if depth > maxCanonicalDepth {
		panic(fmt.Sprintf("cache: canonical encoding deeper than %d (a cycle?) at %s", maxCanonicalDepth, v.Type()))
	}
	if !v.IsValid() {
		return append(buf, 'n')
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		buf = append(buf, 'i')
		buf = strconv.AppendInt(buf, v.Int(), 10)
		return append(buf, ';')
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		buf = append(buf, 'u')
		buf = strconv.AppendUint(buf, v.Uint(), 10)
		return append(buf, ';')
	case reflect.Float32, reflect.Float64:
		buf = append(buf, 'g')
		buf = strconv.AppendUint(buf, math.Float64bits(v.Float()), 10)
		return append(buf, ';')
	case reflect.String:
		return appendTagged(buf, 's', v.String())
	case reflect.Slice, reflect.Array:
		buf = append(buf, 'l')
		buf = strconv.AppendInt(buf, int64(v.Len()), 10)
		buf = append(buf, ':')
		for i := range v.Len() {
			buf = appendValue(buf, v.Index(i), omit, depth+1)
		}
		return buf
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 'n')
		}
		return appendValue(append(buf, 'p'), v.Elem(), omit, depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return append(buf, 'n')
		}
		buf = appendTagged(buf, 'I', typeName(v.Elem().Type()))
		return appendValue(buf, v.Elem(), omit, depth+1)
	case reflect.Struct:
		return appendStruct(buf, v, omit, depth)
	case reflect.Map:
		return appendMap(buf, v, omit, depth)
	}
	panic(fmt.Sprintf("cache: cannot encode a %s canonically", v.Type()))
}

func appendStruct(buf []byte, v reflect.Value, omit Omit, depth int) []byte {
	t := v.Type()
	buf = appendTagged(buf, 'S', typeName(t))
	for i := range t.NumField() {
		f := t.Field(i)
		if omit != nil && omit(t, f.Name) {
			continue
		}
		buf = appendTagged(buf, 'F', f.Name)
		buf = appendValue(buf, v.Field(i), omit, depth+1)
	}
	return append(buf, 'E') // ends the fields, each of which starts with 'F'
}

func appendMap(buf []byte, v reflect.Value, omit Omit, depth int) []byte {
	entries := make([][]byte, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		e := appendValue(nil, it.Key(), omit, depth+1)
		e = appendValue(e, it.Value(), omit, depth+1)
		entries = append(entries, e)
	}
	// Keys are distinct, and so are their encodings: a key's encoding is
	// self-delimiting, so sorting whole entries sorts by key.
	slices.SortFunc(entries, bytes.Compare)
	buf = append(buf, 'm')
	buf = strconv.AppendInt(buf, int64(len(entries)), 10)
	buf = append(buf, ':')
	for _, e := range entries {
		buf = append(buf, e...)
	}
	return buf
}

// appendTagged appends tag, then s length-prefixed.
func appendTagged(buf []byte, tag byte, s string) []byte {
	buf = append(buf, tag)
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	return append(buf, s...)
}

func typeName(t reflect.Type) string {
	if t.PkgPath() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}
