package edge

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"", "/", nil},
		{"/", "/", nil},
		{"/a/b.txt", "/a/b.txt", nil},
		{"/a/b/", "/a/b/", nil},
		{"/.well-known/x", "/.well-known/x", nil},
		{"/a/..b/c..", "/a/..b/c..", nil},
		{"/a/./b", "/a/b", nil},
		{"/a/b/..", "/a/", nil},
		{"/a/b/.", "/a/b/", nil},
		{"/a/b/../../c", "/c", nil},
		{"/a/b/../..", "/", nil},
		{"/x/../admin/secret.txt", "/admin/secret.txt", nil},
		{"//admin/secret.txt", "/admin/secret.txt", nil},
		{"/a//b///c", "/a/b/c", nil},
		{"/%61dmin/secret.txt", "/admin/secret.txt", nil},
		{"/admin%2fsecret.txt", "/admin/secret.txt", nil},
		{"/admin%2Fsecret.txt", "/admin/secret.txt", nil},
		{"/%7Euser/%c3%a9%20x.txt", "/~user/%C3%A9%20x.txt", nil},
		{"/a%25b", "/a%25b", nil},
		{"/a%252e%252e/b", "/a%252e%252e/b", nil},
		{"/a/%2e/b", "/a/b", nil},
		{"/a/%2E%2e/b", "/b", nil},
		{"/..", "", errPathAboveRoot},
		{"/../v2/secret.txt", "", errPathAboveRoot},
		{"/%2e%2e/v2/secret.txt", "", errPathAboveRoot},
		{"/index.html/..%2f..%2fv2/secret.txt", "", errPathAboveRoot},
		{"/a/../../b", "", errPathAboveRoot},
		{"/a%", "", errPathEncoding},
		{"/a%2", "", errPathEncoding},
		{"/a%zz", "", errPathEncoding},
		{"/a%00.jpg", "", errPathEncoding},
		{"*", "", errPathEncoding},
	} {
		got, err := normalizePath(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("normalizePath(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestNormalizePathNoAllocation: the hot path (a path already normal)
// costs no allocation.
func TestNormalizePathNoAllocation(t *testing.T) {
	for _, p := range []string{"/", "/index.html", "/static/app.3f9a.js", "/a/b/c/"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = normalizePath(p) }); n != 0 {
			t.Errorf("normalizePath(%q): %v allocations, want 0", p, n)
		}
	}
}

// FuzzNormalizePath: whatever the viewer sends, a normalized path is a
// fixed point, starts with "/", has no empty or dot segment (decoded or
// not), and joined to an OriginPath stays under it.
func FuzzNormalizePath(f *testing.F) {
	for _, seed := range []string{"/", "/a/b", "/../x", "/%2e%2e/x", "/index.html/..%2f..%2fv2/s", "/x/../admin/s", "/%61dmin/s",
		"//admin/s", "/admin%2fsecret.txt", "/a/./b/../c/", "/%c3%a9", "/a%25", "/%", "/a%2F%2E%2E%2Fb"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if in == "" || in[0] != '/' {
			in = "/" + in
		}
		out, err := normalizePath(in)
		if err != nil {
			return
		}
		again, err := normalizePath(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
		if !strings.HasPrefix(out, "/") || strings.Contains(out, "//") {
			t.Fatalf("%q → %q: not a rooted path without empty segments", in, out)
		}
		decoded, err := url.PathUnescape(out)
		if err != nil {
			t.Fatalf("%q → %q: does not decode: %v", in, out, err)
		}
		for _, seg := range strings.Split(decoded, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q → %q: dot segment (decoded %q)", in, out, decoded)
			}
		}
		if joined := path.Clean("/v1" + decoded); joined != "/v1" && !strings.HasPrefix(joined, "/v1/") {
			t.Fatalf("%q → %q escapes the origin path: %q", in, out, joined)
		}
	})
}

func BenchmarkNormalizePath(b *testing.B) {
	for _, tc := range []struct{ name, path string }{
		{"normal", "/static/js/app.3f9a2c.js"},
		{"dots", "/static/js/../css/./app.css"},
		{"encoded", "/static/%61pp%2Fmain%20file.js"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = normalizePath(tc.path)
			}
		})
	}
}
