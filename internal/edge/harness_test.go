package edge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

const (
	cachingDisabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

	// cdHeader is the usual header policy of CloudFront's examples.
	cdHeader = "aws-cf-cd-env"
)

// harnessOptions tune one in-process deployment.
type harnessOptions struct {
	// s3Endpoint sends S3 origins to an S3-compatible server (moto).
	s3Endpoint *url.URL
	// clock and draw are passed to edge.Options; nil means real ones.
	clock func() time.Time
	draw  func() uint32
	// deferRun leaves the edge's config follower stopped until startEdge.
	deferRun bool
	// cacheBytes bounds the edge cache (0: the default).
	cacheBytes int64
	// maxBodyBytes bounds a cached object (0: the default).
	maxBodyBytes int64
	// edgeStore wraps the store the edge follows (the control plane always
	// writes to the real one).
	edgeStore func(store.Store) store.Store
	// engine serves the edge with "fasthttp" or "loop" instead of
	// net/http ("").
	engine string
	// tables runs the edge alone: createDistribution and
	// updateDistribution compile tables with routing.Compile and publish
	// them, with no store, API or follower. For tests about serving.
	tables bool
	// accessLog is edge.Options.AccessLog.
	accessLog edge.AccessLogger
	// cacheDir and cacheDiskBytes give the edge cache a disk tier.
	cacheDir       string
	cacheDiskBytes int64
	// viewer sets the viewer connections' timeouts and caps.
	viewer edge.ViewerLimits
	// https is edge.Options.HTTPS (redirect-to-https then redirects).
	https bool
}

