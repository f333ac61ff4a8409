package main

import (
	"github.com/stagefront/stagefront/internal/testutil"

	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

type serveProc struct {
	cmd            *exec.Cmd
	api, adminAddr string
}

func startServer(t *testing.T, bin, dataDir string, extraArgs ...string) *serveProc {
	t.Helper()
	s := &serveProc{api: testutil.FreeAddr(t), adminAddr: testutil.FreeAddr(t)}
	args := []string{"serve", "--data-dir", dataDir, "--api-addr", s.api, "--edge-addr", testutil.FreeAddr(t), "--admin-addr", s.adminAddr}
	s.cmd = exec.Command(bin, append(args, extraArgs...)...)
	s.cmd.Env = append(os.Environ(), "STAGEFRONT_ACCESS_KEY_ID=AKSFTESTKEY0000001", "STAGEFRONT_SECRET_ACCESS_KEY=durability-secret")
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become healthy")
	return nil
}

func (s *serveProc) client() *cloudfront.Client {
	return testutil.CloudFront("http://"+s.api, "AKSFTESTKEY0000001", "durability-secret")
}

func distributionConfig(ref string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("durability"),
		Enabled:         aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(8081), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
		},
	}
}

// TestDurabilityAfterSIGKILL: every write the API acknowledged survives a
// SIGKILL of the server, sent right after the last acknowledgement.
func TestDurabilityAfterSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	srv := startServer(t, bin, dataDir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const n = 40
	acked := map[string]string{} // id → etag
	cf := srv.client()
	for i := range n {
		out, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: distributionConfig(fmt.Sprintf("ref-%d", i))})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		acked[*out.Distribution.Id] = *out.ETag
	}
	// Also an update, so the last acknowledged write is a modification.
	var lastID string
	for id := range acked {
		lastID = id
		break
	}
	got, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: &lastID})
	if err != nil {
		t.Fatal(err)
	}
	cfg := got.DistributionConfig
	cfg.Comment = aws.String("updated before the kill")
	upd, err := cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: &lastID, IfMatch: got.ETag, DistributionConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	acked[lastID] = *upd.ETag

	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()

	srv2 := startServer(t, bin, dataDir)
	cf2 := srv2.client()
	for id, etag := range acked {
		out, err := cf2.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
		if err != nil {
			t.Fatalf("after restart, distribution %s: %v", id, err)
		}
		if *out.ETag != etag {
			t.Errorf("distribution %s: ETag %s after restart, want the acknowledged %s", id, *out.ETag, etag)
		}
	}
	final, err := cf2.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: &lastID})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(final.DistributionConfig.Comment), "updated before the kill"; got != want {
		t.Errorf("comment after restart = %q, want %q", got, want)
	}
	list, err := cf2.ListDistributions(ctx, &cloudfront.ListDistributionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := int(aws.ToInt32(list.DistributionList.Quantity)); got != n {
		t.Errorf("listed %d distributions after restart, want %d", got, n)
	}
}
