package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/cache/disk"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// DebugHeader names the serving distribution and variant on every response
// when Options.DebugHeader is set.
const DebugHeader = "X-Stagefront-Distribution"

// Options configure a Server.
type Options struct {
	Fetcher  Fetcher
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// CacheBytes bounds the object cache (default 256 MiB).
	CacheBytes int64
	// CacheDir, when set, holds the disk tier of the object cache
	// (package cache/disk), bounded by CacheDiskBytes (default 1 GiB):
	// objects beyond the memory bound, and every object after a restart.
	CacheDir       string
	CacheDiskBytes int64
	// DebugHeader adds X-Stagefront-Distribution: <id> <primary|staging>.
	DebugHeader bool
	// HTTPS tells the edge a TLS listener exists, so redirect-to-https redirects.
	HTTPS bool
	// Clock and Draw are injected for exact tests; nil means real ones.
	Clock func() time.Time
	Draw  func() uint32
	// MaxBodyBytes bounds a cached object (default 64 MiB); larger
	// responses are streamed uncached.
	MaxBodyBytes int64
	// Viewer bounds the viewer connections of the fasthttp engine's
	// server (FastServer); the net/http engine's http.Server is built by
	// its caller from the same values.
	Viewer ViewerLimits
	// AccessLog, when set, gets a record of every request of a
	// distribution whose Logging is enabled (accesslog.go), with the
	// request id every response carries in X-Amz-Cf-Id.
	AccessLog AccessLogger
	// Shield, when set, runs Origin Shield in a fleet: cache fills for
	// origins with OriginShield enabled go through the member rendezvous
	// hashing picks for the object (shield.go), and ShieldHandler answers
	// the other members' requests.
	Shield *ShieldOptions
}

// ViewerLimits bound viewer connections. Zero values take the defaults.
type ViewerLimits struct {
	// ReadHeaderTimeout bounds reading a request's header (default 10 s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, header and body
	// (default 60 s, nginx's client_body_timeout).
	ReadTimeout time.Duration
	// IdleTimeout bounds a kept-alive connection between requests
	// (default 75 s, nginx's keepalive_timeout).
	IdleTimeout time.Duration
	// MaxConns and MaxConnsPerIP cap the connections served at once, in
	// total and from one client address (0: no cap).
	MaxConns, MaxConnsPerIP int
}

// Default viewer timeouts (see ViewerLimits).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 75 * time.Second
)

// Server is the viewer-facing edge: it serves every distribution from the
// immutable routing table last published to it (by the config follower).
type Server struct {
	fetcher Fetcher
	cache   *cache.Cache
	disk    *disk.Tier // nil without Options.CacheDir
	log     *slog.Logger
	metrics *metrics
	opts    Options
	tlsWarn *tlsWarner
	shield  *shieldState // nil: no Origin Shield

	live        atomic.Pointer[liveTable]
	cookieBufs  sync.Pool
	exchanges   exchanges
	copyBufs    copyBuffers
	compressors compressors
	// realClock is set when Clock is time.Now: the request's start time
	// then serves as its "now" too.
	realClock bool
}

