package origin

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func scan(b []byte, method string, eof bool, maxBody int) (int, string, error) {
	n, resp, err := ScanResponse(b, method, eof, maxBody, nil)
	if err != nil || n == 0 {
		return n, "", err
	}
	body, err := io.ReadAll(resp.Body)
	return n, string(body), err
}

func TestScanResponse(t *testing.T) {
	cases := []struct {
		name, method, in string
		eof              bool
		body             string
		// extra bytes after the response, not part of it
		extra string
	}{
		{name: "length", method: "GET", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", body: "hello"},
		{name: "length, next response behind", method: "GET", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", extra: "HTTP/1.1 200 OK\r\n", body: "hi"},
		{name: "chunked with trailer", method: "GET", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1 \r\n!\r\n0\r\nT: 1\r\n\r\n", body: "hello!"},
		{name: "interim first", method: "GET", in: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", body: "x"},
		{name: "head", method: "HEAD", in: "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"},
		{name: "no content", method: "GET", in: "HTTP/1.1 204 No Content\r\n\r\n"},
		{name: "not modified", method: "GET", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"},
		{name: "until close", method: "GET", in: "HTTP/1.1 200 OK\r\n\r\nall of it", eof: true, body: "all of it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full := []byte(c.in + c.extra)
			n, body, err := scan(full, c.method, c.eof, 1<<10)
			if err != nil || n != len(c.in) || body != c.body {
				t.Fatalf("scan = %d %q %v, want %d %q", n, body, err, len(c.in), c.body)
			}
			if c.eof {
				return
			}
			// Every shorter prefix is incomplete, never an error.
			for k := range len(c.in) {
				if n, _, err := scan(full[:k], c.method, false, 1<<10); n != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: n=%d err=%v, want incomplete", k, n, err)
				}
			}
		})
	}
}

func TestScanResponseRefuses(t *testing.T) {
	cases := []struct {
		name, in string
		eof      bool
		want     error // nil: any error
	}{
		{name: "declared length too large", in: "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", want: ErrResponseTooLarge},
		{name: "chunks too large", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3ff\r\n" + string(make([]byte, 0x3ff)) + "\r\n3\r\n", want: ErrResponseTooLarge},
		{name: "until close too large", in: "HTTP/1.1 200 OK\r\n\r\n" + string(make([]byte, 1025)), want: ErrResponseTooLarge},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
		{name: "chunk without CRLF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc"},
		{name: "switching protocols", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
		{name: "garbage", in: "SSH-2.0-OpenSSH\r\n\r\n"},
		{name: "closed in the body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", eof: true},
		{name: "closed in the header", in: "HTTP/1.1 200 OK\r\nContent-", eof: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, _, err := scan([]byte(c.in), "GET", c.eof, 1<<10)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("scan = %d, %v; want error %v", n, err, c.want)
			}
		})
	}
}

// FuzzScanResponse: a response ScanResponse calls complete reads to its end
// without error, and is found complete at the same length when nothing
// follows it; one byte less is never complete.
func FuzzScanResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\nHTTP/1.1"), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody"), true)
	f.Fuzz(func(t *testing.T, b []byte, eof bool) {
		n, _, err := scan(b, "GET", eof, 4096)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("length %d beyond the %d bytes", n, len(b))
		}
		if m, _, err := scan(b[:n], "GET", eof, 4096); m != n || err != nil {
			t.Fatalf("alone: %d %v, want %d", m, err, n)
		}
		if m, _, _ := scan(b[:n-1], "GET", false, 4096); m != 0 {
			t.Fatalf("%d bytes of a %d-byte response complete", n-1, n)
		}
	})
}

