package origin

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The fetch path for GET and HEAD, the methods the cache and almost every
// viewer request use. http.Transport serves one request with three
// goroutines (the caller, a per-connection writeLoop and readLoop) handing
// it over through channels; on a loopback benchmark with a 1 KiB object
// those hand-offs cost more than the HTTP work itself. Here the caller's
// goroutine writes the request and reads the response on a pooled
// connection, and the connection goes back to the pool when the body has
// been read to its end. Requests with a body (no retry is possible, and
// Expect: 100-continue) keep using the Transport of their transportKey.

// connPool holds the idle keep-alive connections to one address with one
// transportKey.
type connPool struct {
	key       transportKey
	addr      string      // host:port dialed
	tlsConfig *tls.Config // nil for http
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle   int
	// name is the pool's name for Prepared.Pool, made once.
	name     string
	nameOnce sync.Once

	mu   sync.Mutex
	idle []*persistConn // released last, last: idleSince ascending
	// sweep closes the connections idle for the keep-alive timeout. One
	// timer per pool, armed while connections are idle, rather than one
	// per connection re-armed on every exchange: a request then costs no
	// timer operation.
	sweep *time.Timer
	armed bool // sweep is scheduled
}

// poolKey names a connPool: the Transport settings and the URL's scheme
// and host (as in the URL, port optional).
type poolKey struct {
	transportKey
	scheme, host string
}

// persistConn is one connection of a connPool. It is used by one fetch at
// a time: from get until its response body reaches EOF or is closed.
type persistConn struct {
	pool *connPool
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	// idleSince is when the connection went back to the pool.
	idleSince time.Time
	// deadline is the read deadline set on the connection (zero: none).
	deadline time.Time
}

// pool returns the connPool for k, scheme and host, creating it on first use.
func (f *Fetcher) pool(k transportKey, scheme, host string) *connPool {
	pk := poolKey{transportKey: k, scheme: scheme, host: host}
	f.mu.RLock()
	p := f.pools[pk]
	f.mu.RUnlock()
	if p != nil {
		return p
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p = f.pools[pk]; p == nil {
		p = &connPool{key: k, addr: host, dial: f.dialFunc(k.connectTimeout, k.attempts), maxIdle: f.maxIdlePerHost}
		hostname, _, err := net.SplitHostPort(host)
		if err != nil { // no port in the URL
			hostname = host
			port := "80"
			if scheme == "https" {
				port = "443"
			}
			p.addr = net.JoinHostPort(hostname, port)
		}
		if scheme == "https" {
			p.tlsConfig = f.tlsConfig.Clone()
			if p.tlsConfig == nil {
				p.tlsConfig = &tls.Config{}
			}
			if p.tlsConfig.ServerName == "" {
				p.tlsConfig.ServerName = hostname
			}
		}
		f.pools[pk] = p
	}
	return p
}

// roundTrip sends a GET or HEAD without a body on a pooled connection.
// A request that fails on a reused connection before any byte of a
// response arrived (the origin closed it while it was idle) is retried on
// another one, as http.Transport does.
func (f *Fetcher) roundTrip(ctx context.Context, k transportKey, req *http.Request) (*http.Response, error) {
	p := f.pool(k, req.URL.Scheme, req.URL.Host)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pc, reused, err := p.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := pc.roundTrip(ctx, req, k.readTimeout)
		if err == nil {
			return resp, nil
		}
		var stale *staleConnError
		if reused && errors.As(err, &stale) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

// get returns an idle connection (reused) or dials a new one.
func (p *connPool) get(ctx context.Context) (pc *persistConn, reused bool, err error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		pc = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if time.Since(pc.idleSince) < p.key.keepalive {
			p.mu.Unlock()
			return pc, true, nil
		}
		// Idle past the keep-alive timeout, and so is every older one:
		// the sweep has not run yet.
		expired := append(p.idle, pc)
		p.idle = nil
		p.mu.Unlock()
		for _, old := range expired {
			old.conn.Close()
		}
	} else {
		p.mu.Unlock()
	}

	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	if p.tlsConfig != nil {
		tc := tls.Client(conn, p.tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, p.key.connectTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, false, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	return &persistConn{pool: p, conn: conn, br: bufio.NewReaderSize(conn, 4<<10), bw: bufio.NewWriterSize(conn, 4<<10)}, false, nil
}

// release puts a connection whose exchange ended cleanly back in the pool.
func (pc *persistConn) release() {
	p := pc.pool
	// Bytes after the end of the response are not an answer to anything
	// we sent: the connection is out of step.
	if pc.br.Buffered() > 0 {
		pc.conn.Close()
		return
	}
	p.mu.Lock()
	if len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		pc.conn.Close()
		return
	}
	pc.idleSince = time.Now()
	p.idle = append(p.idle, pc)
	if !p.armed {
		p.armed = true
		if p.sweep == nil {
			p.sweep = time.AfterFunc(p.key.keepalive, p.expire)
		} else {
			p.sweep.Reset(p.key.keepalive)
		}
	}
	p.mu.Unlock()
}

// expire closes the connections idle for the keep-alive timeout and
// schedules itself for when the oldest of the others will be.
func (p *connPool) expire() {
	p.mu.Lock()
	now := time.Now()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].idleSince) >= p.key.keepalive {
		n++
	}
	expired := slices.Clone(p.idle[:n])
	p.idle = slices.Delete(p.idle, 0, n)
	if len(p.idle) > 0 {
		p.sweep.Reset(p.idle[0].idleSince.Add(p.key.keepalive).Sub(now))
	} else {
		p.armed = false
	}
	p.mu.Unlock()
	for _, pc := range expired {
		pc.conn.Close()
	}
}

