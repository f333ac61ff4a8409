package cache

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzParts decodes fuzz input into an identity, a path and key parts:
// fields separated by 0xff; the first names the identity, the second is
// the path, then kind-prefixed name/value pairs (kind byte % 3: query,
// header, cookie).
type fuzzParts struct {
	identity, path string
	parts          []keyPart // name prefixed by its kind letter
}

func decodeFuzzParts(data []byte) fuzzParts {
	fields := bytes.Split(data, []byte{0xff})
	var p fuzzParts
	if len(fields) > 0 {
		p.identity = string(fields[0])
	}
	if len(fields) > 1 {
		p.path = string(fields[1])
	}
	for i := 2; i+1 < len(fields); i += 2 {
		name := fields[i]
		kind := byte('q')
		if len(name) > 0 {
			kind = "qhc"[name[0]%3]
			name = name[1:]
		}
		p.parts = append(p.parts, keyPart{string(kind) + string(name), string(fields[i+1])})
	}
	return p
}

func (p fuzzParts) key() Key {
	b := NewKeyBuilder(IdentityOf(p.identity, nil), p.path)
	for _, part := range p.parts {
		name := part.name[1:]
		switch part.name[0] {
		case 'q':
			b.Query(name, part.value)
		case 'h':
			b.Header(name, part.value)
		case 'c':
			b.Cookie(name, part.value)
		}
	}
	return b.Key()
}

// canonical is what a key must be a function of, and only of: the
// identity, the path and the multiset of parts, with header names
// compared case-insensitively.
func (p fuzzParts) canonical() string {
	parts := make([]string, 0, len(p.parts))
	for _, part := range p.parts {
		name := part.name
		if name[0] == 'h' {
			lowered := []byte(name)
			for i, c := range lowered {
				lowered[i] = lower(c)
			}
			name = string(lowered)
		}
		parts = append(parts, fmt.Sprintf("%q=%q", name, part.value))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%q|%q|%s", p.identity, p.path, strings.Join(parts, ","))
}

// FuzzCacheKey: two keys are equal exactly when they were built from the
// same identity, path and parts (in any order): the key encoding is
// injective, so no choice of names and values can make one viewer's
// request read another's object.
func FuzzCacheKey(f *testing.F) {
	f.Add([]byte("id\xff/a\xff\x00a\xff1"), []byte("id\xff/a\xff\x00a\xff1"))
	f.Add([]byte("id\xff/a\xff\x00a\xff1\xff\x00b\xff2"), []byte("id\xff/a\xff\x00b\xff2\xff\x00a\xff1"))
	f.Add([]byte("id\xff/a\xff\x00a\xffb1:c"), []byte("id\xff/a\xff\x00a1:b\xffc"))
	f.Add([]byte("ab\xffc"), []byte("a\xffbc"))
	f.Add([]byte("id\xff/\xff\x01X-A\xff1"), []byte("id\xff/\xff\x01x-a\xff1"))
	f.Add([]byte("id\xff/\xff\x01a\xff1"), []byte("id\xff/\xff\x02a\xff1"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, pb := decodeFuzzParts(a), decodeFuzzParts(b)
		ka, kb := pa.key(), pb.key()
		if sameKey, sameInput := ka == kb, pa.canonical() == pb.canonical(); sameKey != sameInput {
			t.Fatalf("keys equal = %v, inputs equal = %v\n  a: %s\n  b: %s\n  key a: %q\n  key b: %q",
				sameKey, sameInput, pa.canonical(), pb.canonical(), ka.String(), kb.String())
		}
		if ka.OriginIdentity() != IdentityOf(pa.identity, nil).String() {
			t.Fatalf("OriginIdentity %q; want the identity's", ka.OriginIdentity())
		}
	})
}

// fuzzConfig is a config-shaped value for FuzzIdentity: strings, numbers,
// slices, pointers, arrays and a map, as compiled configs have.
type fuzzConfig struct {
	Name    string
	Port    int
	Flag    bool
	Names   []string
	Headers [][2]string
	Inner   *fuzzInner
	Tags    map[string]int
	skipped string
}

type fuzzInner struct {
	Path  string
	Codes []int
}

// decodeFuzzConfig fills a fuzzConfig from bytes (fields separated by 0xff).
func decodeFuzzConfig(data []byte) fuzzConfig {
	fields := bytes.Split(data, []byte{0xff})
	field := func(i int) string {
		if i < len(fields) {
			return string(fields[i])
		}
		return ""
	}
	num := func(i int) int {
		s := field(i)
		var b [8]byte
		copy(b[:], s)
		return int(int64(binary.LittleEndian.Uint64(b[:])))
	}
	c := fuzzConfig{Name: field(0), Port: num(1), Flag: len(field(2))%2 == 1, skipped: field(3)}
	for _, n := range strings.Split(field(4), ",") {
		if n != "" {
			c.Names = append(c.Names, n)
		}
	}
	for i := 5; i+1 < len(fields) && i < 9; i += 2 {
		c.Headers = append(c.Headers, [2]string{field(i), field(i + 1)})
	}
	if p := field(9); p != "" {
		c.Inner = &fuzzInner{Path: p}
		for _, ch := range field(10) {
			c.Inner.Codes = append(c.Inner.Codes, int(ch))
		}
	}
	for _, kv := range strings.Split(field(11), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if c.Tags == nil {
				c.Tags = map[string]int{}
			}
			c.Tags[k] = len(v)
		}
	}
	return c
}

