package edge

import (
	"context"
	"net/http"
	"strconv"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// addValidators makes a fetch into the cache conditional when the cache
// keeps an expired copy of the object with a validator: the origin can
// then answer 304 Not Modified instead of sending the body again, and the
// edge renews the copy (see revalidated), as CloudFront does after expiry.
func addValidators(ctx context.Context, req *origin.Request) {
	stale := cache.StaleEntry(ctx)
	if stale == nil {
		return
	}
	etag, lastModified := stale.Header.Get("ETag"), stale.Header.Get("Last-Modified")
	if etag == "" && lastModified == "" {
		return
	}
	if req.Header == nil {
		req.Header = make(http.Header, 2)
	}
	// If-None-Match compares weakly (RFC 9110 §13.1.2), so the weak tag the
	// edge gives an object it compressed still matches the origin's.
	if etag != "" {
		req.Header["If-None-Match"] = []string{etag}
	}
	if lastModified != "" {
		req.Header["If-Modified-Since"] = []string{lastModified}
	}
}

// revalidated is the entry that replaces stale when the origin answered
// its revalidation with 304 Not Modified: the same status and body (not
// fetched again), its header updated with the 304's fields (RFC 9111
// §4.3.4) except those describing the stored body, and a freshness
// computed anew from the result.
func (s *Server) revalidated(stale *cache.Entry, resp *http.Response, policy cache.TTLPolicy, b *routing.Behavior, v viewer) *cache.Entry {
	header := stale.Header.Clone()
	for name, values := range responseHeader(resp.Header) {
		switch name {
		case "Content-Length", "Content-Encoding", "Content-Type", "Vary":
			continue
		case "Etag":
			if tag := resp.Header.Get("ETag"); header.Get("ETag") == "W/"+tag {
				continue // the edge's weak tag for its compressed copy
			}
		}
		header[name] = values
	}
	header["Content-Length"] = []string{strconv.Itoa(len(stale.Body))}
	e := &cache.Entry{Status: stale.Status, Header: header, Body: stale.Body, Revalidated: true}
	ttl, store := cache.TTL(policy, header, s.opts.Clock())
	if !store {
		return e // TTL 0: this request only
	}
	e.TTL, e.Private = sharing(b, v, header, ttl)
	if e.TTL > 0 {
		e.StaleWhileRevalidate, e.StaleIfError = cache.StaleWindows(policy, header)
	}
	return e
}
