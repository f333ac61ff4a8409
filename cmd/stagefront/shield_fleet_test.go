package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// TestOriginShieldFleet runs `stagefront api` and three `stagefront edge`
// processes with --shield-addr on an embedded etcd, and a distribution
// whose origin has Origin Shield enabled: concurrent misses on every edge
// make one origin fetch per object, and when the shield process is killed
// the other edges still serve.
func TestOriginShieldFleet(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	etcd := etcdtest.Start(t)
	var (
		mu      sync.Mutex
		fetches = map[string]int{}
	)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches[r.URL.Path]++
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, "object "+r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	fetchesOf := func(path string) int { mu.Lock(); defer mu.Unlock(); return fetches[path] }

	store := "etcd://" + strings.TrimPrefix(etcd.Endpoint, "http://")
	api, apiAdmin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	apiCmd := startProc(t, bin, "api", "--store", store, "--auth", "none", "--api-addr", api, "--admin-addr", apiAdmin,
		"--data-dir", t.TempDir(), "--log-level", "warn")
	edges := make([]*edgeProc, 3)
	for i := range edges {
		e := &edgeProc{name: fmt.Sprintf("edge-%d", i), addr: testutil.FreeAddr(t), admin: testutil.FreeAddr(t)}
		e.cmd = startProc(t, bin, "edge", "--store", store, "--edge-addr", e.addr, "--admin-addr", e.admin,
			"--shield-addr", testutil.FreeAddr(t), "--data-dir", t.TempDir(), "--node-name", e.name, "--lease-ttl", "2s", "--log-level", "warn")
		edges[i] = e
	}
	waitHealthy(t, apiAdmin, apiCmd)
	for _, e := range edges {
		waitHealthy(t, e.admin, e.cmd)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cf := cloudfront.New(cloudfront.Options{BaseEndpoint: aws.String("http://" + api), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("fleet", "fleet", "")})
	var port int32
	fmt.Sscan(strings.TrimPrefix(origin.URL, "http://127.0.0.1:"), &port)
	out, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("shield"), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(port), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
			OriginShield:       &types.OriginShield{Enabled: aws.Bool(true), OriginShieldRegion: aws.String("us-east-1")},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")}, // CachingOptimized
	}})
	testutil.Must(t, err)
	domain := *out.Distribution.DomainName
	getFrom := func(e *edgeProc, path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.addr+path, nil)
		req.Host = domain
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && (resp.StatusCode != http.StatusOK || string(body) != "object "+path) {
			err = fmt.Errorf("%s %s: %d %q", e.name, path, resp.StatusCode, body)
		}
		return err
	}
	// Every edge serves the distribution once it is deployed (probe paths
	// of their own, fetched by each edge once or through a shield).
	for i, e := range edges {
		testutil.Eventually(t, 20*time.Second, e.name+" to serve the distribution", func() bool { return getFrom(e, fmt.Sprintf("/probe-%d", i)) == nil })
	}
	// And every edge sees the three shields.
	for _, e := range edges {
		testutil.Eventually(t, 10*time.Second, e.name+" to see three shields", func() bool {
			return metricValue(t, e.admin, "stagefront_edge_shield_peers ") == 3
		})
	}

	spreadGets := func(edges []*edgeProc, path string, n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() { errs <- getFrom(edges[i%len(edges)], path) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	spreadGets(edges, "/a.txt", 30)
	if got := fetchesOf("/a.txt"); got != 1 {
		t.Fatalf("origin fetches for 30 concurrent misses over 3 edge processes = %d, want 1", got)
	}

	// Kill the shield of /a.txt (the edge whose shield listener answered)
	// with SIGKILL: no goodbye, its lease still runs for a while.
	var shieldOfA *edgeProc
	for _, e := range edges {
		if shieldAnswers(t, e.admin) > 0 {
			shieldOfA = e
		}
	}
	if shieldOfA == nil {
		t.Fatal("no edge process answered a shield request")
	}
	testutil.Must(t, shieldOfA.cmd.Process.Signal(syscall.SIGKILL))
	_ = shieldOfA.cmd.Wait()
	var live []*edgeProc
	for _, e := range edges {
		if e != shieldOfA {
			live = append(live, e)
		}
	}
	// New objects, a third of them the dead node's to shield: every
	// request is still served, from the origin when the shield is gone.
	for i := range 9 {
		spreadGets(live, fmt.Sprintf("/after-kill/%d", i), 4)
	}
}

// shieldAnswers reads how many shield requests an edge process answered
// with an entry, from its /metrics.
func shieldAnswers(t *testing.T, admin string) float64 {
	t.Helper()
	return metricValue(t, admin, `stagefront_edge_shield_requests_total{outcome="entry",side="shield"}`)
}

// metricValue reads the sample of an edge process's /metrics whose line
// starts with prefix (0 when there is none).
func metricValue(t *testing.T, admin, prefix string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	testutil.Must(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			return v
		}
	}
	return 0
}
