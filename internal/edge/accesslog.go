package edge

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
)

// AccessLogger takes one record per viewer request of a distribution whose
// Logging is enabled (accesslog.Writer is one). Log must not block and
// must not keep r or its strings, which alias request buffers.
type AccessLogger interface {
	Log(r *accesslog.Record)
}

// requestIDHeader carries the request id to the viewer, as CloudFront's
// X-Amz-Cf-Id does; the access log's x-edge-request-id is the same id.
const requestIDHeader = "X-Amz-Cf-Id"

// startRequestID gives the request its id, in the response header. An
// engine whose writer takes the id as bytes (requestIDWriter) gets it
// from the exchange's own buffer, without allocating.
func (s *Server) startRequestID(x *exchange) {
	id := accesslog.AppendRequestID(x.idBuf[:0])
	if iw, ok := x.rec.ResponseWriter.(requestIDWriter); ok {
		x.reqID = bytesString(id) // valid while the exchange serves this request
		iw.setRequestID(id)
		return
	}
	x.reqID = string(id)
	x.rec.Header()[requestIDHeader] = []string{x.reqID}
}

// requestIDWriter is implemented by the response writer of an engine that
// sets X-Amz-Cf-Id itself from the id's bytes, which stay valid until
// the request ends.
type requestIDWriter interface {
	setRequestID(id []byte)
}

// logAccess hands the finished request, which took taken, to the access
// logger.
func (s *Server) logAccess(x *exchange, v viewer, start time.Time, taken time.Duration) {
	d := x.dist
	w := &x.rec
	r := &x.logRec
	*r = accesslog.Record{
		Time: start, DistributionID: d.ID, Prefix: d.Logging.Prefix, IncludeCookies: d.Logging.IncludeCookies,
		Method: v.Method(), Host: d.DomainName, HostHeader: v.Host(),
		URIStem: v.EscapedPath(), URIQuery: v.RawQuery(), Status: w.status(),
		Referer: v.HeaderGet("Referer"), UserAgent: v.HeaderGet("User-Agent"),
		RequestID: x.reqID, Protocol: "http", SCBytes: w.bytes,
		TimeTaken: taken, TTFB: taken, XForwardedFor: v.HeaderGet("X-Forwarded-For"),
		ContentLen: -1, ClientAddr: v.remoteAddrPort(), Shard: x.shard,
	}
	if d.Logging.IncludeCookies {
		r.Cookie = v.HeaderGet("Cookie")
	}
	if v.TLS() {
		r.Protocol = "https"
	}
	if !r.ClientAddr.IsValid() { // not an IP address and port: as it is
		r.ClientIP, r.ClientPort, _ = net.SplitHostPort(v.RemoteAddr())
	}
	xcache := v.logFields(r, w)
	r.ResultType = resultType(xcache, r.Status)
	if r.Status == http.StatusPartialContent {
		if spec, ok := strings.CutPrefix(v.HeaderGet("Range"), "bytes="); ok {
			r.RangeStart, r.RangeEnd, _ = strings.Cut(spec, "-")
		}
	}
	s.opts.AccessLog.Log(r)
}

// resultType is x-edge-result-type: the first word of X-Cache (Hit,
// RefreshHit, Miss, Error), else Redirect for a redirect the edge made,
// Error for an error, Miss for what went to the origin.
func resultType(xcache string, status int) string {
	if word, _, ok := strings.Cut(xcache, " "); ok && word != "" {
		return word
	}
	switch {
	case status >= 400:
		return "Error"
	case status == http.StatusMovedPermanently:
		return "Redirect"
	}
	return "Miss"
}

// logFields fills in the record's fields the net/http engine knows: the
// protocol version, the request's size, the response's type and length;
// it returns the X-Cache value sent.
func (v *netViewer) logFields(r *accesslog.Record, w *statusRecorder) string {
	r.ProtocolVersion = v.r.Proto
	r.CSBytes = netRequestBytes(v.r)
	return headerLogFields(r, w, v.Method() == http.MethodHead)
}

// headerLogFields fills in the response's type and length from w's
// http.Header (the length sent, else the body's for all but a HEAD) and
// returns the X-Cache value sent.
func headerLogFields(r *accesslog.Record, w *statusRecorder, head bool) string {
	h := w.Header()
	r.ContentType = h.Get("Content-Type")
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		r.ContentLen = n
	} else if !head {
		r.ContentLen = w.bytes
	}
	return h.Get("X-Cache")
}

// logFields is netViewer.logFields for the fasthttp engine, read from its
// request and response.
func (v *fastViewer) logFields(r *accesslog.Record, w *statusRecorder) string {
	req, resp := &v.ctx.Request, &v.ctx.Response
	r.ProtocolVersion = bytesString(req.Header.Protocol())
	if raw := req.Header.RawHeaders(); len(raw) > 0 {
		// The request line and the header as received, without
		// serializing the header again.
		h := &req.Header
		r.CSBytes = int64(len(h.Method()) + 1 + len(h.RequestURI()) + 1 + len(h.Protocol()) + 2 + len(raw))
	} else { // a request not parsed from the wire
		r.CSBytes = int64(len(req.Header.Header()))
	}
	if !req.IsBodyStream() {
		r.CSBytes += int64(len(req.Body()))
	} else if cl := req.Header.ContentLength(); cl > 0 {
		r.CSBytes += int64(cl)
	}
	if fw, ok := w.ResponseWriter.(*fastWriter); ok && fw.directEntry != nil {
		// A hit the event-loop engine writes from the entry (fastWriter.direct).
		rh := &rendered(fw.directEntry).header
		r.ContentType = bytesString(rh.ContentType())
		r.ContentLen = int64(len(fw.directEntry.Body))
		return xCacheValues[cacheHit][0]
	}
	if fw, ok := w.ResponseWriter.(*fastWriter); ok && fw.lazy {
		// The event-loop engine writes the header from fw.h (writeLazy).
		return headerLogFields(r, w, v.ctx.IsHead())
	}
	r.ContentType = bytesString(resp.Header.ContentType())
	if n := resp.Header.ContentLength(); n >= 0 {
		r.ContentLen = int64(n)
	}
	return bytesString(resp.Header.Peek("X-Cache"))
}

// netRequestBytes estimates a net/http request's size on the wire.
func netRequestBytes(r *http.Request) int64 {
	n := int64(len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n
}

// bytesString views b as a string without copying; the access logger
// copies it before the buffer is reused.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
