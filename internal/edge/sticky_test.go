//lint:file-ignore SA1019 legacy ForwardedValues/MinTTL behaviors are still valid CloudFront input and are tested on purpose

package edge_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/routing"
)

// stickyEnv is a CD pair on a custom origin with a sticky weighted policy,
// an injected clock and draws the test forces.
type stickyEnv struct {
	*harness
	pair  cdPair
	clock *fakeClock
	draw  *forcedDraw
}

func newStickyEnv(t *testing.T, idle, maxTTL int32) *stickyEnv {
	t.Helper()
	clock, draw := newFakeClock(), &forcedDraw{}
	h := newHarness(t, harnessOptions{tables: true, clock: clock.Now, draw: draw.Draw})
	pair := h.newCDPair("sticky", cachingDisabled)
	policyID := h.createPolicy(weightPolicy(pair.staging.domain, 0.15, idle, maxTTL))
	h.attach(pair.primary.id, policyID)
	h.waitServed()
	return &stickyEnv{harness: h, pair: pair, clock: clock, draw: draw}
}

// visit sends one request with cookie (the "name=value" pair, or "") and
// returns the version served and the cookie pair the response set.
func (e *stickyEnv) visit(t *testing.T, path, cookie string) (version, next string) {
	t.Helper()
	var hdr http.Header
	if cookie != "" {
		hdr = http.Header{"Cookie": {cookie}}
	}
	r := e.get(e.pair.primary.domain, path, hdr)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, r.status, r.body)
	}
	scs := r.header.Values("Set-Cookie")
	if len(scs) != 1 {
		t.Fatalf("GET %s: %d Set-Cookie headers, want 1 on every response: %q", path, len(scs), scs)
	}
	sc := scs[0]
	pair, attrs, _ := strings.Cut(sc, ";")
	name, _, _ := strings.Cut(pair, "=")
	if name != routing.CookieName {
		t.Fatalf("Set-Cookie %q: cookie name %q, want %q", sc, name, routing.CookieName)
	}
	lower := strings.ToLower(attrs)
	if strings.Contains(lower, "expires") || strings.Contains(lower, "max-age") {
		t.Errorf("Set-Cookie %q: a session cookie must have neither Expires nor Max-Age", sc)
	}
	if !strings.Contains(lower, "path=/") {
		t.Errorf("Set-Cookie %q: want Path=/", sc)
	}
	version, _, _ = strings.Cut(r.body, ":")
	return version, pair
}

func TestStickyIdleTTLExpiry(t *testing.T) {
	e := newStickyEnv(t, 300, 3600)

	e.draw.staging.Store(true)
	v, cookie := e.visit(t, "/index.html", "")
	if v != "v2" {
		t.Fatalf("forced staging draw served %s, want v2", v)
	}
	// From now on every new draw would pick the primary: a v2 answer can
	// only come from the session.
	e.draw.staging.Store(false)
	for i := range 5 {
		e.clock.Advance(299 * time.Second) // within IdleTTL each time
		if v, cookie = e.visit(t, "/index.html", cookie); v != "v2" {
			t.Fatalf("visit %d, %d s after the previous one: got %s, want the session's v2", i, 299, v)
		}
	}
	// Total age is 1495 s, under MaximumTTL 3600: only idleness ends it.
	e.clock.Advance(301 * time.Second)
	if v, cookie = e.visit(t, "/index.html", cookie); v != "v1" {
		t.Fatalf("after 301 s idle: got %s, want a new draw (forced to v1)", v)
	}
	// The new session sticks to its own draw.
	e.draw.staging.Store(true)
	for i := range 3 {
		e.clock.Advance(10 * time.Second)
		if v, cookie = e.visit(t, "/index.html", cookie); v != "v1" {
			t.Fatalf("new session visit %d: got %s, want v1", i, v)
		}
	}
}

func TestStickyMaximumTTLExpiry(t *testing.T) {
	e := newStickyEnv(t, 300, 600)

	e.draw.staging.Store(true)
	v, cookie := e.visit(t, "/index.html", "")
	if v != "v2" {
		t.Fatalf("forced staging draw served %s, want v2", v)
	}
	e.draw.staging.Store(false)
	for _, step := range []time.Duration{250, 250, 100} { // at 250, 500, 600 s: still the session
		e.clock.Advance(step * time.Second)
		if v, cookie = e.visit(t, "/index.html", cookie); v != "v2" {
			t.Fatalf("session at age %s: got %s, want v2", step, v)
		}
	}
	e.clock.Advance(150 * time.Second) // age 750 > 600, idle only 150
	if v, _ = e.visit(t, "/index.html", cookie); v != "v1" {
		t.Fatalf("after MaximumTTL: got %s, want a new draw (forced to v1)", v)
	}
}

