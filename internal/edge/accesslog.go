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

// startAccessLog gives the request its id, in the response header.
func (s *Server) startAccessLog(x *exchange) {
	x.reqID = accesslog.NewRequestID()
	x.rec.Header()[requestIDHeader] = []string{x.reqID}
}

// logAccess hands the finished request to the access logger.
func (s *Server) logAccess(x *exchange, v viewer, start time.Time) {
	d := x.dist
	w := &x.rec
	r := &x.logRec
	taken := time.Since(start)
	*r = accesslog.Record{
		Time: start, DistributionID: d.ID, Prefix: d.Logging.Prefix, IncludeCookies: d.Logging.IncludeCookies,
		Method: v.Method(), Host: d.DomainName, HostHeader: v.Host(),
		URIStem: v.EscapedPath(), URIQuery: v.RawQuery(), Status: w.status(),
		Referer: v.HeaderGet("Referer"), UserAgent: v.HeaderGet("User-Agent"),
		RequestID: x.reqID, Protocol: "http", SCBytes: w.bytes,
		TimeTaken: taken, TTFB: taken, XForwardedFor: v.HeaderGet("X-Forwarded-For"),
		ContentLen: -1,
	}
	if d.Logging.IncludeCookies {
		r.Cookie = v.HeaderGet("Cookie")
	}
	if v.TLS() {
		r.Protocol = "https"
	}
	r.ClientIP, r.ClientPort, _ = net.SplitHostPort(v.RemoteAddr())
	var xcache string
	switch vv := v.(type) {
	case *fastViewer:
		req, resp := &vv.ctx.Request, &vv.ctx.Response
		r.ProtocolVersion = bytesString(req.Header.Protocol())
		r.CSBytes = int64(len(req.Header.Header()) + len(req.Body()))
		xcache = bytesString(resp.Header.Peek("X-Cache"))
		r.ContentType = bytesString(resp.Header.ContentType())
		if n := resp.Header.ContentLength(); n >= 0 {
			r.ContentLen = int64(n)
		}
	case *netViewer:
		r.ProtocolVersion = vv.r.Proto
		r.CSBytes = netRequestBytes(vv.r)
		h := w.Header()
		xcache = h.Get("X-Cache")
		r.ContentType = h.Get("Content-Type")
		if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
			r.ContentLen = n
		} else if v.Method() != http.MethodHead {
			r.ContentLen = w.bytes
		}
	}
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
// formats it before the buffer is reused.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
