package edge

import (
	"context"
	"fmt"
	"io"
	"net"
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

// buildCacheKey builds into kb the key from the behavior's cache identity
// (see route) and the cache policy's parts.
func buildCacheKey(kb *cache.KeyBuilder, identity cache.Identity, b *routing.Behavior, path string, v viewer) {
	kb.Reset(identity, path)
	ck := &b.CacheKey
	if ck.QueryStrings != routing.SelectNone && v.RawQuery() != "" {
		query, _ := url.ParseQuery(v.RawQuery())
		for name, values := range query {
			if selected(ck.QueryStrings, ck.QueryStringNames, name) {
				for _, v := range values {
					kb.Query(name, v)
				}
			}
		}
	}
	switch ck.Headers {
	case routing.SelectAll:
		for name, values := range v.Header() {
			if name == "Cookie" {
				continue
			}
			for _, v := range values {
				kb.Header(name, v)
			}
		}
	case routing.SelectAllowList:
		for _, name := range ck.HeaderNames {
			for _, value := range viewerHeader(v, name) {
				kb.Header(name, value)
			}
		}
	}
	if ck.Cookies != routing.SelectNone {
		for _, c := range v.Cookies() {
			if c.Name != stickyCookie && selected(ck.Cookies, ck.CookieNames, c.Name) {
				kb.Cookie(c.Name, c.Value)
			}
		}
	}
	// With Compress the edge stores the object compressed with the
	// encoding it serves the viewer (fetchEntry), so that encoding is part
	// of the key even when the cache policy leaves Accept-Encoding out;
	// viewers served the same encoding share one entry, compressed once.
	switch {
	case b.Compress:
		kb.Header("x-stagefront-encoding", servedEncoding(v.HeaderGet("Accept-Encoding"), ck.Brotli))
	case ck.Gzip || ck.Brotli:
		kb.Header("x-stagefront-encoding", acceptedEncoding(v.HeaderGet("Accept-Encoding"), ck.Gzip, ck.Brotli))
	}
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

func originStatus(err error) int { return origin.StatusFor(err) }

// Fetcher is what the edge needs from the origin package.
type Fetcher interface {
	Fetch(ctx context.Context, spec *origin.Spec, req *origin.Request) (*http.Response, error)
}

func originSpec(o *routing.Origin) *origin.Spec {
	spec := &origin.Spec{
		ID: o.ID, DomainName: o.DomainName, OriginPath: o.OriginPath, S3: o.S3,
		OACID: signingID(o), ProtocolPolicy: o.ProtocolPolicy,
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
// keeps out of the header, comes from the request's host.
func viewerHeader(v viewer, canonicalName string) []string {
	if canonicalName == "Host" {
		host := v.Host()
		if host == "" {
			return nil
		}
		return []string{host}
	}
	return v.HeaderValues(canonicalName)
}

// forwardHeaders are the viewer headers a fetch sends on. A GET (the
// cache's fetch, or a GET passed through) sends the headers and cookies the
// cache key holds and, when the behavior has an origin request policy,
// those the policy adds (originRequestHeaders). Without a policy nothing
// more: were the origin to see a header, cookie or query parameter the key
// lacks, it could vary the object on it and one viewer's response would be
// served to others. With one, the user has chosen what the origin sees
// beyond the key, as on CloudFront, except Authorization, which only the
// key can forward. HEAD and the other methods are never cached and send
// every header (HEAD without Authorization, unless the key holds it). uncached is set for a GET streamed through rather
// than fetched into the cache.
//
// The result may be nil (nothing to forward) and shares the viewer's
// values; the origin package never modifies it.
func forwardHeaders(b *routing.Behavior, v viewer, method string, uncached bool) http.Header {
	if method == http.MethodHead && !keyHoldsHeader(&b.CacheKey, routing.AuthorizationHeader) && v.HeaderGet(routing.AuthorizationHeader) != "" {
		// As for a GET, the viewer's credentials go to the origin of a
		// HEAD only through the cache key (see withCacheKey in routing).
		h := v.Header().Clone()
		delete(h, routing.AuthorizationHeader)
		return h
	}
	if method != http.MethodGet {
		return v.Header()
	}
	if b.OriginRequest != nil {
		return originRequestHeaders(b.OriginRequest, v, uncached)
	}
	var h http.Header
	set := func(name string, v []string) {
		if h == nil {
			h = make(http.Header, len(b.CacheKey.HeaderNames)+1)
		}
		h[name] = v
	}
	ck := &b.CacheKey
	if ck.Headers == routing.SelectAll {
		for k, values := range v.Header() {
			// A fill takes the whole object, as with a policy (fillOmits).
			if k != "Cookie" && (uncached || !fillOmits(k)) {
				set(k, values)
			}
		}
	} else {
		for _, name := range ck.HeaderNames {
			if values := viewerHeader(v, name); len(values) > 0 {
				set(name, values)
			}
		}
	}
	switch ck.Cookies {
	case routing.SelectNone:
	case routing.SelectAll:
		if values := v.HeaderValues("Cookie"); len(values) > 0 {
			set("Cookie", values) // the origin package strips the CD cookie
		}
	default:
		if c := selectedCookies(ck.Cookies, ck.CookieNames, v.HeaderValues("Cookie")); c != "" {
			set("Cookie", []string{c})
		}
	}
	return h
}

// selectedCookies joins the viewer's cookie pairs that a selection takes,
// never the continuous-deployment cookie.
func selectedCookies(sel routing.Selection, names, lines []string) string {
	var out strings.Builder
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = textproto.TrimString(pair)
			name, _, _ := strings.Cut(pair, "=")
			if name == "" || name == stickyCookie || !selected(sel, names, name) {
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
	return filterQuery(rawQuery, ck.QueryStrings, ck.QueryStringNames, nil)
}

// filterQuery keeps the parameters of rawQuery that sel takes and exclude
// does not name, in the viewer's order and encoding.
func filterQuery(rawQuery string, sel routing.Selection, names, exclude []string) string {
	var out strings.Builder
	for param := range strings.SplitSeq(rawQuery, "&") {
		rawName, _, _ := strings.Cut(param, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil || param == "" || !selected(sel, names, name) || slices.Contains(exclude, name) {
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('&')
		}
		out.WriteString(param)
	}
	return out.String()
}

// fetch asks the behavior's origin for path. With passRange a GET also
// forwards the viewer's Range and If-Range (for an object streamed
// uncached, whose ranges only the origin can cut).
func (s *Server) fetch(ctx context.Context, v viewer, lt *liveTable, b *routing.Behavior, up *upstream, path, method string, passRange bool) (*http.Response, error) {
	g := b.Group
	if g == nil || len(g.Members) < 2 || !failoverMethod(method) {
		return s.fetchFrom(ctx, v, b, up, path, method, passRange)
	}
	// An origin group: CloudFront tries the secondary origin when the
	// primary cannot be reached or answers one of the failover status
	// codes, for GET, HEAD and OPTIONS only.
	var lastErr error
	for i, member := range g.Members {
		if i > 0 {
			up = lt.upstream(member)
		}
		resp, err := s.fetchFrom(ctx, v, b, up, path, method, passRange)
		if err == nil && (i == len(g.Members)-1 || !slices.Contains(g.FailoverStatusCodes, resp.StatusCode)) {
			return resp, nil
		}
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			s.log.Debug("origin group failover", "group", g.ID, "from", member.ID, "status", resp.StatusCode)
			continue
		}
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
		s.log.Debug("origin group failover", "group", g.ID, "from", member.ID, "err", err)
	}
	return nil, lastErr
}

func failoverMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// fetchFrom asks one origin (up) for path.
func (s *Server) fetchFrom(ctx context.Context, v viewer, b *routing.Behavior, up *upstream, path, method string, passRange bool) (*http.Response, error) {
	if s.fetcher == nil {
		return nil, fmt.Errorf("no origin fetcher configured: %w", origin.ErrOriginUnreachable)
	}
	req := new(origin.Request)
	s.originRequest(ctx, req, v, b, up, path, method, passRange)
	return s.fetcher.Fetch(ctx, up.spec, req)
}

// originRequest sets *req to what fetchFrom forwards to up of v's
// request. (The caller provides req: the event-loop engine's is part of
// the pooled exchange, not an allocation per request.)
func (s *Server) originRequest(ctx context.Context, req *origin.Request, v viewer, b *routing.Behavior, up *upstream, path, method string, passRange bool) {
	*req = origin.Request{
		Method: method, Path: path, Header: forwardHeaders(b, v, method, passRange),
		ViewerScheme: "http", ClientIP: hostOnly(v.RemoteAddr()), ContentLength: -1,
	}
	if passRange && method == http.MethodGet && !tooManyRanges(v.HeaderGet("Range")) {
		// More than maxRanges ranges: the origin is not asked for them
		// either, and the viewer gets the whole object.
		for _, name := range []string{"Range", "If-Range"} {
			if values := v.HeaderValues(name); len(values) > 0 {
				if req.Header == nil {
					req.Header = make(http.Header, 2)
				}
				req.Header[name] = values // a GET's forwardHeaders map is its own
			}
		}
	}
	if method == http.MethodGet && !passRange {
		addValidators(ctx, req)
	}
	if v.TLS() {
		req.ViewerScheme = "https"
	}
	switch {
	case method != http.MethodGet:
		req.RawQuery = v.RawQuery()
	case b.OriginRequest != nil:
		req.RawQuery = originRequestQuery(b.OriginRequest, v.RawQuery(), up.spec.S3)
	default:
		req.RawQuery = forwardedQuery(&b.CacheKey, v.RawQuery())
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Body, req.ContentLength = v.Body()
	}
}

// originRequestHeaders are the headers a GET sends when the behavior has an
// origin request policy: the viewer headers, Host and cookies that the
// cache key and the policy select (routing.OriginRequest holds their
// union), and the CloudFront-* headers the policy asks for.
//
// Of CloudFront's headers the edge generates CloudFront-Forwarded-Proto
// and CloudFront-Viewer-Address. The others a policy names (device type,
// geolocation, ASN, HTTP and TLS details) need data the edge does not have
// and are left out. A viewer's own header under any CloudFront-* name the
// policy lists is dropped too: the origin trusts those to come from the
// edge.
//
// A fetch into the cache (uncached false) leaves out the viewer's
// validators, Range and Accept-Encoding even when the policy forwards every
// header: the cache needs the whole object in the encoding its key names
// (see buildCacheKey), not one viewer's 304, part or encoding.
func originRequestHeaders(or *routing.OriginRequest, v viewer, uncached bool) http.Header {
	var h http.Header
	set := func(name string, values []string) {
		if h == nil {
			h = make(http.Header, len(or.HeaderNames)+4)
		}
		h[name] = values
	}
	switch or.Headers {
	case routing.SelectAll, routing.SelectAllExcept:
		for name, values := range v.Header() {
			switch {
			case name == "Cookie",
				!uncached && fillOmits(name),
				or.Headers == routing.SelectAllExcept && slices.Contains(or.HeaderNames, name),
				strings.HasPrefix(name, "Cloudfront-") && slices.Contains(or.CloudFrontHeaders, name):
				continue
			}
			set(name, values)
		}
	case routing.SelectAllowList:
		for _, name := range or.HeaderNames {
			if uncached || !fillOmits(name) {
				if values := v.HeaderValues(name); len(values) > 0 {
					set(name, values)
				}
			}
		}
	}
	if or.Host {
		if host := v.Host(); host != "" {
			set("Host", []string{host}) // sent as Host to custom origins
		}
	}
	switch or.Cookies {
	case routing.SelectNone:
	case routing.SelectAll:
		if values := v.HeaderValues("Cookie"); len(values) > 0 {
			set("Cookie", values) // the origin package strips the CD cookie
		}
	default:
		if c := selectedCookies(or.Cookies, or.CookieNames, v.HeaderValues("Cookie")); c != "" {
			set("Cookie", []string{c})
		}
	}
	for _, name := range or.CloudFrontHeaders {
		switch name {
		case "Cloudfront-Forwarded-Proto":
			if v.TLS() {
				set(name, forwardedProtoHTTPS)
			} else {
				set(name, forwardedProtoHTTP)
			}
		case "Cloudfront-Viewer-Address":
			if addr := viewerAddress(v.RemoteAddr()); addr != "" {
				set(name, []string{addr})
			}
		}
	}
	return h
}

// CloudFront-Forwarded-Proto values, read-only and shared by every request
// (len == cap, so an append copies them).
var (
	forwardedProtoHTTP  = []string{"http"}
	forwardedProtoHTTPS = []string{"https"}
)

// fillOmits reports the viewer headers a fetch into the cache never sends,
// whatever the policies forward (canonical names).
func fillOmits(name string) bool {
	switch name {
	case "Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "Accept-Encoding":
		return true
	}
	return false
}

// viewerAddress is the value of CloudFront-Viewer-Address: the viewer's IP
// address and source port, "198.51.100.10:46532". CloudFront does not
// bracket an IPv6 address (its port is what follows the last colon).
func viewerAddress(remoteAddr string) string {
	host, port, err := net.SplitHostPort(remoteAddr)
	switch {
	case err != nil:
		return ""
	case !strings.Contains(host, ":"):
		return remoteAddr // already host:port, unbracketed
	}
	return host + ":" + port
}

// originRequestQuery is the part of the viewer's query a GET sends when the
// behavior has an origin request policy, in the viewer's order and
// encoding. An S3 origin never gets the parameters or.S3ExcludedQuery
// names.
func originRequestQuery(or *routing.OriginRequest, rawQuery string, s3 bool) string {
	var exclude []string
	if s3 {
		exclude = or.S3ExcludedQuery
	}
	switch {
	case rawQuery == "" || or.QueryStrings == routing.SelectNone:
		return ""
	case or.QueryStrings == routing.SelectAll && len(exclude) == 0:
		return rawQuery
	}
	return filterQuery(rawQuery, or.QueryStrings, or.QueryStringNames, exclude)
}

// signingID is what makes the edge sign an S3 origin's requests: its
// origin access control, or else its legacy origin access identity, whose
// requests are signed as an OAC with SigningBehavior always signs them
// (the edge's credentials stand for the identity S3 grants access to).
func signingID(o *routing.Origin) string {
	if o.OriginAccessControlID != "" || !o.S3 {
		return o.OriginAccessControlID
	}
	return o.OriginAccessIdentity
}
