package edge

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/edge/shield"
	"github.com/stagefront/stagefront/internal/routing"
)

// Origin Shield in a fleet. CloudFront's Origin Shield is one more cache
// layer in front of an origin: every regional cache sends its misses for
// the origin to the shield, which collapses them, so the origin sees one
// request per object whatever the number of edges
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html).
// Here the shield of an object is a fleet member, picked per cache key by
// rendezvous hashing over the live members (shield.Ring), and the exchange
// is one HTTP request to that member's shield listener (ShieldHandler):
//
//   - The edge with the miss sends the viewer request as it sees it after
//     normalization, signed-URL checks and the continuous-deployment
//     decision: the distribution that serves it, the path after
//     DefaultRootObject, the query and headers the behavior sees, the
//     viewer's address and scheme, and a digest of the cache key it
//     computed, all signed with the fleet's secret (shield.Signer).
//   - The shield verifies the signature, computes the cache key from what
//     it got and, when its table agrees (same digest), answers from its
//     cache or fetches from the origin through it, one fetch per key
//     however many edges ask (cache.GetOrRefresh). It answers the cache
//     entry: status, stored header, body and freshness (age, TTL, stale
//     windows), which the edge stores as its own fill.
//   - An edge falls back to the origin when the shield cannot be reached
//     (connection refused, no response in time) or does not answer an
//     entry (its table differs, it is starting). An origin failure the
//     shield reports is the edge's origin failure, as it would be. After
//     a shield could not be reached, the edge leaves it alone for a while
//     (a circuit breaker per peer, shield_breaker.go).
//
// Only cache fills go through the shield; requests streamed through
// uncached (other methods, objects too large to cache) go to the origin.

// ShieldOptions configure Origin Shield in a fleet (Options.Shield).
type ShieldOptions struct {
	// Ring lists the live members with a shield listener; its Self is this
	// edge's node name.
	Ring *shield.Ring
	// Signer signs and verifies shield requests with the fleet's secret.
	Signer *shield.Signer
	// Client sends shield requests; nil means a keep-alive client that
	// gives up connecting after ShieldConnectTimeout.
	Client *http.Client
}

// ShieldConnectTimeout bounds connecting to a shield: past it the edge
// fetches from the origin itself.
const ShieldConnectTimeout = time.Second

// Result header of a shield's answer and its values.
const (
	shieldResultHeader = "X-Stagefront-Shield-Result"
	// shieldEntryHeader carries the entry's freshness as a query string:
	// age, ttl, swr and sie in milliseconds.
	shieldEntryHeader = "X-Stagefront-Shield-Entry"

	shieldEntry       = "entry"
	shieldUnreachable = "origin-unreachable"
	shieldTimeout     = "origin-timeout"
	shieldTooLarge    = "too-large"
)

type shieldState struct {
	ring     *shield.Ring
	signer   *shield.Signer
	client   *http.Client
	outcomes *prometheus.CounterVec
	breakers shieldBreakers // per peer: see shield_breaker.go
}

func newShieldState(o *ShieldOptions, reg prometheus.Registerer) (*shieldState, error) {
	if o.Ring == nil || o.Signer == nil {
		return nil, errors.New("edge: ShieldOptions needs a Ring and a Signer")
	}
	st := &shieldState{ring: o.Ring, signer: o.Signer, client: o.Client,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_edge_shield_requests_total",
			Help: "Origin Shield exchanges by side (edge: this edge asked a shield, or skipped one whose breaker is open; shield: this edge answered one) and outcome.",
		}, []string{"side", "outcome"})}
	peers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stagefront_edge_shield_peers",
		Help: "Fleet members this edge picks Origin Shields from (those with a shield listener).",
	}, func() float64 { return float64(len(o.Ring.Peers())) })
	for _, c := range []prometheus.Collector{st.outcomes, peers} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("edge shield metrics: %w", err)
		}
	}
	if st.client == nil {
		st.client = &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: ShieldConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
			// The entry's bytes are what the shield stored; never decode them.
			DisableCompression: true,
		}}
	}
	return st, nil
}

