package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// fleetProcs is one api process and N edge processes on an embedded etcd.
type fleetProcs struct {
	t      testing.TB
	bin    string
	etcd   *etcdtest.Server
	api    string
	edges  []*edgeProc
	cf     *cloudfront.Client
	origin *httptest.Server
}

type edgeProc struct {
	name, addr, admin string
	cmd               *exec.Cmd
}

func startProc(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// What the process says is kept, so that a test that waits for it in
	// vain can say why (waitHealthy); -v also shows it.
	stderr := &testutil.LogBuffer{}
	cmd.Stderr = stderr
	if testing.Verbose() {
		cmd.Stderr = io.MultiWriter(os.Stderr, stderr)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	procOutput.Store(cmd, stderr)
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); procOutput.Delete(cmd) })
	return cmd
}

// procOutput holds the stderr of each process startProc started.
var procOutput sync.Map // *exec.Cmd → *testutil.LogBuffer

// waitHealthy waits for the process cmd (started by startProc) to answer
// on its admin address, and fails the test with what it wrote to stderr
// if it does not.
func waitHealthy(t testing.TB, admin string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	out := "(not started by startProc)"
	if stderr, ok := procOutput.Load(cmd); ok {
		out = stderr.(*testutil.LogBuffer).String()
	}
	t.Fatalf("%s did not become healthy in 20 s; %s said:\n%s", admin, strings.Join(cmd.Args, " "), out)
}

func startFleet(t testing.TB, edges int) *fleetProcs {
	t.Helper()
	f := &fleetProcs{t: t, bin: buildBinary(t), etcd: etcdtest.Start(t)}
	f.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /v1/... → "v1", /v2/... → "v2"
		version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		_, _ = io.WriteString(w, version)
	}))
	t.Cleanup(f.origin.Close)
	store := "etcd://" + strings.TrimPrefix(f.etcd.Endpoint, "http://")
	f.api = testutil.FreeAddr(t)
	apiAdmin := testutil.FreeAddr(t)
	apiCmd := startProc(t, f.bin, "api", "--store", store, "--auth", "none", "--api-addr", f.api, "--admin-addr", apiAdmin,
		"--data-dir", t.TempDir(), "--log-level", "warn")
	for i := range edges {
		e := &edgeProc{name: fmt.Sprintf("edge-%d", i), addr: testutil.FreeAddr(t), admin: testutil.FreeAddr(t)}
		e.cmd = startProc(t, f.bin, "edge", "--store", store, "--edge-addr", e.addr, "--admin-addr", e.admin,
			"--data-dir", t.TempDir(), "--node-name", e.name, "--lease-ttl", "2s", "--debug-header", "--log-level", "warn")
		f.edges = append(f.edges, e)
	}
	waitHealthy(t, apiAdmin, apiCmd)
	for _, e := range f.edges {
		waitHealthy(t, e.admin, e.cmd)
	}
	f.cf = testutil.CloudFront("http://"+f.api, "fleet", "fleet")
	return f
}

// get asks one edge for / of host with extra headers; it returns the body,
// the variant from the debug header and the response.
func get(client *http.Client, edgeAddr, host string, hdr map[string]string) (body, variant string, resp *http.Response, err error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+edgeAddr+"/index.html", nil)
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err = client.Do(req)
	if err != nil {
		return "", "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	_, variant, _ = strings.Cut(resp.Header.Get("X-Stagefront-Distribution"), " ")
	return string(b), variant, resp, err
}

// waitAll polls every given edge until want(body) holds for host, or fails.
func (f *fleetProcs) waitAll(edges []*edgeProc, host string, hdr map[string]string, want string, within time.Duration) time.Duration {
	f.t.Helper()
	start := time.Now()
	for _, e := range edges {
		for {
			body, _, resp, err := get(http.DefaultClient, e.addr, host, hdr)
			if err == nil && resp.StatusCode == 200 && body == want {
				break
			}
			if time.Since(start) > within {
				f.t.Fatalf("%s: still %q (status %v, err %v) after %v; want %q", e.name, body, resp, err, within, want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return time.Since(start)
}

type cdSetup struct {
	primaryID, primaryDomain, stagingID, policyID string
}

// setupCD creates primary (/v1) + staging (/v2) + a header policy, attached.
func (f *fleetProcs) setupCD(ctx context.Context) cdSetup {
	t := f.t
	t.Helper()
	port := strings.TrimPrefix(f.origin.URL, "http://127.0.0.1:")
	var portNum int32
	fmt.Sscan(port, &portNum)
	cfg := &types.DistributionConfig{
		CallerReference: aws.String(fmt.Sprintf("fleet-%d", time.Now().UnixNano())), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"), OriginPath: aws.String("/v1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(portNum), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")},
	}
	p, err := f.cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: cfg})
	testutil.Must(t, err)
	s, err := f.cf.CopyDistribution(ctx, &cloudfront.CopyDistributionInput{PrimaryDistributionId: p.Distribution.Id, IfMatch: p.ETag,
		Staging: aws.Bool(true), CallerReference: aws.String("stg-" + *cfg.CallerReference)})
	testutil.Must(t, err)
	scfg := s.Distribution.DistributionConfig
	scfg.Origins.Items[0].OriginPath = aws.String("/v2")
	_, err = f.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: s.Distribution.Id, IfMatch: s.ETag, DistributionConfig: scfg})
	testutil.Must(t, err)
	pol, err := f.cf.CreateContinuousDeploymentPolicy(ctx, &cloudfront.CreateContinuousDeploymentPolicyInput{
		ContinuousDeploymentPolicyConfig: headerPolicy(*s.Distribution.DomainName, "v0")})
	testutil.Must(t, err)
	cur, err := f.cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: p.Distribution.Id})
	testutil.Must(t, err)
	cur.DistributionConfig.ContinuousDeploymentPolicyId = pol.ContinuousDeploymentPolicy.Id
	_, err = f.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: p.Distribution.Id, IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig})
	testutil.Must(t, err)
	return cdSetup{*p.Distribution.Id, *p.Distribution.DomainName, *s.Distribution.Id, *pol.ContinuousDeploymentPolicy.Id}
}

