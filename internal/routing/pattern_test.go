package routing

import (
	"errors"
	"strings"
	"testing"
)

func TestPathPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*.jpg", "/a.jpg", true},
		{"*.jpg", "/images/2024/a.jpg", true}, // '*' crosses '/'
		{"*.jpg", "/a.JPG", false},            // case-sensitive
		{"*.jpg", "/a.jpg.png", false},
		{"*.jpg", "/.jpg", true},
		{"/images/*", "/images/a.png", true},
		{"/images/*", "/images/", true},
		{"/images/*", "/images", false},
		{"/images/*", "/Images/a.png", false},
		{"/images/*", "/static/images/a.png", false},
		{"images/*.png", "/images/a.png", true}, // leading '/' optional
		{"images/*.png", "/images/x/y.png", true},
		{"images/*.png", "/images/a.jpg", false},
		{"images/*.png", "images/a.png", true}, // and in the path
		{"a?c", "/abc", true},
		{"a?c", "/a/c", true},
		{"a?c", "/ac", false},
		{"a?c", "/abbc", false},
		{"/a?c", "/aXc", true},
		{"*", "/", true},
		{"*", "/anything/at/all?x", true},
		{"*", "", true},
		{"/", "/", true},
		{"/", "/a", false},
		{"/index.html", "/index.html", true},
		{"/index.html", "/index.htm", false},
		{"/a*b*c", "/abc", true},
		{"/a*b*c", "/a-b-b-c", true},
		{"/a*b*c", "/acb", false},
		{"/a*b?d*e", "/a_b__d_x_e", false},
		{"/a*b?d*e", "/a_bcd_x_e", true},
		{"/api/*/v?/*", "/api/users/v2/list", true},
		{"/api/*/v?/*", "/api/users/v22/list", false},
		{"/**/x", "/a/b/x", true},
		{"/ab*ab", "/ab", false}, // pieces may not overlap
		{"/ab*ab", "/abab", true},
	}
	for _, tt := range tests {
		p, err := ParsePathPattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePathPattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("%q.Match(%q) = %v; want %v", tt.pattern, tt.path, got, tt.want)
		}
		if got := refMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("refMatch(%q, %q) = %v; want %v (the reference disagrees with the table)", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestParsePathPatternErrors(t *testing.T) {
	for _, pattern := range []string{"", "/a b", "/tab\t", "/é", strings.Repeat("a", 256)} {
		if _, err := ParsePathPattern(pattern); !errors.Is(err, ErrBadPathPattern) {
			t.Errorf("ParsePathPattern(%q) error = %v; want ErrBadPathPattern", pattern, err)
		}
	}
}

func TestBehaviorOrder(t *testing.T) {
	snap := Snapshot{Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1,
		withBehavior("/images/*", "api"),
		withBehavior("*.jpg", "s3"),
		withBehavior("/api/v?/*", "api"),
	)}}
	d := mustCompile(t, snap).Dist(primaryID)
	tests := []struct {
		path        string
		wantPattern string
		wantOrigin  string
	}{
		{"/images/cat.jpg", "/images/*", "api"}, // matches two; the first wins
		{"/static/cat.jpg", "*.jpg", "s3"},
		{"/api/v1/users", "/api/v?/*", "api"},
		{"/api/v10/users", "*", "s3"},
		{"/index.html", "*", "s3"},
		{"/", "*", "s3"},
	}
	for _, tt := range tests {
		b := d.Behavior(tt.path)
		if b.Pattern.String() != tt.wantPattern || b.Origin.ID != tt.wantOrigin {
			t.Errorf("Behavior(%q) = %q → %s; want %q → %s", tt.path, b.Pattern.String(), b.Origin.ID, tt.wantPattern, tt.wantOrigin)
		}
	}
}

// refMatch is the reference matcher: both strings get a leading '/' when
// they lack one, then a plain dynamic-programming glob over bytes.
func refMatch(pattern, path string) bool {
	if !strings.HasPrefix(pattern, "/") {
		pattern = "/" + pattern
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	// m[j]: pattern[:i] matches path[:j].
	m := make([]bool, len(path)+1)
	m[0] = true
	for i := 0; i < len(pattern); i++ {
		next := make([]bool, len(path)+1)
		switch c := pattern[i]; c {
		case '*':
			seen := false
			for j := 0; j <= len(path); j++ {
				seen = seen || m[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(path); j++ {
				next[j] = m[j-1] && (c == '?' || path[j-1] == c)
			}
		}
		m = next
	}
	return m[len(path)]
}

func FuzzPathPattern(f *testing.F) {
	seeds := [][2]string{
		{"*.jpg", "/a/b.jpg"}, {"/images/*", "/images/x"}, {"images/*.png", "/images/a.png"},
		{"a?c", "/abc"}, {"*", "/"}, {"/a*b?c*", "/aXbYcZ"}, {"**?*", ""}, {"/ab*ab", "/ab"},
		{"?", ""}, {"/", ""}, {"*a*a*a*b", "/aaaaaaaaaaaaaaaaaaaaaaaaa"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 300 || len(path) > 2000 {
			return
		}
		if p, err := ParsePathPattern(pattern); err == nil && p.String() != pattern {
			t.Fatalf("String() = %q; want %q", p.String(), pattern)
		}
		p := compilePattern(pattern)
		if got, want := p.Match(path), refMatch(pattern, path); got != want {
			t.Fatalf("%q.Match(%q) = %v; reference says %v", pattern, path, got, want)
		}
	})
}