// New builds a Server. It serves 503 until the first table is published.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	if opts.Viewer.ReadHeaderTimeout <= 0 {
		opts.Viewer.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opts.Viewer.ReadTimeout <= 0 {
		opts.Viewer.ReadTimeout = DefaultReadTimeout
	}
	if opts.Viewer.IdleTimeout <= 0 {
		opts.Viewer.IdleTimeout = DefaultIdleTimeout
	}
	realClock := opts.Clock == nil
	if realClock {
		opts.Clock = time.Now
	}
	if opts.Draw == nil {
		opts.Draw = rand.Uint32
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	cacheCfg := cache.Config{MaxBytes: opts.CacheBytes, Now: opts.Clock}
	var tier *disk.Tier
	if opts.CacheDir != "" {
		if opts.CacheDiskBytes <= 0 {
			opts.CacheDiskBytes = 1 << 30
		}
		var err error
		tier, err = disk.Open(context.Background(), disk.Config{
			Dir: opts.CacheDir, MaxBytes: opts.CacheDiskBytes, Now: opts.Clock, Logger: opts.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("edge cache: %w", err)
		}
		cacheCfg.Tier = tier
	}
	if realClock {
		cacheCfg.Now = nil // the real clock, and a coarse one for the store's bookkeeping
	}
	c, err := cache.New(cacheCfg)
	if err != nil {
		closeTier(tier)
		return nil, fmt.Errorf("edge cache: %w", err)
	}
	m, err := newMetrics(opts.Registry, c)
	if err == nil && tier != nil {
		err = registerDiskMetrics(opts.Registry, tier)
	}
	if err != nil {
		c.Close()
		closeTier(tier)
		return nil, err
	}
	tlsWarn, err := newTLSWarner(opts.HTTPS, opts.Logger, opts.Registry)
	if err != nil {
		c.Close()
		closeTier(tier)
		return nil, err
	}
	s := &Server{
		fetcher: opts.Fetcher, cache: c, disk: tier, log: opts.Logger, metrics: m, opts: opts, tlsWarn: tlsWarn,
		realClock: realClock,
	}
	if opts.Shield != nil {
		if s.shield, err = newShieldState(opts.Shield, opts.Registry); err != nil {
			c.Close()
			closeTier(tier)
			return nil, err
		}
	}
	s.cookieBufs.New = func() any { b := make([]byte, 0, 160); return &b }
	return s, nil
}

// Close releases the cache. The disk tier's queued writes are finished
// first (for at most diskFlushTimeout), so a graceful restart keeps them.
func (s *Server) Close() {
	s.cache.Close()
	if s.disk != nil {
		ctx, cancel := context.WithTimeout(context.Background(), diskFlushTimeout)
		defer cancel()
		if err := s.disk.Flush(ctx); err != nil {
			s.log.Warn("disk cache: queued writes dropped at shutdown", "err", err)
		}
		closeTier(s.disk)
	}
}

// Table returns the table in use (for tests and the admin endpoint), or
// nil before the first one is published.
func (s *Server) Table() *routing.Table {
	if lt := s.live.Load(); lt != nil {
		return lt.table
	}
	return nil
}

// ServeHTTP serves one viewer request from the table of this instant.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if len(r.TransferEncoding) > 0 {
		closeAfterChunked(w.Header())
	}
	lt := s.live.Load()
	x := s.exchanges.get()
	x.rec.ResponseWriter = w
	x.net.r = r
	s.handle(x, &x.net, lt, start)
	aborted := x.rec.aborted
	s.exchanges.put(x)
	if aborted {
		// The origin failed in the middle of a body whose header is out:
		// net/http closes the connection without ending the response, so
		// the viewer sees a broken transfer rather than a short one.
		panic(http.ErrAbortHandler)
	}
}

// handle serves one viewer request, whatever the engine, and records it.
func (s *Server) handle(x *exchange, v viewer, lt *liveTable, start time.Time) {
	distID, variant := s.serve(x, v, lt, start)
	if x.deferred {
		return // the event-loop engine serves it again off the loop
	}
	if x.pending {
		// The event-loop engine fetches it (loopProxy); resumeProxy
		// records it.
		x.lp.distID, x.lp.variant, x.lp.start = distID, variant, start
		return
	}
	s.record(x, v, distID, variant, start)
}

// record counts and logs a served request.
func (s *Server) record(x *exchange, v viewer, distID, variant string, start time.Time) {
	taken := time.Since(start) // the request's second and last clock reading
	s.metrics.observe(distID, variant, x.rec.status(), taken)
	s.access(v, &x.rec, distID, variant, start)
	if x.dist != nil && x.dist.Logging != nil && s.opts.AccessLog != nil {
		s.logAccess(x, v, start, taken)
	}
}