func TestStickyForgedCookieRedraws(t *testing.T) {
	e := newStickyEnv(t, 300, 600)

	e.draw.staging.Store(true)
	_, cookie := e.visit(t, "/index.html", "")
	e.draw.staging.Store(false)
	name, value, _ := strings.Cut(cookie, "=")
	flip := []byte(value)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	for _, forged := range []string{
		name + "=" + string(flip),              // one character changed: the MAC fails
		name + "=garbage",                      // not even the right length
		name + "=" + value[:len(value)-4],      // truncated
		name + "=" + strings.Repeat("A", 64),   // right length, wrong MAC
		"other=1; " + name + "=\"" + value[1:], // quoted and cut
	} {
		v, next := e.visit(t, "/index.html", forged)
		if v != "v1" {
			t.Errorf("cookie %q: got %s, want a new draw (forced to v1)", forged, v)
		}
		if next == cookie {
			t.Errorf("cookie %q: the response re-issued the genuine cookie", forged)
		}
	}
	// The genuine cookie still holds its session.
	if v, _ := e.visit(t, "/index.html", cookie); v != "v2" {
		t.Errorf("genuine cookie: got %s, want v2", v)
	}
}

// TestStickyCookieNeverReachesOrigin: the CD cookie is stripped from what
// the origin gets, even on a behavior that forwards all cookies, and it is
// not part of the cache key while other cookies are.
func TestStickyCookieNeverReachesOrigin(t *testing.T) {
	clock, draw := newFakeClock(), &forcedDraw{}
	h := newHarness(t, harnessOptions{tables: true, clock: clock.Now, draw: draw.Draw})
	o := h.newTestOrigin("cookies.origin.test", versionOrigin("max-age=600"))
	cfg := customOriginConfig("cookies", o.host, "/v1", cachingDisabled)
	fwd := func(pattern string, maxTTL int64, headers []string) types.CacheBehavior {
		return types.CacheBehavior{
			PathPattern:          aws.String(pattern),
			TargetOriginId:       aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			ForwardedValues: &types.ForwardedValues{
				QueryString: aws.Bool(false),
				Cookies:     &types.CookiePreference{Forward: types.ItemSelectionAll},
				Headers:     &types.Headers{Quantity: aws.Int32(int32(len(headers))), Items: headers},
			},
			MinTTL: aws.Int64(0), DefaultTTL: aws.Int64(maxTTL), MaxTTL: aws.Int64(maxTTL),
		}
	}
	cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(2), Items: []types.CacheBehavior{
		fwd("/cached/*", 3600, nil),     // cookies in the key and forwarded
		fwd("/all/*", 0, []string{"*"}), // every viewer header forwarded, never cached
	}}
	primary := h.createDistribution(cfg)
	staging := h.copyStaging(primary.id, "cookies-staging")
	h.setOriginPath(staging.id, "/v2")
	h.attach(primary.id, h.createPolicy(weightPolicy(staging.domain, 0.15, 300, 600)))
	h.waitServed()

	// Two sessions on the primary (forced draws), with different cookies.
	draw.staging.Store(false)
	cookieOf := func(r response) string {
		c, _, _ := strings.Cut(r.header.Get("Set-Cookie"), ";")
		if c == "" {
			t.Fatalf("no Set-Cookie")
		}
		return c
	}
	sessionA := cookieOf(h.get(primary.domain, "/", nil))
	clock.Advance(time.Second)
	sessionB := cookieOf(h.get(primary.domain, "/", nil))
	if sessionA == sessionB {
		t.Fatalf("two sessions got the same cookie")
	}

	before := o.hits.Load()
	r1 := h.get(primary.domain, "/cached/page", http.Header{"Cookie": {"theme=dark; " + sessionA}})
	r2 := h.get(primary.domain, "/cached/page", http.Header{"Cookie": {sessionB + "; theme=dark"}})
	r3 := h.get(primary.domain, "/cached/page", http.Header{"Cookie": {"theme=light; " + sessionA}})
	for i, r := range []response{r1, r2, r3} {
		if r.status != http.StatusOK || r.body != "v1:/cached/page" {
			t.Fatalf("request %d: status %d body %q", i+1, r.status, r.body)
		}
	}
	if got := []string{r1.header.Get("X-Cache"), r2.header.Get("X-Cache"), r3.header.Get("X-Cache")}; got[0] != "Miss from stagefront" ||
		got[1] != "Hit from stagefront" || got[2] != "Miss from stagefront" {
		t.Errorf("X-Cache = %q: want Miss, then Hit (only the CD cookie differs), then Miss (theme differs)", got)
	}
	if got := o.hits.Load() - before; got != 2 {
		t.Errorf("origin fetches = %d, want 2", got)
	}

	h.get(primary.domain, "/all/x", http.Header{"Cookie": {sessionA + "; a=1"}, "X-Custom": {"yes"}})
	// Staging too: its requests must not carry the cookie either.
	draw.staging.Store(true)
	clock.Advance(time.Second)
	rs := h.get(primary.domain, "/all/y", http.Header{"Cookie": {"a=2"}})
	if !strings.HasPrefix(rs.body, "v2:") {
		t.Fatalf("forced staging draw served %q", rs.body)
	}
	h.get(primary.domain, "/all/z", http.Header{"Cookie": {cookieOf(rs) + "; a=3"}})

	sawCookie := 0
	for _, req := range o.recorded() {
		for _, c := range req.header.Values("Cookie") {
			sawCookie++
			if strings.Contains(c, routing.CookieName) {
				t.Errorf("origin request %s carried the CD cookie: %q", req.path, c)
			}
		}
		if strings.HasSuffix(req.path, "/all/x") && req.header.Get("X-Custom") != "yes" {
			t.Errorf("the /all/* behavior did not forward viewer headers: %v", req.header)
		}
	}
	if sawCookie < 4 {
		t.Errorf("the origin saw %d Cookie headers; the forwarding behaviors should have sent at least 4", sawCookie)
	}
}

