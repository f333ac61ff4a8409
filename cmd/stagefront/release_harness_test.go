package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/cfn/resource"
	cfnstack "github.com/stagefront/stagefront/internal/cfn/stack"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/cli"
	"github.com/stagefront/stagefront/internal/server"
	"github.com/stagefront/stagefront/internal/store/bolt"
	"github.com/stagefront/stagefront/internal/testutil"
)

// fakeClock is the release controller's injected clock: timers (holds,
// approval timeouts, analysis intervals) move only when a test says so.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	adminKey    = "AKSFRELEASEADMIN01"
	adminSecret = "release-admin-secret"
)

// versionOrigin serves /vN/... with "vN" and /bad/... with a 500.
func versionOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if first == "bad" {
			http.Error(w, "broken build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, first)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// stack is stagefront's API, edge and release controller, in process on
// loopback, wired like `serve` (internal/server/releases.go is the code serve uses).
type stack struct {
	t        *testing.T
	dir      string
	clock    *fakeClock
	store    *bolt.Store
	edge     *edge.Server
	follower *follow.Follower
	rt       *server.ReleaseRuntime
	api      *httptest.Server
	edgeSrv  *httptest.Server
	creds    *auth.CredentialFile
	metrics  *prometheus.Registry // the edge's metrics, which the release analysis reads
	cancel   context.CancelFunc
	group    *errgroup.Group
	stopped  bool
	// stacks is the CloudFormation engine releases deploy staging stacks
	// with (harnessOptions.CloudFormation).
	stacks *cfnstack.Manager
}

// harnessOptions are what some tests add to the stack.
type harnessOptions struct {
	// S3Endpoint receives the edge's requests to S3 origins, path style.
	S3Endpoint string
	// CloudFormation gives the release controller the stack engine, for
	// releases whose staging is a template.
	CloudFormation bool
}

// startStack starts (or, with the same dir, restarts) the stack.
func startStack(t *testing.T, dir string, clock *fakeClock) *stack {
	t.Helper()
	return startStackWith(t, dir, clock, harnessOptions{})
}

func startStackWith(t *testing.T, dir string, clock *fakeClock, opts harnessOptions) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &stack{t: t, dir: dir, clock: clock, cancel: cancel}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	env := map[string]string{auth.EnvAccessKeyID: adminKey, auth.EnvSecretAccessKey: adminSecret}
	creds, _, err := auth.LoadOrCreate(filepath.Join(dir, "credentials.json"), func(k string) string { return env[k] })
	testutil.Must(t, err)
	s.creds = creds
	s.store, err = bolt.Open(filepath.Join(dir, "stagefront.db"), bolt.Options{})
	testutil.Must(t, err)
	reg := prometheus.NewRegistry()
	s.metrics = reg
	fetchOpts := origin.Options{Logger: log, Credentials: credentials.NewStaticCredentialsProvider("x", "y", "")}
	if opts.S3Endpoint != "" {
		fetchOpts.S3Endpoint, err = url.Parse(opts.S3Endpoint)
		testutil.Must(t, err)
	}
	fetcher, err := origin.New(ctx, fetchOpts)
	testutil.Must(t, err)
	var n atomic.Uint32
	s.edge, err = edge.New(edge.Options{
		Fetcher: fetcher, Logger: log, Registry: reg, DebugHeader: true,
		// Evenly spread draws (Knuth's multiplicative hash), so that a
		// weight of 5 % sends 5 % of fresh viewers to staging, exactly enough.
		Draw: func() uint32 { return n.Add(1) * 2654435761 },
	})
	testutil.Must(t, err)
	s.follower, err = follow.New(follow.Options{Store: s.store, Publisher: s.edge, Logger: log, Registry: reg})
	testutil.Must(t, err)
	svc := control.New(s.store, control.Options{Deployment: s.follower})
	testutil.Must(t, svc.Bootstrap(ctx))
	verifier := auth.NewVerifier(creds, time.Now, 15*time.Minute)
	apiHandler := api.New(svc, api.Options{Verifier: verifier, Logger: log})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testutil.Must(t, err)
	wiring := server.ReleaseWiring{
		Store: s.store, APIAddr: ln.Addr().String(), Metrics: reg, Logger: log, Clock: clock.Now,
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""),
	}
	if opts.CloudFormation {
		s.stacks = cfnstack.New(s.store, &resource.Env{Svc: svc}, cfnstack.Options{Logger: log})
		wiring.Stacks = release.StackManager(s.stacks, "")
	}
	s.rt, err = server.NewReleaseRuntime(wiring)
	testutil.Must(t, err)
	s.api = &httptest.Server{Listener: ln, Config: &http.Server{Handler: server.APIHandler(apiHandler, s.rt.Handler(verifier))}}
	s.api.Start()
	s.edgeSrv = httptest.NewServer(s.edge)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.follower.Run(gctx) })
	s.group = g
	t.Cleanup(func() {
		s.stop()
		fetcher.Close()
	})
	s.waitEdge()
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// stop shuts the whole stack down, as a crash between two passes would.
func (s *stack) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	s.api.Close()
	s.edgeSrv.Close()
	_ = s.group.Wait()
	s.edge.Close()
	_ = s.store.Close()
}