// harness is the whole product wired in-process over loopback: a bbolt
// store in a temp dir, the control service, the CloudFront API on an
// httptest server with the real aws-sdk-go-v2 client in front of it, and
// the edge on another httptest server, fetching through the real origin
// package. Origins are reached through a dialer that maps fake origin host
// names onto loopback listeners, so nothing ever leaves 127.0.0.1.
type harness struct {
	t        testing.TB
	ctx      context.Context
	store    *bolt.Store
	svc      *control.Service
	edge     *edge.Server
	follower *follow.Follower
	// tables holds the distributions of a harness with opts.tables.
	tables *directTables
	// followLog holds what the follower logged at Error level (JSON).
	followLog *lockedBuffer
	reg       *prometheus.Registry
	cf        *cfsdk.Client
	edgeURL   string
	client    *http.Client
	dialer    *originDialer
	fetcher   *origin.Fetcher
	runEdge   func()
	runDone   chan struct{}
	runStart  sync.Once
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, ctx: ctx, dialer: newOriginDialer(), runDone: make(chan struct{})}

	fetcher, err := origin.New(ctx, origin.Options{
		S3Endpoint:  opts.s3Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTAGEFRONTEDGE01", "edge-test-secret", ""),
		Region:      "us-east-1",
		DialContext: h.dialer.DialContext,
	})
	if err != nil {
		t.Fatalf("origin.New: %v", err)
	}
	t.Cleanup(fetcher.Close)
	h.fetcher = fetcher

	h.reg = prometheus.NewRegistry()
	srv, err := edge.New(edge.Options{
		Fetcher: fetcher, Registry: h.reg,
		Logger:      slog.New(slog.DiscardHandler),
		DebugHeader: true,
		Clock:       opts.clock, Draw: opts.draw,
		CacheBytes: opts.cacheBytes, MaxBodyBytes: opts.maxBodyBytes,
		AccessLog: opts.accessLog, HTTPS: opts.https,
		CacheDir: opts.cacheDir, CacheDiskBytes: opts.cacheDiskBytes,
		Viewer: opts.viewer,
	})
	if err != nil {
		t.Fatalf("edge.New: %v", err)
	}
	t.Cleanup(srv.Close)
	h.edge = srv

	switch opts.engine {
	case engineFastHTTP:
		h.edgeURL = serveFast(t, srv)
	case engineLoop:
		h.edgeURL = serveLoop(t, srv)
	default:
		edgeSrv := httptest.NewServer(srv)
		t.Cleanup(edgeSrv.Close)
		h.edgeURL = edgeSrv.URL
	}
	// The event-loop engine hands a connection to fasthttp for good at a
	// request it does not read (a body…) or a large answer: a connection
	// per request has every request start on a loop. (The matrix passes
	// with keep-alive connections too; the loop tests in loop_test.go
	// follow keep-alive connections through the loop's states.)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true, DisableKeepAlives: opts.engine == engineLoop}
	t.Cleanup(tr.CloseIdleConnections)
	h.client = &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if opts.tables {
		// No store, API or follower: the test compiles its tables.
		t.Cleanup(cancel)
		h.tables = &directTables{dists: map[string]*directDist{}}
		return h
	}

	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	h.store = st
	var edgeStore store.Store = st
	if opts.edgeStore != nil {
		edgeStore = opts.edgeStore(st)
	}

	h.followLog = &lockedBuffer{}
	h.follower, err = follow.New(follow.Options{
		Store: edgeStore, Publisher: srv, Registry: h.reg,
		Logger: slog.New(slog.NewJSONHandler(h.followLog, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("follow.New: %v", err)
	}
	h.svc = control.New(st, control.Options{Deployment: h.follower})
	if err := h.svc.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}

	apiSrv := httptest.NewServer(api.New(h.svc, api.Options{Verifier: auth.None(), Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(apiSrv.Close)
	h.cf = cfsdk.New(cfsdk.Options{
		BaseEndpoint: aws.String(apiSrv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDUMMY", "dummy", ""),
		Retryer:      aws.NopRetryer{},
	})

	h.runEdge = func() {
		h.runStart.Do(func() {
			go func() {
				defer close(h.runDone)
				if err := h.follower.Run(ctx); err != nil {
					t.Errorf("follower Run: %v", err)
				}
			}()
		})
	}
	// Registered last, so it runs first: stop the follower before the
	// servers and the store go away.
	t.Cleanup(func() {
		cancel()
		h.runStart.Do(func() { close(h.runDone) })
		<-h.runDone
	})
	if !opts.deferRun {
		h.runEdge()
		h.waitServed()
	}
	return h
}

// waitServed waits until the edge serves the store's current revision
// (with tables, a published table is served at once).
func (h *harness) waitServed() int64 {
	h.t.Helper()
	if h.tables != nil {
		return h.tables.rev
	}
	rev, err := h.store.Revision(h.ctx)
	if err != nil {
		h.t.Fatalf("store revision: %v", err)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := h.follower.WaitServed(ctx, rev); err != nil {
		h.t.Fatalf("edge did not serve revision %d (serves %d): %v", rev, h.follower.ServedRevision(), err)
	}
	return rev
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// originDialer maps origin host names to loopback listeners and refuses
// everything else that is not loopback.
type originDialer struct {
	mu    sync.Mutex
	hosts map[string]string // "host:port" → "127.0.0.1:port"
	d     net.Dialer
}

func newOriginDialer() *originDialer { return &originDialer{hosts: map[string]string{}} }

func (o *originDialer) route(hostPort, addr string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hosts[hostPort] = addr
}

func (o *originDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	o.mu.Lock()
	target, ok := o.hosts[addr]
	o.mu.Unlock()
	if !ok {
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("test dialer: %s is not a known origin and not loopback", addr)
		}
		target = addr
	}
	return o.d.DialContext(ctx, network, target)
}

// testOrigin is a custom origin on loopback: it answers "<originPath>:<rest>"
// style bodies through handler and records the headers it received.
type testOrigin struct {
	host string // the origin DomainName the distributions use
	srv  *httptest.Server

	mu       sync.Mutex
	requests []recordedRequest
	hits     atomic.Int64
}

type recordedRequest struct {
	path   string
	header http.Header
}

// newTestOrigin starts handler on loopback and maps host:80 to it.
func (h *harness) newTestOrigin(host string, handler http.HandlerFunc) *testOrigin {
	h.t.Helper()
	o := &testOrigin{host: host}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.requests = append(o.requests, recordedRequest{path: r.URL.Path, header: r.Header.Clone()})
		o.mu.Unlock()
		handler(w, r)
	}))
	h.t.Cleanup(o.srv.Close)
	h.dialer.route(host+":80", o.srv.Listener.Addr().String())
	return o
}

func (o *testOrigin) recorded() []recordedRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]recordedRequest(nil), o.requests...)
}

// versionOrigin answers every path with "<first path segment>:<rest>", so a
// body names the OriginPath it was fetched under ("/v2/x" → "v2:/x").
func versionOrigin(cacheControl string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		version, rest, _ := strings.Cut(p, "/")
		w.Header().Set("Content-Type", "text/plain")
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		io.WriteString(w, version+":/"+rest)
	}
}

// response is one edge response, read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// get sends one viewer request for domain to the edge.
func (h *harness) get(domain, path string, header http.Header) response {
	h.t.Helper()
	r, err := h.do(http.MethodGet, domain, path, header)
	if err != nil {
		h.t.Fatalf("GET %s%s: %v", domain, path, err)
	}
	return r
}