// shieldHopKey marks the context of a fetch for a shield request: it goes
// to the origin, never to another shield.
type shieldHopKey struct{}

// shieldKeyDigest names a cache key in a shield request.
func shieldKeyDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// fetchViaShield fills the cache through the object's shield. handled is
// false when the edge is to fetch from the origin itself: no shield is
// configured or live, this edge is the shield, or the shield could not be
// reached or gave no entry.
func (s *Server) fetchViaShield(ctx context.Context, v viewer, lt *liveTable, d *routing.Dist, b *routing.Behavior, up *upstream, path string) (e *cache.Entry, handled bool, err error) {
	sh := s.shield
	if sh == nil || !up.shield || ctx.Value(shieldHopKey{}) != nil {
		return nil, false, nil
	}
	rt := lt.route(d, b)
	kb := cache.NewKeyBuilder(rt.identity, path)
	buildCacheKey(kb, rt.identity, b, path, v)
	key := kb.Key().String()
	peer, ok := sh.ring.Pick(key)
	if !ok || peer.Node == sh.ring.Self() {
		return nil, false, nil
	}
	br := sh.breakers.get(peer.Node, sh.isPeer)
	if !br.allow(s.opts.Clock()) {
		sh.outcomes.WithLabelValues("edge", "skipped").Inc()
		return nil, false, nil
	}
	// The breaker learns the outcome: the peer failed (unreachable, or it
	// broke off an entry), it answered, or neither (the viewer left).
	var failed, answered bool
	defer func() {
		switch {
		case failed:
			br.failed(s.opts.Clock())
			sh.outcomes.WithLabelValues("edge", "unreachable").Inc()
		case answered:
			br.succeeded()
		default:
			br.abandoned()
		}
	}()
	req, err := s.shieldRequest(ctx, v, d, path, shieldKeyDigest(key), peer)
	if err != nil {
		return nil, false, nil
	}
	// Connecting is bounded by the dialer; the shield then has the
	// origin's own time to answer (its connection attempts and read
	// timeout), and a little more, before this edge stops waiting for
	// the response header and asks the origin itself.
	spec := up.spec
	wait := time.Duration(max(spec.ConnectionAttempts, 1))*cmpDefault(spec.ConnectTimeout, origin.DefaultConnectTimeout) +
		cmpDefault(spec.ReadTimeout, origin.DefaultReadTimeout) + 2*time.Second
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(wait, cancel)
	resp, err := sh.client.Do(req.WithContext(reqCtx))
	timer.Stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
		failed = true
		s.log.Debug("origin shield unreachable; fetching from the origin", "shield", peer.Node, "err", err)
		return nil, false, nil
	}
	defer resp.Body.Close()
	answered = true
	switch result := resp.Header.Get(shieldResultHeader); result {
	case shieldEntry:
		e, err := s.shieldEntryOf(resp, b, v)
		if err != nil {
			if ctx.Err() != nil {
				return nil, true, ctx.Err()
			}
			if errors.Is(err, errTooLarge) {
				return nil, true, err
			}
			failed = true
			s.log.Debug("origin shield failed mid-answer; fetching from the origin", "shield", peer.Node, "err", err)
			return nil, false, nil
		}
		sh.outcomes.WithLabelValues("edge", "entry").Inc()
		return e, true, nil
	case shieldUnreachable, shieldTimeout:
		sh.outcomes.WithLabelValues("edge", "origin_error").Inc()
		kind := origin.ErrOriginUnreachable
		if result == shieldTimeout {
			kind = origin.ErrOriginTimeout
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, true, &origin.Error{OriginID: spec.ID, Kind: kind,
			Err: fmt.Errorf("through origin shield %s: %s", peer.Node, strings.TrimSpace(string(msg)))}
	case shieldTooLarge:
		return nil, true, errTooLarge
	default:
		sh.outcomes.WithLabelValues("edge", "refused").Inc()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		s.log.Debug("origin shield gave no entry; fetching from the origin", "shield", peer.Node,
			"status", resp.StatusCode, "answer", strings.TrimSpace(string(msg)))
		return nil, false, nil
	}
}

