package signed

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keysOnce sync.Once
	keyA     *rsa.PrivateKey
	keyB     *rsa.PrivateKey
)

// testKeys returns two RSA keys, generated once per test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

func sign(t testing.TB, k *rsa.PrivateKey, statement string) string {
	t.Helper()
	d := sha1.Sum([]byte(statement))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA1, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return EncodeBase64(sig)
}

var now = time.Unix(1_800_000_000, 0)

const host = "d111111abcdef8.cloudfront.net"

func cannedURL(t testing.TB, k *rsa.PrivateKey, keyID, resource string, expires int64) string {
	sep := "?"
	if strings.Contains(resource, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sExpires=%d&Signature=%s&Key-Pair-Id=%s", resource, sep, expires, sign(t, k, CannedPolicy(resource, expires)), keyID)
}

func customURL(t testing.TB, k *rsa.PrivateKey, keyID, resource, statement string) string {
	sep := "?"
	if strings.Contains(resource, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sPolicy=%s&Signature=%s&Key-Pair-Id=%s", resource, sep, EncodeBase64([]byte(statement)), sign(t, k, statement), keyID)
}

func requestFor(t testing.TB, raw string, cookies map[string]string, addr string) Request {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Scheme: u.Scheme, Host: u.Host, Path: u.EscapedPath(), RawQuery: u.RawQuery, Cookies: jar(cookies)}
	if addr != "" {
		r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(addr), 50000).String()
	}
	return r
}

type jar map[string]string

func (j jar) Cookie(name string) string { return j[name] }

