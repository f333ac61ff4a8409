//go:build linux

package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"

	"github.com/stagefront/stagefront/internal/edge/origin"
)

// The event-loop engine (--edge-engine loop) serves plain-HTTP viewers
// from a few event loops, one per CPU, each a goroutine that waits in
// epoll_wait on the connections it holds, reads a batch of requests,
// answers those that are fresh cached hits, and writes the answers in one
// write. A hit costs a read and a write, with no goroutine woken for it:
// under net/http or fasthttp, each request wakes the goroutine parked on
// its connection, and Go's scheduler and netpoller cost about as much as
// the edge's own work on a small cached object.
//
// A loop never waits. An uncached request to a plain-HTTP custom origin
// it fetches itself, without waiting either (loopfetch_linux.go). Any
// other request it reads but cannot answer from memory (a miss of a
// cacheable object, compression, a conditional or range request on a
// cached object) is served on a goroutine from the start of the request
// path, as the fasthttp engine would serve it, and the loop writes the
// answer and keeps the connection (offload). A request it does not read
// (one with a body or Expect, HTTP/1.0, an absolute-form target, an
// unusual Host, one not complete in what was read), an answer with a body
// over 64 KiB or streamed, and a viewer not reading its answers move the
// connection to the fasthttp engine: the loop stops watching it, and a
// goroutine serves it with fasthttp.Server.ServeConn from the first byte
// the loop did not answer, for the rest of the connection's life, timeouts,
// body streaming and flow control included.
//
// Connections are accepted by the listener the server is given (with its
// caps, see internal/netlimit); the loop takes a duplicate of each
// socket's descriptor and closes Go's, so that Go's netpoller no longer
// watches it. Loop engines such as gnet own the accept and the buffers,
// read whatever arrives into a buffer without bound, and cannot hand a
// connection back to a goroutine server; the hand-off is what lets this
// engine stay small.

// loopYield is how often a busy loop yields its P (see eventLoop.run).
const loopYield = 5 * time.Millisecond

// loopReadBytes is a loop's read buffer: a batch of requests at most.
const loopReadBytes = 64 << 10

// loopFlushBytes: answers are written once this many are ready, so that a
// batch of pipelined requests does not pile up answers without bound.
const loopFlushBytes = 128 << 10

// LoopServer is the event-loop engine: Serve it a listener, Shutdown to
// stop. Create it with Server.LoopServer.
type LoopServer struct {
	srv   *Server
	fast  *fasthttp.Server // serves the connections the loops hand off
	idle  time.Duration    // Options.Viewer.IdleTimeout
	loops []*eventLoop
	next  atomic.Uint32

	mu      sync.Mutex
	ln      net.Listener
	closing atomic.Bool
	loopsWG sync.WaitGroup
	// detached counts the goroutines that finish a loop's origin fetch off
	// the loop (loopfetch_linux.go), until they have written its answer.
	detached sync.WaitGroup
}

// defaultLoops is the number of loops of LoopServer(0): the GOMAXPROCS the
// process started with, which Go sets from the CPUs it may use (cgroup
// limits included). The first call also raises GOMAXPROCS by one, unless
// the GOMAXPROCS environment variable set it; raising it stops Go from
// following later changes of the CPU limit, which the number of loops
// would not follow either. With a P more than there are loops, one is
// idle while every loop waits in epoll_wait, and Go's sysmon then leaves
// a waiting loop its P (it takes the P of a goroutine in a system call
// after 20 µs when no P is idle, else after 10 ms), and a goroutine a
// loop offloads to finds a free P. Measured with 64 keep-alive viewers on
// two cores (GOMAXPROCS 2 against 3, two loops locked to their threads),
// a loop fetch cost 0.9 instead of 1.4 context switches, and ran at
// 0.68–0.78× instead of 0.61–0.67× nginx proxy_pass's requests per second.
var defaultLoops = sync.OnceValue(func() int {
	loops, procs := loopProcs(runtime.GOMAXPROCS(0), os.Getenv("GOMAXPROCS"))
	runtime.GOMAXPROCS(procs)
	return loops
})

// loopProcs returns the default number of loops and the GOMAXPROCS to run
// them with, from the starting GOMAXPROCS and its environment variable.
func loopProcs(procs int, env string) (loops, newProcs int) {
	if env != "" {
		return procs, procs
	}
	return procs, procs + 1
}