func (h *harness) do(method, domain, path string, header http.Header) (response, error) {
	req, err := http.NewRequestWithContext(h.ctx, method, h.edgeURL+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Host = domain
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// --- CloudFront API helpers (the real SDK against the real API) ---

// api returns the CloudFront client; a harness with tables has none.
func (h *harness) api() *cfsdk.Client {
	h.t.Helper()
	if h.cf == nil {
		h.t.Fatal("this test needs the store and API: do not set harnessOptions.tables")
	}
	return h.cf
}

func must[T any](tb testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// customOriginConfig is a distribution config with one custom origin on
// host:80 (http-only) and the given cache policy.
func customOriginConfig(ref, host, originPath, cachePolicy string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("edge test " + ref),
		Enabled:         aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id:                 aws.String("web"),
			DomainName:         aws.String(host),
			OriginPath:         aws.String(originPath),
			ConnectionAttempts: aws.Int32(1),
			ConnectionTimeout:  aws.Int32(2),
			CustomOriginConfig: &types.CustomOriginConfig{
				HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443),
				OriginProtocolPolicy:   types.OriginProtocolPolicyHttpOnly,
				OriginReadTimeout:      aws.Int32(5),
				OriginKeepaliveTimeout: aws.Int32(5),
			},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId:       aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId:        aws.String(cachePolicy),
		},
	}
}

type dist struct {
	id, domain string
}

func (h *harness) createDistribution(cfg *types.DistributionConfig) dist {
	h.t.Helper()
	if h.tables != nil {
		return h.tables.create(h, cfg)
	}
	out := must[*cfsdk.CreateDistributionOutput](h.t)(h.api().CreateDistribution(h.ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg}))
	return dist{id: aws.ToString(out.Distribution.Id), domain: aws.ToString(out.Distribution.DomainName)}
}

// updateDistribution reads the config, lets mutate change it and writes it back.
func (h *harness) updateDistribution(id string, mutate func(*types.DistributionConfig)) *cfsdk.UpdateDistributionOutput {
	h.t.Helper()
	if h.tables != nil {
		return h.tables.update(h, id, mutate)
	}
	cur := must[*cfsdk.GetDistributionConfigOutput](h.t)(h.api().GetDistributionConfig(h.ctx, &cfsdk.GetDistributionConfigInput{Id: aws.String(id)}))
	mutate(cur.DistributionConfig)
	return must[*cfsdk.UpdateDistributionOutput](h.t)(h.api().UpdateDistribution(h.ctx, &cfsdk.UpdateDistributionInput{
		Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig}))
}

func (h *harness) setOriginPath(id, originPath string) {
	h.t.Helper()
	h.updateDistribution(id, func(c *types.DistributionConfig) { c.Origins.Items[0].OriginPath = aws.String(originPath) })
}

func (h *harness) etag(id string) string {
	h.t.Helper()
	out := must[*cfsdk.GetDistributionConfigOutput](h.t)(h.api().GetDistributionConfig(h.ctx, &cfsdk.GetDistributionConfigInput{Id: aws.String(id)}))
	return aws.ToString(out.ETag)
}

func (h *harness) copyStaging(primaryID, ref string) dist {
	h.t.Helper()
	if h.tables != nil {
		return h.tables.copyStaging(h, primaryID, ref)
	}
	out := must[*cfsdk.CopyDistributionOutput](h.t)(h.api().CopyDistribution(h.ctx, &cfsdk.CopyDistributionInput{
		PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String(ref),
		IfMatch: aws.String(h.etag(primaryID)), Staging: aws.Bool(true),
	}))
	return dist{id: aws.ToString(out.Distribution.Id), domain: aws.ToString(out.Distribution.DomainName)}
}

func headerPolicy(stagingDomain, value string) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(true),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &types.TrafficConfig{
			Type:               types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String(cdHeader), Value: aws.String(value)},
		},
	}
}

// weightPolicy is a SingleWeight policy; idle/maxTTL 0 means no stickiness.
func weightPolicy(stagingDomain string, weight float32, idle, maxTTL int32) *types.ContinuousDeploymentPolicyConfig {
	c := &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(true),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &types.TrafficConfig{
			Type:               types.ContinuousDeploymentPolicyTypeSingleWeight,
			SingleWeightConfig: &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(weight)},
		},
	}
	if idle > 0 {
		c.TrafficConfig.SingleWeightConfig.SessionStickinessConfig = &types.SessionStickinessConfig{
			IdleTTL: aws.Int32(idle), MaximumTTL: aws.Int32(maxTTL)}
	}
	return c
}