func omitSkipped(t reflect.Type, field string) bool {
	return t == reflect.TypeFor[fuzzConfig]() && field == "skipped"
}

// FuzzIdentity: the canonical encoding behind IdentityOf is injective:
// two configs encode alike exactly when they are equal in every field the
// Omit does not leave out.
func FuzzIdentity(f *testing.F) {
	f.Add([]byte("a\xff\x50\x00"), []byte("a\xff\x51\x00"))
	f.Add([]byte("ab\xff\xff\xff\xffx,y"), []byte("a\xff\xff\xff\xffbx,y"))
	f.Add([]byte("n\xff\xff\xff\xff\xffX-Tenant\xffa"), []byte("n\xff\xff\xff\xff\xffX-Tenant\xffb"))
	f.Add([]byte("n\xff\xff\xffone"), []byte("n\xff\xff\xfftwo"))
	f.Add([]byte("n\xff\xff\xff\xff\xff\xff\xff\xff\xff/p\xff\x01\x02\xffa=1,b=22"), []byte("n\xff\xff\xff\xff\xff\xff\xff\xff\xff/p\xff\x01\x02\xffb=22,a=1"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ca, cb := decodeFuzzConfig(a), decodeFuzzConfig(b)
		ea, eb := AppendCanonical(nil, ca, omitSkipped), AppendCanonical(nil, cb, omitSkipped)
		ca.skipped, cb.skipped = "", ""
		if sameEnc, same := bytes.Equal(ea, eb), reflect.DeepEqual(ca, cb); sameEnc != same {
			t.Fatalf("encodings equal = %v, configs equal = %v\n  %+v\n  %+v\n  %q\n  %q", sameEnc, same, ca, cb, ea, eb)
		}
		if (IdentityOf(ca, omitSkipped) == IdentityOf(cb, omitSkipped)) != bytes.Equal(ea, eb) {
			t.Fatal("IdentityOf disagrees with the encoding")
		}
	})
}

// TestAppendCanonicalRefuses: kinds with no canonical value panic rather
// than being encoded as something that could equal another value.
func TestAppendCanonicalRefuses(t *testing.T) {
	for name, v := range map[string]any{
		"func":  struct{ F func() }{},
		"chan":  struct{ C chan int }{},
		"cycle": func() any { type node struct{ Next any }; n := &node{}; n.Next = n; return n }(),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: AppendCanonical did not panic", name)
				}
			}()
			AppendCanonical(nil, v, nil)
		}()
	}
}