// LoopServer returns the event-loop engine over s, with loops event
// loops (0: defaultLoops). Connections it hands off are served by
// FastServer's settings.
func (s *Server) LoopServer(loops int) *LoopServer {
	if loops <= 0 {
		loops = defaultLoops()
	}
	ls := &LoopServer{srv: s, fast: s.FastServer(), idle: s.opts.Viewer.IdleTimeout}
	ls.loops = make([]*eventLoop, loops)
	sum := func(count func(el *eventLoop) uint64) func() float64 {
		return func() float64 {
			ls.mu.Lock()
			defer ls.mu.Unlock()
			var n uint64
			for _, el := range ls.loops {
				if el != nil {
					n += count(el)
				}
			}
			return float64(n)
		}
	}
	for _, m := range []struct {
		name, help string
		count      func(el *eventLoop) uint64
	}{
		{"stagefront_edge_loop_answers_total",
			"Requests answered by the event-loop engine's loops (fresh cached hits, and uncached requests they fetched).",
			func(el *eventLoop) uint64 { return el.answers.Load() }},
		{"stagefront_edge_loop_fetches_total",
			"Uncached requests whose origin fetch an event loop made itself (answered on the loop, or off it for an error page or a large body).",
			func(el *eventLoop) uint64 { return el.fetches.Load() }},
		{"stagefront_edge_loop_offloads_total",
			"Requests an event loop had served on a goroutine (a cache miss, compression, a conditional or range request on a cached object), their connection staying on the loop.",
			func(el *eventLoop) uint64 { return el.offloads.Load() }},
		{"stagefront_edge_loop_handoffs_total",
			"Connections the event-loop engine handed to the fasthttp engine (at a request it does not read, a large answer, or a viewer not reading its answers).",
			func(el *eventLoop) uint64 { return el.handoffs.Load() }},
	} {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help}, sum(m.count))
		if err := s.opts.Registry.Register(c); err != nil {
			s.log.Warn("event loop metrics", "err", err)
		}
	}
	return ls
}

// Serve accepts connections from ln and serves them until Shutdown, when
// it returns nil.
func (ls *LoopServer) Serve(ln net.Listener) error {
	ls.mu.Lock()
	if ls.closing.Load() {
		ls.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	ls.ln = ln
	for i := range ls.loops {
		el, err := newEventLoop(ls)
		if err != nil {
			for _, el := range ls.loops[:i] {
				el.stop()
			}
			ls.mu.Unlock()
			return fmt.Errorf("event loop: %w", err)
		}
		ls.loops[i] = el
		ls.loopsWG.Add(1)
		go el.run()
	}
	ls.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ls.closing.Load() {
				return nil
			}
			return err
		}
		ls.adopt(c)
	}
}

// Shutdown stops accepting, closes the connections the loops hold (they
// are idle: a loop finishes what it reads before it waits again), and
// shuts down the fasthttp engine serving the handed-off ones, which
// finish their requests first.
func (ls *LoopServer) Shutdown(ctx context.Context) error {
	ls.mu.Lock()
	ls.closing.Store(true)
	if ls.ln != nil {
		_ = ls.ln.Close()
	}
	for _, el := range ls.loops {
		if el != nil {
			el.stop()
		}
	}
	ls.mu.Unlock()
	done := make(chan struct{})
	go func() { ls.loopsWG.Wait(); ls.detached.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return ls.fast.ShutdownWithContext(ctx)
}

// adopt gives c to a loop, or to the fasthttp engine when it is not a
// TCP connection the loop can take over.
func (ls *LoopServer) adopt(c net.Conn) {
	tcp := tcpConnOf(c)
	if tcp == nil {
		go ls.serveHandedOff(c)
		return
	}
	fd, err := dupFD(tcp)
	if err != nil {
		ls.srv.log.Debug("event loop: cannot take over a connection; fasthttp serves it", "err", err)
		go ls.serveHandedOff(c)
		return
	}
	var raddr net.Addr = tcp.RemoteAddr()
	if a, ok := raddr.(*net.TCPAddr); ok {
		raddr = newTextAddr(a)
	}
	lc := &loopConn{fd: fd, orig: c, raddr: raddr, laddr: tcp.LocalAddr(), last: time.Now().UnixNano()}
	// Go's netpoller forgets the socket (Close removes it from Go's epoll
	// set before closing Go's descriptor); the duplicate keeps it open.
	// Released with orig.Close when the connection ends.
	_ = tcp.Close()
	el := ls.loops[int(ls.next.Add(1))%len(ls.loops)]
	el.add(lc)
}

// dupFD returns a duplicate of tcp's descriptor, the caller's to close.
// It is in non-blocking mode, which sockSend and sockRecv rely on: the
// mode belongs to the open file, which the duplicate shares, and Go's net
// package sets it on every socket it makes (TestDupFDNonBlocking).
func dupFD(tcp *net.TCPConn) (int, error) {
	raw, err := tcp.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	cerr := raw.Control(func(f uintptr) { fd, err = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) })
	if err = errors.Join(err, cerr); err != nil {
		return -1, err
	}
	return fd, nil
}

