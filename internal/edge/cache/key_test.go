package cache

import (
	"net/url"
	"testing"
)

// testOrigin stands for the compiled config an identity is made from.
type testOrigin struct{ Domain, Path, AccessControl string }

func identityOf(domain, path, accessControl string) Identity {
	return IdentityOf(testOrigin{domain, path, accessControl}, nil)
}

var testIdentity = identityOf("bucket.s3.amazonaws.com", "/1.0.0", "E2OAC")

func TestKeyQueryOrderIndependent(t *testing.T) {
	tests := []struct {
		name   string
		a, b   string // raw query strings
		wantEq bool
	}{
		{"swapped params", "a=1&b=2", "b=2&a=1", true},
		{"repeated param, swapped values", "a=2&a=1&b=x", "b=x&a=1&a=2", true},
		{"different value", "a=1&b=2", "a=1&b=3", false},
		{"extra param", "a=1", "a=1&b=2", false},
		{"names are case-sensitive", "a=1", "A=1", false},
		{"separator inside a value is not a separator", "a=1%26b%3D2", "a=1&b=2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyOf := func(raw string) Key {
				v, err := url.ParseQuery(raw)
				if err != nil {
					t.Fatal(err)
				}
				return NewKeyBuilder(testIdentity, "/index.html").QueryValues(v).Key()
			}
			ka, kb := keyOf(tt.a), keyOf(tt.b)
			if gotEq := ka == kb; gotEq != tt.wantEq {
				t.Errorf("key(%q) == key(%q) is %v; want %v\n  %q\n  %q", tt.a, tt.b, gotEq, tt.wantEq, ka, kb)
			}
		})
	}
}

func TestKeyParts(t *testing.T) {
	base := func() *KeyBuilder { return NewKeyBuilder(testIdentity, "/a") }
	tests := []struct {
		name   string
		a, b   Key
		wantEq bool
	}{
		{"header names are case-insensitive", base().Header("Accept-Encoding", "gzip").Key(), base().Header("accept-encoding", "gzip").Key(), true},
		{"header order does not matter", base().Header("X-A", "1").Header("X-B", "2").Key(), base().Header("X-B", "2").Header("X-A", "1").Key(), true},
		{"cookie order does not matter", base().Cookie("s", "1").Cookie("t", "2").Key(), base().Cookie("t", "2").Cookie("s", "1").Key(), true},
		{"header value matters", base().Header("X-A", "1").Key(), base().Header("X-A", "2").Key(), false},
		{"query is not a header", base().Query("a", "1").Key(), base().Header("a", "1").Key(), false},
		{"header is not a cookie", base().Header("a", "1").Key(), base().Cookie("a", "1").Key(), false},
		{"field boundaries are unambiguous", base().Query("a", "b1:c").Key(), base().Query("a1:b", "c").Key(), false},
		{"path matters", base().Key(), NewKeyBuilder(testIdentity, "/b").Key(), false},
		{"origin path matters", base().Key(), NewKeyBuilder(identityOf("bucket.s3.amazonaws.com", "/2.0.0", "E2OAC"), "/a").Key(), false},
		{"access control matters", base().Key(), NewKeyBuilder(identityOf("bucket.s3.amazonaws.com", "/1.0.0", ""), "/a").Key(), false},
		{"identity fields cannot shift", NewKeyBuilder(identityOf("ab", "c", ""), "/").Key(), NewKeyBuilder(identityOf("a", "bc", ""), "/").Key(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if gotEq := tt.a == tt.b; gotEq != tt.wantEq {
				t.Errorf("keys equal = %v; want %v\n  %q\n  %q", gotEq, tt.wantEq, tt.a, tt.b)
			}
		})
	}
}

func TestKeyAccessors(t *testing.T) {
	k := NewKeyBuilder(testIdentity, "/img/a.png").Query("v", "2").Query("a", "x y").Header("X-A", "1").Key()
	if got, want := k.OriginIdentity(), testIdentity.String(); got != want {
		t.Errorf("OriginIdentity() = %q; want %q", got, want)
	}
	if got, want := k.PurgePath(), "/img/a.png?a=x+y&v=2"; got != want {
		t.Errorf("PurgePath() = %q; want %q", got, want)
	}
	noQuery := NewKeyBuilder(testIdentity, "/img/a.png").Header("X-A", "1").Key()
	if got, want := noQuery.PurgePath(), "/img/a.png"; got != want {
		t.Errorf("PurgePath() without query = %q; want %q", got, want)
	}
}