// isPeer reports whether node is one of the ring's peers.
func (sh *shieldState) isPeer(node string) bool {
	for _, p := range sh.ring.Peers() {
		if p.Node == node {
			return true
		}
	}
	return false
}

func cmpDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// shieldRequest is the request for v's object to peer's shield listener.
func (s *Server) shieldRequest(ctx context.Context, v viewer, d *routing.Dist, path, keyDigest string, peer shield.Peer) (*http.Request, error) {
	u := &url.URL{Scheme: "http", Host: peer.Addr, RawQuery: v.RawQuery()}
	if err := setEscapedPath(u, path); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("shield request: %w", err)
	}
	req.Host = v.Host()
	for name, values := range v.Header() {
		switch {
		case isHopByHopHeader(name), name == "Content-Length", strings.HasPrefix(name, "X-Stagefront-Shield"):
			continue
		}
		req.Header[name] = values
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = []string{""} // sends none, rather than Go's
	}
	scheme := "http"
	if v.TLS() {
		scheme = "https"
	}
	fields := url.Values{"dist": {d.ID}, "key": {keyDigest}, "client": {v.RemoteAddr()}, "scheme": {scheme}, "from": {s.shield.ring.Self()}}.Encode()
	req.Header[shield.HeaderRequest] = []string{fields}
	req.Header[shield.HeaderAuth] = []string{s.shield.signer.Sign(time.Now(), req.Host, u.EscapedPath(), u.RawQuery, fields)}
	return req, nil
}

// setEscapedPath sets u's path from an escaped one.
func setEscapedPath(u *url.URL, escaped string) error {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return fmt.Errorf("shield request path: %w", err)
	}
	u.Path, u.RawPath = p, escaped
	return nil
}