func headerPolicy(stagingDomain, value string) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(true),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String("aws-cf-cd-test"), Value: aws.String(value)}},
	}
}

func weightPolicy(stagingDomain string, weight float32) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(true),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleWeight,
			SingleWeightConfig: &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(weight),
				SessionStickinessConfig: &types.SessionStickinessConfig{IdleTTL: aws.Int32(300), MaximumTTL: aws.Int32(600)}}},
	}
}

// setPolicy replaces the policy config (re-reading its ETag) and returns when the API answered.
func (f *fleetProcs) setPolicy(ctx context.Context, id string, cfg *types.ContinuousDeploymentPolicyConfig) error {
	cur, err := f.cf.GetContinuousDeploymentPolicy(ctx, &cloudfront.GetContinuousDeploymentPolicyInput{Id: &id})
	if err != nil {
		return err
	}
	_, err = f.cf.UpdateContinuousDeploymentPolicy(ctx, &cloudfront.UpdateContinuousDeploymentPolicyInput{Id: &id, IfMatch: cur.ETag, ContinuousDeploymentPolicyConfig: cfg})
	return err
}

// TestFleet: one api and three edges on etcd. Sticky cookies work across
// edges, Deployed waits for every live edge but not for a dead one past its
// lease, edges keep serving while etcd is down, propagation resumes when it
// is back, and a promotion under load gives no errors.
func TestFleet(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cd := f.setupCD(ctx)
	f.waitAll(f.edges, cd.primaryDomain, nil, "v1", 10*time.Second)
	f.waitAll(f.edges, cd.primaryDomain, map[string]string{"aws-cf-cd-test": "v0"}, "v2", 10*time.Second)

	t.Run("sticky cookie minted on A is honoured by B and C", func(t *testing.T) {
		stg, _ := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
		testutil.Must(t, f.setPolicy(ctx, cd.policyID, weightPolicy(*stg.Distribution.DomainName, 0.15)))
		// Wait until edge A runs the weight policy (it sets the cookie).
		var cookies = map[string]string{}
		deadline := time.Now().Add(10 * time.Second)
		for len(cookies) < 2 && time.Now().Before(deadline) {
			_, variant, resp, err := get(http.DefaultClient, f.edges[0].addr, cd.primaryDomain, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.Cookies() {
				if c.Name == "x-amz-continuous-deployment-state" && cookies[variant] == "" {
					cookies[variant] = c.Value
				}
			}
		}
		if cookies["staging"] == "" || cookies["primary"] == "" {
			t.Fatalf("edge A never minted cookies for both variants: %v", cookies)
		}
		for variant, cookie := range cookies {
			for _, e := range f.edges[1:] {
				for range 10 {
					_, got, _, err := get(http.DefaultClient, e.addr, cd.primaryDomain, map[string]string{"Cookie": "x-amz-continuous-deployment-state=" + cookie})
					if err != nil {
						t.Fatal(err)
					}
					if got != variant {
						t.Fatalf("%s served %s to a %s session minted on edge A", e.name, got, variant)
					}
				}
			}
		}
	})

	t.Run("a dead edge delays Deployed no longer than its lease", func(t *testing.T) {
		dead := f.edges[2]
		testutil.Must(t, dead.cmd.Process.Signal(syscall.SIGKILL))
		_ = dead.cmd.Wait()
		killed := time.Now()
		cur, err := f.cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: &cd.primaryID})
		testutil.Must(t, err)
		cur.DistributionConfig.Comment = aws.String("after the kill")
		_, err = f.cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: &cd.primaryID, IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig})
		testutil.Must(t, err)
		for {
			d, err := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.primaryID})
			testutil.Must(t, err)
			if aws.ToString(d.Distribution.Status) == "Deployed" {
				break
			}
			if time.Since(killed) > 2*time.Second+5*time.Second {
				t.Fatalf("still InProgress %v after killing an edge with a 2s lease", time.Since(killed))
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("Deployed %v after the kill (lease 2s)", time.Since(killed))
	})
	live := f.edges[:2]

	t.Run("etcd down: edges serve, API answers 503; back: propagation resumes", func(t *testing.T) {
		stg, err := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
		testutil.Must(t, err)
		testutil.Must(t, f.setPolicy(ctx, cd.policyID, headerPolicy(*stg.Distribution.DomainName, "before")))
		f.waitAll(live, cd.primaryDomain, map[string]string{"aws-cf-cd-test": "before"}, "v2", 10*time.Second)
		f.etcd.Stop()
		restarted := false
		defer func() {
			if !restarted {
				f.etcd.Restart()
			}
		}()
		for _, e := range live {
			for range 20 {
				body, _, resp, err := get(http.DefaultClient, e.addr, cd.primaryDomain, map[string]string{"aws-cf-cd-test": "nope"})
				if err != nil || resp.StatusCode != 200 || body != "v1" {
					t.Fatalf("%s while etcd is down: %q %v %v", e.name, body, resp, err)
				}
			}
		}
		start := time.Now()
		_, err = f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.primaryID})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceUnavailable" {
			t.Errorf("GetDistribution with etcd down: %v; want ServiceUnavailable", err)
		}
		t.Logf("API answered %v after %v with etcd down", err, time.Since(start))
		f.etcd.Restart()
		restarted = true
		stg, err = f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
		for i := 0; err != nil && i < 100; i++ { // the api reconnects
			time.Sleep(100 * time.Millisecond)
			stg, err = f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
		}
		testutil.Must(t, err)
		testutil.Must(t, f.setPolicy(ctx, cd.policyID, headerPolicy(*stg.Distribution.DomainName, "back")))
		f.waitAll(live, cd.primaryDomain, map[string]string{"aws-cf-cd-test": "back"}, "v2", 20*time.Second)
	})

	t.Run("promotion under load across edges: 0 errors", func(t *testing.T) {
		var ok, bad atomic.Int64
		var badSample atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				e := live[w%len(live)]
				for i := 0; i < 5000; i++ { // bounded
					select {
					case <-stop:
						return
					default:
					}
					body, _, resp, err := get(client, e.addr, cd.primaryDomain, nil)
					if err != nil || resp.StatusCode != 200 || !slices.Contains([]string{"v1", "v2"}, body) {
						bad.Add(1)
						badSample.Store(fmt.Sprintf("%s: %q %v %v", e.name, body, resp, err))
						continue
					}
					ok.Add(1)
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		p, err := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.primaryID})
		testutil.Must(t, err)
		s, err := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
		testutil.Must(t, err)
		_, err = f.cf.UpdateDistributionWithStagingConfig(ctx, &cloudfront.UpdateDistributionWithStagingConfigInput{
			Id: &cd.primaryID, StagingDistributionId: &cd.stagingID, IfMatch: aws.String(*p.ETag + "," + *s.ETag)})
		testutil.Must(t, err)
		f.waitAll(live, cd.primaryDomain, nil, "v2", 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		close(stop)
		wg.Wait()
		if bad.Load() != 0 {
			t.Fatalf("%d bad responses of %d (e.g. %v)", bad.Load(), ok.Load()+bad.Load(), badSample.Load())
		}
		t.Logf("%d requests across %d edges during the promotion, 0 errors", ok.Load(), len(live))
	})
}

// BenchmarkFleetPropagation: time from the API's 200 to the moment all three
// edges serve the change, over b.N changes (run with -benchtime=100x).
func BenchmarkFleetPropagation(b *testing.B) {
	f := startFleet(b, 3)
	ctx := context.Background()
	cd := f.setupCD(ctx)
	stg, err := f.cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &cd.stagingID})
	testutil.Must(b, err)
	var samples []time.Duration
	b.ResetTimer()
	for i := range b.N {
		value := fmt.Sprintf("k%d", i)
		testutil.Must(b, f.setPolicy(ctx, cd.policyID, headerPolicy(*stg.Distribution.DomainName, value)))
		samples = append(samples, f.waitAll(f.edges, cd.primaryDomain, map[string]string{"aws-cf-cd-test": value}, "v2", 10*time.Second))
	}
	b.StopTimer()
	slices.Sort(samples)
	pct := func(p float64) time.Duration { return samples[min(len(samples)-1, int(p*float64(len(samples))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
}