func (s *Server) serve(x *exchange, v viewer, lt *liveTable, start time.Time) (distID, variant string) {
	w := &x.rec
	// Every answer carries its request id in X-Amz-Cf-Id, as CloudFront's
	// do; the access log's x-edge-request-id is the same id.
	s.startRequestID(x)
	if lt == nil {
		errorPage(w, http.StatusServiceUnavailable, "The edge has not loaded its configuration yet.")
		return "", ""
	}
	now := start
	if !s.realClock {
		now = s.opts.Clock()
	}
	primary, status := lt.table.Lookup(v.Host())
	switch status {
	case routing.StatusNotFound:
		errorPage(w, http.StatusForbidden, "Bad request. No distribution is configured for this host name.")
		return "", ""
	case routing.StatusStaging:
		errorPage(w, http.StatusForbidden, "A staging distribution cannot be reached directly; send requests to its primary distribution.")
		return primary.ID, "staging"
	case routing.StatusDisabled:
		errorPage(w, http.StatusForbidden, "The distribution is disabled.")
		return primary.ID, "primary"
	}
	header, values := v.decideHeader()
	dec := primary.Decide(routing.DecideInput{
		Header: header, HeaderValues: values, Cookie: v.StickyCookie(),
		Now: now, Draw: s.opts.Draw(),
	})
	d := dec.Dist
	x.dist = d
	variant = dec.Variant.String()
	if dec.SetCookie {
		bp := s.cookieBufs.Get().(*[]byte)
		*bp = dec.AppendSetCookie((*bp)[:0])
		w.Header().Add("Set-Cookie", string(*bp))
		s.cookieBufs.Put(bp)
	}
	if s.opts.DebugHeader {
		w.Header()[DebugHeader] = lt.debugHeader(d, dec.Variant, variant)
	}

	// Normalized once, before anything looks at it: the behavior, the
	// cache key and the origin request all see the same path (normalize.go).
	// A signed URL is checked against the path as sent (reqPath), which is
	// what its signer signed.
	reqPath := v.EscapedPath()
	path, err := normalizePath(reqPath)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "Bad request. The request path is not valid: "+err.Error()+".")
		return primary.ID, variant
	}
	if path == "/" && d.DefaultRootObject != "" {
		path = "/" + d.DefaultRootObject
	}
	b := d.Behavior(path)
	if !b.AllowedMethods.Has(v.Method()) {
		errorPage(w, http.StatusForbidden, "This distribution is not configured to allow the HTTP request method that was used for this request.")
		return primary.ID, variant
	}
	if !v.TLS() {
		switch b.ViewerProtocolPolicy {
		case "https-only":
			errorPage(w, http.StatusForbidden, "This distribution only accepts HTTPS requests.")
			return primary.ID, variant
		case "redirect-to-https":
			if s.opts.HTTPS {
				redirect(w, v, "https://"+v.Host()+v.RequestURI(), http.StatusMovedPermanently)
				return primary.ID, variant
			}
		}
	}
	if b.Origin == nil {
		errorPage(w, http.StatusBadGateway, "The behavior has no origin to fetch from.")
		return primary.ID, variant
	}
	if b.Restricted {
		var ok bool
		if v, ok = s.checkSigned(x, v, lt, d, b, reqPath, now); !ok {
			return primary.ID, variant
		}
	}
	s.respond(x, v, lt, d, b, path, now)
	return primary.ID, variant
}

