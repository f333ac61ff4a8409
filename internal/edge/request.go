package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// stickyCookie is never forwarded to origins nor put in cache keys.
const stickyCookie = "x-amz-continuous-deployment-state"

// originIdentity is what cached objects are keyed by: objects of a primary
// and its staging are shared exactly when they fetch from the same place.
func originIdentity(o *routing.Origin) cache.Identity {
	ac := o.OriginAccessControlID
	if ac == "" {
		ac = o.OriginAccessIdentity
	}
	return cache.Identity{OriginDomain: strings.ToLower(o.DomainName), OriginPath: o.OriginPath, AccessControlID: ac}
}

// cacheKey builds the key from the origin identity and the cache policy's parts.
func cacheKey(b *routing.Behavior, path string, r *http.Request) cache.Key {
	kb := cache.NewKeyBuilder(originIdentity(b.Origin), path)
	ck := &b.CacheKey
	if ck.QueryStrings != routing.SelectNone && r.URL.RawQuery != "" {
		for name, values := range r.URL.Query() {
			if selected(ck.QueryStrings, ck.QueryStringNames, name) {
				for _, v := range values {
					kb.Query(name, v)
				}
			}
		}
	}
	switch ck.Headers {
	case routing.SelectAll:
		for name, values := range r.Header {
			if name == "Cookie" {
				continue
			}
			for _, v := range values {
				kb.Header(name, v)
			}
		}
	case routing.SelectAllowList:
		for _, name := range ck.HeaderNames {
			for _, v := range r.Header.Values(name) {
				kb.Header(name, v)
			}
		}
	}
	if ck.Cookies != routing.SelectNone {
		for _, c := range r.Cookies() {
			if c.Name != stickyCookie && selected(ck.Cookies, ck.CookieNames, c.Name) {
				kb.Cookie(c.Name, c.Value)
			}
		}
	}
	if ck.Gzip || ck.Brotli {
		kb.Header("x-stagefront-encoding", acceptedEncoding(r.Header.Get("Accept-Encoding"), ck.Gzip, ck.Brotli))
	}
	return kb.Key()
}

func selected(sel routing.Selection, names []string, name string) bool {
	switch sel {
	case routing.SelectAll:
		return true
	case routing.SelectAllowList:
		return slices.Contains(names, name)
	case routing.SelectAllExcept:
		return !slices.Contains(names, name)
	}
	return false
}

// acceptedEncoding normalizes Accept-Encoding as CloudFront does for the key.
func acceptedEncoding(ae string, gz, br bool) string {
	ae = strings.ToLower(ae)
	switch {
	case br && strings.Contains(ae, "br"):
		return "br"
	case gz && strings.Contains(ae, "gzip"):
		return "gzip"
	}
	return ""
}

func compressible(contentType string) bool {
	ct := strings.ToLower(contentType)
	for _, p := range []string{"text/", "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/x-javascript"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

// compress gzips body when the viewer accepts gzip. (Brotli would need a
// third-party encoder; gzip is what every client accepts.)
func compress(acceptEncoding string, body []byte) (string, []byte, bool) {
	if !strings.Contains(strings.ToLower(acceptEncoding), "gzip") {
		return "", nil, false
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := zw.Write(body); err != nil {
		return "", nil, false
	}
	if err := zw.Close(); err != nil {
		return "", nil, false
	}
	return "gzip", buf.Bytes(), true
}

func originStatus(err error) int { return origin.StatusFor(err) }

// Fetcher is what the edge needs from the origin package.
type Fetcher interface {
	Fetch(ctx context.Context, spec *origin.Spec, req *origin.Request) (*http.Response, error)
}

func originSpec(o *routing.Origin) *origin.Spec {
	spec := &origin.Spec{
		ID: o.ID, DomainName: o.DomainName, OriginPath: o.OriginPath, S3: o.S3,
		OACID: o.OriginAccessControlID, ProtocolPolicy: o.ProtocolPolicy,
		HTTPPort: o.HTTPPort, HTTPSPort: o.HTTPSPort,
		ReadTimeout: o.ReadTimeout, KeepaliveTimeout: o.KeepaliveTimeout, ConnectTimeout: o.ConnectionTimeout,
		ConnectionAttempts: o.ConnectionAttempts,
	}
	for _, h := range o.Headers {
		spec.CustomHeaders = append(spec.CustomHeaders, [2]string{h.Name, h.Value})
	}
	return spec
}

// forwardHeaders are the viewer headers a fetch sends on: what the cache
// key includes (so the origin sees what the object varies on) plus the
// conditional and range headers of a pass-through request.
func forwardHeaders(b *routing.Behavior, r *http.Request, method string) http.Header {
	h := http.Header{}
	if b.CacheKey.Headers == routing.SelectAll || method != http.MethodGet {
		for k, v := range r.Header {
			h[k] = v
		}
		return h
	}
	for _, name := range b.CacheKey.HeaderNames {
		if v := r.Header.Values(name); len(v) > 0 {
			h[name] = v
		}
	}
	if b.CacheKey.Cookies != routing.SelectNone {
		if v := r.Header.Values("Cookie"); len(v) > 0 {
			h["Cookie"] = v
		}
	}
	return h
}

// fetch asks the behavior's origin for path.
func (s *Server) fetch(ctx context.Context, r *http.Request, b *routing.Behavior, path, method string) (*http.Response, error) {
	if s.fetcher == nil {
		return nil, fmt.Errorf("no origin fetcher configured: %w", origin.ErrOriginUnreachable)
	}
	req := &origin.Request{
		Method: method, Path: path, Header: forwardHeaders(b, r, method),
		ViewerScheme: "http", ClientIP: hostOnly(r.RemoteAddr), ContentLength: -1,
	}
	if r.TLS != nil {
		req.ViewerScheme = "https"
	}
	if b.CacheKey.QueryStrings != routing.SelectNone || method != http.MethodGet {
		req.RawQuery = r.URL.RawQuery
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Body, req.ContentLength = r.Body, r.ContentLength
	}
	return s.fetcher.Fetch(ctx, originSpec(b.Origin), req)
}