func (s *stack) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

// waitEdge waits until the edge serves everything written so far.
func (s *stack) waitEdge() {
	s.t.Helper()
	ctx := s.ctx()
	// The edge follows "cf/" only (release records live elsewhere), so wait
	// for the newest revision under it, not the store's.
	kvs, _, err := s.store.List(ctx, "cf/")
	testutil.Must(s.t, err)
	var rev int64
	for _, kv := range kvs {
		rev = max(rev, kv.ModRevision)
	}
	testutil.Must(s.t, s.follower.WaitServed(ctx, rev))
}

// cf is the real aws-sdk-go-v2 CloudFront client, as admin.
func (s *stack) cf() *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{
		BaseEndpoint: aws.String(s.api.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""),
	})
}

// client is the CLI's release client, signed as the named principal
// (created on first use).
func (s *stack) client(name string) *cli.Client {
	s.t.Helper()
	cred, ok := s.creds.Get(name)
	if !ok {
		var err error
		cred, err = s.creds.Add(name)
		testutil.Must(s.t, err)
	}
	c, err := cli.NewClient(s.api.URL, cred.AccessKeyID, cred.SecretAccessKey)
	testutil.Must(s.t, err)
	return c
}

// cred is the named principal's key pair (created by client).
func (s *stack) cred(name string) auth.Credential {
	s.t.Helper()
	c, ok := s.creds.Get(name)
	if !ok {
		s.t.Fatalf("no credentials %q", name)
	}
	return c
}

// reconcile advances the fake clock and runs one controller pass over
// every active release, then waits for the edge to serve the result.
func (s *stack) reconcile(advance time.Duration) {
	s.t.Helper()
	s.clock.Advance(advance)
	testutil.Must(s.t, s.rt.Controller().ReconcileAll(s.ctx()))
	s.waitEdge()
}

// createPrimary creates a distribution serving originURL + /v1.
func (s *stack) createPrimary(originURL string) (id, domain string) {
	s.t.Helper()
	id, domain = createVersionPrimary(s.t, s.cf(), originURL)
	s.waitEdge()
	return id, domain
}

// createVersionPrimary creates, through the API, a distribution whose
// origin "web" is originURL with OriginPath /v1 (CachingDisabled).
func createVersionPrimary(t *testing.T, cf *cloudfront.Client, originURL string) (id, domain string) {
	t.Helper()
	u, err := url.Parse(originURL)
	testutil.Must(t, err)
	port, err := strconv.Atoi(u.Port())
	testutil.Must(t, err)
	out, err := cf.CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("primary-" + strconv.FormatInt(time.Now().UnixNano(), 36)),
		Comment:         aws.String("release test"), Enabled: aws.Bool(true), HttpVersion: types.HttpVersionHttp2,
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String(u.Hostname()), OriginPath: aws.String("/v1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(int32(port)), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"), // CachingDisabled
		},
	}})
	testutil.Must(t, err)
	return aws.ToString(out.Distribution.Id), aws.ToString(out.Distribution.DomainName)
}

// viewer is an HTTP client of the edge for one primary domain.
type viewer struct {
	s      *stack
	domain string
	client *http.Client
}

func (s *stack) viewer(domain string, sticky bool) *viewer {
	v := &viewer{s: s, domain: domain, client: &http.Client{}}
	if sticky {
		jar, err := cookiejar.New(nil)
		testutil.Must(s.t, err)
		v.client.Jar = jar
	}
	return v
}

