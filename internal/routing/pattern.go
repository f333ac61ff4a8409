package routing

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadPathPattern marks a cache behavior's PathPattern that cannot be compiled.
var ErrBadPathPattern = errors.New("bad path pattern")

// maxPathPatternLen is CloudFront's limit on a PathPattern.
const maxPathPatternLen = 255

// PathPattern is a compiled CloudFront path pattern: '*' matches any run of
// characters, '/' included; '?' matches exactly one byte; everything else
// matches itself, case-sensitively. A leading '/' is optional in the pattern
// and in the path, so "images/*" and "/images/*" are the same pattern.
//
// Matching works on bytes: pass the path as it was on the wire (the escaped
// form), where every character is one byte.
//
// The pattern is split at '*' into literal pieces once, at compile time, so
// Match needs no regexp, no backtracking and no allocation: the first piece
// anchors the start, the last the end, and the pieces between are found
// leftmost-first (leftmost is always safe, as each piece has a fixed length).
type PathPattern struct {
	raw    string   // as configured
	pieces []string // pattern without its leading '/', split at '*'
	minLen int      // sum of the pieces' lengths
	hasQ   []bool   // hasQ[i]: pieces[i] contains '?'
}

// ParsePathPattern compiles a PathPattern. It rejects what CloudFront cannot
// hold: an empty pattern, one longer than 255 bytes, and spaces, control or
// non-ASCII bytes.
func ParsePathPattern(pattern string) (PathPattern, error) {
	if pattern == "" {
		return PathPattern{}, fmt.Errorf("%w: empty", ErrBadPathPattern)
	}
	if len(pattern) > maxPathPatternLen {
		return PathPattern{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadPathPattern, len(pattern), maxPathPatternLen)
	}
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c <= ' ' || c >= 0x7f {
			return PathPattern{}, fmt.Errorf("%w: %q has the invalid byte %#x at %d", ErrBadPathPattern, pattern, c, i)
		}
	}
	return compilePattern(pattern), nil
}

// compilePattern builds the matcher without validating the pattern's bytes.
func compilePattern(pattern string) PathPattern {
	body := strings.TrimPrefix(pattern, "/")
	// "a**b" is "a*b": collapsing keeps the piece list short.
	for strings.Contains(body, "**") {
		body = strings.ReplaceAll(body, "**", "*")
	}
	p := PathPattern{raw: pattern, pieces: strings.Split(body, "*")}
	p.hasQ = make([]bool, len(p.pieces))
	for i, piece := range p.pieces {
		p.minLen += len(piece)
		p.hasQ[i] = strings.IndexByte(piece, '?') >= 0
	}
	return p
}

// String returns the pattern as configured.
func (p *PathPattern) String() string { return p.raw }

// Match reports whether path matches the pattern.
func (p *PathPattern) Match(path string) bool {
	s := path
	if s != "" && s[0] == '/' {
		s = s[1:]
	}
	n := len(p.pieces)
	if n == 0 { // the zero PathPattern matches nothing
		return false
	}
	if n == 1 {
		return len(s) == p.minLen && p.eq(0, s)
	}
	if len(s) < p.minLen {
		return false
	}
	first, last := p.pieces[0], p.pieces[n-1]
	if !p.eq(0, s[:len(first)]) {
		return false
	}
	s = s[len(first):]
	if !p.eq(n-1, s[len(s)-len(last):]) {
		return false
	}
	s = s[:len(s)-len(last)]
	for i := 1; i < n-1; i++ {
		at := p.index(i, s)
		if at < 0 {
			return false
		}
		s = s[at+len(p.pieces[i]):]
	}
	return true
}

// eq reports whether piece i matches s, which has the piece's length.
func (p *PathPattern) eq(i int, s string) bool {
	piece := p.pieces[i]
	if !p.hasQ[i] {
		return piece == s
	}
	for j := 0; j < len(piece); j++ {
		if piece[j] != '?' && piece[j] != s[j] {
			return false
		}
	}
	return true
}

// index returns where piece i first matches in s, or -1.
func (p *PathPattern) index(i int, s string) int {
	piece := p.pieces[i]
	if !p.hasQ[i] {
		return strings.Index(s, piece)
	}
	for at := 0; at+len(piece) <= len(s); at++ {
		if p.eq(i, s[at:at+len(piece)]) {
			return at
		}
	}
	return -1
}
