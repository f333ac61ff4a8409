//go:build linux

package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"

	"github.com/stagefront/stagefront/internal/edge/origin"
)

// An event loop's own origin fetches. An uncached request on a plain-HTTP
// custom origin (see loopProxy) is fetched by the loop that read it, the
// way nginx's proxy_pass works: the loop writes the serialized request on
// a keep-alive connection of its own to the origin, watches that
// connection in the same epoll set as its viewers, reads the response
// into memory, and answers the viewer from the request path's
// resumeProxy, all without waiting on a socket and without a goroutine.
//
// The loop keeps to what it can finish without waiting:
//   - Connecting is a goroutine's (origin.Fetcher.Dial: its resolver,
//     connection attempts and connect timeout); the loop adopts the
//     connection when it is up. Idle connections are reused for the
//     origin's keep-alive timeout, and a request that fails on a reused
//     one before any byte of a response is sent again on another, as
//     Fetch does.
//   - The origin's read timeout is checked once a second.
//   - A response not complete in what one read brought (its header is in,
//     its body still coming: a large or slow body, an event stream, which
//     the viewer gets as the origin sends it), one with a body larger than
//     loopMaxBody, one that needs a custom error page, and every error
//     (which may need one) are finished off the loop: a goroutine reads
//     the rest of the response from the connection, answers through
//     resumeProxy and writes the answer, and the viewer's connection goes
//     on to the fasthttp engine.

// loopMaxIdlePerOrigin bounds the idle connections a loop keeps per
// origin pool.
const loopMaxIdlePerOrigin = 128

// loopFetch is one request a loop waits on without waiting: one whose
// origin fetch it makes (x is its exchange), or one offloaded to a
// goroutine (x nil; see offload).
type loopFetch struct {
	lc  *loopConn
	x   *exchange
	ctx *fasthttp.RequestCtx // the request's own, until it is answered
	// rest is what the viewer sent after the request, read once it is
	// answered; closeAfter: the viewer asked to close after it.
	rest       []byte
	closeAfter bool
	oc         *originConn // nil while connecting
	sent       int         // bytes of the request written to oc
	retries    int         // reused connections found closed
}

// release drops f's request unanswered and unrecorded.
func (f *loopFetch) release(s *Server) {
	if f.x != nil {
		s.exchanges.put(f.x)
	}
	putLoopCtx(f.ctx)
}

// originConn is a loop's connection to an origin.
type originConn struct {
	fd        int
	pool      string
	keepalive time.Duration // the origin's keep-alive timeout
	f         *loopFetch    // the fetch it serves; nil while idle
	buf       []byte        // the response so far
	reused    bool
	idleSince time.Time
	deadline  time.Time // of the origin's next byte
	writing   bool      // watched for writability
	closed    bool
}

// dialResult is a connection a dialing goroutine made for f (fd), or why
// it could not.
type dialResult struct {
	f   *loopFetch
	fd  int
	err error
}

var loopCtxs sync.Pool

func newLoopCtx() *fasthttp.RequestCtx {
	if ctx, ok := loopCtxs.Get().(*fasthttp.RequestCtx); ok {
		return ctx
	}
	return new(fasthttp.RequestCtx)
}

func putLoopCtx(ctx *fasthttp.RequestCtx) {
	ctx.Request.Reset()
	ctx.Response.Reset()
	loopCtxs.Put(ctx)
}

// mute stops (or resumes) watching lc: while its answer is being fetched,
// what the viewer sends waits, and a viewer gone is found when the answer
// is written. (Removed rather than left without events: epoll reports a
// hang-up whatever the events asked for.)
func (el *eventLoop) mute(lc *loopConn, mute bool) {
	if lc.muted == mute {
		return
	}
	lc.muted = mute
	if mute {
		_ = unix.EpollCtl(el.epfd, unix.EPOLL_CTL_DEL, lc.fd, nil)
		return
	}
	_ = unix.EpollCtl(el.epfd, unix.EPOLL_CTL_ADD, lc.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(lc.fd)})
}