// tcpConnOf unwraps c (netlimit's and similar wrappers) to its TCP
// connection, or returns nil.
func tcpConnOf(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

func (ls *LoopServer) serveHandedOff(c net.Conn) {
	_ = ls.fast.ServeConn(c) // closes c
}

// handOff moves lc to the fasthttp engine: out, answers the loop could
// not write, go first, then in, what the loop read and did not answer, is
// read before the socket. With closeAfter (the last answer closes the
// connection), the connection is closed once out is written.
func (ls *LoopServer) handOff(lc *loopConn, in, out []byte, closeAfter bool) {
	nc, err := fdConn(lc.fd, "viewer")
	if err != nil {
		ls.srv.log.Debug("event loop: hand-off failed", "err", err)
		_ = lc.orig.Close()
		return
	}
	hc := &handedConn{Conn: nc, orig: lc.orig, in: in}
	if len(out) > 0 {
		// The viewer has not taken its answers: as long as fasthttp
		// would wait for it between requests.
		if ls.idle > 0 {
			_ = nc.SetWriteDeadline(time.Now().Add(ls.idle))
		}
		if _, err := nc.Write(out); err != nil {
			_ = hc.Close()
			return
		}
		_ = nc.SetWriteDeadline(time.Time{})
	}
	if closeAfter {
		_ = hc.Close()
		return
	}
	ls.serveHandedOff(hc)
}

// handedConn is a connection handed off by a loop: the bytes it read and
// did not answer come first; Close releases the accepted connection too
// (its listener's slot).
type handedConn struct {
	net.Conn
	orig net.Conn
	in   []byte
	once sync.Once
}

func (c *handedConn) Read(p []byte) (int, error) {
	if len(c.in) > 0 {
		n := copy(p, c.in)
		c.in = c.in[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *handedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { _ = c.orig.Close() })
	return err
}

// loopConn is a connection a loop holds. It is the net.Conn of the
// loop's RequestCtx, which reads only its addresses.
type loopConn struct {
	net.Conn // nil: no other method is called
	fd       int
	orig     net.Conn // the accepted connection; Close releases it
	raddr    net.Addr
	laddr    net.Addr
	last     int64 // UnixNano of the last read, for the idle timeout
	// fetch is the request whose origin fetch the loop is making; the
	// loop reads nothing more from the connection until it is answered
	// (muted: the loop stopped watching it meanwhile).
	fetch *loopFetch
	muted bool
}

func (c *loopConn) RemoteAddr() net.Addr { return c.raddr }
func (c *loopConn) LocalAddr() net.Addr  { return c.laddr }

type eventLoop struct {
	ls     *LoopServer
	epfd   int
	wakefd int // an eventfd: written by stop
	// shard is the loop's access log shard (accesslog.Record.Shard):
	// loops made one after the other have consecutive ones.
	shard uint32

	mu      sync.Mutex
	pending []*loopConn // added, not yet in conns
	conns   []*loopConn // by descriptor; the loop's own

	buf []byte
	out []byte
	// ctx is the request being answered; a request whose origin fetch
	// the loop makes keeps its own (loopFetch.ctx).
	ctx *fasthttp.RequestCtx
	// ctxConn is the connection ctx was last set up for.
	ctxConn *loopConn
	// now is when the batch being answered was read: its requests' start.
	now time.Time
	// closeAfter: the request being answered closes the connection.
	closeAfter bool
	// date is the Date of direct answers, for the second dateSec.
	date    []byte
	dateSec int64
	in      bytes.Reader
	br      *bufio.Reader
	bw      *bufio.Writer
	events  []unix.EpollEvent

	// The loop's origin fetches (loopfetch_linux.go): connections by
	// descriptor, idle ones by origin pool, dials that finished (from
	// dialing goroutines, under mu) and what responses are read with.
	origins []*originConn
	idle    map[string][]*originConn
	dialed  []dialResult
	stopped bool // under mu: the loop is gone; dialers finish alone
	scratch origin.Scratch

	// served holds the requests offloaded to goroutines (offload) whose
	// answer is ready, under mu.
	served []*loopFetch

	// answers, fetches, offloads and handoffs count for the metrics; the
	// loop writes them.
	answers, fetches, offloads, handoffs atomic.Uint64
}

func newEventLoop(ls *LoopServer) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	el := &eventLoop{ls: ls, epfd: epfd, wakefd: wakefd, ctx: newLoopCtx(), shard: loopsMade.Add(1),
		buf: make([]byte, loopReadBytes), events: make([]unix.EpollEvent, 128),
		idle: map[string][]*originConn{}}
	el.br = bufio.NewReaderSize(&el.in, MaxHeaderBytes)
	// The smallest buffer: fasthttp's writes of a header or a body go
	// straight to el.out, rather than through a second copy.
	el.bw = bufio.NewWriterSize((*outWriter)(el), 16)
	return el, nil
}

// outWriter appends to the loop's answers.
type outWriter eventLoop

func (w *outWriter) Write(p []byte) (int, error) {
	w.out = append(w.out, p...)
	return len(p), nil
}

// add registers lc with the loop (from the accepting goroutine).
func (el *eventLoop) add(lc *loopConn) {
	el.mu.Lock()
	el.pending = append(el.pending, lc)
	el.mu.Unlock()
	// Level-triggered: bytes that arrived before this are reported too.
	if err := unix.EpollCtl(el.epfd, unix.EPOLL_CTL_ADD, lc.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(lc.fd)}); err != nil {
		el.mu.Lock()
		for i, p := range el.pending {
			if p == lc {
				el.pending = append(el.pending[:i], el.pending[i+1:]...)
				break
			}
		}
		el.mu.Unlock()
		_ = unix.Close(lc.fd)
		_ = lc.orig.Close()
	}
}

