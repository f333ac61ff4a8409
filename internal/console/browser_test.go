package console_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/testutil"
)

// page is a distribution page as headless Chromium shows it after signing
// in as admin.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (e *env) openInChromium(t *testing.T, browser context.Context, path string) *page {
	t.Helper()
	srv := httptest.NewServer(e.console)
	t.Cleanup(srv.Close)
	tab, closeTab := chromedp.NewContext(browser)
	t.Cleanup(closeTab)
	p := &page{t: t, ctx: tab}
	p.run("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.ID("access_key_id")))
	p.run("sign in",
		chromedp.SendKeys(chromedp.ID("access_key_id"), adminKey),
		chromedp.SendKeys(chromedp.ID("secret_access_key"), adminSecret),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("policy")))
	return p
}

func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// text is the visible text of the first element sel matches, "" when none does.
func (p *page) text(sel string) string {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+quoteJS(sel)+`).length`))
	if err != nil {
		p.t.Fatalf("count %s: %v", sel, err)
	}
	if n == 0 {
		return ""
	}
	out, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(out), " ")
}

func quoteJS(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestDistributionPageInChromium drives one headless Chromium (one start
// is most of the cost) through the distribution page's warnings, one tab
// each.
func TestDistributionPageInChromium(t *testing.T) {
	t.Parallel()
	browser := testutil.Chromium(t, 120*time.Second)
	t.Run("says why it is not served", func(t *testing.T) { distributionPageSaysWhyItIsNotServed(t, browser) })
	t.Run("warns of HTTPS without TLS", func(t *testing.T) { distributionPageWarnsOfHTTPSWithoutTLS(t, browser) })
}

// distributionPageSaysWhyItIsNotServed: a stored config the edge cannot
// compile keeps the distribution InProgress, and its page says why, in the
// compiler's words; a distribution that compiles shows no such line.
func distributionPageSaysWhyItIsNotServed(t *testing.T, browser context.Context) {
	e := newEnvWith(t, envConfig{Follow: true}, nil)
	ok := e.createDistribution("compiles")
	id := e.createDistribution("will not compile")
	// A record only a direct store write can make (the API validates what
	// it stores): its default behavior names an origin it does not have.
	ctx := t.Context()
	kv, err := e.store.Get(ctx, model.DistributionKey(id))
	testutil.Must(t, err)
	rec, err := model.Decode[model.Distribution](kv.Value)
	testutil.Must(t, err)
	rec.Config.DefaultCacheBehavior.TargetOriginId = cf.String("no-such-origin")
	raw, err := model.Encode(rec)
	testutil.Must(t, err)
	rev, err := e.store.Txn(ctx, nil, []store.Op{{Key: model.DistributionKey(id), Value: raw}})
	testutil.Must(t, err)
	e.waitServed(rev)

	p := e.openInChromium(t, browser, "/console/distributions/"+id)
	if got := p.text("#compile-error"); !strings.Contains(got, "no-such-origin") || !strings.Contains(got, "InProgress") {
		t.Errorf("the page of %s says %q about its config, want the edge's reason (naming no-such-origin) and that it stays InProgress", id, got)
	}
	if got := p.text("main dl.facts"); !strings.Contains(got, "InProgress") {
		t.Errorf("the state of %s reads %q, want InProgress", id, got)
	}
	p.run("open the one that compiles", chromedp.Navigate(strings.Replace(p.url(), id, ok, 1)), chromedp.WaitVisible(chromedp.ID("policy")))
	if got := p.text("#compile-error"); got != "" {
		t.Errorf("the page of %s, which compiles, says %q", ok, got)
	}
	if got := p.text("main dl.facts"); !strings.Contains(got, "Deployed") {
		t.Errorf("the state of %s reads %q, want Deployed", ok, got)
	}
}

// url is the address of the page shown.
func (p *page) url() string {
	p.t.Helper()
	u, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return u
}

// distributionPageWarnsOfHTTPSWithoutTLS: behaviors that ask for HTTPS
// (redirect-to-https, https-only) on an edge with no HTTPS listener are
// named on the page with what the edge does instead; allow-all is not.
func distributionPageWarnsOfHTTPSWithoutTLS(t *testing.T, browser context.Context) {
	e := newEnvWith(t, envConfig{Follow: true}, nil)
	id := e.createDistributionWith("wants https", func(cfg *cf.DistributionConfig) {
		cfg.DefaultCacheBehavior.ViewerProtocolPolicy = cf.String("redirect-to-https")
		b := cf.CacheBehavior{PathPattern: cf.String("/account/*"), TargetOriginId: cf.String("web"),
			ViewerProtocolPolicy: cf.String("https-only"), CachePolicyId: cfg.DefaultCacheBehavior.CachePolicyId}
		other := b
		other.PathPattern, other.ViewerProtocolPolicy = cf.String("/public/*"), cf.String("allow-all")
		cfg.CacheBehaviors = &cf.CacheBehaviors{Quantity: cf.Int32(2), Items: []cf.CacheBehavior{b, other}}
	})
	p := e.openInChromium(t, browser, "/console/distributions/"+id)
	got := p.text("#tls-warning")
	for _, want := range []string{"1 edge has no HTTPS listener", "--tls-cert",
		"* (default) is redirect-to-https: served over plain HTTP", "/account/* is https-only: every request refused with 403"} {
		if !strings.Contains(got, want) {
			t.Errorf("the TLS warning reads %q, want it to say %q", got, want)
		}
	}
	if strings.Contains(got, "/public/*") {
		t.Errorf("the TLS warning names the allow-all behavior: %q", got)
	}
}

// TestNoTLSWarningWithAnHTTPSListener: an edge with an HTTPS listener
// honours both policies, so the page warns of nothing.
func TestNoTLSWarningWithAnHTTPSListener(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envConfig{Follow: true, HTTPS: true}, nil)
	id := e.createDistributionWith("wants https", func(cfg *cf.DistributionConfig) {
		cfg.DefaultCacheBehavior.ViewerProtocolPolicy = cf.String("redirect-to-https")
	})
	page := bodyOf(t, e.signedIn("192.0.2.1").do("GET", "/console/distributions/"+id, nil))
	if strings.Contains(page, "tls-warning") || !strings.Contains(page, "redirect-to-https") {
		t.Errorf("with an HTTPS listener the page should show redirect-to-https without a warning:\n%s", page)
	}
}
