package console

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever a sign-in form says as "next", the redirect
// stays inside the console on the same host.
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{"/console/releases/r1", "//evil.example/", "/console/\\evil", "https://evil.example/console/", "/console/../metrics", "/console/%2f%2fevil"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, Prefix) || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			return // the browser would not follow it either; it is still a relative path
		}
		if u.Host != "" || u.Scheme != "" || !strings.HasPrefix(path.Clean(u.Path)+"/", Prefix) {
			t.Fatalf("safeNext(%q) = %q leaves the console", next, got)
		}
	})
}