// connect gives f an idle connection to its origin, or starts dialing one.
func (el *eventLoop) connect(f *loopFetch) {
	p := &f.x.lp.prep
	list := el.idle[p.Pool]
	for len(list) > 0 {
		oc := list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		if oc.closed {
			continue
		}
		if el.now.Sub(oc.idleSince) >= p.Keepalive {
			el.closeOrigin(oc)
			continue
		}
		el.idle[p.Pool] = list
		oc.f, oc.reused, oc.buf = f, true, oc.buf[:0]
		oc.deadline = el.now.Add(p.ReadTimeout)
		f.oc, f.sent = oc, 0
		el.send(oc)
		return
	}
	el.idle[p.Pool] = list
	lf := el.ls.srv.fetcher.(loopFetcher)
	prep := *p
	el.ls.detached.Add(1)
	go func() {
		defer el.ls.detached.Done()
		fd := -1
		conn, err := lf.Dial(context.Background(), prep)
		if err == nil {
			fd, err = adoptFD(conn)
		}
		el.mu.Lock()
		if !el.stopped {
			el.dialed = append(el.dialed, dialResult{f: f, fd: fd, err: err})
			el.mu.Unlock()
			el.wake()
			return
		}
		el.mu.Unlock()
		// The loop is gone (shut down): the fetch is finished here.
		el.ls.finishOff(f, func() (*http.Response, error) {
			if err != nil {
				return nil, prep.Failed(err)
			}
			conn, err := fdConn(fd, "origin")
			if err == nil {
				_, err = conn.Write(f.x.lp.req)
			}
			if err != nil {
				return nil, prep.Failed(err)
			}
			return readOff(conn, nil, prep)
		})
	}()
}

// adoptFD takes conn's socket as a descriptor of the caller's, closing
// conn (see LoopServer.adopt).
func adoptFD(conn net.Conn) (int, error) {
	defer conn.Close()
	tcp := tcpConnOf(conn)
	if tcp == nil {
		return -1, errors.New("origin connection is not TCP")
	}
	return dupFD(tcp)
}

// takeDialed takes in the connections dialed for the loop's fetches.
func (el *eventLoop) takeDialed() {
	el.mu.Lock()
	dialed := el.dialed
	el.dialed = nil
	el.mu.Unlock()
	for _, d := range dialed {
		f := d.f
		if d.err != nil {
			prep := f.x.lp.prep
			err := d.err
			el.finishOff(f, func() (*http.Response, error) { return nil, prep.Failed(err) })
			continue
		}
		oc := &originConn{fd: d.fd, pool: f.x.lp.prep.Pool, keepalive: f.x.lp.prep.Keepalive, f: f}
		if err := unix.EpollCtl(el.epfd, unix.EPOLL_CTL_ADD, oc.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(oc.fd)}); err != nil {
			_ = unix.Close(oc.fd)
			prep := f.x.lp.prep
			el.finishOff(f, func() (*http.Response, error) { return nil, prep.Failed(err) })
			continue
		}
		if oc.fd >= len(el.origins) {
			el.origins = append(el.origins, make([]*originConn, oc.fd+1-len(el.origins)+64)...)
		}
		el.origins[oc.fd] = oc
		oc.deadline = el.now.Add(f.x.lp.prep.ReadTimeout)
		f.oc, f.sent = oc, 0
		el.send(oc)
	}
}

