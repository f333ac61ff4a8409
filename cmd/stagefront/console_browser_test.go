package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/chromedp/chromedp"
	"golang.org/x/sync/errgroup"

	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/testutil"
)

// screenshotsEnv regenerates docs/console/*.png from the browser test.
const screenshotsEnv = "STAGEFRONT_SCREENSHOTS"

// consoleClock is real time plus an offset a test can move, so that
// session expiry is exact while live rates still see time pass.
type consoleClock struct{ offset atomic.Int64 }

func (c *consoleClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *consoleClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
func newConsoleClock() *consoleClock            { return &consoleClock{} }
func (s *stack) consoleServer(t *testing.T, clock *consoleClock) *httptest.Server {
	t.Helper()
	c, err := console.New(console.Options{
		Credentials:   s.creds,
		Distributions: control.New(s.store, control.Options{Deployment: s.follower}),
		Releases:      s.rt.Controller(), Metrics: s.metrics, Clock: clock.Now,
		IdleTimeout: 30 * time.Minute, LiveInterval: 150 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	testutil.Must(t, err)
	srv := httptest.NewServer(c.Mount(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	return srv
}

// TestConsoleInChromium drives the console in headless Chromium: sign in,
// see the pair and its policy, watch the live split move while a load loop
// hits the edge, approve a release started from the CLI (with a comment
// that the history then shows with the identity), reject another (routing
// off, terminal), a POST without the CSRF token, and an expired session.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	defer func() { t.Logf("browser test took %v", time.Since(t0)) }()
	origin := versionOrigin(t)
	s := startStack(t, t.TempDir(), testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	primaryA, domainA := s.createPrimary(origin.URL)
	primaryB, domainB := s.createPrimary(origin.URL)
	clock := newConsoleClock()
	srv := s.consoleServer(t, clock)
	alice, err := s.creds.Add("alice")
	testutil.Must(t, err)

	// Release A: 10 % of viewers to staging, then an approval, then promote.
	s.startRelease("bob", fmt.Sprintf(`
name: checkout-v2
primary: %s
staging:
  set:
    Origins.Items[Id=web].OriginPath: /v2
steps:
  - weight: {percent: 10, hold: 10m}
  - approve: {}
  - promote: {}
analysis: {interval: 30s, minRequests: 100000, maxErrorRate: 50%%}
`, primaryA))

	shots := os.Getenv(screenshotsEnv) != ""
	shotDir := filepath.Join("..", "..", "docs", "console")
	ctx := testutil.Chromium(t, 60*time.Second)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		t.Logf("%v %s", time.Since(t0), what)
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		if !shots {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		testutil.Must(t, err)
		testutil.Must(t, os.MkdirAll(shotDir, 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(shotDir, name+".png"), png, 0o644))
	}
	text := func(sel string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(out)
	}

	t.Logf("stack ready")
	// Sign in; the page asked for comes back.
	run("open the console", chromedp.Navigate(srv.URL+"/console/distributions/"+primaryA), chromedp.WaitVisible(chromedp.ID("access_key_id")))
	shot("signin")
	run("sign in",
		chromedp.SendKeys(chromedp.ID("access_key_id"), alice.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret_access_key"), alice.SecretAccessKey),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("policy")))
	if got := text("#identity"); got != "alice" {
		t.Errorf("signed in as %q, want alice", got)
	}
	if got := text("#policy"); !strings.Contains(got, "weight 10% to staging") || !strings.Contains(got, "enabled") {
		t.Errorf("policy shown as %q, want the 10%% weight, enabled", got)
	}
	if page := text("main"); !strings.Contains(page, "Origins.Items[Id=web].OriginPath") || !strings.Contains(page, `"/v2"`) {
		t.Errorf("the promotion diff does not show the origin path change:\n%s", page)
	}

	// Live split: a bounded load loop of fresh viewers hits the edge; the
	// page's numbers move without a reload.
	before := text("#staging-requests")
	const viewers = 2000
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(8)
	for range viewers {
		g.Go(func() error { s.viewer(domainA, false).get(); return nil })
	}
	_ = g.Wait()
	t.Logf("%d viewer requests in %v", viewers, time.Since(start))
	var share float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := text("#staging-requests")
		n, _ := strconv.Atoi(got)
		shareText := strings.TrimSuffix(text("#staging-share"), "%")
		share, _ = strconv.ParseFloat(shareText, 64)
		if got != before && n >= viewers/10-1 {
			t.Logf("live numbers after %v: staging %s requests, %.1f%% share", time.Since(start), got, share)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live traffic did not update: staging requests %q (was %q)", got, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if share < 7 || share > 13 {
		t.Errorf("live staging share %.1f%%, want 10 ± 3 over %d requests", share, viewers)
	}
	shot("distribution")
	t.Logf("live checked")

	// The weight step's hold passes: the release waits for an approval, and
	// every page shows the badge.
	s.reconcile(10 * time.Minute)
	run("overview", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("pending-badge")))
	if got := text("#pending-badge"); got != "1 waiting for approval" {
		t.Errorf("badge %q", got)
	}
	if pairs := text("main"); !strings.Contains(pairs, "staging of "+primaryA) || !strings.Contains(pairs, "→ staging") {
		t.Errorf("the overview does not show the pair:\n%s", pairs)
	}
	shot("overview")
	run("review", chromedp.Click(chromedp.ID("pending-badge")), chromedp.WaitVisible(chromedp.ID("review")),
		chromedp.Click(chromedp.CSS("#review summary")), chromedp.WaitVisible(chromedp.ID("comment")),
		chromedp.SendKeys(chromedp.ID("comment"), "Checked the 10% split: <fine>"))
	shot("release-review")
	// At a phone's 375 px the page reflows instead of scrolling sideways.
	run("narrow", chromedp.EmulateViewport(375, 812))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	testutil.Must(t, err)
	if !fits {
		t.Error("the release page scrolls sideways at 375 px")
	}
	shot("release-review-375px")
	run("wide", chromedp.EmulateViewport(1200, 900))
	run("approve", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	if got := s.status("checkout-v2").State.Phase; got != release.PhasePromoted {
		t.Errorf("after the approval the release is %s, want Promoted", got)
	}
	if got := text("#phase"); got != string(release.PhasePromoted) {
		t.Errorf("the release page says %q after the approval", got)
	}
	run("history", chromedp.Navigate(srv.URL+"/console/history?release=checkout-v2"), chromedp.WaitVisible(chromedp.CSS("table.history")))
	if hist := text("table.history"); !strings.Contains(hist, "alice") || !strings.Contains(hist, "approved step 2") ||
		!strings.Contains(hist, "Checked the 10% split: <fine>") || !strings.Contains(hist, "bob") {
		t.Errorf("the history does not show alice's approval with its comment:\n%s", hist)
	}
	shot("history")

	// Roll A back to generation 0: the page shows that generation's diff
	// first, then the rollback is recorded under alice's name.
	run("review a rollback", chromedp.Navigate(srv.URL+"/console/distributions/"+primaryA+"/rollback?to=0"),
		chromedp.WaitVisible(chromedp.ID("confirm-rollback")))
	if diff := text("table.diff"); !strings.Contains(diff, "Origins.Items[Id=web].OriginPath") || !strings.Contains(diff, `"/v2"`) || !strings.Contains(diff, `"/v1"`) {
		t.Errorf("the rollback page does not show the origin path going back from /v2 to /v1:\n%s", diff)
	}
	shot("rollback")
	run("roll back", chromedp.Click(chromedp.ID("confirm-rollback")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	s.waitEdge()
	if body, _, _ := s.viewer(domainA, false).get(); body != "v1" {
		t.Errorf("after the rollback the primary serves %q, want v1", body)
	}
	run("distribution history", chromedp.Navigate(srv.URL+"/console/history?distribution="+primaryA), chromedp.WaitVisible(chromedp.CSS("table.history")))
	if hist := text("table.history"); !strings.Contains(hist, "rolled back to generation 0 (now generation 2)") || !strings.Contains(hist, "alice") {
		t.Errorf("the distribution's history does not show alice's rollback:\n%s", hist)
	}

	// Release B is rejected in the browser: routing is off, the release ends.
	s.startRelease("bob", fmt.Sprintf(`
name: search-v2
primary: %s
staging:
  set:
    Origins.Items[Id=web].OriginPath: /v2
steps:
  - header: {name: aws-cf-cd-env, value: staging}
  - approve: {}
  - promote: {}
`, primaryB))
	s.reconcile(time.Second)
	run("reject", chromedp.Navigate(srv.URL+"/console/releases/search-v2"), chromedp.WaitVisible(chromedp.ID("review")),
		chromedp.Click(chromedp.CSS("#review summary")),
		chromedp.SendKeys(chromedp.ID("comment"), "not this week"),
		chromedp.Click(chromedp.ID("reject")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	s.waitEdge()
	if got := s.status("search-v2").State.Phase; got != release.PhaseRejected {
		t.Errorf("after the rejection the release is %s, want Rejected", got)
	}
	s.expectPrimaryOnly(primaryB, domainB, "v1")

	// A state-changing request without the form's token is refused, even
	// from the console's own page with its session cookie.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/console/releases/search-v2/decide", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "verdict=abort"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	testutil.Must(t, err)
	if status != http.StatusForbidden {
		t.Errorf("POST without the CSRF token: %d, want 403", status)
	}

	// An idle session ends: the next page is the sign-in form.
	clock.Advance(31 * time.Minute)
	run("expired", chromedp.Navigate(srv.URL+"/console/releases"), chromedp.WaitVisible(chromedp.ID("access_key_id")))
	location, err := chromedp.Run(ctx, chromedp.Location())
	testutil.Must(t, err)
	if !strings.Contains(location, "/console/signin?next=") {
		t.Errorf("an expired session led to %q, want the sign-in page", location)
	}
}

// TestServeMountsTheConsole checks the wiring of the real binary: the
// console answers on the API address, next to the CloudFront API, and
// accepts the API's credentials.
func TestServeMountsTheConsole(t *testing.T) {
	t.Parallel()
	s := startServer(t, buildBinary(t), t.TempDir())
	jar, err := cookiejar.New(nil)
	testutil.Must(t, err)
	client := &http.Client{Jar: jar}
	resp, err := client.Get("http://" + s.api + "/console/signin?next=/console/distributions")
	testutil.Must(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	testutil.Must(t, err)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /console/signin: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if token == nil {
		t.Fatal("no sign-in token in the form")
	}
	resp, err = client.PostForm("http://"+s.api+"/console/signin", url.Values{"csrf": {string(token[1])},
		"access_key_id": {"AKSFTESTKEY0000001"}, "secret_access_key": {"durability-secret"}, "next": {"/console/distributions"}})
	testutil.Must(t, err)
	page, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	testutil.Must(t, err)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/distributions" || !strings.Contains(string(page), `id="identity">admin<`) {
		t.Errorf("after sign-in: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	if _, err := s.client().ListDistributions(t.Context(), &cloudfront.ListDistributionsInput{}); err != nil {
		t.Errorf("the CloudFront API next to the console: %v", err)
	}
}