// respond serves from the cache (GET/HEAD of a cached method) or proxies.
func (s *Server) respond(x *exchange, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, path string, now time.Time) {
	w := &x.rec
	rt := lt.route(d, b)
	up := rt.up
	method := v.Method()
	cacheable := (method == http.MethodGet || method == http.MethodHead) && b.CachedMethods.Has(method) && b.TTL.Max > 0
	if !cacheable {
		if x.noBlock {
			// On the event-loop engine: fetched by the loop when it
			// can (loopProxy), else off the loop.
			x.pending = s.loopProxy(x, v, lt, d, b, up, path)
			x.deferred = !x.pending
			return
		}
		path = ownPath(v, path)
		s.proxy(w, v, lt, d, b, up, path)
		return
	}
	kb := &x.key
	buildCacheKey(kb, rt.identity, b, path, v)
	entry, hit := s.cache.PeekBuiltAt(kb, now)
	// A fresh hit is counted once it is served (the event-loop engine may
	// yet serve it off the loop); GetOrRefresh counts its own.
	peeked := hit
	if !hit {
		if x.offLoop() {
			return
		}
		// A miss: only now build the key to keep and the fetch closure.
		// The fetch may outlive this request (when the viewer goes away),
		// so it gets a view of its own, and the path its own copy.
		path = ownPath(v, path)
		var err error
		fetchWith := func(fv viewer) cache.FetchFunc {
			return func(ctx context.Context) (*cache.Entry, error) {
				return s.fetchEntry(ctx, fv, lt, d, b, up, path)
			}
		}
		// A stale-while-revalidate refresh outlives the request even on
		// an engine whose request waits for its fetch: it gets a copy.
		entry, hit, err = s.cache.GetOrRefresh(v.Context(), kb.Key(), fetchWith(v.detach()),
			func() cache.FetchFunc { return fetchWith(v.snapshot()) })
		if errors.Is(err, errTooLarge) {
			// Larger than a cached object may be: every request for it
			// streams it from the origin, uncached, and a range of it is
			// the origin's to cut.
			s.proxy(w, v, lt, d, b, up, path)
			return
		}
		if err != nil {
			s.originError(w, v, d, err)
			return
		}
		if !s.realClock {
			now = s.opts.Clock()
		} else {
			now = time.Now() // the fetch took time
		}
	}
	result := cacheMiss
	switch {
	case hit:
		result = cacheHit
	case entry.Revalidated:
		// The viewer waited for the origin's 304 to the stale entry.
		result = cacheRefreshHit
	}
	cw, ok := w.ResponseWriter.(cachedWriter)
	asStored := ok && servedAsStored(v, d, b, entry, cw)
	if x.noBlock && (!asStored || len(entry.Body) > loopMaxBody) {
		// Off the event loop: what writeBody may do (compress, fetch a
		// custom error page), and a body large enough that its viewer's
		// socket may not take it at once.
		x.deferred = true
		return
	}
	if peeked {
		s.cache.CountHit()
	}
	h := w.Header()
	if asStored {
		// The entry goes out as it is stored: the engine writes it
		// without converting its header (h holds what serve set: the
		// sticky cookie, the debug header).
		head := v.Method() == http.MethodHead
		cw.writeCached(entry, h, entry.AgeHeader(now)[0], result, head)
		w.code = entry.Status
		if !head {
			w.bytes += int64(len(entry.Body))
		}
		return
	}
	copyOriginHeader(h, entry.Header)
	h["Age"] = entry.AgeHeader(now)
	h["X-Cache"] = xCacheValues[result]
	if b.ResponseHeaders != nil {
		applyResponseHeaders(h, v, b.ResponseHeaders)
	}
	if (v.HeaderGet("If-None-Match") != "" || v.HeaderGet("If-Modified-Since") != "" || v.HeaderGet("Range") != "") &&
		writeCachedConditional(w, v, entry.Status, entry.Body) {
		return
	}
	s.writeBody(w, v, lt, d, b, entry.Status, entry.Body)
}

// ownPath owns v's strings (see viewer) and returns path, which the
// request's path may alias, as a string of its own.
func ownPath(v viewer, path string) string {
	aliased := v.EscapedPath()
	if !v.own() {
		return path
	}
	if path == aliased {
		return v.EscapedPath()
	}
	return strings.Clone(path)
}

// cachedWriter is implemented by the response writer of an engine that
// can write a cached entry directly: its status, its header (Rendered, see
// cache.Entry) plus extra, Age, X-Cache (hit or miss), and its body unless
// head.
type cachedWriter interface {
	writeCached(e *cache.Entry, extra http.Header, age string, result cacheResult, head bool)
	// compressible reports whether e's body is one writeBody would
	// compress under a behavior with Compress (remembered per entry).
	compressible(e *cache.Entry) bool
}

// cacheResult is how a cached entry reached the viewer, as X-Cache says
// it: CloudFront's Hit (stored and fresh, or served stale within a
// stale-while-revalidate or stale-if-error window), RefreshHit (expired,
// revalidated with the origin, which answered 304) or Miss.
type cacheResult uint8

const (
	cacheMiss cacheResult = iota
	cacheHit
	cacheRefreshHit
)

// servedAsStored reports whether a cached entry is served exactly as
// stored, which is what writeBody would do: no conditional or range
// request, no custom error response for its status, nothing to compress.
func servedAsStored(v viewer, d *routing.Dist, b *routing.Behavior, e *cache.Entry, cw cachedWriter) bool {
	if b.ResponseHeaders != nil {
		// The policy changes the header; the stored rendering lacks it.
		return false
	}
	if v.HeaderGet("If-None-Match") != "" || v.HeaderGet("If-Modified-Since") != "" || v.HeaderGet("Range") != "" {
		return false
	}
	if len(d.ErrorResponses) > 0 && d.ErrorResponse(e.Status) != nil {
		return false
	}
	// writeBody compresses under the same condition as compressible.
	return !b.Compress || !cw.compressible(e)
}