// stop wakes the loop, which stops when the server is closing (and
// otherwise takes in what dialers finished, see takeDialed).
func (el *eventLoop) stop() { el.wake() }

func (el *eventLoop) wake() {
	var one [8]byte
	one[0] = 1
	_, _ = unix.Write(el.wakefd, one[:])
}

// lookup returns the connection of descriptor fd, taking in the pending ones.
func (el *eventLoop) lookup(fd int) *loopConn {
	if 0 <= fd && fd < len(el.conns) && el.conns[fd] != nil {
		return el.conns[fd]
	}
	el.mu.Lock()
	for _, lc := range el.pending {
		if lc.fd >= len(el.conns) {
			el.conns = append(el.conns, make([]*loopConn, lc.fd+1-len(el.conns)+64)...)
		}
		el.conns[lc.fd] = lc
	}
	clear(el.pending)
	el.pending = el.pending[:0]
	el.mu.Unlock()
	if 0 <= fd && fd < len(el.conns) {
		return el.conns[fd]
	}
	return nil
}

func (el *eventLoop) run() {
	defer el.ls.loopsWG.Done()
	// The loop is an ordinary goroutine, not locked to its thread: when a
	// blocking epoll_wait outlasts a sysmon tick and the P is taken, an
	// unlocked goroutine resumes on whatever thread and P are free, where
	// a locked one needs its own thread woken and the P handed back. It
	// yields every loopYield, so that it is never seen running the same
	// time slice for 10 ms: Go's sysmon would preempt it with a signal,
	// and take its P at once whenever it is in epoll_wait, and then poll
	// every 20 µs for a while. Measured with 64 keep-alive viewers on two
	// cores, both changes together took a loop fetch from 1.5 to 0.6
	// context switches per request (nginx proxy_pass: 0.5).
	lastSweep := time.Now()
	lastYield := lastSweep
	for {
		if el.now.Sub(lastYield) >= loopYield {
			lastYield = el.now
			runtime.Gosched()
		}
		// Under load a connection is ready again by the time a batch is
		// answered: a wait that cannot block keeps the loop's thread
		// and its P, which a blocking one may lose to the scheduler.
		n, err := unix.EpollWait(el.epfd, el.events, 0)
		if n == 0 && err == nil {
			n, err = unix.EpollWait(el.epfd, el.events, 1000)
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			el.ls.srv.log.Error("event loop: epoll_wait", "err", err)
			el.closeAll()
			return
		}
		now := time.Now()
		el.now = now
		el.setDate(now)
		for _, ev := range el.events[:max(n, 0)] {
			fd := int(ev.Fd)
			if fd == el.wakefd {
				var b [8]byte
				_, _ = unix.Read(el.wakefd, b[:])
				if el.ls.closing.Load() {
					el.closeAll()
					return
				}
				el.takeDialed()
				el.takeServed()
				continue
			}
			if 0 <= fd && fd < len(el.origins) && el.origins[fd] != nil {
				el.originEvent(el.origins[fd], ev.Events)
				continue
			}
			if lc := el.lookup(fd); lc != nil {
				el.serve(lc, now)
			}
		}
		if now.Sub(lastSweep) >= time.Second {
			lastSweep = now
			el.sweep(now)
			el.sweepOrigins(now)
		}
	}
}

