package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/routing"
)

// FastHandler serves viewers with the fasthttp engine: the same request
// path as ServeHTTP (see viewer), behind a fasthttp adapter. Serve it with
// FastServer, or a fasthttp.Server with NoDefaultServerHeader set.
//
// Differences from the net/http engine: response bodies are buffered up
// to streamAbove (larger or open-ended origin
// bodies are streamed, see bodyStreamer), the origin's Date is
// replaced by the edge's, and a viewer that goes away does not cancel the
// origin fetch (recorded as 499 under net/http).
func (s *Server) FastHandler() fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		start := ctx.Time() // fasthttp reads the clock as the request arrives
		if start.IsZero() { // a RequestCtx not from a fasthttp.Server
			start = time.Now()
		}
		s.serveFast(ctx, nil, start)
	}
}

// directWriter is the event-loop engine's writer of a cached hit (see
// fastWriter.direct).
type directWriter interface {
	writeDirect(w *fastWriter)
	// logShard is the access log shard of the requests it serves
	// (accesslog.Record.Shard): an event loop's own.
	logShard() uint32
}

// serveFast serves ctx's request. With a directWriter (the event-loop
// engine, see exchange.noBlock) it may instead report deferred, having
// written and recorded nothing: the request must be served off the loop;
// and a fresh cached hit is written by dw rather than into ctx.Response
// (direct). start is when the request arrived.
//
// On the event-loop engine an uncached request may also come back pending
// (see loopProxy): the loop fetches it and hands the response to
// resumeProxy, then endFast.
func (s *Server) serveFast(ctx *fasthttp.RequestCtx, dw directWriter, start time.Time) (deferred, direct bool, pending *exchange) {
	// The request's header keys were normalized as it was parsed, and
	// viewer lookups use canonical names: Peek need not normalize
	// them again (fasthttp turns this off for the next request).
	ctx.Request.Header.DisableNormalizing()
	lt := s.live.Load()
	x := s.exchanges.get()
	x.noBlock = dw != nil
	x.fw.direct = dw != nil
	if dw != nil {
		x.shard = dw.logShard()
	}
	x.fast.ctx = ctx
	x.fw.ctx = ctx
	if x.fw.h == nil {
		x.fw.h = make(http.Header, 8)
	}
	ctx.Response.Header.SetNoDefaultContentType(true)
	// fastWriter's keys come from an http.Header: canonical already.
	ctx.Response.Header.DisableNormalizing()
	x.rec.ResponseWriter = &x.fw
	s.handle(x, &x.fast, lt, start)
	if x.deferred {
		s.exchanges.put(x)
		return true, false, nil
	}
	if x.pending {
		return false, false, x
	}
	if x.fw.directEntry != nil {
		dw.writeDirect(&x.fw)
		s.exchanges.put(x)
		return false, true, nil
	}
	s.endFast(x)
	return false, false, nil
}

// endFast completes the response of x's request in its RequestCtx, for
// fasthttp (or the event-loop engine) to write, and releases x.
func (s *Server) endFast(x *exchange) {
	ctx := x.fast.ctx
	x.fw.WriteHeader(http.StatusOK) // a no-op when the response has begun
	// A request body is streamed (StreamRequestBody): fasthttp would
	// read what the handler left unread as the next request on the
	// connection. A body not read to its end (refused before it was
	// read, or an origin that answered early) closes the connection.
	// A chunked body (cl == -1) closes it too, see closeAfterChunked.
	cl := ctx.Request.Header.ContentLength()
	if b := x.fast.body; b != nil {
		if !b.finish() || cl == -1 {
			ctx.SetConnectionClose()
		}
	} else if cl > 0 || cl == -1 {
		ctx.SetConnectionClose()
	}
	s.exchanges.put(x)
}