// send writes what is left of the request of oc's fetch.
func (el *eventLoop) send(oc *originConn) {
	f := oc.f
	req := f.x.lp.req
	for f.sent < len(req) {
		n, err := sockSend(oc.fd, req[f.sent:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			el.watchWrite(oc, true)
			return
		}
		if err != nil {
			el.originFailed(oc, err)
			return
		}
		f.sent += n
	}
	el.watchWrite(oc, false)
	oc.deadline = el.now.Add(f.x.lp.prep.ReadTimeout)
}

func (el *eventLoop) watchWrite(oc *originConn, on bool) {
	if oc.writing == on {
		return
	}
	oc.writing = on
	events := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if on {
		events |= unix.EPOLLOUT
	}
	_ = unix.EpollCtl(el.epfd, unix.EPOLL_CTL_MOD, oc.fd, &unix.EpollEvent{Events: events, Fd: int32(oc.fd)})
}

// originEvent handles epoll's report on an origin connection.
func (el *eventLoop) originEvent(oc *originConn, events uint32) {
	if oc.f == nil {
		// Idle: the origin closed it, or sent what nobody asked for.
		el.closeOrigin(oc)
		return
	}
	if events&unix.EPOLLOUT != 0 && oc.writing {
		el.send(oc)
		if oc.closed || oc.writing {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		el.receive(oc)
	}
}

// receive reads the response of oc's fetch and answers it once complete.
func (el *eventLoop) receive(oc *originConn) {
	f := oc.f
	if len(oc.buf) == cap(oc.buf) {
		oc.buf = append(oc.buf, make([]byte, max(16<<10, len(oc.buf)))...)[:len(oc.buf)]
	}
	n, err := sockRecv(oc.fd, oc.buf[len(oc.buf):cap(oc.buf)])
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return
	}
	if err != nil || (n == 0 && len(oc.buf) == 0) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		el.originFailed(oc, err)
		return
	}
	eof := n == 0
	oc.buf = oc.buf[:len(oc.buf)+n]
	oc.deadline = el.now.Add(f.x.lp.prep.ReadTimeout)
	// The loop is done with a response it answers before it reads
	// another (answerFetch); one answered off the loop is scanned again
	// from a copy, without the scratch.
	size, resp, err := origin.ScanResponse(oc.buf, f.x.lp.prep.Method, eof, loopMaxBody, &el.scratch)
	switch {
	case errors.Is(err, origin.ErrResponseTooLarge):
		el.detach(oc)
		return
	case err != nil:
		el.closeOrigin(oc)
		prep := f.x.lp.prep
		el.finishOff(f, func() (*http.Response, error) { return nil, prep.Failed(err) })
		return
	case size == 0:
		if bytes.Contains(oc.buf, crlfcrlf) {
			// The header is in, and the body still coming: the viewer
			// gets what the origin sends as it sends it (an event
			// stream, a slow origin), which takes a goroutine.
			el.detach(oc)
		}
		return
	}
	// Bytes after the response answer nothing that was sent: the
	// connection is out of step.
	var body []byte // the response, for an answer off the loop
	onLoop := loopFinishes(f.x.dist, resp)
	if !onLoop {
		body = bytes.Clone(oc.buf[:size])
	}
	// The connection goes back first, for the requests behind this one;
	// resp's body, read from oc.buf, is read before any of them is sent.
	if !resp.Close && size == len(oc.buf) && !eof {
		el.releaseOrigin(oc)
	} else {
		el.closeOrigin(oc)
	}
	if !onLoop {
		prep := f.x.lp.prep
		el.finishOff(f, func() (*http.Response, error) {
			_, resp, err := origin.ScanResponse(body, prep.Method, true, len(body), nil)
			return resp, err
		})
		return
	}
	el.answerFetch(f, resp)
}

// answerFetch answers f's request on the loop with resp, whose body is in
// memory, and goes on with what the viewer sent after it.
func (el *eventLoop) answerFetch(f *loopFetch, resp *http.Response) {
	lc := f.lc
	lc.fetch = nil
	s := el.ls.srv
	// A GET's answer is serialized here from the header resumeProxy
	// builds (writeLazy), not copied into f.ctx's header for fasthttp
	// to serialize: that copy and fasthttp's writing of it were about a
	// twentieth of the CPU of a loop fetch.
	w := &f.x.fw
	w.lazy = f.ctx.IsGet()
	s.resumeProxy(f.x, resp, nil)
	el.out = el.out[:0]
	written := w.lazy && !f.x.rec.aborted && el.writeLazy(w, f.closeAfter)
	closeAfter := f.closeAfter || f.ctx.Response.ConnectionClose()
	if written {
		w.lazy = false
	} else {
		w.unlazy() // f.ctx gets the header, for writeResponse
	}
	s.endFast(f.x)
	el.answers.Add(1)
	if !written {
		el.resume(f)
		return
	}
	el.goOn(f, closeAfter)
}