// get fetches /index.html and returns the body and the serving variant.
func (v *viewer) get(header ...string) (body, variant string, status int) {
	v.s.t.Helper()
	req, err := http.NewRequestWithContext(v.s.ctx(), http.MethodGet, v.s.edgeSrv.URL+"/index.html", nil)
	testutil.Must(v.s.t, err)
	req.Host = v.domain
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := v.client.Do(req)
	testutil.Must(v.s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	testutil.Must(v.s.t, err)
	_, variant, _ = strings.Cut(resp.Header.Get(edge.DebugHeader), " ")
	return string(raw), variant, resp.StatusCode
}

// share sends n fresh viewers (no cookies) and returns the fraction served
// each body.
func (s *stack) share(domain string, n int) map[string]float64 {
	s.t.Helper()
	out := map[string]float64{}
	for range n {
		body, _, _ := s.viewer(domain, false).get()
		out[body] += 1 / float64(n)
	}
	return out
}

// expectPrimaryOnly checks the terminal state of a release that ended
// without promotion: every viewer gets the primary's content, the policy
// is disabled and staging's config equals the primary's.
func (s *stack) expectPrimaryOnly(primaryID, domain, content string) {
	s.t.Helper()
	if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != content || variant != "primary" {
		s.t.Errorf("with the test header: got %q from %q, want %q from the primary", body, variant, content)
	}
	if got := s.share(domain, 200); got[content] < 0.999 {
		s.t.Errorf("fresh viewers got %v, want only %q", got, content)
	}
	ctx := s.ctx()
	primary, err := s.cf().GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(primaryID)})
	testutil.Must(s.t, err)
	policyID := aws.ToString(primary.Distribution.DistributionConfig.ContinuousDeploymentPolicyId)
	if policyID == "" {
		s.t.Fatal("primary has no policy attached")
	}
	pol, err := s.cf().GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: aws.String(policyID)})
	testutil.Must(s.t, err)
	if aws.ToBool(pol.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.Enabled) {
		s.t.Error("policy is still enabled")
	}
	staging := s.stagingOf(primaryID)
	if got, want := release.ConfigDigest(staging.DistributionConfig), release.ConfigDigest(primary.Distribution.DistributionConfig); got != want {
		s.t.Errorf("staging config differs from the primary's: %s vs %s", originPath(staging.DistributionConfig), originPath(primary.Distribution.DistributionConfig))
	}
}

func originPath(cfg *types.DistributionConfig) string {
	return aws.ToString(cfg.Origins.Items[0].OriginPath)
}

// stagingOf finds the staging distribution named by the primary's policy.
func (s *stack) stagingOf(primaryID string) *types.Distribution {
	s.t.Helper()
	ctx := s.ctx()
	primary, err := s.cf().GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(primaryID)})
	testutil.Must(s.t, err)
	pol, err := s.cf().GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{
		Id: primary.Distribution.DistributionConfig.ContinuousDeploymentPolicyId})
	testutil.Must(s.t, err)
	domain := pol.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items[0]
	list, err := s.cf().ListDistributions(ctx, &cloudfront.ListDistributionsInput{})
	testutil.Must(s.t, err)
	for _, d := range list.DistributionList.Items {
		if aws.ToString(d.DomainName) == domain {
			got, err := s.cf().GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: d.Id})
			testutil.Must(s.t, err)
			return got.Distribution
		}
	}
	s.t.Fatalf("no staging distribution %s", domain)
	return nil
}

// startRelease parses a YAML spec like the CLI does and starts it.
func (s *stack) startRelease(as, yamlSpec string) *release.Release {
	s.t.Helper()
	spec, err := release.Parse([]byte(yamlSpec), "release.yaml", nil)
	testutil.Must(s.t, err)
	rel, err := s.client(as).Start(s.ctx(), spec)
	testutil.Must(s.t, err)
	s.waitEdge()
	return rel
}

func (s *stack) status(name string) *release.Live {
	s.t.Helper()
	live, err := s.client("admin-viewer").Status(s.ctx(), name)
	testutil.Must(s.t, err)
	return live
}

func isConflict(err error) bool {
	var ae *cli.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict
}