func (h *harness) createPolicy(cfg *types.ContinuousDeploymentPolicyConfig) string {
	h.t.Helper()
	if h.tables != nil {
		return h.tables.putPolicy(h, "", cfg)
	}
	out := must[*cfsdk.CreateContinuousDeploymentPolicyOutput](h.t)(h.api().CreateContinuousDeploymentPolicy(h.ctx,
		&cfsdk.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: cfg}))
	return aws.ToString(out.ContinuousDeploymentPolicy.Id)
}

// updatePolicy replaces the policy's config (with its current ETag).
func (h *harness) updatePolicy(id string, cfg *types.ContinuousDeploymentPolicyConfig) *cfsdk.UpdateContinuousDeploymentPolicyOutput {
	h.t.Helper()
	if h.tables != nil {
		h.tables.putPolicy(h, id, cfg)
		return &cfsdk.UpdateContinuousDeploymentPolicyOutput{}
	}
	out, err := h.updatePolicyErr(id, cfg)
	if err != nil {
		h.t.Fatalf("UpdateContinuousDeploymentPolicy: %v", err)
	}
	return out
}

func (h *harness) updatePolicyErr(id string, cfg *types.ContinuousDeploymentPolicyConfig) (*cfsdk.UpdateContinuousDeploymentPolicyOutput, error) {
	cur, err := h.api().GetContinuousDeploymentPolicyConfig(h.ctx, &cfsdk.GetContinuousDeploymentPolicyConfigInput{Id: aws.String(id)})
	if err != nil {
		return nil, err
	}
	return h.api().UpdateContinuousDeploymentPolicy(h.ctx, &cfsdk.UpdateContinuousDeploymentPolicyInput{
		Id: aws.String(id), IfMatch: cur.ETag, ContinuousDeploymentPolicyConfig: cfg})
}

func (h *harness) attach(primaryID, policyID string) {
	h.t.Helper()
	h.updateDistribution(primaryID, func(c *types.DistributionConfig) { c.ContinuousDeploymentPolicyId = aws.String(policyID) })
}

func (h *harness) promote(primaryID, stagingID string) {
	h.t.Helper()
	if err := h.promoteErr(primaryID, stagingID); err != nil {
		h.t.Fatalf("UpdateDistributionWithStagingConfig: %v", err)
	}
}

func (h *harness) promoteErr(primaryID, stagingID string) error {
	p, err := h.api().GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(primaryID)})
	if err != nil {
		return err
	}
	s, err := h.api().GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(stagingID)})
	if err != nil {
		return err
	}
	_, err = h.api().UpdateDistributionWithStagingConfig(h.ctx, &cfsdk.UpdateDistributionWithStagingConfigInput{
		Id: aws.String(primaryID), StagingDistributionId: aws.String(stagingID),
		IfMatch: aws.String(aws.ToString(p.ETag) + ", " + aws.ToString(s.ETag)),
	})
	return err
}

// cdPair is a primary on a versionOrigin at /v1 with a staging copy at /v2.
type cdPair struct {
	origin           *testOrigin
	primary, staging dist
}

func (h *harness) newCDPair(ref, cachePolicy string) cdPair {
	h.t.Helper()
	o := h.newTestOrigin(ref+".origin.test", versionOrigin("max-age=3600"))
	p := h.createDistribution(customOriginConfig(ref, o.host, "/v1", cachePolicy))
	s := h.copyStaging(p.id, ref+"-staging")
	h.setOriginPath(s.id, "/v2")
	return cdPair{origin: o, primary: p, staging: s}
}

// --- injected time and randomness ---

// fakeClock is a settable clock for edge.Options.Clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// seededDraw is a deterministic uniform uint32 source, safe for the edge's
// concurrent requests.
func seededDraw(seed uint64) func() uint32 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() uint32 {
		mu.Lock()
		defer mu.Unlock()
		return r.Uint32()
	}
}

// forcedDraw lets a test decide each new draw: staging (0) or primary
// (MaxUint32), and counts the draws made.
type forcedDraw struct {
	staging atomic.Bool
	calls   atomic.Int64
}

func (f *forcedDraw) Draw() uint32 {
	f.calls.Add(1)
	if f.staging.Load() {
		return 0
	}
	return ^uint32(0)
}

// poll calls cond until it returns true or the deadline passes.
func poll(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// parallel runs fn(0..n-1) on workers goroutines and fails the test with
// the first error; every worker stops at the first error.
func parallel(tb testing.TB, workers, n int, fn func(i int) error) {
	tb.Helper()
	var (
		next     atomic.Int64
		failed   atomic.Bool
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
}