// sweep closes the connections idle for longer than the idle timeout.
func (el *eventLoop) sweep(now time.Time) {
	if el.ls.idle <= 0 {
		return
	}
	el.lookup(-1) // take in the pending ones
	limit := now.Add(-el.ls.idle).UnixNano()
	for _, lc := range el.conns {
		// One whose origin fetch is under way waits on the origin's
		// read timeout instead.
		if lc != nil && lc.last < limit && lc.fetch == nil {
			el.close(lc)
		}
	}
}

func (el *eventLoop) closeAll() {
	el.lookup(-1)
	el.detachFetches()
	for _, lc := range el.conns {
		if lc != nil {
			el.close(lc)
		}
	}
	_ = unix.Close(el.epfd)
	_ = unix.Close(el.wakefd)
}

// forget stops watching lc.
func (el *eventLoop) forget(lc *loopConn) {
	_ = unix.EpollCtl(el.epfd, unix.EPOLL_CTL_DEL, lc.fd, nil)
	el.conns[lc.fd] = nil
	if el.ctxConn == lc {
		el.ctxConn = nil
	}
}

func (el *eventLoop) close(lc *loopConn) {
	el.forget(lc)
	_ = unix.Close(lc.fd)
	_ = lc.orig.Close()
}

// handOff gives lc to the fasthttp engine (LoopServer.handOff) with
// copies of in and out.
func (el *eventLoop) handOff(lc *loopConn, in, out []byte, closeAfter bool) {
	el.handoffs.Add(1)
	el.forget(lc)
	go el.ls.handOff(lc, bytes.Clone(in), bytes.Clone(out), closeAfter)
}

// serve reads what lc sent, answers the complete requests that are hits,
// and hands lc off at the first that is not.
func (el *eventLoop) serve(lc *loopConn, now time.Time) {
	if lc.fetch != nil {
		// More from a viewer waiting for its answer: read once it has it.
		el.mute(lc, true)
		return
	}
	n, err := sockRecv(lc.fd, el.buf)
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		return
	case err != nil || n == 0: // reset, or the viewer closed
		el.close(lc)
		return
	}
	lc.last = now.UnixNano()
	el.out = el.out[:0]
	el.process(lc, el.buf[:n])
}

// process answers the complete requests at the start of data, after the
// answers already in el.out, and hands lc off at the first it cannot
// answer. At a request whose origin fetch the loop makes, it writes the
// answers before it and starts the fetch: the rest of data waits for it.
func (el *eventLoop) process(lc *loopConn, data []byte) {
	for len(data) > 0 {
		end := bytes.Index(data, crlfcrlf)
		if end < 0 {
			break // not complete yet: fasthttp reads the rest
		}
		end += len(crlfcrlf)
		ok, closeAfter, x, offload := el.answer(lc, data[:end])
		if x != nil || offload {
			f := &loopFetch{lc: lc, x: x, ctx: el.ctx, closeAfter: closeAfter}
			if !closeAfter {
				f.rest = bytes.Clone(data[end:]) // (what follows a close is not read)
			}
			el.ctx, el.ctxConn = newLoopCtx(), nil
			if len(el.out) > 0 && !el.flush(lc, data, false) {
				// Handed off from this request on: fasthttp serves it.
				f.release(el.ls.srv)
				return
			}
			lc.fetch = f
			if x != nil {
				el.fetches.Add(1)
				el.connect(f)
			} else {
				el.offloads.Add(1)
				el.offload(f)
			}
			return
		}
		if !ok {
			break
		}
		if closeAfter {
			// The viewer asked to close: what it sent after is not
			// read, as fasthttp would not read it.
			if el.flush(lc, nil, true) {
				el.close(lc)
			}
			return
		}
		data = data[end:]
		if len(el.out) >= loopFlushBytes && !el.flush(lc, data, false) {
			return
		}
	}
	if len(data) > 0 {
		el.handOff(lc, data, el.out, false)
		return
	}
	el.flush(lc, nil, false)
}