// FastServer returns a fasthttp.Server for FastHandler with the edge's
// settings: no Server header, no default Content-Type, Options.Viewer's
// timeouts and connection caps, and request bodies streamed to the origin
// rather than buffered.
func (s *Server) FastServer() *fasthttp.Server {
	vl := s.opts.Viewer
	return &fasthttp.Server{
		Handler:               s.FastHandler(),
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// fasthttp's ReadTimeout starts when a request's first byte
		// arrives (IdleTimeout bounds the wait for it): it bounds the
		// header. A request with a body then gets the whole ReadTimeout,
		// from the end of its header, to send it.
		ReadTimeout: vl.ReadHeaderTimeout,
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if cl := h.ContentLength(); cl > 0 || cl == -1 {
				return fasthttp.RequestConfig{ReadTimeout: vl.ReadTimeout}
			}
			return fasthttp.RequestConfig{}
		},
		IdleTimeout: vl.IdleTimeout,
		// The listener (internal/netlimit) enforces the caps first; these
		// are fasthttp's own, for a listener that is not wrapped.
		Concurrency:   vl.MaxConns,
		MaxConnsPerIP: vl.MaxConnsPerIP,
		// A body is read as the origin takes it (fastBody), at most 8 KiB
		// ahead: a slow or huge upload, or one refused before it is read,
		// holds no more memory than that.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		MaxRequestBodySize:           64 << 20,
		// The read buffer bounds the request line and headers (431 past
		// it).
		ReadBufferSize: MaxHeaderBytes,
		Logger:         fastLogger{s},
	}
}

// MaxHeaderBytes bounds a viewer request's line and header, on both
// engines; CloudFront accepts 20,480 bytes of them.
const MaxHeaderBytes = 24 << 10

type fastLogger struct{ s *Server }