// closeIdle closes every idle connection; the pool stays usable.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.armed {
		p.sweep.Stop()
		p.armed = false
	}
	p.mu.Unlock()
	for _, pc := range idle {
		pc.conn.Close()
	}
}

// neverStopped is the stop function of an exchange whose context cannot
// end: there is no watch to stop, and the connection may be reused.
func neverStopped() bool { return true }

// aLongTimeAgo is a deadline in the past: setting it unblocks every read
// and write on a connection.
var aLongTimeAgo = time.Unix(1, 0)

func (pc *persistConn) interrupt() { _ = pc.conn.SetDeadline(aLongTimeAgo) }

// staleConnError is a failure before any byte of a response was read: on
// a reused connection, the origin most likely closed it while idle.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string {
	return "connection closed before a response: " + e.err.Error()
}
func (e *staleConnError) Unwrap() error { return e.err }

// roundTrip writes req and reads the response header. On success the
// connection belongs to the response body; on failure it is closed.
func (pc *persistConn) roundTrip(ctx context.Context, req *http.Request, readTimeout time.Duration) (*http.Response, error) {
	if readTimeout > 0 {
		// The wait for the response header may take readTimeout. A
		// deadline set by an earlier exchange on the connection that
		// still allows that much stays (the wait may then last up to a
		// quarter longer): moving a deadline costs a runtime timer
		// operation per request. Set before the context's watch is, so
		// that it never undoes the watch's interrupt.
		if now := time.Now(); pc.deadline.Sub(now) < readTimeout {
			pc.deadline = now.Add(readTimeout + readTimeout/4)
			_ = pc.conn.SetReadDeadline(pc.deadline)
		}
	}
	// ctx bounds the whole exchange, body included: when it ends, every
	// blocked read or write on the connection returns. A context that
	// never ends (the fasthttp engine's) needs no watch.
	stop := neverStopped
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, pc.interrupt)
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if err := writeRequest(pc.bw, req); err != nil {
		var bad *badHeaderError
		if errors.As(err, &bad) {
			return fail(err)
		}
		return fail(&staleConnError{err})
	}
	var resp *http.Response
	for {
		if _, err := pc.br.Peek(1); err != nil {
			var timeout interface{ Timeout() bool }
			if errors.As(err, &timeout) && timeout.Timeout() {
				return fail(err)
			}
			return fail(&staleConnError{err})
		}
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(fmt.Errorf("read response: %w", err))
		}
		// Informational responses (103 Early Hints…) precede the real one.
		if resp.StatusCode < 100 || resp.StatusCode >= 200 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errors.New("origin switched protocols"))
		}
	}
	// The read deadline stays: it bounds each wait for the body too (see
	// bodyReader.Read), and the next exchange on the connection sets its
	// own before it reads.
	reusable := !resp.Close && !req.Close
	if resp.Body == http.NoBody {
		if stop() && reusable {
			pc.release()
		} else {
			pc.conn.Close()
		}
		return resp, nil
	}
	resp.Body = &bodyReader{body: resp.Body, pc: pc, ctx: ctx, stop: stop, reusable: reusable,
		readTimeout: readTimeout}
	return resp, nil
}

