package edge

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/edge/signed"
	"github.com/stagefront/stagefront/internal/routing"
)

// checkSigned verifies the signed URL or signed cookies of a request for
// a restricted behavior. On success it returns the view of the request to
// serve: without the signing query parameters and cookies, so that they
// reach neither the cache key nor the origin. reqPath is the path as the
// viewer sent it (what the signer signed). On failure it has written
// CloudFront's 403.
func (s *Server) checkSigned(x *exchange, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, reqPath string, now time.Time) (viewer, bool) {
	w := &x.rec
	rt := lt.route(d, b)
	if rt.verifier == nil { // a restricted behavior always has one; never fail open
		writeDenial(w, &signed.Denial{Code: "AccessDenied", Message: "Access denied"})
		return nil, false
	}
	scheme := "http"
	if v.TLS() {
		scheme = "https"
	}
	sv := &x.signed
	*sv = signedViewer{viewer: v}
	query, denial := rt.verifier.Verify(signed.Request{
		Scheme: scheme, Host: v.Host(), Path: reqPath, RawQuery: v.RawQuery(), Cookies: sv, Addr: sv,
	}, now)
	if denial != nil {
		writeDenial(w, denial)
		return nil, false
	}
	sv.query = query
	if v.HeaderGet("Cookie") == "" {
		return sv, true // no cookie at all: nothing to take out
	}
	if lines := v.HeaderValues("Cookie"); hasSigningCookie(lines) {
		h := v.Header().Clone()
		if kept := withoutSigningCookies(lines); kept != "" {
			h["Cookie"] = []string{kept}
		} else {
			delete(h, "Cookie")
		}
		sv.header = h
	}
	return sv, true
}

// writeDenial writes CloudFront's 403 for a failed signed request.
func writeDenial(w http.ResponseWriter, d *signed.Denial) {
	body := d.Body()
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Cache", "Error from stagefront")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(body)
}

func hasSigningCookie(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(l, "CloudFront-") {
			return true
		}
	}
	return false
}

// withoutSigningCookies joins the viewer's cookie pairs but the signing ones.
func withoutSigningCookies(lines []string) string {
	var out strings.Builder
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair == "" || signed.IsSigningCookie(name) {
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

// signedViewer is a verified request as the rest of the request path sees
// it: query and cookies without the signature.
type signedViewer struct {
	viewer
	query   string
	header  http.Header    // nil: the viewer's own (no signing cookie)
	cookies []*http.Cookie // the viewer's, parsed on first use by Cookie
}

// Cookie returns a viewer cookie's value (signing cookies included), for
// the verifier.
func (v *signedViewer) Cookie(name string) string {
	if v.cookies == nil {
		v.cookies = v.viewer.Cookies()
	}
	for _, c := range v.cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Addr is the viewer's IP address, for a signed policy's IpAddress
// condition (read only for one).
func (v *signedViewer) Addr() netip.Addr {
	if ap := v.viewer.remoteAddrPort(); ap.IsValid() {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(strings.Trim(v.viewer.RemoteAddr(), "[]"))
	return a
}

func (v *signedViewer) RawQuery() string { return v.query }

func (v *signedViewer) RequestURI() string {
	if v.query == "" {
		return v.EscapedPath()
	}
	return v.EscapedPath() + "?" + v.query
}

func (v *signedViewer) Header() http.Header {
	if v.header != nil {
		return v.header
	}
	return v.viewer.Header()
}

func (v *signedViewer) HeaderGet(name string) string {
	if v.header != nil && name == "Cookie" {
		return v.header.Get(name)
	}
	return v.viewer.HeaderGet(name)
}

func (v *signedViewer) HeaderValues(name string) []string {
	if v.header != nil && name == "Cookie" {
		return v.header.Values(name)
	}
	return v.viewer.HeaderValues(name)
}

func (v *signedViewer) Cookies() []*http.Cookie {
	all := v.viewer.Cookies()
	out := all[:0:0]
	for _, c := range all {
		if !signed.IsSigningCookie(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func (v *signedViewer) snapshot() viewer {
	return &signedViewer{viewer: v.viewer.snapshot(), query: v.query, header: v.header, cookies: v.cookies}
}

func (v *signedViewer) detach() viewer {
	return &signedViewer{viewer: v.viewer.detach(), query: v.query, header: v.header, cookies: v.cookies}
}
