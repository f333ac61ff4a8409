package edge

import (
	"context"
	"io"
	"net/http"
	"net/netip"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
	"github.com/stagefront/stagefront/internal/routing"
)

// viewer is the transport-neutral view of a viewer request that the
// request path (serve, respond, proxy, the cache key, the origin fetch)
// is written against. Two views implement it: net/http's (netViewer) and
// fasthttp's (fastViewer), which serves both the fasthttp engine and the
// event-loop engine (loop_linux.go). The response side is an
// http.ResponseWriter either way (statusRecorder wraps it).
//
// Strings returned by HeaderGet are valid until the request ends (the
// fasthttp engine reuses their bytes): use them, do not keep them. So are
// those of Host, EscapedPath and RequestURI until own is called; every
// other string is an ordinary one. The request path calls own (or detach,
// snapshot) before anything that may keep them: a cache miss, a proxied
// request. A cache hit does not, and copies nothing.
type viewer interface {
	Method() string
	// Host is the request's host (Host header or absolute URI's host).
	Host() string
	// EscapedPath is the request path as sent (net/http's URL.EscapedPath).
	EscapedPath() string
	RawQuery() string
	// RequestURI is the path and query, as for a Location header.
	RequestURI() string
	// HeaderGet returns the first value of a canonical header name.
	HeaderGet(canonicalName string) string
	// HeaderValues returns the values of a canonical header name; Host,
	// which net/http keeps out of its header, has none.
	HeaderValues(canonicalName string) []string
	// Header returns every header but Host, with canonical keys; read-only.
	Header() http.Header
	// Cookies parses the Cookie headers, as http.Request.Cookies does.
	Cookies() []*http.Cookie
	// StickyCookie is the x-amz-continuous-deployment-state value, or "".
	StickyCookie() string
	// TLS reports whether the viewer connected over HTTPS.
	TLS() bool
	RemoteAddr() string
	// Body is the request body and its length (-1 when unknown).
	Body() (io.Reader, int64)
	Context() context.Context
	// remoteAddrPort is RemoteAddr parsed, without allocating; invalid
	// when it is not an IP address and port.
	remoteAddrPort() netip.AddrPort
	// logFields fills in the access log fields only the engine knows
	// (protocol version, request size, response type and length) after
	// the response is written, and returns the X-Cache value sent.
	logFields(r *accesslog.Record, w *statusRecorder) (xcache string)
	// decideHeader is the header part of a routing.DecideInput.
	decideHeader() (http.Header, func(canonicalName string) []string)
	// own makes the strings of Host, EscapedPath and RequestURI ordinary
	// ones from now on; it reports whether they were not already (and a
	// string taken from them before may alias the request's buffers).
	own() bool
	// detach returns a view that stays valid after the request ends (for a
	// fetch that may outlive it); its strings are owned.
	detach() viewer
	// snapshot returns a view that stays valid after the request ends
	// even on an engine whose request waits for its fetch (fasthttp
	// reuses its request objects): for a background refresh.
	snapshot() viewer
}

// netViewer is the net/http engine's viewer.
type netViewer struct{ r *http.Request }

func (v *netViewer) Method() string      { return v.r.Method }
func (v *netViewer) EscapedPath() string { return v.r.URL.EscapedPath() }
func (v *netViewer) RawQuery() string    { return v.r.URL.RawQuery }
func (v *netViewer) RequestURI() string  { return v.r.URL.RequestURI() }

// HeaderGet and HeaderValues index the header with the canonical name
// they are given (net/http's server stores canonical keys), without
// canonicalizing it again as Header.Get does: what they return is the same.
func (v *netViewer) HeaderGet(name string) string {
	if vs := v.r.Header[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (v *netViewer) HeaderValues(name string) []string                  { return v.r.Header[name] }
func (v *netViewer) Header() http.Header                                { return v.r.Header }
func (v *netViewer) Cookies() []*http.Cookie                            { return v.r.Cookies() }
func (v *netViewer) StickyCookie() string                               { return routing.StickyCookieValue(v.r.Header) }
func (v *netViewer) TLS() bool                                          { return v.r.TLS != nil }
func (v *netViewer) RemoteAddr() string                                 { return v.r.RemoteAddr }
func (v *netViewer) Context() context.Context                           { return v.r.Context() }
func (v *netViewer) decideHeader() (http.Header, func(string) []string) { return v.r.Header, nil }
func (v *netViewer) remoteAddrPort() netip.AddrPort {
	ap, _ := netip.ParseAddrPort(v.r.RemoteAddr)
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (v *netViewer) own() bool        { return false }
func (v *netViewer) detach() viewer   { return &netViewer{r: v.r} }
func (v *netViewer) snapshot() viewer { return &netViewer{r: v.r} }

func (v *netViewer) Body() (io.Reader, int64) { return v.r.Body, v.r.ContentLength }

// Host is the Host header, or for an HTTPS request without one (HTTP/1.0)
// the name the viewer asked for in the TLS handshake (SNI).
func (v *netViewer) Host() string {
	if v.r.Host == "" && v.r.TLS != nil {
		return v.r.TLS.ServerName
	}
	return v.r.Host
}

// redirect writes a redirect to url, which is absolute, as http.Redirect
// does: for an absolute URL, http.Redirect reads only the request's
// method (whether to write a body), so any engine's viewer will do.
func redirect(w http.ResponseWriter, v viewer, url string, code int) {
	http.Redirect(w, &http.Request{Method: v.Method()}, url, code)
}