func TestVerify(t *testing.T) {
	a, b := testKeys(t)
	v := NewVerifier([]Key{{ID: "KA", Public: &a.PublicKey}, {ID: "KB2", Public: &b.PublicKey}})
	base := "https://" + host + "/private/video.mp4"
	custom := func(resource string, extra string) string {
		return `{"Statement":[{"Resource":"` + resource + `","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600}` + extra + `}}]}`
	}
	for _, tc := range []struct {
		name, url string
		cookies   map[string]string
		addr      string
		want      string // "" for allowed, else the denial code
		wantQuery string
	}{
		{name: "canned", url: cannedURL(t, a, "KA", base, 1800000600)},
		{name: "canned with a query kept", url: cannedURL(t, a, "KA", base+"?quality=hd&x=%20y", 1800000600), wantQuery: "quality=hd&x=%20y"},
		{name: "signing parameters not last", url: strings.Replace(cannedURL(t, a, "KA", base+"?quality=hd&b=1", 1800000600), "?quality=hd&", "?", 1) + "&quality=hd",
			want: "AccessDenied"}, // the rest is now b=1&quality=hd, not what was signed
		{name: "signing parameters between", url: strings.Replace(cannedURL(t, a, "KA", base+"?quality=hd", 1800000600), "?quality=hd&", "?", 1) + "&quality=hd",
			wantQuery: "quality=hd"},
		{name: "canned expired", url: cannedURL(t, a, "KA", base, 1800000000), want: "AccessDenied"},
		{name: "canned, other key's signature", url: cannedURL(t, b, "KA", base, 1800000600), want: "AccessDenied"},
		{name: "unknown key id", url: cannedURL(t, a, "KNOPE", base, 1800000600), want: "InvalidKey"},
		{name: "no key id", url: strings.Replace(cannedURL(t, a, "KA", base, 1800000600), "&Key-Pair-Id=KA", "", 1), want: "MissingKey"},
		{name: "unsigned", url: base, want: "MissingKey"},
		{name: "tampered path", url: strings.Replace(cannedURL(t, a, "KA", base, 1800000600), "video.mp4", "other.mp4", 1), want: "AccessDenied"},
		{name: "tampered expiry", url: strings.Replace(cannedURL(t, a, "KA", base, 1800000600), "Expires=1800000600", "Expires=1900000600", 1), want: "AccessDenied"},
		{name: "custom wildcard", url: customURL(t, a, "KA", base, custom("https://"+host+"/private/*", ""))},
		{name: "custom ? wildcard", url: customURL(t, a, "KA", base, custom("https://"+host+"/private/video.mp?", ""))},
		{name: "custom resource elsewhere", url: customURL(t, a, "KA", base, custom("https://"+host+"/public/*", "")), want: "AccessDenied"},
		{name: "custom not yet valid", url: customURL(t, a, "KA", base, custom("https://"+host+"/*", `,"DateGreaterThan":{"AWS:EpochTime":1800000100}`)), want: "AccessDenied"},
		{name: "custom valid window", url: customURL(t, a, "KA", base, custom("https://"+host+"/*", `,"DateGreaterThan":{"AWS:EpochTime":1799999000}`))},
		{name: "custom IP inside", addr: "192.0.2.77", url: customURL(t, a, "KA", base, custom("https://"+host+"/*", `,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`))},
		{name: "custom IP outside", addr: "198.51.100.1", url: customURL(t, a, "KA", base, custom("https://"+host+"/*", `,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), want: "AccessDenied"},
		{name: "custom IPv6 inside", addr: "2001:db8::1", url: customURL(t, a, "KA", base, custom("https://"+host+"/*", `,"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}`))},
		{name: "custom tampered policy", url: strings.Replace(customURL(t, a, "KA", base, custom("https://"+host+"/private/*", "")), "Policy=eyJ", "Policy=eyK", 1), want: "AccessDenied"},
		{name: "custom malformed policy", url: customURL(t, a, "KA", base, `{"Statement":[]}`), want: "MalformedPolicy"},
		{name: "second key", url: cannedURL(t, b, "KB2", base, 1800000600)},
		{name: "canned cookies", url: base, cookies: map[string]string{
			CookieExpires: "1800000600", CookieKeyPairID: "KA", CookieSignature: sign(t, a, CannedPolicy(base, 1800000600))}},
		{name: "custom cookies", url: base + "?a=1", wantQuery: "a=1", cookies: map[string]string{
			CookiePolicy: EncodeBase64([]byte(custom("https://"+host+"/private/*", ""))), CookieKeyPairID: "KA",
			CookieSignature: sign(t, a, custom("https://"+host+"/private/*", ""))}},
		{name: "cookies expired", url: base, cookies: map[string]string{
			CookieExpires: "1700000000", CookieKeyPairID: "KA", CookieSignature: sign(t, a, CannedPolicy(base, 1700000000))}, want: "AccessDenied"},
		{name: "cookies without key id", url: base, cookies: map[string]string{
			CookieExpires: "1800000600", CookieSignature: sign(t, a, CannedPolicy(base, 1800000600))}, want: "MissingKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the verified set.
			for round := range 2 {
				q, d := v.Verify(requestFor(t, tc.url, tc.cookies, tc.addr), now)
				got := ""
				if d != nil {
					got = d.Code
				}
				if got != tc.want {
					t.Fatalf("round %d: Verify = %q, want %q", round, got, tc.want)
				}
				if d == nil && q != tc.wantQuery {
					t.Fatalf("round %d: query to serve = %q, want %q", round, q, tc.wantQuery)
				}
			}
		})
	}
}

func TestDenialBody(t *testing.T) {
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>"
	if got := string(denyMissingKey.Body()); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestMatchWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"https://d.net/*.jpg", "https://d.net/x/y.jpg", true}, {"*b*b*", "abab", true}, {"a", "ab", false},
	} {
		if got := matchWildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("matchWildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestVerifiedSetIsBounded: the set of verified signatures is dropped
// whole when full, and verification still works after.
func TestVerifiedSetIsBounded(t *testing.T) {
	a, _ := testKeys(t)
	v := NewVerifier([]Key{{ID: "KA", Public: &a.PublicKey}})
	for i := range maxVerified {
		v.verified[fmt.Sprint(i)] = &verifiedEntry{}
	}
	u := cannedURL(t, a, "KA", "https://"+host+"/x", 1800000600)
	if _, d := v.Verify(requestFor(t, u, nil, ""), now); d != nil {
		t.Fatalf("Verify: %v", d.Code)
	}
	if n := len(v.verified); n != 1 {
		t.Errorf("after overflow the set holds %d entries, want 1", n)
	}
}

// TestRememberedQueryStillChecked: a signed query that verified once is
// remembered (byQuery), and the memo never admits what a first
// verification would refuse: the same query after its expiry, from an
// address outside its IP condition, before its start, or for another
// URL (host, path or scheme).
func TestRememberedQueryStillChecked(t *testing.T) {
	a, _ := testKeys(t)
	v := NewVerifier([]Key{{ID: "KA", Public: &a.PublicKey}})
	base := "https://" + host + "/private/video.mp4"
	custom := customURL(t, a, "KA", base, `{"Statement":[{"Resource":"https://`+host+`/private/*","Condition":{`+
		`"DateLessThan":{"AWS:EpochTime":1800000600},"DateGreaterThan":{"AWS:EpochTime":1799999000},`+
		`"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}`)
	canned := cannedURL(t, a, "KA", base+"?q=1", 1800000600)
	verify := func(raw, addr string, at time.Time) string {
		t.Helper()
		_, d := v.Verify(requestFor(t, raw, nil, addr), at)
		if d != nil {
			return d.Code
		}
		return ""
	}
	for _, u := range []string{custom, canned} {
		if got := verify(u, "192.0.2.7", now); got != "" {
			t.Fatalf("first verification of %s: %q", u, got)
		}
		q, _ := url.Parse(u)
		if _, ok := v.byQuery[q.RawQuery]; !ok {
			t.Fatalf("the verified query of %s is not remembered", u)
		}
	}
	for _, tc := range []struct {
		name, url, addr string
		at              time.Time
	}{
		{"custom, expired", custom, "192.0.2.7", time.Unix(1800000600, 0)},
		{"custom, not yet valid", custom, "192.0.2.7", time.Unix(1799998999, 0)},
		{"custom, address outside", custom, "198.51.100.1", now},
		{"custom, no address", custom, "", now},
		{"custom, resource elsewhere", strings.Replace(custom, "/private/", "/public/", 1), "192.0.2.7", now},
		{"canned, expired", canned, "192.0.2.7", time.Unix(1800000600, 0)},
		{"canned, other path", strings.Replace(canned, "video.mp4", "other.mp4", 1), "192.0.2.7", now},
		{"canned, other host", strings.Replace(canned, host, "other.example", 1), "192.0.2.7", now},
		{"canned, other scheme", strings.Replace(canned, "https://", "http://", 1), "192.0.2.7", now},
	} {
		if got := verify(tc.url, tc.addr, tc.at); got != "AccessDenied" {
			t.Errorf("%s: Verify = %q, want AccessDenied", tc.name, got)
		}
	}
	// Still admitted where it was.
	for _, u := range []string{custom, canned} {
		if got := verify(u, "192.0.2.200", now); got != "" {
			t.Errorf("remembered %s: %q", u, got)
		}
	}
}

// TestQueryMemoIsBounded: the remembered queries are dropped whole past
// their byte bound, and verification still works after.
func TestQueryMemoIsBounded(t *testing.T) {
	a, _ := testKeys(t)
	v := NewVerifier([]Key{{ID: "KA", Public: &a.PublicKey}})
	v.memoBytes = maxMemoBytes - 1
	v.byQuery["filler"] = queryMemo{}
	u := cannedURL(t, a, "KA", "https://"+host+"/x", 1800000600)
	if _, d := v.Verify(requestFor(t, u, nil, ""), now); d != nil {
		t.Fatalf("Verify: %v", d.Code)
	}
	q, _ := url.Parse(u)
	if _, ok := v.byQuery[q.RawQuery]; len(v.byQuery) != 1 || !ok || v.memoBytes != len(q.RawQuery) {
		t.Errorf("after overflow: %d memos, %d bytes, want only the new query's", len(v.byQuery), v.memoBytes)
	}
}
