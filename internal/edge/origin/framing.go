package origin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrResponseTooLarge is ScanResponse's answer for a response whose body
// goes beyond its maxBody: the caller reads it from the connection.
var ErrResponseTooLarge = errors.New("origin response larger than the buffer")

// maxResponseHeader bounds a response header (and the informational
// responses before it) that ScanResponse waits for.
const maxResponseHeader = 64 << 10

// ScanResponse looks for a complete response to a request of method in
// b, the bytes received so far on a connection (eof: and the origin has
// closed it). It returns n == 0 while more bytes are needed. Once the
// response is complete it returns its length n and the response, whose
// Body reads from b[:n] (informational 1xx responses before it are
// skipped, as Fetch skips them). The response's Request, which only names
// the method, is shared and must not be modified. With a Scratch, the
// response, its header and its body reader are sc's storage (see
// Scratch). A body longer than maxBody gives
// ErrResponseTooLarge (the header is complete then), a malformed
// response another error.
//
// The framing is RFC 9112 section 6.3's: no body for HEAD, 1xx, 204 and
// 304; else chunked, else Content-Length, else until the connection
// closes.
func ScanResponse(b []byte, method string, eof bool, maxBody int, sc *Scratch) (n int, resp *http.Response, err error) {
	var req *http.Request // made once a header is complete
	off := 0
	for {
		end := bytes.Index(b[off:], crlfcrlf)
		if end < 0 {
			if len(b) > maxResponseHeader {
				return 0, nil, errors.New("origin response header too large")
			}
			if eof {
				return 0, nil, errors.New("origin closed the connection before a complete response header")
			}
			return 0, nil, nil
		}
		head := off + end + len(crlfcrlf)
		if head > maxResponseHeader {
			return 0, nil, errors.New("origin response header too large")
		}
		if req == nil {
			req = requestOf(method)
		}
		var quick bool
		if !slowResponses {
			resp, quick = quickResponse(b[off:head], b[head:], req, sc)
		}
		if !quick {
			var br *bufio.Reader
			if sc != nil {
				if sc.br == nil {
					sc.br = bufio.NewReaderSize(nil, 4<<10)
				}
				sc.rd.Reset(b[off:])
				br = sc.br
				br.Reset(&sc.rd)
			} else {
				br = bufio.NewReader(bytes.NewReader(b[off:]))
			}
			if resp, err = http.ReadResponse(br, req); err != nil {
				return 0, nil, fmt.Errorf("read response: %w", err)
			}
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return 0, nil, errors.New("origin switched protocols")
		}
		if resp.StatusCode >= 200 {
			body := b[head:]
			var size int
			switch {
			case method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
				size = 0
			case len(resp.TransferEncoding) > 0:
				// net/http accepts only "chunked" here.
				var complete bool
				size, complete, err = chunkedLength(body, maxBody)
				if err != nil {
					return 0, nil, err
				}
				if !complete {
					if eof {
						return 0, nil, errors.New("origin closed the connection in a chunked body")
					}
					return 0, nil, nil
				}
			case resp.ContentLength >= 0:
				if resp.ContentLength > int64(maxBody) {
					return 0, nil, ErrResponseTooLarge
				}
				size = int(resp.ContentLength)
				if len(body) < size {
					if eof {
						return 0, nil, errors.New("origin closed the connection in the body")
					}
					return 0, nil, nil
				}
			default: // until the connection closes
				if len(body) > maxBody {
					return 0, nil, ErrResponseTooLarge
				}
				if !eof {
					return 0, nil, nil
				}
				size = len(body)
			}
			return head + size, resp, nil
		}
		off = head // an informational response: the real one follows
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// A Scratch is what ScanResponse reuses from one response to the next for
// a caller that is done with each response, its header and its body,
// before it scans the next: the Response, the header map, the slice its
// values are in, the body's reader and the reader net/http parses through.
// Nothing of a response scanned with it may be kept, not even the
// header's strings: those of a response parsed without net/http are
// pieces of the bytes scanned, as its body is, and change with them.
// (A copy of the header, one allocation per response, was about 2 % of
// the event loops' CPU per fetch.)
type Scratch struct {
	resp   http.Response
	header http.Header
	values []string
	body   memBody
	br     *bufio.Reader
	rd     bytes.Reader
}

// requestOf returns the request a response to method is read for, of
// which http.ReadResponse and quickResponse read only the method and
// which they set as the response's Request: shared for GET and HEAD,
// so nothing may modify it.
func requestOf(method string) *http.Request {
	switch method {
	case http.MethodGet:
		return getRequest
	case http.MethodHead:
		return headRequest
	}
	return &http.Request{Method: method}
}

var getRequest, headRequest = &http.Request{Method: http.MethodGet}, &http.Request{Method: http.MethodHead}

// slowResponses makes ScanResponse parse every header with
// http.ReadResponse, for the tests that compare quickResponse with it.
var slowResponses = false

// chunkedLength walks a chunked body (RFC 9112 section 7.1) at the start
// of b: its length with the last chunk and trailer section, once b holds
// all of it (complete). Its parsing is that of net/http's chunked reader,
// which reads the body afterwards: a size line may carry extensions after
// ';' and trailing spaces or tabs.
func chunkedLength(b []byte, maxBody int) (n int, complete bool, err error) {
	data := 0
	for {
		eol, err := lineEnd(b[n:], "origin chunk size line too long")
		if eol < 0 || err != nil {
			return 0, false, err
		}
		line := string(b[n : n+eol])
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimRight(line, " \t")
		size, ok := parseHex(line)
		if !ok {
			return 0, false, errors.New("origin sent a malformed chunk size")
		}
		n += eol + 2
		if size == 0 {
			// The trailer section: lines up to an empty one.
			for {
				eol, err := lineEnd(b[n:], "origin trailer too long")
				if eol < 0 || err != nil {
					return 0, false, err
				}
				n += eol + 2
				if eol == 0 {
					return n, true, nil
				}
			}
		}
		data += size
		if data > maxBody {
			return 0, false, ErrResponseTooLarge
		}
		if len(b)-n < size+2 {
			return 0, false, nil
		}
		if b[n+size] != '\r' || b[n+size+1] != '\n' {
			return 0, false, errors.New("origin chunk not followed by CRLF")
		}
		n += size + 2
	}
}

// lineEnd is the index of the CRLF ending the line at the start of b: -1
// while it has not arrived, and an error (tooLong) when a line of chunk
// framing runs on past 4 KiB.
func lineEnd(b []byte, tooLong string) (int, error) {
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 && len(b) > 4096 {
		return -1, errors.New(tooLong)
	}
	return eol, nil
}

// parseHex parses a chunk size: 1 to 15 hexadecimal digits.
func parseHex(s string) (int, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int(c)
	}
	return n, true
}