// FuzzQuickResponse: ScanResponse answers the same with quickResponse as
// with http.ReadResponse alone, for whatever an origin sends: the same
// length or error, and a response with the same status, protocol, header,
// framing and body.
func FuzzQuickResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nX-a: 1\r\nx-A:  2 \r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
		"HTTP/1.1 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 204\r\nConnection: keep-alive\r\nconnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 003\r\nPragma: no-cache\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 1\r\n\r\nz",
		"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 1\r\n\r\nz",
		"HTTP/1.1 200 OK\nX: a\n\nz",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
		"HTTP/1.1 +20 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
	} {
		f.Add([]byte(seed), "GET", true)
		f.Add([]byte(seed), "HEAD", false)
	}
	f.Fuzz(func(t *testing.T, b []byte, method string, eof bool) {
		type answer struct {
			n                 int
			err               bool
			status, proto     string
			code, major, minr int
			header, trailer   http.Header
			length            int64
			te                []string
			close             bool
			body              string
			bodyErr           bool
		}
		// sc has read a response before, as a caller's Scratch would
		// have: what it holds must not show in the next.
		sc := new(Scratch)
		prior := []byte("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nContent-Length: 1\r\n\r\nz")
		if _, _, err := ScanResponse(prior, "GET", false, 10, sc); err != nil {
			t.Fatal(err)
		}
		run := func(slow bool, sc *Scratch) answer {
			slowResponses = slow
			defer func() { slowResponses = false }()
			n, resp, err := ScanResponse(b, method, eof, 1<<20, sc)
			a := answer{n: n, err: err != nil}
			if resp == nil {
				return a
			}
			body, err := io.ReadAll(resp.Body)
			a.status, a.proto, a.code, a.major, a.minr = resp.Status, resp.Proto, resp.StatusCode, resp.ProtoMajor, resp.ProtoMinor
			a.header, a.length, a.te, a.close = resp.Header.Clone(), resp.ContentLength, resp.TransferEncoding, resp.Close
			a.body, a.bodyErr, a.trailer = string(body), err != nil, resp.Trailer
			if resp.Request == nil || resp.Request.Method != method {
				t.Fatalf("slow=%v: the response's request is %+v", slow, resp.Request)
			}
			return a
		}
		quick, slow := run(false, sc), run(true, new(Scratch))
		if !reflect.DeepEqual(quick, slow) {
			t.Fatalf("quickResponse and http.ReadResponse differ on %q:\nquick %+v\nslow  %+v", b, quick, slow)
		}
		if again := run(false, nil); !reflect.DeepEqual(again, quick) {
			t.Fatalf("quickResponse with and without a scratch differ on %q:\nwith    %+v\nwithout %+v", b, quick, again)
		}
	})
}

// TestQuickResponse: the plain responses take the quick path, and those it
// leaves to http.ReadResponse do not.
func TestQuickResponse(t *testing.T) {
	for in, want := range map[string]bool{
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nETag: \"a\"\r\nAccept-Ranges: bytes\r\n\r\nhello": true,
		"HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n":                                                       true,
		"HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=60\r\n\r\n":                                            true,
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell":                                                          false, // the body is not all in
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n":                                            false,
		"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n":                                          false,
		"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n":                                                              false,
		"HTTP/1.1 100 Continue\r\n\r\n":                                                                             false,
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n":                                                false,
		"HTTP/1.1 200 OK\r\nX: \xe2\x82\xac\r\nContent-Length: 0\r\n\r\n":                                           false,
		"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n":               false,
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz":                                        false,
		"HTTP/1.1 200 OK\r\nx-lower\":a\r\n\r\n":                                                                    false, // not a token, after a letter to canonicalize
	} {
		head := strings.Index(in, "\r\n\r\n") + 4
		_, ok := quickResponse([]byte(in[:head]), []byte(in[head:]), &http.Request{Method: "GET"}, nil)
		if ok != want {
			t.Errorf("quickResponse(%q) took it: %v, want %v", in, ok, want)
		}
	}
	// The body of a quick response can be taken in one piece; half read,
	// what is left of it.
	in := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	resp, _ := quickResponse([]byte(in[:len(in)-5]), []byte(in[len(in)-5:]), getRequest, nil)
	if b, ok := InMemory(resp.Body); !ok || string(b) != "hello" {
		t.Errorf("InMemory = %q, %v; want hello", b, ok)
	}
	_, _ = io.ReadFull(resp.Body, make([]byte, 2))
	if b, _ := InMemory(resp.Body); string(b) != "llo" {
		t.Errorf("InMemory after 2 bytes read = %q, want llo", b)
	}
	if _, ok := InMemory(http.NoBody); ok {
		t.Error("InMemory(http.NoBody) = ok")
	}
	for in, want := range map[string]string{
		"Content-Type": "Content-Type", "content-type": "Content-Type", "ETAG": "Etag", "x-": "X-", "1-a": "1-A",
	} {
		if got, ok := canonicalName(in); !ok || got != want {
			t.Errorf("canonicalName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