var crlfcrlf = []byte("\r\n\r\n")

// loopsMade numbers the event loops' access log shards.
var loopsMade atomic.Uint32

func (el *eventLoop) logShard() uint32 { return el.shard }

// writeDirect appends the answer to a fresh cached hit (fastWriter.direct):
// the entry's serialized header, Date, the request's extra lines (a
// sticky cookie, the debug header), Age, X-Amz-Cf-Id, and the body unless
// the request is a HEAD. The result is what fasthttp would write, but for
// the order of these lines.
func (el *eventLoop) writeDirect(w *fastWriter) {
	e := w.directEntry
	out := append(el.out, wireOf(e)...)
	out = append(out, "\r\nDate: "...)
	out = append(out, el.date...)
	for k, values := range w.h {
		for _, v := range values {
			out = appendHeaderLine(out, k, v)
		}
	}
	out = appendHeaderLine(out, "Age", w.directAge)
	if el.closeAfter {
		out = appendHeaderLine(out, "Connection", "close")
	}
	if w.reqID != nil {
		out = appendHeaderLine(out, requestIDHeader, bytesString(w.reqID))
	}
	out = append(out, "\r\n\r\n"...)
	if !w.directHead {
		out = append(out, e.Body...)
	}
	el.out = out
}

// appendHeaderLine appends "\r\nkey: value", a CR or LF in value (none
// of the edge's own values has one) written as a space.
func appendHeaderLine(dst []byte, key, value string) []byte {
	dst = append(dst, "\r\n"...)
	dst = append(dst, key...)
	dst = append(dst, ": "...)
	start := len(dst)
	dst = append(dst, value...)
	if strings.IndexByte(value, '\r') < 0 && strings.IndexByte(value, '\n') < 0 {
		return dst // the usual value: found so by two vectorized searches
	}
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return dst
}

// setDate keeps el.date, the Date of the loop's direct answers, at now's second.
func (el *eventLoop) setDate(now time.Time) {
	if sec := now.Unix(); sec != el.dateSec {
		el.dateSec = sec
		el.date = now.UTC().AppendFormat(el.date[:0], http.TimeFormat)
	}
}