// bodyReader is a response body on a pooled connection: at EOF the
// connection goes back to the pool; a body closed early, or that failed,
// closes it. Read and Close must not be called concurrently.
type bodyReader struct {
	body     io.ReadCloser
	pc       *persistConn
	ctx      context.Context
	stop     func() bool
	reusable bool
	err      error // set once the connection was released or closed
	// readTimeout is the origin's read timeout, which CloudFront applies
	// to each wait for the next piece of a response, not to the whole
	// body (pc.deadline is the read deadline set on the connection).
	readTimeout time.Duration
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.readTimeout > 0 {
		// Move the deadline on, when a quarter of the timeout has passed
		// since it was set, so that a long body may take as long as it
		// needs while a stalled origin still times out.
		if now := time.Now(); b.pc.deadline.Sub(now) < b.readTimeout*3/4 {
			b.pc.deadline = now.Add(b.readTimeout)
			_ = b.pc.conn.SetReadDeadline(b.pc.deadline)
			// Moving the deadline may have undone an interrupt.
			if err := b.ctx.Err(); err != nil {
				b.finish(false, err)
				return 0, err
			}
		}
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.finish(true, io.EOF)
	case err != nil:
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		b.finish(false, err)
	}
	return n, err
}

func (b *bodyReader) Close() error {
	if b.err == nil {
		// Unread bytes are left on the connection: it cannot be reused.
		b.finish(false, errors.New("read on closed response body"))
	}
	return nil
}

func (b *bodyReader) finish(eof bool, err error) {
	b.err = err
	if b.stop() && eof && b.reusable {
		b.pc.release()
		return
	}
	b.pc.conn.Close()
}

// badHeaderError is a header that cannot be sent (the Transport refuses it
// too); it is not a connection failure and is never retried.
type badHeaderError struct{ name string }

func (e *badHeaderError) Error() string {
	return fmt.Sprintf("invalid header field %q for the origin request", e.name)
}

// writeRequest writes a request without a body in HTTP/1.1 form,
// serialized in w's free buffer (nothing is written when the header has a
// field that cannot be sent).
func writeRequest(w *bufio.Writer, req *http.Request) error {
	b, err := appendRequest(w.AvailableBuffer(), req)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Flush()
}

// appendRequest appends req's request line and header (no body) in
// HTTP/1.1 form to dst. Appending, rather than writing through an
// interface, keeps req and what it points to off the heap.
func appendRequest(dst []byte, req *http.Request) ([]byte, error) {
	b := append(dst, req.Method...)
	b = append(b, ' ')
	if path := req.URL.EscapedPath(); path != "" {
		b = append(b, path...)
	} else {
		b = append(b, '/')
	}
	if req.URL.RawQuery != "" {
		b = append(b, '?')
		b = append(b, req.URL.RawQuery...)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.Host...)
	b = append(b, "\r\n"...)
	for name, values := range req.Header {
		if !validHeaderName(name) {
			return dst, &badHeaderError{name}
		}
		for _, v := range values {
			if !validHeaderValue(v) {
				return dst, &badHeaderError{name}
			}
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...), nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !tokenByte[name[i]] {
			return false
		}
	}
	return true
}

// tokenByte reports the bytes of an RFC 9110 token: visible ASCII but
// for the delimiters "(),/:;<=>?@[\]{}.
var tokenByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
	}
	return t
}()

// validHeaderValue rejects control characters other than tab, which would
// end the header line early (request splitting).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// asciiHost reports whether host needs no IDNA conversion; other hosts go
// through http.Transport, which converts them.
func asciiHost(host string) bool {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return false
		}
	}
	return true
}
