package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/server"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
	"github.com/stagefront/stagefront/internal/testutil"
)

// env is a console over a real control service and release controller on
// a bbolt file, with real credentials; requests go straight to the handler.
type env struct {
	t        testing.TB
	clock    *testutil.Clock
	svc      *control.Service
	creds    *auth.CredentialFile
	console  *console.Console
	metrics  *prometheus.Registry
	reads    *testutil.CountingStore
	store    store.Store      // the bbolt store under reads
	follower *follow.Follower // nil unless envConfig.Follow
}

const (
	adminKey    = "AKSFCONSOLEADMIN01"
	adminSecret = "console-admin-secret"
)

func newEnv(t testing.TB, tweak func(*console.Options)) *env {
	return newEnvWith(t, envConfig{}, tweak)
}

// envConfig chooses what stands behind the console's control plane.
type envConfig struct {
	// Follow runs a real config follower on the store and makes the
	// control plane wait for it, as serve does with its in-process edge;
	// HTTPS says the edge has an HTTPS listener.
	Follow bool
	HTTPS  bool
}

func newEnvWith(t testing.TB, cfg envConfig, tweak func(*console.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, clock: testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), metrics: prometheus.NewRegistry()}
	vars := map[string]string{auth.EnvAccessKeyID: adminKey, auth.EnvSecretAccessKey: adminSecret}
	creds, _, err := auth.LoadOrCreate(filepath.Join(dir, "credentials.json"), func(k string) string { return vars[k] })
	testutil.Must(t, err)
	e.creds = creds
	bst, err := bolt.Open(filepath.Join(dir, "stagefront.db"), bolt.Options{})
	testutil.Must(t, err)
	t.Cleanup(func() { _ = bst.Close() })
	st := &testutil.CountingStore{Store: bst}
	e.store, e.reads = bst, st
	var deployment control.Deployment = control.AlwaysDeployed{}
	if cfg.Follow {
		e.follower = startFollower(t, bst, cfg.HTTPS)
		deployment = e.follower
	}
	e.svc = control.New(st, control.Options{Deployment: deployment})
	testutil.Must(t, e.svc.Bootstrap(context.Background()))
	// The release controller is built as serve builds it and acts through
	// the CloudFront API on loopback, signed with the admin pair.
	logger := slog.New(slog.DiscardHandler)
	apiSrv := httptest.NewServer(api.New(e.svc, api.Options{Verifier: auth.NewVerifier(creds, time.Now, 15*time.Minute), Logger: logger}))
	t.Cleanup(apiSrv.Close)
	rt, err := server.NewReleaseRuntime(server.ReleaseWiring{Store: st, APIAddr: apiSrv.Listener.Addr().String(), Clock: e.clock.Now,
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), Logger: logger})
	testutil.Must(t, err)
	opts := console.Options{
		Credentials: creds, Distributions: e.svc, Releases: rt.Controller(), Metrics: e.metrics, Clock: e.clock.Now,
		Logger: logger,
	}
	if tweak != nil {
		tweak(&opts)
	}
	e.console, err = console.New(opts)
	testutil.Must(t, err)
	return e
}

// noTables is the follower's publisher: these tests read the watermark
// the follower reports, not the tables it compiles.
type noTables struct{}

func (noTables) Publish(*routing.Table, []*model.Invalidation) {}

// startFollower runs a config follower on st until the test ends.
func startFollower(t testing.TB, st store.Store, https bool) *follow.Follower {
	t.Helper()
	f, err := follow.New(follow.Options{Store: st, Publisher: noTables{}, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler), HTTPS: https})
	testutil.Must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// waitServed waits until the follower serves rev.
func (e *env) waitServed(rev int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testutil.Must(e.t, e.follower.WaitServed(ctx, rev))
}

// browser keeps cookies like a browser does for one origin.
type browser struct {
	e       *env
	addr    string // RemoteAddr
	cookies map[string]string
	tls     bool
}

func (e *env) browser(addr string) *browser {
	return &browser{e: e, addr: addr + ":40000", cookies: map[string]string{}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) *http.Response {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://console.test"+path, body)
	req.RemoteAddr = b.addr
	if b.tls {
		req = httptest.NewRequest(method, "https://console.test"+path, body)
		req.RemoteAddr = b.addr
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	rec := httptest.NewRecorder()
	b.e.console.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck.Value
		}
	}
	return resp
}

func bodyOf(t testing.TB, resp *http.Response) string {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	return string(raw)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken reads the CSRF token of the first form of a page.
func formToken(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in with a key pair and returns the response of the POST.
func (b *browser) signIn(keyID, secret string) *http.Response {
	b.e.t.Helper()
	page := bodyOf(b.e.t, b.do("GET", "/console/signin", nil))
	return b.do("POST", "/console/signin", url.Values{
		"csrf": {formToken(b.e.t, page)}, "access_key_id": {keyID}, "secret_access_key": {secret}, "next": {"/console/releases"},
	})
}

// signedIn signs in as admin and fails the test otherwise.
func (e *env) signedIn(addr string) *browser {
	e.t.Helper()
	b := e.browser(addr)
	if resp := b.signIn(adminKey, adminSecret); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in: %d %s", resp.StatusCode, bodyOf(e.t, resp))
	}
	return b
}

// createDistribution creates a minimal distribution with a comment.
func (e *env) createDistribution(comment string) string {
	e.t.Helper()
	return e.createDistributionWith(comment, nil)
}

// createDistributionWith creates a minimal distribution with a comment,
// changed by tweak before it is created.
func (e *env) createDistributionWith(comment string, tweak func(*cf.DistributionConfig)) string {
	e.t.Helper()
	cfg := &cf.DistributionConfig{
		CallerReference: cf.String(fmt.Sprintf("ref-%d", time.Now().UnixNano())),
		Comment:         cf.String(comment), Enabled: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.example"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"),
			CachePolicyId: cf.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")},
	}
	if tweak != nil {
		tweak(cfg)
	}
	res, err := e.svc.CreateDistribution(context.Background(), cfg, nil)
	testutil.Must(e.t, err)
	return cf.Str(res.Distribution.Id)
}
