package edge

import "errors"

// Path normalization. A viewer's path is normalized once, before anything
// looks at it: behavior matching (so an https-only or restricted behavior
// cannot be skipped by spelling its path differently), the cache key (so
// the spellings of one object share one entry) and the origin request (so
// no path can climb out of the origin's OriginPath). The steps are those
// of RFC 3986 §6.2.2 and §5.2.4, plus two that nginx applies before its
// location matching:
//
//   - percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_",
//     "~") are decoded ("/%61dmin" is "/admin", "/%2e%2e/" is "/../"), and
//     the other percent-encodings get upper-case hex digits ("%2f" … see
//     below, "%c3%a9" is "%C3%A9");
//   - an encoded slash ("%2F") is decoded into a path separator, as nginx
//     does: origins that decode it (most web servers, and S3, whose keys
//     are the decoded path) would otherwise serve "/admin/secret.txt" for
//     "/admin%2Fsecret.txt" under a behavior that does not match it;
//   - empty segments are merged ("//admin/" is "/admin/", nginx's
//     merge_slashes, on by default);
//   - "." and ".." segments are removed (RFC 3986 §5.2.4); a ".." that
//     would climb above the root is refused with 400, as nginx refuses it,
//     rather than silently dropped;
//   - "%00" is refused with 400 (nginx does too): a NUL in a decoded path
//     truncates it in some origins, after the edge has matched the whole.
//
// The origin is sent the normalized path: OriginPath + a path with no dot
// segment cannot name anything outside OriginPath. CloudFront itself
// normalizes for behavior matching and forwards the path as the viewer
// sent it; stagefront forwards the normalized form, which every origin
// that follows RFC 3986 treats as the same resource.
//
// Other bytes are left as they came: reserved characters percent-encoded
// or not, "+", ";" (path parameters are the origin's business), and "\"
// (which some origins on Windows treat as "/": a behavior that must cover
// them should not rely on the path alone). The query is not touched.

// errPathAboveRoot and errPathEncoding are normalizePath's refusals; both
// answer 400.
var (
	errPathAboveRoot = errors.New("the path climbs above the root")
	errPathEncoding  = errors.New("the path has an invalid or forbidden percent-encoding")
)

// normalizePath returns the normalized form of an escaped request path.
// A path that is already normal (nearly every request) is returned as it
// is, without allocating. An empty path is "/"; a path that does not start
// with "/" (an OPTIONS "*" target) is refused as errPathEncoding.
func normalizePath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if p[0] != '/' {
		return "", errPathEncoding
	}
	if isNormalPath(p) {
		return p, nil
	}
	return normalizeSlow(p)
}

// isNormalPath reports whether p (starting with "/") needs no change: no
// percent sign, no empty segment and no dot segment.
func isNormalPath(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			return false
		case '/':
			if i+1 == len(p) {
				continue
			}
			switch p[i+1] {
			case '/':
				return false
			case '.':
				// "/." or "/.." followed by the end or a slash.
				rest := p[i+2:]
				if rest == "" || rest[0] == '/' {
					return false
				}
				if rest[0] == '.' && (len(rest) == 1 || rest[1] == '/') {
					return false
				}
			}
		}
	}
	return true
}

// normalizeSlow decodes what is to be decoded, then rebuilds the path
// segment by segment.
func normalizeSlow(p string) (string, error) {
	decoded := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			decoded = append(decoded, c)
			continue
		}
		if i+2 >= len(p) {
			return "", errPathEncoding
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			return "", errPathEncoding
		}
		b := hi<<4 | lo
		switch {
		case b == 0:
			return "", errPathEncoding
		case b == '/' || unreserved(b):
			decoded = append(decoded, b)
		default:
			const hexDigits = "0123456789ABCDEF"
			decoded = append(decoded, '%', hexDigits[hi], hexDigits[lo])
		}
		i += 2
	}

	// Segments: kept ones are written to out; ".." truncates out back to
	// the start of its last segment, recorded in starts.
	out := make([]byte, 0, len(decoded))
	var starts []int
	trailing := false
	for rest := decoded[1:]; ; {
		seg := rest
		last := true
		for j, c := range rest {
			if c == '/' {
				seg, rest, last = rest[:j], rest[j+1:], false
				break
			}
		}
		switch string(seg) {
		case "", ".":
			trailing = true
		case "..":
			if len(starts) == 0 {
				return "", errPathAboveRoot
			}
			out = out[:starts[len(starts)-1]]
			starts = starts[:len(starts)-1]
			trailing = true
		default:
			starts = append(starts, len(out))
			out = append(out, '/')
			out = append(out, seg...)
			trailing = false
		}
		if last {
			break
		}
	}
	if len(out) == 0 || trailing {
		out = append(out, '/')
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unreserved reports RFC 3986's unreserved characters.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