// copyOriginHeader puts the origin's response header into the viewer's.
// The values may be a cached entry's, shared by every response that serves
// it: they are assigned, never appended to. Set-Cookie adds to the sticky
// session cookie the edge may have set already instead of replacing it.
func copyOriginHeader(dst, src http.Header) {
	for k, v := range src {
		if k == "Set-Cookie" && len(dst[k]) > 0 {
			dst[k] = append(slices.Clip(dst[k]), v...)
			continue
		}
		dst[k] = v
	}
}

// X-Cache values. Each has len == cap, so appending to one copies it.
var (
	xCacheHit    = []string{"Hit from stagefront"}
	xCacheMiss   = []string{"Miss from stagefront"}
	xCacheValues = [...][]string{
		cacheMiss:       xCacheMiss,
		cacheHit:        xCacheHit,
		cacheRefreshHit: {"RefreshHit from stagefront"},
	}
)

// fetchEntry fetches a whole object for the cache. A behavior with Compress
// gets the object compressed here, once, rather than on every hit: the
// cache key holds the encoding served (see buildCacheKey), so every
// request that shares the entry is served the same encoding.
func (s *Server) fetchEntry(ctx context.Context, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, up *upstream, path string) (*cache.Entry, error) {
	if e, handled, err := s.fetchViaShield(ctx, v, lt, d, b, up, path); handled {
		return e, err
	}
	resp, err := s.fetch(ctx, v, lt, b, up, path, http.MethodGet, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	policy := cache.TTLPolicy{Min: b.TTL.Min, Default: b.TTL.Default, Max: b.TTL.Max}
	if stale := cache.StaleEntry(ctx); stale != nil && resp.StatusCode == http.StatusNotModified {
		return s.revalidated(stale, resp, policy, b, v), nil
	}
	body, err := s.readBody(resp)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("read origin body: %w", err)
	}
	var ttl time.Duration
	if resp.StatusCode >= 400 {
		// An error is kept for the error caching minimum TTL (errcache.go).
		ttl = errorTTL(d, b, resp.StatusCode, resp.Header, s.opts.Clock())
	} else if t, store := cache.TTL(policy, resp.Header, s.opts.Clock()); store && cacheableStatus(resp.StatusCode) {
		ttl = t
	}
	header := responseHeader(resp.Header)
	var private http.Header
	if ttl > 0 {
		ttl, private = sharing(b, v, header, ttl)
	}
	if b.Compress && len(body) >= minCompressBytes && compressible(header.Get("Content-Type")) && header.Get("Content-Encoding") == "" {
		enc := servedEncoding(v.HeaderGet("Accept-Encoding"), b.CacheKey.Brotli)
		if zipped, ok := s.compressors.compress(enc, body); ok {
			body = zipped
			header.Set("Content-Encoding", enc)
			header.Add("Vary", "Accept-Encoding")
			// Other bytes than the origin's: a strong validator becomes weak,
			// as CloudFront does.
			if etag := header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
				header.Set("ETag", "W/"+etag)
			}
		}
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	e := &cache.Entry{Status: resp.StatusCode, Header: header, Body: body, TTL: ttl, Private: private}
	if ttl > 0 {
		e.StaleWhileRevalidate, e.StaleIfError = cache.StaleWindows(policy, resp.Header)
	}
	return e, nil
}

// errTooLarge is fetchEntry's answer for an object larger than
// MaxBodyBytes: it is not cached, and each request streams it instead.
var errTooLarge = errors.New("object larger than the edge caches")

// readBody reads a whole origin body, in one allocation when the origin
// announced the length, or fails with errTooLarge past MaxBodyBytes.
func (s *Server) readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > s.opts.MaxBodyBytes {
		return nil, errTooLarge
	} else if n >= 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBodyBytes+1))
	if err == nil && int64(len(body)) > s.opts.MaxBodyBytes {
		return nil, errTooLarge
	}
	return body, err
}

// minCompressBytes is the smallest object CloudFront compresses.
const minCompressBytes = 1000

