package main

import (
	"github.com/stagefront/stagefront/internal/testutil"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestServeEdgeEngines: every edge engine serves a distribution (the second
// request from the cache), and SIGTERM stops serve cleanly (exit status 0).
func TestServeEdgeEngines(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "object "+r.URL.Path)
	}))
	defer origin.Close()
	var port int32
	fmt.Sscan(strings.TrimPrefix(origin.URL, "http://127.0.0.1:"), &port)
	for _, engine := range []string{"nethttp", "fasthttp", "loop"} {
		t.Run(engine, func(t *testing.T) {
			api, admin, edgeAddr := testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)
			cmd := startProc(t, bin, "serve", "--auth", "none", "--data-dir", t.TempDir(), "--api-addr", api,
				"--admin-addr", admin, "--edge-addr", edgeAddr, "--edge-engine", engine)
			waitHealthy(t, admin, cmd)
			out, err := (&serveProc{api: api}).client().CreateDistribution(context.Background(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
				CallerReference: aws.String(engine), Comment: aws.String(""), Enabled: aws.Bool(true),
				Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{Id: aws.String("o"), DomainName: aws.String("127.0.0.1"),
					CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(port), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly}}}},
				DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("o"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
					CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")},
			}})
			testutil.Must(t, err)
			get := func() (int, string, string) {
				req, _ := http.NewRequest(http.MethodGet, "http://"+edgeAddr+"/a.txt", nil)
				req.Host = *out.Distribution.DomainName
				resp, err := http.DefaultClient.Do(req)
				testutil.Must(t, err)
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body), resp.Header.Get("X-Cache")
			}
			deadline := time.Now().Add(10 * time.Second)
			status, body, xcache := get()
			for status == http.StatusForbidden && time.Now().Before(deadline) { // until the edge has it
				time.Sleep(20 * time.Millisecond)
				status, body, xcache = get()
			}
			if status != 200 || body != "object /a.txt" || !strings.HasPrefix(xcache, "Miss") {
				t.Fatalf("first request: %d %q %q; want 200 \"object /a.txt\" Miss", status, body, xcache)
			}
			if status, body, xcache = get(); status != 200 || body != "object /a.txt" || !strings.HasPrefix(xcache, "Hit") {
				t.Fatalf("second request: %d %q %q; want 200 \"object /a.txt\" Hit", status, body, xcache)
			}
			testutil.Must(t, cmd.Process.Signal(syscall.SIGTERM))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve after SIGTERM: %v; want a clean exit", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("serve did not stop within 15s of SIGTERM")
			}
		})
	}
}
