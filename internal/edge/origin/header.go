package origin

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

const (
	// CDCookie is the continuous-deployment session cookie. It is the edge's
	// routing state, never the origin's business, so Fetch strips it.
	CDCookie = "x-amz-continuous-deployment-state"
	// Via is what Fetch adds to (or appends to) the Via header.
	Via = "1.1 stagefront"
	// userAgent is sent when the viewer's User-Agent is not forwarded, as
	// CloudFront does, instead of Go's default.
	userAgent = "Amazon CloudFront"
)

// isHopByHop reports the RFC 9110 §7.6.1 connection-specific headers that a
// proxy must not forward (plus the non-standard Proxy-Connection and
// Keep-Alive), for a canonical key.
func isHopByHop(key string) bool {
	switch key {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// originHeader builds the header of the origin request from the viewer
// headers the caller selected. It never modifies in. viewerHost is the
// forwarded Host header, if the caller included one.
func originHeader(in http.Header, spec *Spec, clientIP string) (out http.Header, viewerHost string) {
	return originHeaderInto(make(http.Header, len(in)+len(spec.CustomHeaders)+3), in, spec, clientIP, nil)
}

// originHeaderInto is originHeader into out, an empty map; xff, when not
// nil, holds the X-Forwarded-For value it adds (for a caller that only
// serializes out: then it allocates nothing for it).
func originHeaderInto(out, in http.Header, spec *Spec, clientIP string, xff *[1]string) (http.Header, string) {
	var viewerHost string
	var connectionTokens []string
	for key, values := range in {
		key = http.CanonicalHeaderKey(key)
		switch {
		case key == "Connection":
			connectionTokens = append(connectionTokens, values...)
			continue
		case isHopByHop(key), key == "Content-Length":
			continue
		case key == "Host":
			if len(values) > 0 {
				viewerHost = values[0]
			}
			continue
		case key == "Cookie":
			if cookie := stripCDCookie(values); cookie != "" {
				out["Cookie"] = []string{cookie}
			}
			continue
		}
		if prior, ok := out[key]; ok { // keys that differ only in case
			out[key] = append(prior, values...)
			continue
		}
		// Shared with in, clipped so that any append below copies: in
		// stays untouched without copying every value.
		out[key] = slices.Clip(values)
	}
	// Headers the viewer named in Connection are hop-by-hop too.
	for _, list := range connectionTokens {
		for token := range strings.SplitSeq(list, ",") {
			if token = textproto.TrimString(token); token != "" {
				delete(out, http.CanonicalHeaderKey(token))
			}
		}
	}
	// Origin custom headers replace viewer headers of the same name.
	for _, h := range spec.CustomHeaders {
		delete(out, http.CanonicalHeaderKey(h[0]))
	}
	for _, h := range spec.CustomHeaders {
		key := http.CanonicalHeaderKey(h[0])
		out[key] = append(out[key], h[1])
	}
	appendList(out, "Via", viaValues)
	if clientIP != "" {
		var v []string
		if xff != nil {
			xff[0] = clientIP
			v = xff[:] // len == cap: an append copies
		} else {
			v = []string{clientIP}
		}
		appendList(out, "X-Forwarded-For", v)
	}
	if _, ok := out["User-Agent"]; !ok {
		out["User-Agent"] = userAgentValues
	}
	return out, viewerHost
}

// Read-only header values, shared by every request (len == cap, so an
// append copies them).
var (
	viaValues       = []string{Via}
	userAgentValues = []string{userAgent}
)

// appendList appends value (one element) to the comma-separated list
// header key.
func appendList(h http.Header, key string, value []string) {
	if prior := h[key]; len(prior) > 0 {
		value = []string{strings.Join(prior, ", ") + ", " + value[0]}
	}
	h[key] = value
}

// stripCDCookie returns the Cookie header values joined into one (HTTP/1.1
// allows a single Cookie header) without the CDCookie pair, or "" when
// nothing is left. Other pairs are kept byte for byte.
func stripCDCookie(values []string) string {
	if len(values) == 1 && !strings.Contains(values[0], CDCookie) {
		return values[0]
	}
	var b strings.Builder
	for _, v := range values {
		for pair := range strings.SplitSeq(v, ";") {
			pair = textproto.TrimString(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair == "" || textproto.TrimString(name) == CDCookie {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(pair)
		}
	}
	return b.String()
}
