package edge

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// loopProxyState is what an exchange keeps while the event-loop engine
// fetches its uncached request from the origin (see loopProxy).
type loopProxyState struct {
	lt   *liveTable
	b    *routing.Behavior
	prep origin.Prepared
	// origin is the origin request, and req the same serialized (a
	// buffer kept by the pool).
	origin          origin.Request
	req             []byte
	distID, variant string
	start           time.Time
}

// loopFetcher is a Fetcher that can serialize a request for the event
// loops and connect to its origin (origin.Fetcher is one).
type loopFetcher interface {
	Prepare(spec *origin.Spec, req *origin.Request, dst []byte) (origin.Prepared, []byte, error)
	Dial(ctx context.Context, p origin.Prepared) (net.Conn, error)
}

// loopProxy prepares the origin request of an uncached request on the
// event-loop engine, which then sends it, reads the response without
// waiting on either socket, and hands it to resumeProxy: a request that
// is neither cached nor cacheable (a CachingDisabled behavior, an API)
// costs the loop no goroutine, as nginx's proxy_pass costs it no thread.
// It reports false for a request the loop cannot fetch itself (an
// origin group, HTTPS, S3, a request Fetch alone sends); that one is
// served off the loop from its first byte.
func (s *Server) loopProxy(x *exchange, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, up *upstream, path string) bool {
	lf, ok := s.fetcher.(loopFetcher)
	if !ok {
		return false
	}
	if g := b.Group; g != nil && len(g.Members) > 1 {
		return false // failover between origins: fetch's own
	}
	req := &x.lp.origin
	s.originRequest(context.Background(), req, v, b, up, path, v.Method(), true)
	p, buf, err := lf.Prepare(up.spec, req, x.lp.req[:0])
	x.lp.req = buf
	if err != nil {
		return false
	}
	x.lp.lt, x.lp.b, x.lp.prep = lt, b, p
	return true
}

// resumeProxy answers a request loopProxy prepared with the origin's
// response (its body in memory, or read from the origin on an engine's
// goroutine), or the error page for err, and records the request.
func (s *Server) resumeProxy(x *exchange, resp *http.Response, err error) {
	v := &x.fast
	s.proxyResponse(&x.rec, v, x.lp.lt, x.dist, x.lp.b, resp, err) // closes resp.Body, or streams it
	s.record(x, v, x.lp.distID, x.lp.variant, x.lp.start)
}

// loopFinishes reports whether resumeProxy may answer resp on an event
// loop: it needs no custom error page (which may be fetched).
func loopFinishes(d *routing.Dist, resp *http.Response) bool {
	return d.ErrorResponse(resp.StatusCode) == nil
}
