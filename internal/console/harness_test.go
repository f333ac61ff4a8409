package console_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a console over a real control service and release controller on
// a bbolt file, with real credentials; requests go straight to the handler.
type env struct {
	t       testing.TB
	clock   *clock
	svc     *control.Service
	creds   *auth.CredentialFile
	console *console.Console
	metrics *prometheus.Registry
	reads   *countingStore
}

// countingStore counts the reads that reach the store.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) (store.KV, error) {
	s.reads.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *countingStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	s.reads.Add(1)
	return s.Store.List(ctx, prefix)
}

const (
	adminKey    = "AKSFCONSOLEADMIN01"
	adminSecret = "console-admin-secret"
)

func newEnv(t testing.TB, tweak func(*console.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, clock: &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, metrics: prometheus.NewRegistry()}
	vars := map[string]string{auth.EnvAccessKeyID: adminKey, auth.EnvSecretAccessKey: adminSecret}
	creds, _, err := auth.LoadOrCreate(filepath.Join(dir, "credentials.json"), func(k string) string { return vars[k] })
	must(t, err)
	e.creds = creds
	bst, err := bolt.Open(filepath.Join(dir, "stagefront.db"), bolt.Options{})
	must(t, err)
	t.Cleanup(func() { _ = bst.Close() })
	st := &countingStore{Store: bst}
	e.reads = st
	e.svc = control.New(st, control.Options{})
	must(t, e.svc.Bootstrap(context.Background()))
	// The controller acts through the CloudFront API; these tests only read
	// releases, so its client points at a closed port.
	client := cloudfront.New(cloudfront.Options{BaseEndpoint: aws.String("http://127.0.0.1:1"), Region: "us-east-1", RetryMaxAttempts: 1})
	ctrl, err := release.New(release.Options{CloudFront: client, Store: releaseStore{st}, Clock: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	opts := console.Options{
		Credentials: creds, Distributions: e.svc, Releases: ctrl, Metrics: e.metrics, Clock: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tweak != nil {
		tweak(&opts)
	}
	e.console, err = console.New(opts)
	must(t, err)
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
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
	must(t, err)
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

// releaseStore adapts store.Store to the release package's Store, as
// serve does.
type releaseStore struct{ st store.Store }

func (s releaseStore) Get(ctx context.Context, key string) ([]byte, int64, error) {
	kv, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, fmt.Errorf("%s: %w", key, release.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	return kv.Value, kv.ModRevision, nil
}

func (s releaseStore) List(ctx context.Context, prefix string) ([]release.KV, error) {
	kvs, _, err := s.st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]release.KV, len(kvs))
	for i, kv := range kvs {
		out[i] = release.KV{Key: kv.Key, Value: kv.Value, Rev: kv.ModRevision}
	}
	return out, nil
}

func (s releaseStore) Write(ctx context.Context, writes []release.Write) error {
	var conds []store.Cond
	var ops []store.Op
	for _, w := range writes {
		if w.Rev >= 0 {
			conds = append(conds, store.Cond{Key: w.Key, ModRevision: w.Rev})
		}
		ops = append(ops, store.Op{Key: w.Key, Value: w.Value, Delete: w.Delete})
	}
	if _, err := s.st.Txn(ctx, conds, ops); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %w", release.ErrConflict, err)
		}
		return err
	}
	return nil
}

// createDistribution creates a minimal distribution with a comment.
func (e *env) createDistribution(comment string) string {
	e.t.Helper()
	res, err := e.svc.CreateDistribution(context.Background(), &cf.DistributionConfig{
		CallerReference: cf.String(fmt.Sprintf("ref-%d", time.Now().UnixNano())),
		Comment:         cf.String(comment), Enabled: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.example"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"),
			CachePolicyId: cf.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")},
	}, nil)
	must(e.t, err)
	return cf.Str(res.Distribution.Id)
}