// cacheableStatus reports whether a successful or redirect response is
// cacheable by default (RFC 9110 §15.1); errors follow errorTTL.
func cacheableStatus(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301:
		return true
	}
	return false
}

// proxy streams an uncached request through to the origin. A GET's Range
// goes with it: nothing is cached, so the origin may cut the range.
func (s *Server) proxy(w *statusRecorder, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, up *upstream, path string) {
	resp, err := s.fetch(v.Context(), v, lt, b, up, path, v.Method(), true)
	s.proxyResponse(w, v, lt, d, b, resp, err)
}

// proxyResponse sends the viewer the origin's answer to proxy's fetch:
// resp, or the error page for err.
func (s *Server) proxyResponse(w *statusRecorder, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, resp *http.Response, err error) {
	if err != nil {
		s.originError(w, v, d, err)
		return
	}
	body := resp.Body // closed here unless handed to a bodyStreamer
	defer func() { body.Close() }()
	h := w.Header()
	copyResponseHeader(h, resp.Header)
	h["X-Cache"] = xCacheMiss
	if b.ResponseHeaders != nil {
		applyResponseHeaders(h, v, b.ResponseHeaders)
	}
	if er := d.ErrorResponse(resp.StatusCode); er != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBodyBytes))
		s.writeBody(w, v, lt, d, b, resp.StatusCode, body)
		return
	}
	// The origin's length, when it sent one, saves a chunked response.
	// (net/http dropped it from resp.Header for a chunked body.)
	if cl := resp.Header["Content-Length"]; len(cl) == 1 && resp.ContentLength >= 0 {
		h["Content-Length"] = cl
	}
	if v.Method() != http.MethodHead && (resp.ContentLength < 0 || resp.ContentLength > streamAbove) {
		// A large or open-ended body: an engine that buffers responses
		// (fasthttp) takes it as a stream, which it closes when sent.
		if st, ok := w.ResponseWriter.(bodyStreamer); ok {
			w.WriteHeader(resp.StatusCode)
			st.streamBody(body, resp.ContentLength)
			if resp.ContentLength > 0 {
				w.bytes += resp.ContentLength
			}
			body = http.NoBody // now the engine's to close
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	if v.Method() != http.MethodHead {
		buf := s.copyBufs.get()
		// What the origin has sent goes on to the viewer at once (see
		// copyFlushing); a small body leaves in one write with the header.
		_, err := copyFlushing(w, resp.Body, *buf, w.flush)
		s.copyBufs.put(buf)
		// copyFlushing returns it unwrapped: a type assertion, where
		// errors.As would put rerr on the heap for every response.
		if rerr, ok := err.(*originReadError); ok {
			s.originBodyFailed(w, v, d, rerr.err)
		}
	}
}

// originReadError is copyFlushing's error when reading the origin failed
// (rather than writing to the viewer).
type originReadError struct{ err error }

func (e *originReadError) Error() string { return "read origin body: " + e.err.Error() }
func (e *originReadError) Unwrap() error { return e.err }

// unsentResetter is implemented by the response writer of an engine that
// holds a response until the handler returns (fasthttp): resetUnsent drops
// what was written, so that another response can replace it.
type unsentResetter interface {
	resetUnsent() bool
}

// originBodyFailed handles an origin that failed (timed out, closed the
// connection) in the middle of a body. A response not sent yet becomes a
// 502/504 error page; one whose header is out is aborted, never ended as
// if it were complete.
func (s *Server) originBodyFailed(w *statusRecorder, v viewer, d *routing.Dist, err error) {
	if r, ok := w.ResponseWriter.(unsentResetter); ok && r.resetUnsent() {
		w.code, w.bytes = 0, 0
		s.originError(w, v, d, err)
		return
	}
	code := originStatus(err)
	s.metrics.originErrors.WithLabelValues(d.ID, strconv.Itoa(code)).Inc()
	s.log.Warn("origin body failed after the response began; aborting it", "distribution", d.ID, "err", err)
	w.aborted = true
}

// copyFlushing copies src to dst through buf and calls flush after every
// write, so that a viewer gets what the origin has sent without waiting
// for more (a slow or event-stream origin), as httputil.ReverseProxy does
// with a negative FlushInterval. A write of a full buffer bypasses a
// bufio.Writer anyway, so this costs no extra write for a fast origin.
// A body the origin package holds in memory already (origin.InMemory: the
// event-loop engine's fetches) is written in one piece, not copied
// through buf first.
func copyFlushing(dst io.Writer, src io.Reader, buf []byte, flush func() error) (int64, error) {
	if b, ok := origin.InMemory(src); ok {
		n, err := dst.Write(b)
		if err == nil {
			err = flush()
		}
		return int64(n), err
	}
	var written int64
	for {
		n, rerr := src.Read(buf)
		if rerr != nil && rerr != io.EOF {
			rerr = &originReadError{rerr}
		}
		if n > 0 {
			m, werr := dst.Write(buf[:n])
			written += int64(m)
			if werr == nil {
				werr = flush()
			}
			if werr != nil {
				return written, werr
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

// streamAbove is the body length above which an uncached response is
// handed to a bodyStreamer rather than buffered.
const streamAbove = 64 << 10

// bodyStreamer is implemented by the response writer of an engine that
// buffers a response body unless it is given a stream (fasthttp). The
// writer owns body from then on and closes it once the response is sent;
// size is -1 when unknown.
type bodyStreamer interface {
	streamBody(body io.ReadCloser, size int64)
}

// writeBody writes a complete response, applying custom error responses and compression.
func (s *Server) writeBody(w *statusRecorder, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, status int, body []byte) {
	h := w.Header()
	if er := d.ErrorResponse(status); er != nil && er.ResponsePagePath != "" {
		if page, code, ok := s.errorPageFromOrigin(v, lt, d, er); ok {
			body, status = page.body, code
			// The page replaces the error's representation entirely.
			setOrDelete(h, "Content-Type", page.contentType)
			setOrDelete(h, "Content-Encoding", page.contentEncoding)
		}
	} else if er != nil && er.ResponseCode != 0 {
		status = er.ResponseCode
	}
	if b.Compress && len(body) >= minCompressBytes && compressible(h.Get("Content-Type")) && h.Get("Content-Encoding") == "" {
		enc := servedEncoding(v.HeaderGet("Accept-Encoding"), b.CacheKey.Brotli)
		if zipped, ok := s.compressors.compress(enc, body); ok {
			body = zipped
			h.Set("Content-Encoding", enc)
			h["Vary"] = append(slices.Clip(h["Vary"]), "Accept-Encoding")
		}
	}
	// A cached entry carries its Content-Length already.
	if cl := h["Content-Length"]; len(cl) != 1 || !lengthIs(cl[0], len(body)) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if v.Method() != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func lengthIs(s string, n int) bool {
	v, err := strconv.Atoi(s)
	return err == nil && v == n
}

func setOrDelete(h http.Header, key, value string) {
	if value == "" {
		h.Del(key)
		return
	}
	h.Set(key, value)
}

// customPage is a custom error response's page as the origin sent it.
type customPage struct {
	body                         []byte
	contentType, contentEncoding string
}

// errorPageFromOrigin gets a custom error response's page through the
// cache, as an ordinary object of the behavior its path matches: it is
// kept under its own Cache-Control and that behavior's TTLs, so a run of
// errors costs one page fetch, not one each. Only a 200 page is used.
func (s *Server) errorPageFromOrigin(v viewer, lt *liveTable, d *routing.Dist, er *routing.ErrorResponse) (customPage, int, bool) {
	v.own() // the page's fetch may keep the request's strings
	path := er.ResponsePagePath
	b := d.Behavior(path)
	if b.Origin == nil {
		return customPage{}, 0, false
	}
	rt := lt.route(d, b)
	var entry *cache.Entry
	if b.TTL.Max > 0 {
		kb := cache.NewKeyBuilder(rt.identity, path)
		buildCacheKey(kb, rt.identity, b, path, v)
		var hit bool
		if entry, hit = s.cache.GetBuilt(kb); !hit {
			fv := v.detach()
			var err error
			entry, _, err = s.cache.GetOrFetch(v.Context(), kb.Key(), func(ctx context.Context) (*cache.Entry, error) {
				return s.fetchEntry(ctx, fv, lt, d, b, rt.up, path)
			})
			if err != nil {
				return customPage{}, 0, false
			}
		}
	} else {
		var err error
		if entry, err = s.fetchEntry(v.Context(), v, lt, d, b, rt.up, path); err != nil {
			return customPage{}, 0, false
		}
	}
	if entry.Status != http.StatusOK {
		return customPage{}, 0, false
	}
	code := er.ResponseCode
	if code == 0 {
		code = er.ErrorCode
	}
	return customPage{body: entry.Body, contentType: entry.Header.Get("Content-Type"), contentEncoding: entry.Header.Get("Content-Encoding")}, code, true
}

// statusClientClosed is what a request the viewer abandoned while the
// edge waited for the origin is recorded as (nginx's convention), so it
// counts neither as an origin error nor as a 5xx.
const statusClientClosed = 499

func (s *Server) originError(w *statusRecorder, v viewer, d *routing.Dist, err error) {
	if v.Context().Err() != nil {
		s.log.Debug("viewer went away while the origin was fetched", "distribution", d.ID, "err", err)
		w.WriteHeader(statusClientClosed)
		return
	}
	code := originStatus(err)
	s.metrics.originErrors.WithLabelValues(d.ID, strconv.Itoa(code)).Inc()
	s.log.Warn("origin fetch failed", "distribution", d.ID, "status", code, "err", err)
	msg := "The edge could not connect to the origin."
	if code == http.StatusGatewayTimeout {
		msg = "The origin did not respond in time."
	}
	errorPage(w, code, msg)
}

// errorPage writes a CloudFront-style error page.
func errorPage(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Cache", "Error from stagefront")
	h.Del("Content-Length")
	w.WriteHeader(code)
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>%d %s</title></head><body><h1>%d %s</h1><p>%s</p><hr><p>Generated by stagefront.</p></body></html>\n",
		code, http.StatusText(code), code, http.StatusText(code), msg)
	_, _ = w.Write(b.Bytes())
}

// responseHeader copies an origin response's end-to-end headers.
func responseHeader(h http.Header) http.Header {
	out := make(http.Header, len(h)+4)
	copyResponseHeader(out, h)
	return out
}

// copyResponseHeader puts an origin response's end-to-end headers into
// dst, as copyOriginHeader does (values shared, Set-Cookie added to), and
// sets Via. An origin's X-Amz-Cf-Id is dropped: the header is the edge's
// request id (the access log's x-edge-request-id), which CloudFront also
// sets itself whatever the origin sends.
func copyResponseHeader(dst, src http.Header) {
	for k, v := range src {
		switch k {
		case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Trailer", "Content-Length",
			requestIDHeader:
			continue
		case "Set-Cookie":
			if len(dst[k]) > 0 {
				dst[k] = append(slices.Clip(dst[k]), v...)
				continue
			}
		}
		dst[k] = v
	}
	dst["Via"] = viaValue
}

// closeAfterChunked ends the connection after a request whose body came
// chunked. A request may carry Content-Length too: the body is then read
// as chunked, and RFC 9112 §6.3 requires closing the connection after the
// answer, because an intermediary in front that went by Content-Length
// would take the bytes after the chunked body for another request than
// the edge does (request smuggling). net/http removes that Content-Length
// before a handler sees it, so every chunked request closes its
// connection, on every engine; viewers rarely send chunked bodies.
func closeAfterChunked(h http.Header) { h["Connection"] = connectionClose }

var connectionClose = []string{"close"}

// viaValue is the Via header of every response (read-only, len == cap).
var viaValue = []string{"1.1 stagefront"}

func (s *Server) access(v viewer, w *statusRecorder, distID, variant string, start time.Time) {
	if !s.log.Enabled(v.Context(), slog.LevelDebug) {
		return
	}
	host, _, _ := net.SplitHostPort(v.RemoteAddr())
	s.log.Debug("access", "client", host, "method", v.Method(), "host", v.Host(), "uri", v.RequestURI(),
		"status", w.status(), "bytes", w.bytes, "distribution", distID, "variant", variant,
		"cache", w.Header().Get("X-Cache"), "duration_ms", float64(time.Since(start).Microseconds())/1000)
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	// aborted asks the engine to break the viewer's connection instead of
	// ending the response (see originBodyFailed).
	aborted bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// flush sends what has been written to the viewer, when the engine's
// writer can (net/http's can; fasthttp's buffers the whole response).
func (r *statusRecorder) flush() error {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(host, ".")
}