func isHopByHopHeader(name string) bool {
	switch name {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// shieldEntryOf reads a shield's entry answer into a cache entry of this
// edge: the shield's freshness, and the sharing rules applied again so
// that what only the requesting viewer may get stays out of the stored
// entry (the shield handed its header over with it).
func (s *Server) shieldEntryOf(resp *http.Response, b *routing.Behavior, v viewer) (*cache.Entry, error) {
	meta, err := url.ParseQuery(resp.Header.Get(shieldEntryHeader))
	if err != nil {
		return nil, fmt.Errorf("shield entry metadata: %w", err)
	}
	ms := func(name string) (time.Duration, error) {
		n, err := strconv.ParseInt(meta.Get(name), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("shield entry metadata %s=%q", name, meta.Get(name))
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	var age, ttl, swr, sie time.Duration
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"age", &age}, {"ttl", &ttl}, {"swr", &swr}, {"sie", &sie}} {
		if *f.dst, err = ms(f.name); err != nil {
			return nil, err
		}
	}
	body, err := s.readBody(resp)
	if err != nil {
		return nil, err
	}
	header := responseHeader(resp.Header)
	for name := range header {
		if strings.HasPrefix(name, "X-Stagefront-Shield") {
			delete(header, name)
		}
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	var private http.Header
	if ttl > 0 {
		if ttl, private = sharing(b, v, header, ttl); ttl == 0 {
			swr, sie = 0, 0
		}
	}
	return &cache.Entry{Status: resp.StatusCode, Header: header, Body: body, TTL: ttl, Private: private,
		StoredAt: s.opts.Clock().Add(-age), StaleWhileRevalidate: swr, StaleIfError: sie}, nil
}

// ShieldHandler serves the shield listener: the requests other edges of
// the fleet send for objects this edge is the shield of. It answers 404
// when the edge runs no shield.
func (s *Server) ShieldHandler() http.Handler { return http.HandlerFunc(s.serveShield) }

func (s *Server) serveShield(w http.ResponseWriter, r *http.Request) {
	sh := s.shield
	if sh == nil {
		http.Error(w, "this edge runs no origin shield", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "a shield request is a GET", http.StatusMethodNotAllowed)
		return
	}
	fields := r.Header.Get(shield.HeaderRequest)
	if err := sh.signer.Verify(time.Now(), r.Header.Get(shield.HeaderAuth), r.Host, r.URL.EscapedPath(), r.URL.RawQuery, fields); err != nil {
		sh.outcomes.WithLabelValues("shield", "forbidden").Inc()
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	meta, err := url.ParseQuery(fields)
	if err != nil {
		http.Error(w, "bad shield request fields", http.StatusBadRequest)
		return
	}
	refuse := func(code int, msg string) {
		sh.outcomes.WithLabelValues("shield", "refused").Inc()
		http.Error(w, msg, code)
	}
	lt := s.live.Load()
	if lt == nil {
		refuse(http.StatusServiceUnavailable, "the shield has not loaded its configuration yet")
		return
	}
	d := lt.table.Dist(meta.Get("dist"))
	if d == nil {
		refuse(http.StatusConflict, "the shield does not know distribution "+meta.Get("dist"))
		return
	}
	// The request as the asking edge saw it: the fields it sent in the
	// clear are out of the header the behavior and the origin see.
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Stagefront-Shield") {
			delete(r.Header, name)
		}
	}
	r.RemoteAddr = meta.Get("client")
	if meta.Get("scheme") == "https" {
		r.TLS = &tls.ConnectionState{ServerName: r.Host}
	}
	v := &netViewer{r: r}
	path := r.URL.EscapedPath()
	b := d.Behavior(path)
	if b.Origin == nil {
		refuse(http.StatusConflict, "the shield's behavior for this path has no origin")
		return
	}
	rt := lt.route(d, b)
	kb := cache.NewKeyBuilder(rt.identity, path)
	buildCacheKey(kb, rt.identity, b, path, v)
	if shieldKeyDigest(kb.Key().String()) != meta.Get("key") {
		// The two edges' tables differ (one is behind the other): the
		// asking edge fetches for itself rather than get another object.
		refuse(http.StatusConflict, "the shield computes another cache key for this request")
		return
	}
	entry, hit := s.cache.GetBuilt(kb)
	if !hit {
		ctx := context.WithValue(r.Context(), shieldHopKey{}, true)
		fetch := func(ctx context.Context) (*cache.Entry, error) {
			return s.fetchEntry(ctx, v, lt, d, b, rt.up, path)
		}
		entry, _, err = s.cache.GetOrRefresh(ctx, kb.Key(), fetch, nil)
	}
	if err != nil {
		if r.Context().Err() != nil {
			return // the asking edge went away
		}
		result, code := shieldUnreachable, originStatus(err)
		switch {
		case errors.Is(err, errTooLarge):
			result = shieldTooLarge
		case code == http.StatusGatewayTimeout:
			result = shieldTimeout
		}
		sh.outcomes.WithLabelValues("shield", "origin_error").Inc()
		w.Header().Set(shieldResultHeader, result)
		http.Error(w, err.Error(), code)
		return
	}
	sh.outcomes.WithLabelValues("shield", "entry").Inc()
	h := w.Header()
	for name, values := range entry.Header {
		if !strings.HasPrefix(name, "X-Stagefront-Shield") {
			h[name] = values
		}
	}
	now := s.opts.Clock()
	h.Set(shieldResultHeader, shieldEntry)
	h.Set(shieldEntryHeader, url.Values{
		"age": {strconv.FormatInt(max(now.Sub(entry.StoredAt), 0).Milliseconds(), 10)},
		"ttl": {strconv.FormatInt(entry.TTL.Milliseconds(), 10)},
		"swr": {strconv.FormatInt(entry.StaleWhileRevalidate.Milliseconds(), 10)},
		"sie": {strconv.FormatInt(entry.StaleIfError.Milliseconds(), 10)},
	}.Encode())
	h.Set("Content-Length", strconv.Itoa(len(entry.Body)))
	w.WriteHeader(entry.Status)
	_, _ = w.Write(entry.Body)
}
