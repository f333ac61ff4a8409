package origin

import (
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"unsafe"
)

// quickResponse parses a response header, head (its status line, fields
// and the empty line), the way http.ReadResponse does, for the plain
// responses most origins send: HTTP/1.1, a final status, fields of
// token names and printable ASCII values, one line each, a Content-Length
// or none, and no Transfer-Encoding, Trailer, Pragma or Connection other
// than close or keep-alive. rest is what follows the header: the body is
// read from it. req is the request it answers, of which only the method
// is read. ok is false for anything else, which http.ReadResponse
// parses instead: its results for every response quickResponse takes are
// the same (FuzzQuickResponse). It allocates one string for the whole
// header, and without a Scratch the response, the map, one slice of
// values and the body's reader, where http.ReadResponse allocates a
// string per field and its reader's state.
func quickResponse(head, rest []byte, req *http.Request, sc *Scratch) (resp *http.Response, ok bool) {
	method := req.Method
	// The status line: "HTTP/1.1 NNN" and a reason phrase or nothing.
	const proto = "HTTP/1.1 "
	eol := bytes.IndexByte(head, '\n')
	if eol < len(proto)+4 || head[eol-1] != '\r' || string(head[:len(proto)]) != proto {
		return nil, false
	}
	// One string holds the header; names and values are pieces of it.
	// With a Scratch, that string is head itself, as the body is rest
	// itself (see Scratch); without, a copy the response owns.
	var s string
	if sc != nil {
		s = unsafe.String(unsafe.SliceData(head), len(head))
	} else {
		s = string(head)
	}
	line := s[:eol-1]
	code := line[len(proto) : len(proto)+3]
	if code[0] < '2' || code[0] > '5' || !isDigit(code[1]) || !isDigit(code[2]) ||
		(len(line) > len(proto)+3 && line[len(proto)+3] != ' ') || !printable(line) {
		return nil, false
	}
	fields := bytes.Count(head, []byte("\n")) - 2
	var h http.Header
	var values []string
	if sc != nil && sc.header != nil && cap(sc.values) >= fields {
		h, values = sc.header, sc.values[:fields]
		clear(h)
	} else {
		h, values = make(http.Header, fields), make([]string, fields)
		if sc != nil && fields <= maxScratchFields {
			sc.header, sc.values = h, values
		}
	}
	contentLength := int64(-1)
	closing, sawConnection := false, false
	for off := eol + 1; ; {
		next := strings.IndexByte(s[off:], '\n')
		if next < 1 || s[off+next-1] != '\r' {
			return nil, false
		}
		field := s[off : off+next-1]
		off += next + 1
		if field == "" {
			break
		}
		colon := strings.IndexByte(field, ':')
		if colon < 1 || !printable(field[colon+1:]) {
			return nil, false
		}
		name, ok := canonicalName(field[:colon])
		if !ok {
			// (Also an obs-fold line, which starts with a space.)
			return nil, false
		}
		value := textproto.TrimString(field[colon+1:])
		switch name {
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil, false
		case "Content-Length":
			if contentLength >= 0 || value == "" || len(value) > 18 {
				return nil, false
			}
			contentLength = 0
			for i := 0; i < len(value); i++ {
				if !isDigit(value[i]) {
					return nil, false
				}
				contentLength = contentLength*10 + int64(value[i]-'0')
			}
		case "Connection":
			if sawConnection {
				return nil, false
			}
			sawConnection = true
			switch {
			case strings.EqualFold(value, "close"):
				// net/http takes it out and sets Close.
				closing = true
				continue
			case !strings.EqualFold(value, "keep-alive"):
				return nil, false
			}
		}
		if vs := h[name]; vs != nil {
			h[name] = append(vs, value)
			continue
		}
		i := len(h)
		values[i] = value
		h[name] = values[i : i+1 : i+1]
	}
	if sc != nil {
		resp = &sc.resp
	} else {
		resp = new(http.Response)
	}
	*resp = http.Response{
		Status: line[len(proto):], StatusCode: int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0'),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Request: req, Close: closing,
	}
	switch {
	case method == http.MethodHead:
		resp.ContentLength, resp.Body = contentLength, http.NoBody
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		resp.ContentLength, resp.Body = 0, http.NoBody
	case contentLength == 0:
		resp.ContentLength, resp.Body = 0, http.NoBody
	case contentLength > 0:
		if int64(len(rest)) < contentLength {
			return nil, false
		}
		resp.ContentLength, resp.Body = contentLength, newMemBody(rest[:contentLength], sc)
	default: // until the connection closes
		resp.ContentLength, resp.Close, resp.Body = -1, true, newMemBody(rest, sc)
	}
	return resp, true
}

// memBody is a body in memory: one allocation (none with a Scratch),
// where io.NopCloser(bytes.NewReader(b)) makes two.
type memBody struct {
	bytes.Reader
	b []byte // what the Reader reads
}

func newMemBody(b []byte, sc *Scratch) *memBody {
	var m *memBody
	if sc != nil {
		m = &sc.body
	} else {
		m = new(memBody)
	}
	m.Reset(b)
	m.b = b
	return m
}

func (*memBody) Close() error { return nil }

// InMemory returns what is left of body when it is a body ScanResponse
// read from memory (whose bytes stay valid as long as the buffer it was
// scanned from), for a caller that can take it in one piece rather than
// copy it through a buffer of its own.
func InMemory(body io.Reader) ([]byte, bool) {
	m, ok := body.(*memBody)
	if !ok {
		return nil, false
	}
	return m.b[len(m.b)-m.Len():], true
}

// canonicalName returns name, a field name, in canonical form
// (textproto.CanonicalMIMEHeaderKey's) without a copy when it is in that
// form already, as most origins send it; ok is false for a name that is
// not an RFC 9110 token.
func canonicalName(name string) (canonical string, ok bool) {
	upper, canon := true, true // upper: the next letter starts a word
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !tokenByte[c] {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canon = false
		}
		upper = c == '-'
	}
	if !canon {
		return textproto.CanonicalMIMEHeaderKey(name), true
	}
	return name, name != ""
}

// maxScratchFields bounds the header a Scratch keeps for the next
// response: an origin's rare huge header is not held on to.
const maxScratchFields = 64

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// printable: printable ASCII and tabs only.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}
