package origin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Prepared is a GET or HEAD request to a plain-HTTP custom origin,
// serialized for a caller that does the connection's I/O itself (the edge's
// event-loop engine, which must never wait on a socket). Fetch would send
// the same bytes on the same pooled connection; what Prepare does not take
// (a body, HTTPS, a signed S3 request, a host that needs IDNA) goes
// through Fetch.
type Prepared struct {
	// Pool names the connections the request may reuse: the origin's
	// address and its timeouts, as Fetch's pools do.
	Pool string
	// Addr is the host:port to connect to.
	Addr string
	// OriginID is the Spec's ID, for errors (see Failed).
	OriginID string
	// Method is GET or HEAD: what the response is read for.
	Method string
	// ReadTimeout bounds each wait for the origin (the response header,
	// then each piece of the body); Keepalive how long an idle connection
	// is kept.
	ReadTimeout, Keepalive time.Duration
	key                    transportKey
}

// ErrNotPrepared is Prepare's answer for a request that only Fetch sends.
var ErrNotPrepared = errors.New("origin: request needs Fetch")

// Prepare serializes req for spec onto dst, as Fetch would send it, and
// returns dst extended. It returns ErrNotPrepared for a request Fetch must
// send (see Prepared), and an error for one Fetch would refuse too.
func (f *Fetcher) Prepare(spec *Spec, req *Request, dst []byte) (Prepared, []byte, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if spec.S3 || req.Body != nil || (method != http.MethodGet && method != http.MethodHead) {
		return Prepared{}, dst, ErrNotPrepared
	}
	t, err := customTarget(spec, req)
	if err != nil {
		return Prepared{}, dst, fmt.Errorf("origin %q: %w", spec.ID, err)
	}
	if t.url.Scheme != "http" {
		return Prepared{}, dst, ErrNotPrepared
	}
	// The header is only serialized: its map, and the X-Forwarded-For
	// value's slice, go back to a pool.
	ph, _ := preparedHeaders.Get().(*preparedHeader)
	if ph == nil {
		ph = &preparedHeader{h: make(http.Header, len(req.Header)+len(spec.CustomHeaders)+3)}
	}
	defer func() {
		clear(ph.h)
		ph.xff[0] = ""
		preparedHeaders.Put(ph)
	}()
	header, viewerHost := originHeaderInto(ph.h, req.Header, spec, req.ClientIP, &ph.xff)
	if viewerHost != "" {
		t.host = viewerHost
	}
	if !asciiHost(t.host) {
		return Prepared{}, dst, ErrNotPrepared
	}
	if sign, err := shouldSign(spec, header); err != nil || sign {
		return Prepared{}, dst, ErrNotPrepared
	}
	hreq := http.Request{Method: method, URL: &t.url, Host: t.host, Header: header}
	dst, err = appendRequest(dst, &hreq)
	if err != nil {
		return Prepared{}, dst, fetchError(spec.ID, err)
	}
	k := keyOf(spec)
	p := f.pool(k, t.url.Scheme, t.url.Host)
	p.nameOnce.Do(func() {
		p.name = p.addr + "|" + strconv.FormatInt(int64(k.connectTimeout), 36) + "|" + strconv.Itoa(k.attempts) +
			"|" + strconv.FormatInt(int64(k.readTimeout), 36) + "|" + strconv.FormatInt(int64(k.keepalive), 36)
	})
	return Prepared{
		Pool: p.name, Addr: p.addr, OriginID: spec.ID, Method: method,
		ReadTimeout: k.readTimeout, Keepalive: k.keepalive, key: k,
	}, dst, nil
}

// Dial connects to p's origin as Fetch would: its connection attempts,
// each bounded by the connect timeout. The error is an *Error.
func (f *Fetcher) Dial(ctx context.Context, p Prepared) (net.Conn, error) {
	conn, err := f.dialFunc(p.key.connectTimeout, p.key.attempts)(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, fetchError(p.OriginID, err)
	}
	return conn, nil
}

// Failed wraps err, a failure to get a response to p from its origin, in
// an *Error of the right kind (see StatusFor), as Fetch would return it.
func (p Prepared) Failed(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fetchError(p.OriginID, err)
}

// Timeout is the *Error of an origin that sent nothing for ReadTimeout.
func (p Prepared) Timeout() error {
	return &Error{OriginID: p.OriginID, Kind: ErrOriginTimeout, Err: errReadTimeout}
}

var errReadTimeout = errors.New("no response within the origin's read timeout")

// preparedHeaders holds the origin header maps Prepare fills, serializes
// and empties (*preparedHeader).
var preparedHeaders sync.Pool

type preparedHeader struct {
	h   http.Header
	xff [1]string
}
