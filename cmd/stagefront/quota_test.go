package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/stagefront/stagefront/internal/testutil"
)

// TestQuotaFlag: `serve --quota aliases=1` lowers CloudFront's default of
// 100 alternate domain names, and a malformed --quota stops the server at
// start instead of running with a quota nobody asked for.
func TestQuotaFlag(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	srv := startServer(t, bin, t.TempDir(), "--quota", "aliases=1", "--quota", "cache-behaviors=30")
	ctx := context.Background()
	cfg := distributionConfig("quota-two-aliases")
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(2), Items: []string{"a.example.com", "b.example.com"}}
	_, err := srv.client().CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: cfg})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "TooManyDistributionCNAMEs" {
		t.Fatalf("two aliases with --quota aliases=1: %v, want TooManyDistributionCNAMEs", err)
	}
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"a.example.com"}}
	if _, err := srv.client().CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: cfg}); err != nil {
		t.Fatalf("one alias: %v", err)
	}

	out, err := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--api-addr", testutil.FreeAddr(t),
		"--edge-addr", testutil.FreeAddr(t), "--admin-addr", testutil.FreeAddr(t), "--quota", "origins=lots").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "origins=lots") {
		t.Errorf("serve --quota origins=lots: %v\n%s", err, out)
	}
}