// TestHeaderPolicySetsNoCookie: header routing never sets the cookie: stickiness
// exists only under SingleWeightConfig.
func TestHeaderPolicySetsNoCookie(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	pair := h.newCDPair("hdr", cachingDisabled)
	h.attach(pair.primary.id, h.createPolicy(headerPolicy(pair.staging.domain, "staging")))
	h.waitServed()
	for _, hdr := range []http.Header{nil, {"Aws-Cf-Cd-Env": {"staging"}}} {
		r := h.get(pair.primary.domain, "/a", hdr)
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		if sc := r.header.Get("Set-Cookie"); sc != "" {
			t.Errorf("header policy response set a cookie: %q", sc)
		}
	}
}

// TestCacheWarmAfterPromotion: staging caches under its own origin
// identity; after promotion the primary, now at the same origin path,
// serves staging's objects as hits and never the old version.
func TestCacheWarmAfterPromotion(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pair := h.newCDPair("warm", cachingOptimized)
	policyID := h.createPolicy(headerPolicy(pair.staging.domain, "staging"))
	h.attach(pair.primary.id, policyID)
	h.waitServed()
	toStaging := http.Header{"Aws-Cf-Cd-Env": {"staging"}}

	check := func(what string, hdr http.Header, wantBody, wantCache string) {
		t.Helper()
		r := h.get(pair.primary.domain, "/x", hdr)
		if r.status != http.StatusOK || r.body != wantBody || r.header.Get("X-Cache") != wantCache {
			t.Fatalf("%s: status %d body %q X-Cache %q; want 200 %q %q", what, r.status, r.body, r.header.Get("X-Cache"), wantBody, wantCache)
		}
	}
	check("staging, first", toStaging, "v2:/x", "Miss from stagefront")
	check("staging, again", toStaging, "v2:/x", "Hit from stagefront")
	check("primary, first", nil, "v1:/x", "Miss from stagefront")
	check("primary, again", nil, "v1:/x", "Hit from stagefront")

	fetches := pair.origin.hits.Load()
	h.promote(pair.primary.id, pair.staging.id)
	h.waitServed()
	for range 5 {
		check("primary after promotion", nil, "v2:/x", "Hit from stagefront")
		check("header after promotion", toStaging, "v2:/x", "Hit from stagefront")
	}
	if got := pair.origin.hits.Load() - fetches; got != 0 {
		t.Errorf("promotion cost %d origin fetches; the primary should find staging's objects", got)
	}
}

// TestStickyCookieBesideOriginCookies: an origin that sets its own cookies
// does not make the edge drop the session cookie, cached or not. The
// origin's cookies go to the viewer whose request reached the origin,
// never to a cache hit.
func TestStickyCookieBesideOriginCookies(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true, draw: (&forcedDraw{}).Draw})
	o := h.newTestOrigin("setcookie.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Add("Set-Cookie", "app=1; Path=/")
		w.Header().Add("Set-Cookie", "lang=ja; Path=/")
		w.Write([]byte("ok"))
	})
	for _, policy := range []string{cachingOptimized, cachingDisabled} {
		primary := h.createDistribution(customOriginConfig("sc-"+policy, o.host, "", policy))
		staging := h.copyStaging(primary.id, "sc-staging-"+policy)
		h.attach(primary.id, h.createPolicy(weightPolicy(staging.domain, 0.1, 300, 600)))
		h.waitServed()
		for i := range 3 { // miss, then hits
			r := h.get(primary.domain, "/obj", nil)
			var names []string
			for _, sc := range r.header.Values("Set-Cookie") {
				name, _, _ := strings.Cut(sc, "=")
				names = append(names, name)
			}
			fromOrigin := policy == cachingDisabled || i == 0
			switch {
			case fromOrigin && (r.status != http.StatusOK || len(names) != 3 || names[0] != routing.CookieName || names[1] != "app" || names[2] != "lang"):
				t.Errorf("%s request %d: status %d, Set-Cookie names %q; want the session cookie, app and lang", policy, i, r.status, names)
			case !fromOrigin && (r.status != http.StatusOK || len(names) != 1 || names[0] != routing.CookieName):
				t.Errorf("%s request %d (a hit): status %d, Set-Cookie names %q; want the session cookie only", policy, i, r.status, names)
			}
		}
	}
}