// writeLazy appends the answer w holds lazily (fastWriter.lazy) to
// el.out, and reports false, having written nothing, for one it leaves to
// fasthttp (a status without a body, or a streamed body). The answer is
// what fasthttp would write but for the order of the lines
// (TestLoopLazyAnswers): the status line, Date, the header, X-Amz-Cf-Id,
// Content-Length, Connection: close when the connection ends with it, and
// the body.
func (el *eventLoop) writeLazy(w *fastWriter, closeAfter bool) bool {
	code := w.code
	if !w.wrote || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || code > 999 ||
		w.ctx.Response.IsBodyStream() {
		return false
	}
	out := append(el.out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, ' ')
	out = append(out, fasthttp.StatusMessage(code)...)
	out = append(out, "\r\nDate: "...)
	out = append(out, el.date...)
	for k, values := range w.h {
		switch k {
		case "Date", "Content-Length", requestIDHeader, "Connection", "Transfer-Encoding":
			continue // the edge's own, below
		}
		for _, v := range values {
			out = appendHeaderLine(out, k, v)
		}
	}
	if w.reqID != nil {
		out = appendHeaderLine(out, requestIDHeader, bytesString(w.reqID))
	}
	body := w.ctx.Response.Body()
	out = append(out, "\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	if closeAfter || w.ctx.Response.ConnectionClose() {
		out = appendHeaderLine(out, "Connection", "close")
	}
	out = append(out, "\r\n\r\n"...)
	el.out = append(out, body...)
	return true
}

// resume writes the answer in f.ctx and goes on with f's connection:
// what the viewer sent after the request, then more.
func (el *eventLoop) resume(f *loopFetch) {
	el.out = el.out[:0]
	el.goOn(f, el.writeResponse(f.ctx, f.closeAfter))
}

// goOn sends the answer in el.out and goes on with f's connection (or
// closes it, closeAfter).
func (el *eventLoop) goOn(f *loopFetch, closeAfter bool) {
	lc := f.lc
	putLoopCtx(f.ctx)
	if closeAfter {
		if el.flush(lc, nil, true) {
			el.close(lc)
		}
		return
	}
	el.mute(lc, false)
	el.process(lc, f.rest)
}

// originFailed handles a connection that failed before f's response was
// complete: on a reused one with nothing received (the origin closed it
// while idle), the request is sent again on another; otherwise the fetch
// fails.
func (el *eventLoop) originFailed(oc *originConn, err error) {
	f := oc.f
	el.closeOrigin(oc)
	if oc.reused && len(oc.buf) == 0 && f.retries < 4 {
		f.retries++
		f.oc = nil
		el.connect(f)
		return
	}
	prep := f.x.lp.prep
	el.finishOff(f, func() (*http.Response, error) { return nil, prep.Failed(err) })
}

// releaseOrigin keeps oc for the next fetch to its origin.
func (el *eventLoop) releaseOrigin(oc *originConn) {
	list := el.idle[oc.pool]
	if len(list) >= loopMaxIdlePerOrigin {
		el.closeOrigin(oc)
		return
	}
	oc.f, oc.idleSince = nil, el.now
	if cap(oc.buf) > 16<<10 {
		oc.buf = nil // a large response's buffer is not kept (its reader may still be reading it)
	}
	el.idle[oc.pool] = append(list, oc)
}

// forgetOrigin stops watching oc, which leaves the loop's connections.
func (el *eventLoop) forgetOrigin(oc *originConn) {
	_ = unix.EpollCtl(el.epfd, unix.EPOLL_CTL_DEL, oc.fd, nil)
	if oc.fd < len(el.origins) && el.origins[oc.fd] == oc {
		el.origins[oc.fd] = nil
	}
	oc.closed = true
}

