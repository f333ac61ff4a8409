package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
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
			for _, v := range viewerHeader(r, name) {
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
	// With Compress the edge stores the compressed object (fetchEntry), so
	// the encoding the viewer accepts must be part of the key even when the
	// cache policy leaves Accept-Encoding out.
	if ck.Gzip || ck.Brotli || b.Compress {
		kb.Header("x-stagefront-encoding", acceptedEncoding(r.Header.Get("Accept-Encoding"), ck.Gzip || b.Compress, ck.Brotli))
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

// acceptedEncoding normalizes Accept-Encoding for the key: the encodings
// of interest that the viewer accepts. Both are kept when both are
// accepted, since the object stored may be gzip-encoded (Compress) and a
// viewer accepting only br must not share its entry.
func acceptedEncoding(ae string, gz, br bool) string {
	ae = strings.ToLower(ae)
	br = br && strings.Contains(ae, "br")
	gz = gz && strings.Contains(ae, "gzip")
	switch {
	case br && gz:
		return "br,gzip"
	case br:
		return "br"
	case gz:
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

// viewerHeader returns a request header's values; Host, which net/http
// keeps out of r.Header, comes from r.Host.
func viewerHeader(r *http.Request, canonicalName string) []string {
	if canonicalName == "Host" {
		if r.Host == "" {
			return nil
		}
		return []string{r.Host}
	}
	return r.Header.Values(canonicalName)
}

// forwardHeaders are the viewer headers a fetch sends on. A GET (the
// cache's fetch, or a GET passed through) sends exactly the headers and
// cookies the cache key holds: were the origin to see a header, cookie or
// query parameter the key lacks, it could vary the object on it and one
// viewer's response would be served to others. Other methods are never
// cached and send every header.
func forwardHeaders(b *routing.Behavior, r *http.Request, method string) http.Header {
	h := http.Header{}
	if method != http.MethodGet {
		for k, v := range r.Header {
			h[k] = v
		}
		return h
	}
	ck := &b.CacheKey
	if ck.Headers == routing.SelectAll {
		for k, v := range r.Header {
			if k != "Cookie" {
				h[k] = v
			}
		}
	} else {
		for _, name := range ck.HeaderNames {
			if v := viewerHeader(r, name); len(v) > 0 {
				h[name] = v
			}
		}
	}
	switch ck.Cookies {
	case routing.SelectNone:
	case routing.SelectAll:
		if v := r.Header.Values("Cookie"); len(v) > 0 {
			h["Cookie"] = v // the origin package strips the CD cookie
		}
	default:
		if c := selectedCookies(ck, r.Header["Cookie"]); c != "" {
			h["Cookie"] = []string{c}
		}
	}
	return h
}

// selectedCookies joins the viewer's cookie pairs that the key selects.
func selectedCookies(ck *routing.CacheKey, lines []string) string {
	var out strings.Builder
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = textproto.TrimString(pair)
			name, _, _ := strings.Cut(pair, "=")
			if name == "" || name == stickyCookie || !selected(ck.Cookies, ck.CookieNames, name) {
				continue
			}
			if out.Len() > 0 {
				out.WriteString("; ")
			}
			out.WriteString(pair)
		}
	}
	return out.String()
}

// forwardedQuery is the part of the viewer's query the key selects, in the
// viewer's order and encoding.
func forwardedQuery(ck *routing.CacheKey, rawQuery string) string {
	switch {
	case rawQuery == "" || ck.QueryStrings == routing.SelectNone:
		return ""
	case ck.QueryStrings == routing.SelectAll:
		return rawQuery
	}
	var out strings.Builder
	for param := range strings.SplitSeq(rawQuery, "&") {
		rawName, _, _ := strings.Cut(param, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil || param == "" || !selected(ck.QueryStrings, ck.QueryStringNames, name) {
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('&')
		}
		out.WriteString(param)
	}
	return out.String()
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
	if method != http.MethodGet {
		req.RawQuery = r.URL.RawQuery
	} else {
		req.RawQuery = forwardedQuery(&b.CacheKey, r.URL.RawQuery)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Body, req.ContentLength = r.Body, r.ContentLength
	}
	return s.fetcher.Fetch(ctx, originSpec(b.Origin), req)
}
