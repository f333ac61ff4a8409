package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/testutil"
)

func TestSignInSetsAStrictHttpOnlySessionCookie(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		e := newEnv(t, nil)
		b := e.browser("192.0.2.1")
		b.tls = tls
		resp := b.signIn(adminKey, adminSecret)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/releases" {
			t.Fatalf("tls=%v: sign-in answered %d to %q, want 303 to the page asked for", tls, resp.StatusCode, resp.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "stagefront_console" {
				session = ck
			}
		}
		if session == nil {
			t.Fatalf("tls=%v: no session cookie", tls)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console/" || session.Secure != tls {
			t.Errorf("tls=%v: cookie %+v, want HttpOnly, SameSite=Strict, Path=/console/, Secure only over TLS", tls, session)
		}
		page := bodyOf(t, b.do("GET", "/console/releases", nil))
		if !strings.Contains(page, `id="identity">admin<`) {
			t.Errorf("tls=%v: the page does not name the signed-in identity", tls)
		}
	}
}

func TestPagesNeedASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser("192.0.2.1")
	resp := b.do("GET", "/console/releases?x=1", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin?next="+url.QueryEscape("/console/releases?x=1") {
		t.Errorf("GET without a session: %d to %q, want 303 to sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := b.do("POST", "/console/releases/r1/decide", url.Values{"verdict": {"approve"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", resp.StatusCode)
	}
	b.cookies["stagefront_console"] = "forged"
	if resp := b.do("GET", "/console/distributions", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged session token: %d, want a redirect to sign-in", resp.StatusCode)
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser("192.0.2.1")
	for _, tc := range []struct{ key, secret string }{{adminKey, "wrong"}, {adminKey, ""}, {"AKUNKNOWN", adminSecret}} {
		resp := b.signIn(tc.key, tc.secret)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s/%q: %d, want 401", tc.key, tc.secret, resp.StatusCode)
		}
		if page := bodyOf(t, resp); strings.Contains(page, adminSecret) {
			t.Error("the sign-in page echoes a secret")
		}
		if _, ok := b.cookies["stagefront_console"]; ok {
			t.Error("a failed sign-in set a session cookie")
		}
	}
}

func TestSignInFormNeedsItsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser("192.0.2.1")
	// A cross-site form post carries no sign-in cookie (SameSite) and no token.
	resp := b.do("POST", "/console/signin", url.Values{"access_key_id": {adminKey}, "secret_access_key": {adminSecret}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %d, want 403", resp.StatusCode)
	}
	if _, ok := b.cookies["stagefront_console"]; ok {
		t.Error("login CSRF: the session was opened")
	}
}

func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.createDistribution("csrf")
	b := e.signedIn("192.0.2.1")
	page := bodyOf(t, b.do("GET", "/console/distributions/"+id, nil))
	token := formToken(t, page)
	path := "/console/distributions/" + id + "/invalidate"
	cases := []struct {
		name   string
		form   url.Values
		header []string
		want   int
	}{
		{"no token", url.Values{"paths": {"/a"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"paths": {"/a"}, "csrf": {token + "x"}}, nil, http.StatusForbidden},
		{"another site's origin", url.Values{"paths": {"/a"}, "csrf": {token}}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"token and own origin", url.Values{"paths": {"/a"}, "csrf": {token}}, []string{"Origin", "http://console.test"}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		resp := b.do("POST", path, tc.form, tc.header...)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	invs, err := e.svc.ListInvalidations(t.Context(), id, "", 10)
	testutil.Must(t, err)
	if n := len(invs.Items); n != 1 {
		t.Errorf("%d invalidations, want exactly the one with the token", n)
	}
	// Another session's token does not work either.
	other := e.signedIn("192.0.2.2")
	if resp := other.do("POST", path, url.Values{"paths": {"/b"}, "csrf": {token}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token of another session: %d, want 403", resp.StatusCode)
	}
}

func TestFailedSignInsAreThrottledPerCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// Five wrong secrets for admin, each from another address.
	for i := range 5 {
		if resp := e.browser("198.51.100."+string(rune('1'+i))).signIn(adminKey, "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	resp := e.browser("203.0.113.9").signIn(adminKey, adminSecret)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the right secret after five failures: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Another credential is not affected.
	alice, err := e.creds.Add("alice")
	testutil.Must(t, err)
	if resp := e.browser("203.0.113.9").signIn(alice.AccessKeyID, alice.SecretAccessKey); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another credential: %d, want 303", resp.StatusCode)
	}
	e.clock.Advance(15 * time.Minute)
	if resp := e.browser("203.0.113.9").signIn(adminKey, adminSecret); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the window: %d, want 303", resp.StatusCode)
	}
}

func TestFailedSignInsAreThrottledPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.browser("198.51.100.7")
	for i := range 5 {
		// Unknown keys: the per-credential count cannot apply.
		if resp := b.signIn("AKGUESS"+string(rune('A'+i)), "x"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	if resp := b.signIn(adminKey, adminSecret); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("from the guessing address: %d, want 429", resp.StatusCode)
	}
	if resp := e.browser("198.51.100.8").signIn(adminKey, adminSecret); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("from another address: %d, want 303", resp.StatusCode)
	}
	// X-Forwarded-For does not move a client to another bucket.
	page := bodyOf(t, b.do("GET", "/console/signin", nil))
	resp := b.do("POST", "/console/signin", url.Values{"csrf": {formToken(t, page)}, "access_key_id": {adminKey}, "secret_access_key": {adminSecret}},
		"X-Forwarded-For", "192.0.2.200")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("with a forged X-Forwarded-For: %d, want 429", resp.StatusCode)
	}
}

func TestSessionsExpireWhenIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *console.Options) { o.IdleTimeout = 10 * time.Minute; o.AbsoluteTimeout = time.Hour })
	b := e.signedIn("192.0.2.1")
	e.clock.Advance(9 * time.Minute)
	if resp := b.do("GET", "/console/releases", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("used within the idle timeout: %d", resp.StatusCode)
	}
	e.clock.Advance(9 * time.Minute) // 18 min after sign-in, 9 after the last use
	if resp := b.do("GET", "/console/releases", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("using it moves the idle deadline: %d", resp.StatusCode)
	}
	e.clock.Advance(10 * time.Minute)
	resp := b.do("GET", "/console/releases", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
		t.Errorf("idle for the timeout: %d to %q, want a redirect to sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSessionsExpireAtTheAbsoluteLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *console.Options) { o.IdleTimeout = 10 * time.Minute; o.AbsoluteTimeout = 30 * time.Minute })
	b := e.signedIn("192.0.2.1")
	for range 3 {
		e.clock.Advance(9 * time.Minute)
		if resp := b.do("GET", "/console/releases", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("active session before the absolute limit: %d", resp.StatusCode)
		}
	}
	e.clock.Advance(3 * time.Minute) // 30 min after sign-in, used 3 min ago
	if resp := b.do("GET", "/console/releases", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("at the absolute limit: %d, want a redirect to sign-in", resp.StatusCode)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.signedIn("192.0.2.1")
	token := b.cookies["stagefront_console"]
	page := bodyOf(t, b.do("GET", "/console/releases", nil))
	if resp := b.do("POST", "/console/signout", url.Values{"csrf": {formToken(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	b.cookies["stagefront_console"] = token // a copy of the old cookie
	if resp := b.do("GET", "/console/releases", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the old token after sign-out: %d, want a redirect to sign-in", resp.StatusCode)
	}
}

func TestSecurityHeadersAndEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.createDistribution(`<script>alert("x")</script>`)
	b := e.signedIn("192.0.2.1")
	for _, path := range []string{"/console/signin", "/console/distributions", "/console/distributions/" + id, "/console/nope"} {
		resp := b.do("GET", path, nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, h)
		}
		page := bodyOf(t, resp)
		if strings.Contains(page, "<script>alert") {
			t.Errorf("%s: the comment was not escaped", path)
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " on") && strings.Contains(page, "onclick=") {
			t.Errorf("%s: inline script in the page", path)
		}
	}
	if page := bodyOf(t, b.do("GET", "/console/distributions", nil)); !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the comment is not shown escaped")
	}
}

func TestSignInRedirectsOnlyInsideTheConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for next, want := range map[string]string{
		"/console/releases/r1":   "/console/releases/r1",
		"https://evil.example/":  "/console/",
		"//evil.example/console": "/console/",
		"/console/\\evil":        "/console/",
		"/metrics":               "/console/",
		"/console/../metrics":    "/console/",
		"/console/%2e%2e/x":      "/console/",
	} {
		b := e.browser("192.0.2.1")
		page := bodyOf(t, b.do("GET", "/console/signin", nil))
		resp := b.do("POST", "/console/signin", url.Values{"csrf": {formToken(t, page)}, "access_key_id": {adminKey}, "secret_access_key": {adminSecret}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}

func TestInvalidationsAreRecordedWithWhoAskedForThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.createDistribution("site")
	alice, err := e.creds.Add("alice")
	testutil.Must(t, err)
	b := e.browser("192.0.2.1")
	if resp := b.signIn(alice.AccessKeyID, alice.SecretAccessKey); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	page := bodyOf(t, b.do("GET", "/console/distributions/"+id, nil))
	if resp := b.do("POST", "/console/distributions/"+id+"/invalidate", url.Values{"csrf": {formToken(t, page)}, "paths": {"/a\r\n/b/*\r\n"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("invalidate: %d %s", resp.StatusCode, bodyOf(t, resp))
	}
	// An API call: the SigV4 middleware puts the principal in the context.
	_, err = e.svc.CreateInvalidation(auth.WithPrincipal(t.Context(), "ci-bot"), id, &cf.InvalidationBatch{
		Paths: &cf.Paths{Quantity: cf.Int32(1), Items: []string{"/c"}}, CallerReference: cf.String("api-1")})
	testutil.Must(t, err)
	hist := bodyOf(t, b.do("GET", "/console/history?distribution="+id, nil))
	for _, want := range []string{`<td class="who-col">alice</td>`, "invalidated /a /b/*", `<td class="who-col">ci-bot</td>`, "invalidated /c"} {
		if !strings.Contains(hist, want) {
			t.Errorf("the distribution's history lacks %q", want)
		}
	}
}