func (el *eventLoop) closeOrigin(oc *originConn) {
	if oc.closed {
		return
	}
	el.forgetOrigin(oc)
	_ = unix.Close(oc.fd)
}

// sweepOrigins fails the fetches whose origin is past its read timeout
// and closes connections idle past their keep-alive timeout.
func (el *eventLoop) sweepOrigins(now time.Time) {
	for _, oc := range el.origins {
		switch {
		case oc == nil:
		case oc.f != nil && now.After(oc.deadline):
			f := oc.f
			el.closeOrigin(oc)
			prep := f.x.lp.prep
			el.finishOff(f, func() (*http.Response, error) { return nil, prep.Timeout() })
		case oc.f == nil && now.Sub(oc.idleSince) >= oc.keepalive:
			el.closeOrigin(oc)
		}
	}
	// The idle lists keep no closed connection.
	for pool, list := range el.idle {
		open := list[:0]
		for _, oc := range list {
			if !oc.closed {
				open = append(open, oc)
			}
		}
		clear(list[len(open):])
		if len(open) == 0 {
			delete(el.idle, pool)
		} else {
			el.idle[pool] = open
		}
	}
}

// detach finishes oc's fetch off the loop, reading the rest of the
// response from the connection (a large body, or the loop shutting down).
func (el *eventLoop) detach(oc *originConn) {
	f := oc.f
	el.forgetOrigin(oc)
	conn, err := fdConn(oc.fd, "origin")
	got := bytes.Clone(oc.buf)
	prep := f.x.lp.prep
	el.finishOff(f, func() (*http.Response, error) {
		if err != nil {
			return nil, prep.Failed(err)
		}
		return readOff(conn, got, prep)
	})
}

// fdConn turns a descriptor of the loop's into a net.Conn watched by Go's
// netpoller, closing the descriptor (the net.Conn has a duplicate).
func fdConn(fd int, name string) (net.Conn, error) {
	file := os.NewFile(uintptr(fd), name)
	conn, err := net.FileConn(file)
	_ = file.Close()
	return conn, err
}

// readOff reads the response to prep from conn, after got (what the loop
// had read of it), on a goroutine: the body streams from the connection,
// which is closed with it.
func readOff(conn net.Conn, got []byte, prep origin.Prepared) (*http.Response, error) {
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(got), &timeoutReader{conn: conn, timeout: prep.ReadTimeout}))
	req := &http.Request{Method: prep.Method}
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			conn.Close()
			return nil, prep.Failed(err)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			conn.Close()
			return nil, prep.Failed(errors.New("origin switched protocols"))
		}
		if resp.StatusCode >= 200 {
			resp.Body = &closingBody{ReadCloser: resp.Body, conn: conn}
			return resp, nil
		}
	}
}

// detachFetches finishes every fetch of the loop off it (the loop is
// shutting down); a fetch still connecting is finished by its dialer, an
// offloaded request by its goroutine.
func (el *eventLoop) detachFetches() {
	el.mu.Lock()
	el.stopped = true
	dialed := el.dialed
	el.dialed = nil
	served := el.served
	el.served = nil
	el.mu.Unlock()
	for _, f := range served {
		el.forget(f.lc)
		el.ls.detached.Add(1)
		go el.ls.writeOff(f)
	}
	for _, d := range dialed {
		if d.err == nil {
			_ = unix.Close(d.fd)
		}
		prep := d.f.x.lp.prep
		el.finishOff(d.f, func() (*http.Response, error) { return nil, prep.Failed(errors.New("edge shutting down")) })
	}
	for _, oc := range el.origins {
		if oc != nil && oc.f != nil {
			el.detach(oc)
		}
	}
	for _, lc := range el.conns {
		if lc != nil && lc.fetch != nil {
			el.forget(lc) // its dialer or goroutine finishes it
		}
	}
}

// finishOff answers f's request off the loop: resp produces the origin's
// response (or the failure) on a goroutine, which then answers through
// resumeProxy, writes the answer and hands the viewer's connection on to
// the fasthttp engine.
func (el *eventLoop) finishOff(f *loopFetch, resp func() (*http.Response, error)) {
	if el.conns[f.lc.fd] == f.lc {
		el.forget(f.lc)
	}
	el.ls.finishOff(f, resp)
}