// sockSend writes p to the socket fd with send(2) (sendto without an
// address), and sockRecv reads with recv(2) (recvfrom): both go straight
// to the socket layer, without the file-position lock and the generic
// file paths of write(2) and read(2), which cost about 1 µs of a loop
// fetch's 40 (perf, on loopback). MSG_NOSIGNAL: a viewer or origin gone
// gives EPIPE without raising SIGPIPE first. x/sys/unix's Recvfrom and
// SendmsgN make the same calls but allocate (2 more allocations per loop
// fetch, measured), hence the system calls by number. They are raw
// system calls, without the runtime's entersyscall and exitsyscall,
// which let another goroutine have the P while a call blocks: on the
// loops' sockets, all non-blocking (dupFD), a call never blocks. Two
// builds side by side (bench/ab.sh, SCHED_BATCH), that took 2.5 and
// 4.1 % off a miss's CPU, less in 8 rounds of 10 both times; hits did
// not change.
func sockSend(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func sockRecv(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// flush writes the answers ready; when the viewer's socket does not take
// them all, it hands lc off with the rest of them, in and closeAfter, and
// reports false.
func (el *eventLoop) flush(lc *loopConn, in []byte, closeAfter bool) bool {
	out := el.out
	for len(out) > 0 {
		n, err := sockSend(lc.fd, out)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			el.close(lc)
			el.out = el.out[:0]
			return false
		}
		out = out[n:]
	}
	if len(out) > 0 {
		el.handOff(lc, in, out, closeAfter)
		el.out = el.out[:0]
		return false
	}
	el.out = el.out[:0]
	return true
}

// answer serves the request whose head is head, when it is one the loop
// serves, appending the answer to el.out, and reports whether the answer
// closes the connection (the viewer asked it to); it reports !ok, having
// written nothing, for one the fasthttp engine must serve.
//
// A request whose origin fetch the loop makes (loopProxy) comes back as
// its exchange, x, with nothing written: its answer is written once the
// origin's response is in (loopfetch_linux.go).
//
// A request the loop can read but not answer without waiting (a cache
// miss, compression, a conditional or range request on a cached object,
// a large one) comes back as offload, with nothing written: it is served
// on a goroutine (offload), and its connection stays on the loop.
func (el *eventLoop) answer(lc *loopConn, head []byte) (ok, closeAfter bool, x *exchange, offload bool) {
	ctx := el.ctx
	ctx.Request.Reset()
	ctx.Response.Reset()
	el.in.Reset(head)
	el.br.Reset(&el.in)
	h := &ctx.Request.Header
	if err := h.Read(el.br); err != nil || el.br.Buffered() != 0 || el.in.Len() != 0 {
		return false, false, nil, false // not read as exactly this head: fasthttp decides
	}
	if !loopRequest(h) {
		return false, false, nil, false
	}
	closeAfter = h.ConnectionClose()
	el.closeAfter = closeAfter
	if el.ctxConn != lc {
		ctx.Init2(lc, fastLogger{el.ls.srv}, false)
		el.ctxConn = lc
	}
	deferred, direct, x := el.ls.srv.serveFast(ctx, el, el.now)
	if deferred {
		return false, closeAfter, nil, true
	}
	if x != nil {
		return false, closeAfter, x, false
	}
	el.answers.Add(1)
	if direct {
		return true, closeAfter, nil, false // writeDirect wrote it
	}
	return true, el.writeResponse(ctx, closeAfter), nil, false
}

// writeResponse appends ctx's response to el.out and reports whether it
// closes the connection (closeAfter: the viewer asked it to).
func (el *eventLoop) writeResponse(ctx *fasthttp.RequestCtx, closeAfter bool) bool {
	if ctx.Response.ConnectionClose() {
		closeAfter = true
	} else if closeAfter {
		ctx.Response.SetConnectionClose()
	}
	if ctx.IsHead() {
		ctx.Response.SkipBody = true
	}
	mark := len(el.out)
	if err := ctx.Response.Write(el.bw); err != nil {
		// Not from writing to el.out: from the response, which the
		// request path never leaves unwritable. Recorded, not sent;
		// the connection is closed rather than left in doubt.
		el.bw.Reset((*outWriter)(el))
		el.out = el.out[:mark]
		return true
	}
	_ = el.bw.Flush() // to el.out: cannot fail
	return closeAfter
}

// loopRequest reports whether a loop may serve the request with header h:
// an HTTP/1.1 GET or HEAD without a body or Expect, whose host and origin-form target fasthttp parses without error.
// Anything else is served by the fasthttp engine, as it always is.
func loopRequest(h *fasthttp.RequestHeader) bool {
	// The keys were normalized as the header was read; the names below
	// are canonical (the request path turns it off again, see serveFast).
	h.DisableNormalizing()
	if !(h.IsGet() || h.IsHead()) || !h.IsHTTP11() {
		return false
	}
	// fasthttp reads a request without Content-Length as -2 (no body).
	if cl := h.ContentLength(); (cl != 0 && cl != -2) || len(h.Peek("Transfer-Encoding")) > 0 || len(h.Peek("Content-Length")) > 0 || len(h.Peek("Expect")) > 0 {
		return false
	}
	uri := h.RequestURI()
	if len(uri) == 0 || uri[0] != '/' || bytes.Contains(uri, []byte("://")) {
		return false
	}
	for _, c := range uri {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return plainHost(h.Host())
}

// plainHost reports whether host is a name or IPv4 address with an
// optional port: letters, digits, dots and dashes.
func plainHost(host []byte) bool {
	if len(host) == 0 {
		return false
	}
	name, port, hasPort := bytes.Cut(host, []byte{':'})
	if len(name) == 0 || (hasPort && len(port) == 0) {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var _ io.Writer = (*outWriter)(nil)
