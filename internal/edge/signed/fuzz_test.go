package signed

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzVerify feeds the signed URL and cookie parser arbitrary queries,
// policies and cookies: it must never panic, and must never let a request
// through without the one valid signature it was given (the fuzzer
// cannot forge another).
func FuzzVerify(f *testing.F) {
	a, _ := testKeys(f)
	v := NewVerifier([]Key{{ID: "KA", Public: &a.PublicKey}})
	valid := cannedURL(f, a, "KA", "https://"+host+"/x", 1800000600)
	f.Add(valid[strings.Index(valid, "?")+1:], "", "")
	f.Add("Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Signature=AAAA&Key-Pair-Id=KA", "", "")
	f.Add("a=1&Expires=9&Signature=%ZZ&Key-Pair-Id=KA", "", "")
	f.Add("", "eyJTdGF0ZW1lbnQiOlt7fV19", "KA")
	f.Fuzz(func(t *testing.T, query, cookiePolicy, cookieKey string) {
		r := Request{Scheme: "https", Host: host, Path: "/x", RawQuery: query, RemoteAddr: "192.0.2.1:1",
			Cookies: jar{CookiePolicy: cookiePolicy, CookieKeyPairID: cookieKey, CookieSignature: "AAAA"}}
		q, d := v.Verify(r, now)
		if d == nil && !strings.Contains(query, valid[strings.Index(valid, "Signature="):strings.Index(valid, "&Key-Pair-Id")]) {
			t.Fatalf("Verify let %q (cookies %q, %q) through, serving query %q", query, cookiePolicy, cookieKey, q)
		}
		if d != nil && len(d.Body()) == 0 {
			t.Fatal("empty denial body")
		}
	})
}

// FuzzMatchWildcard checks the resource matcher against a regexp built
// from the same pattern.
func FuzzMatchWildcard(f *testing.F) {
	f.Add("https://d.net/*.jpg", "https://d.net/a/b.jpg")
	f.Add("a?c*", "abcde")
	f.Add("**?", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 64 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`\z`)
		// The matcher works on bytes: compare on inputs where a byte is a
		// character.
		for i := 0; i < len(pattern); i++ {
			if pattern[i] >= 0x80 {
				return
			}
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return
			}
		}
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := matchWildcard(pattern, s); got != want {
			t.Fatalf("matchWildcard(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