func (ls *LoopServer) finishOff(f *loopFetch, produce func() (*http.Response, error)) {
	f.lc.fetch = nil
	ls.detached.Add(1)
	go func() {
		s := ls.srv
		resp, err := produce()
		s.resumeProxy(f.x, resp, err)
		s.endFast(f.x)
		ls.writeOff(f)
	}()
}

// offload serves f's request on a goroutine, which may wait (for the
// origin, a collapsed fetch, compression): the request path runs from the
// start, as the fasthttp engine would run it, and the loop writes the
// answer (takeServed) and goes on with the connection.
func (el *eventLoop) offload(f *loopFetch) {
	el.ls.detached.Add(1)
	start := el.now
	f.ctx.Response.Reset() // the loop's attempt wrote nothing; from scratch
	go func() {
		el.ls.srv.serveFast(f.ctx, nil, start)
		el.mu.Lock()
		if !el.stopped {
			el.served = append(el.served, f)
			el.mu.Unlock()
			el.ls.detached.Done()
			el.wake()
			return
		}
		el.mu.Unlock()
		el.ls.writeOff(f) // the loop is gone
	}()
}

// takeServed writes the answers of offloaded requests and goes on with
// their connections; an answer with a large or streamed body is written
// off the loop, and the connection goes on to the fasthttp engine.
func (el *eventLoop) takeServed() {
	el.mu.Lock()
	served := el.served
	el.served = nil
	el.mu.Unlock()
	for _, f := range served {
		lc := f.lc
		lc.fetch = nil
		if f.ctx.Response.IsBodyStream() || len(f.ctx.Response.Body()) > loopMaxBody {
			el.handoffs.Add(1)
			el.forget(lc)
			el.ls.detached.Add(1)
			go el.ls.writeOff(f)
			continue
		}
		el.resume(f)
	}
}

// writeOff writes f's answer (in f.ctx) to its viewer and hands the
// connection on to the fasthttp engine; it runs on a goroutine counted in
// LoopServer.detached, which it marks done once the answer is written.
func (ls *LoopServer) writeOff(f *loopFetch) {
	lc := f.lc
	ctx := f.ctx
	nc, ferr := fdConn(lc.fd, "viewer")
	if ferr != nil {
		ls.detached.Done()
		putLoopCtx(ctx)
		_ = lc.orig.Close()
		return
	}
	hc := &handedConn{Conn: nc, orig: lc.orig, in: f.rest}
	closeAfter := f.closeAfter || ctx.Response.ConnectionClose()
	if closeAfter {
		ctx.Response.SetConnectionClose()
	}
	if ctx.IsHead() {
		ctx.Response.SkipBody = true
	}
	if wt := ls.fast.WriteTimeout; wt > 0 {
		_ = nc.SetWriteDeadline(time.Now().Add(wt))
	}
	bw := bufio.NewWriterSize(hc, 4<<10)
	werr := ctx.Response.Write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	_ = nc.SetWriteDeadline(time.Time{})
	putLoopCtx(ctx)
	ls.detached.Done()
	if werr != nil || closeAfter {
		_ = hc.Close()
		return
	}
	ls.serveHandedOff(hc)
}

// timeoutReader reads from conn, each read bounded by timeout (the
// origin's read timeout, applied to each wait as Fetch applies it).
type timeoutReader struct {
	conn    net.Conn
	timeout time.Duration
}

func (r *timeoutReader) Read(p []byte) (int, error) {
	if r.timeout > 0 {
		_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	}
	return r.conn.Read(p)
}

// closingBody closes the origin connection with the body: a detached
// fetch's connection is not kept.
type closingBody struct {
	io.ReadCloser
	conn net.Conn
}

func (b *closingBody) Close() error {
	err := b.ReadCloser.Close()
	_ = b.conn.Close()
	return err
}