func (l fastLogger) Printf(format string, args ...any) {
	l.s.log.Debug("fasthttp", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// fastViewer is the fasthttp engine's viewer. Its host and path alias the
// request's buffers until own copies them (a cache hit never does, and
// allocates nothing for them), as viewer allows; the query is always a
// copy, and HeaderGet's strings are aliases.
type fastViewer struct {
	ctx               *fasthttp.RequestCtx
	host, path, query string
	parsed, owned     bool
	hdr               http.Header
	// body is the request body as handed to the origin, or nil.
	body *fastBody
	// values is HeaderValues as a func value, made once per pooled
	// viewer so that decideHeader does not allocate.
	values func(string) []string
}

func (v *fastViewer) reset() {
	values := v.values
	*v = fastViewer{values: values}
}

func (v *fastViewer) parse() {
	if v.parsed {
		return
	}
	v.parsed = true
	rh := &v.ctx.Request.Header
	if target := rh.RequestURI(); len(target) > 0 && target[0] == '/' {
		// Origin form ("/path?query"), nearly every request: split it as
		// sent, without fasthttp's full URI parse; the host is the Host
		// header's.
		v.host = bytesString(rh.Host())
		path, query, _ := bytes.Cut(target, []byte{'?'})
		path, _, _ = bytes.Cut(path, []byte{'#'})
		v.path = bytesString(path)
		if len(query) > 0 {
			query, _, _ = bytes.Cut(query, []byte{'#'})
			v.query = string(query)
		}
		return
	}
	// Absolute form ("http://host/path"): its host wins over the header's.
	v.host = bytesString(v.ctx.Host())
	uri := v.ctx.URI()
	v.path = bytesString(uri.PathOriginal())
	if q := uri.QueryString(); len(q) > 0 {
		v.query = string(q)
	}
}

func (v *fastViewer) Method() string {
	m := v.ctx.Method()
	switch string(m) { // no allocation: the common methods are constants
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodPatch:
		return http.MethodPatch
	}
	return string(m)
}

// own copies the host and path out of the request's buffers, once.
func (v *fastViewer) own() bool {
	v.parse()
	if v.owned {
		return false
	}
	v.owned = true
	v.host, v.path = strings.Clone(v.host), strings.Clone(v.path)
	return true
}

func (v *fastViewer) Host() string        { v.parse(); return v.host }
func (v *fastViewer) EscapedPath() string { v.parse(); return v.path }
func (v *fastViewer) RawQuery() string    { v.parse(); return v.query }

func (v *fastViewer) RequestURI() string {
	v.parse()
	if v.query == "" {
		return v.path
	}
	return v.path + "?" + v.query
}

func (v *fastViewer) HeaderGet(name string) string {
	if name == "Host" {
		return ""
	}
	b := v.ctx.Request.Header.Peek(name)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (v *fastViewer) HeaderValues(name string) []string {
	if name == "Host" {
		return nil
	}
	if v.hdr != nil || name == "Cookie" {
		return v.Header()[name]
	}
	all := v.ctx.Request.Header.PeekAll(name)
	if len(all) == 0 {
		return nil
	}
	out := make([]string, len(all))
	for i, b := range all {
		out[i] = string(b)
	}
	return out
}

// Header builds (once per request) the request's header as net/http
// would present it: canonical keys, Host left out.
func (v *fastViewer) Header() http.Header {
	if v.hdr != nil {
		return v.hdr
	}
	h := make(http.Header, 8)
	for k, val := range v.ctx.Request.Header.All() {
		key := http.CanonicalHeaderKey(string(k))
		if key == "Host" {
			continue
		}
		h[key] = append(h[key], string(val))
	}
	v.hdr = h
	return h
}

func (v *fastViewer) Cookies() []*http.Cookie {
	return (&http.Request{Header: v.Header()}).Cookies()
}

func (v *fastViewer) StickyCookie() string {
	if v.hdr != nil {
		return routing.StickyCookieValue(v.hdr)
	}
	for _, line := range v.ctx.Request.Header.PeekAll("Cookie") {
		if value, ok := routing.StickyCookieInLine(unsafe.String(unsafe.SliceData(line), len(line))); ok {
			return strings.Clone(value)
		}
	}
	return ""
}

// textAddr is a TCP address that keeps its text: the event-loop engine's
// connections give it, so that the viewer's address is formatted once per
// connection rather than once per request.
type textAddr struct {
	*net.TCPAddr
	text string
}

func newTextAddr(a *net.TCPAddr) *textAddr { return &textAddr{a, a.String()} }

func (a *textAddr) String() string { return a.text }

func (v *fastViewer) remoteAddrPort() netip.AddrPort {
	var tcp *net.TCPAddr
	switch a := v.ctx.RemoteAddr().(type) {
	case *net.TCPAddr:
		tcp = a
	case *textAddr:
		tcp = a.TCPAddr
	}
	if tcp != nil {
		ap := tcp.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(v.RemoteAddr())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (v *fastViewer) TLS() bool          { return v.ctx.IsTLS() }
func (v *fastViewer) RemoteAddr() string { return v.ctx.RemoteAddr().String() }

// Body is the request body, streamed from the connection. The origin
// transport may still read it after the request has ended: fastBody cuts
// it off then (see finish), since fasthttp reuses the connection's reader.
func (v *fastViewer) Body() (io.Reader, int64) {
	cl := v.ctx.Request.Header.ContentLength()
	if cl == 0 || cl == -2 {
		return http.NoBody, 0
	}
	if !v.ctx.Request.IsBodyStream() {
		// A RequestCtx not from a server that streams bodies.
		b := bytes.Clone(v.ctx.PostBody())
		return bytes.NewReader(b), int64(len(b))
	}
	v.body = &fastBody{r: v.ctx.RequestBodyStream()}
	if cl < 0 {
		return v.body, -1
	}
	return v.body, int64(cl)
}

// fastBody is a streamed request body that can be cut off once the
// request has ended.
type fastBody struct {
	mu       sync.Mutex
	r        io.Reader
	eof      bool
	finished bool
}

func (b *fastBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return 0, errBodyAfterRequest
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// finish ends the body's life (a Read in progress completes first) and
// reports whether it was read to its end.
func (b *fastBody) finish() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finished = true
	return b.eof
}

var errBodyAfterRequest = errors.New("request body read after the request ended")

// Context never ends: fasthttp does not report a viewer that goes away,
// so the request waits for its origin fetch (see detach).
func (v *fastViewer) Context() context.Context { return context.Background() }

func (v *fastViewer) decideHeader() (http.Header, func(string) []string) {
	if v.values == nil {
		v.values = v.HeaderValues
	}
	return nil, v.values
}

// detach returns v, its strings owned: with a Context that never ends,
// the request outlives its fetch.
func (v *fastViewer) detach() viewer { v.own(); return v }

// snapshot copies the request into a net/http view of its own: fasthttp
// reuses v and its request once the handler returns.
func (v *fastViewer) snapshot() viewer {
	v.own()
	u, err := url.ParseRequestURI(v.RequestURI())
	if err != nil {
		u = &url.URL{Path: v.EscapedPath(), RawQuery: v.RawQuery()}
	}
	r := &http.Request{
		Method: v.Method(), Host: v.Host(), URL: u, Header: v.Header().Clone(),
		RemoteAddr: v.RemoteAddr(), Body: http.NoBody,
	}
	if v.TLS() {
		r.TLS = &tls.ConnectionState{}
	}
	return &netViewer{r: r}
}

// fastWriter is the fasthttp engine's http.ResponseWriter: the header is
// built in a pooled http.Header, as under net/http, and copied into the
// fasthttp response when the status is written.
type fastWriter struct {
	ctx   *fasthttp.RequestCtx
	h     http.Header
	wrote bool
	// reqID is X-Amz-Cf-Id's value (see requestIDWriter), or nil.
	reqID []byte
	// direct (the event-loop engine) makes writeCached keep a fresh hit
	// in directEntry, directAge and directHead, for the engine to write
	// from the entry's serialized header (renderedEntry.wire), rather
	// than build it in ctx.Response; h holds the extra header lines.
	direct      bool
	directEntry *cache.Entry
	directAge   string
	directHead  bool
	// lazy (the event-loop engine's own origin fetches, see
	// eventLoop.answerFetch) leaves the header in h when the status is
	// written, code, for the engine to serialize with the body
	// (eventLoop.writeLazy) instead of copying it into ctx.Response
	// first; unlazy copies it after all, for fasthttp to write.
	lazy bool
	code int
}

func (w *fastWriter) reset() {
	if len(w.h) > 0 {
		clear(w.h)
	}
	w.ctx, w.wrote, w.reqID = nil, false, nil
	w.direct, w.directEntry, w.directAge, w.directHead = false, nil, "", false
	w.lazy, w.code = false, 0
}

func (w *fastWriter) setRequestID(id []byte) { w.reqID = id }

// setRequestIDHeader sets X-Amz-Cf-Id, replacing an origin's.
func (w *fastWriter) setRequestIDHeader(rh *fasthttp.ResponseHeader) {
	if w.reqID != nil {
		rh.SetCanonical(headerRequestID, w.reqID)
	}
}

func (w *fastWriter) Header() http.Header { return w.h }

func (w *fastWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.lazy {
		w.code = code
		return
	}
	w.copyHeader(code)
}

// copyHeader puts the status and the header in ctx.Response.
func (w *fastWriter) copyHeader(code int) {
	rh := &w.ctx.Response.Header
	for k, values := range w.h {
		for _, value := range values {
			rh.Add(k, value)
		}
	}
	w.setRequestIDHeader(rh)
	w.ctx.SetStatusCode(code)
}

// unlazy ends lazy: a status written is copied into ctx.Response with the
// header, for fasthttp to write the response.
func (w *fastWriter) unlazy() {
	if !w.lazy {
		return
	}
	w.lazy = false
	if w.wrote {
		w.copyHeader(w.code)
	}
}

// writeCached writes a cached entry (see cachedWriter): its prepared
// fasthttp header is copied rather than converted from an http.Header, and
// the body is sent from the entry, which is immutable, without a copy.
func (w *fastWriter) writeCached(e *cache.Entry, extra http.Header, age string, result cacheResult, head bool) {
	w.wrote, w.lazy = true, false
	if w.direct && result == cacheHit {
		w.directEntry, w.directAge, w.directHead = e, age, head
		return
	}
	rh := &w.ctx.Response.Header
	rendered(e).header.CopyTo(rh) // X-Cache: Hit included
	for k, values := range extra {
		for _, value := range values {
			rh.Add(k, value)
		}
	}
	rh.SetCanonical(headerAge, unsafe.Slice(unsafe.StringData(age), len(age)))
	if result != cacheHit {
		rh.SetCanonical(headerXCache, xCacheBytes[result])
	}
	w.setRequestIDHeader(rh)
	w.ctx.SetStatusCode(e.Status)
	if !head {
		w.ctx.Response.SetBodyRaw(e.Body)
	}
}

// compressible reports whether writeBody, under a behavior with Compress,
// would compress e's body: worked out once per entry.
func (w *fastWriter) compressible(e *cache.Entry) bool { return rendered(e).compressible }

var (
	headerAge       = []byte("Age")
	headerRequestID = []byte(requestIDHeader)
	headerXCache    = []byte("X-Cache")
	xCacheBytes     = [...][]byte{
		cacheMiss:       []byte(xCacheValues[cacheMiss][0]),
		cacheHit:        []byte(xCacheValues[cacheHit][0]),
		cacheRefreshHit: []byte(xCacheValues[cacheRefreshHit][0]),
	}
)

// renderedEntry is what the fasthttp engine prepares once per cached
// entry (cache.Entry.Rendered) and shares read-only between its hits.
type renderedEntry struct {
	// header is the entry's header as a fasthttp response header, with
	// X-Cache: Hit. Like the header the slow path writes, it has no
	// default Content-Type and keeps http.Header's canonical keys.
	header fasthttp.ResponseHeader
	// compressible: the body is one writeBody would compress (see
	// servedAsStored).
	compressible bool
	// wire is header serialized as fasthttp writes it for a GET, with
	// the entry's status and Content-Length, without the Date line and
	// without the CRLF after its last line and the blank line: the
	// event-loop engine's hits add Date, Age, X-Amz-Cf-Id and the
	// request's extra lines, each after a CRLF, and the end. Built on the
	// loop engine's first hit (wireOf), not for the other engines.
	wireOnce sync.Once
	wire     []byte
}

// rendered returns e's renderedEntry, built on first use.
func rendered(e *cache.Entry) *renderedEntry {
	if r, ok := e.Rendered.Load().(*renderedEntry); ok {
		return r
	}
	r := &renderedEntry{compressible: len(e.Body) >= minCompressBytes &&
		e.Header.Get("Content-Encoding") == "" && compressible(e.Header.Get("Content-Type"))}
	rh := &r.header
	rh.SetNoDefaultContentType(true)
	rh.DisableNormalizing()
	for k, values := range e.Header {
		if k == "Age" || k == "X-Cache" { // the edge's own replace the origin's
			continue
		}
		if k == "Content-Length" && (e.Status < 200 || e.Status == http.StatusNoContent) {
			continue // RFC 9110, section 8.6: none on a 204 (net/http drops it too)
		}
		for _, value := range values {
			rh.Add(k, value)
		}
	}
	rh.SetCanonical(headerXCache, xCacheBytes[cacheHit])
	e.Rendered.Store(r) // a racing hit may store its own, identical one
	return r
}

// wireOf returns e's renderedEntry.wire, built on first use.
func wireOf(e *cache.Entry) []byte {
	r := rendered(e)
	r.wireOnce.Do(func() { r.wire = wireHeader(&r.header, e) })
	return r.wire
}

// wireHeader is renderedEntry.wire for the header rh of entry e.
func wireHeader(rh *fasthttp.ResponseHeader, e *cache.Entry) []byte {
	var h fasthttp.ResponseHeader
	rh.CopyTo(&h)
	h.SetStatusCode(e.Status)
	if e.Status >= 200 && e.Status != http.StatusNoContent && e.Status != http.StatusNotModified {
		// As fasthttp's Response.Write: no Content-Length on a 204
		// (RFC 9110, section 8.6), which has no body.
		h.SetContentLength(len(e.Body))
	}
	b := h.AppendBytes(nil)
	// fasthttp writes its Date after the status line and any Server line.
	if i := bytes.Index(b, []byte("\r\nDate: ")); i >= 0 {
		if n := bytes.Index(b[i+2:], []byte("\r\n")); n >= 0 {
			b = append(b[:i+2], b[i+2+n+2:]...)
		}
	}
	return bytes.TrimSuffix(b, []byte("\r\n\r\n")) // the last line's end and the blank line
}

func (w *fastWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ctx.Write(p)
}

// resetUnsent drops the response written so far (see unsentResetter):
// fasthttp sends nothing before the handler returns, except a streamed
// body, which fasthttp itself cuts short when it fails.
func (w *fastWriter) resetUnsent() bool {
	if w.ctx.Response.IsBodyStream() {
		return false
	}
	w.ctx.Response.Reset()
	w.ctx.Response.Header.SetNoDefaultContentType(true)
	w.ctx.Response.Header.DisableNormalizing()
	clear(w.h)
	w.wrote, w.code = false, 0
	return true
}

// streamBody sends body as the response body after the handler returns;
// fasthttp closes it when the response is written (or the viewer is gone).
func (w *fastWriter) streamBody(body io.ReadCloser, size int64) {
	w.WriteHeader(http.StatusOK) // a no-op when the status is written
	w.unlazy()
	if size > math.MaxInt {
		size = -1
	}
	w.ctx.SetBodyStream(flushingBody{body}, int(size))
}

// flushingBody is a streamed body that fasthttp copies with its WriteTo
// (fasthttp prefers a stream's io.WriterTo): each piece the origin sends
// is flushed to the viewer at once. fasthttp already flushes each chunk of
// a chunked body; this does it for a body of known length too.
type flushingBody struct{ io.ReadCloser }

func (b flushingBody) WriteTo(w io.Writer) (int64, error) {
	flush := func() error { return nil }
	if f, ok := w.(interface{ Flush() error }); ok {
		flush = f.Flush
	}
	buf := make([]byte, 32<<10)
	return copyFlushing(w, b.ReadCloser, buf, flush)
}
