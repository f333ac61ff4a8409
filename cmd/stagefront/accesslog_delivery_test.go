package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagefront/stagefront/internal/edge/origin/mototest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// TestAccessLogDelivery: `stagefront serve --access-log-s3-endpoint`
// delivers a distribution's access log files to its Logging bucket on an
// S3 server (moto), with credentials from the standard AWS environment
// variables. A file finished at shutdown waits in --access-log-dir and is
// delivered by the next start.
func TestAccessLogDelivery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	endpoint := mototest.Start(t)
	s3c := s3.New(s3.Options{BaseEndpoint: aws.String(endpoint.String()), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOGDELIVERY01", "log-delivery-secret", "")})
	_, err := s3c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("site-logs")})
	testutil.Must(t, err)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "hello")
	}))
	t.Cleanup(origin.Close)
	u, err := url.Parse(origin.URL)
	testutil.Must(t, err)
	port, err := strconv.Atoi(u.Port())
	testutil.Must(t, err)

	dataDir, logDir := t.TempDir(), t.TempDir()
	start := func() (*serveProc, string) {
		s := &serveProc{api: testutil.FreeAddr(t), adminAddr: testutil.FreeAddr(t)}
		edgeAddr := testutil.FreeAddr(t)
		s.cmd = exec.Command(bin, "serve", "--data-dir", dataDir, "--api-addr", s.api, "--edge-addr", edgeAddr, "--admin-addr", s.adminAddr,
			"--log-level", "warn", "--access-log-dir", logDir, "--access-log-s3-endpoint", endpoint.String())
		s.cmd.Env = append(os.Environ(), "STAGEFRONT_ACCESS_KEY_ID=AKSFTESTKEY0000001", "STAGEFRONT_SECRET_ACCESS_KEY=durability-secret",
			"AWS_ACCESS_KEY_ID=AKIDLOGDELIVERY01", "AWS_SECRET_ACCESS_KEY=log-delivery-secret", "AWS_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
		s.cmd.Stderr = os.Stderr
		testutil.Must(t, s.cmd.Start())
		t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
		testutil.Eventually(t, 15*time.Second, "healthy", func() bool {
			resp, err := http.Get("http://" + s.adminAddr + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return s, edgeAddr
	}
	srv, edgeAddr := start()
	out, err := srv.client().CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("logged"), Comment: aws.String("logged"), Enabled: aws.Bool(true),
		Logging: &types.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("site-logs.s3.amazonaws.com"),
			Prefix: aws.String("edge/"), IncludeCookies: aws.Bool(false)},
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(int32(port)), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
		},
	}})
	testutil.Must(t, err)
	distID, domain := aws.ToString(out.Distribution.Id), aws.ToString(out.Distribution.DomainName)
	// Only the distribution's answers are its log lines: until the edge
	// serves the new distribution its Host is unknown (403, no log line;
	// counting those failed the test whenever the first request came
	// before the edge had the distribution). Each logged request's id is
	// the X-Amz-Cf-Id its viewer got.
	var ids []string
	testutil.Eventually(t, 10*time.Second, "the distribution served", func() bool {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+edgeAddr+"/index.html", nil)
		req.Host = domain
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if id := resp.Header.Get("X-Amz-Cf-Id"); resp.StatusCode == http.StatusOK && id != "" {
			ids = append(ids, id)
		}
		return resp.StatusCode == http.StatusOK
	})
	// A graceful stop finishes the hour's file; this process cannot
	// deliver it any more, so it waits in the directory.
	testutil.Must(t, srv.cmd.Process.Signal(os.Interrupt))
	_ = srv.cmd.Wait()
	var local []string
	_ = filepath.WalkDir(logDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".gz") {
			rel, _ := filepath.Rel(logDir, p)
			local = append(local, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(local) != 1 || !strings.HasPrefix(local[0], "edge/"+distID+".") {
		t.Fatalf("log files after the stop: %v; want one edge/%s.YYYY-MM-DD-HH.<unique>.gz", local, distID)
	}

	start()
	testutil.Eventually(t, 20*time.Second, "the file delivered to s3://site-logs", func() bool {
		_, err := os.Stat(filepath.Join(logDir, filepath.FromSlash(local[0])))
		return os.IsNotExist(err)
	})
	obj, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("site-logs"), Key: aws.String(local[0])})
	testutil.Must(t, err)
	defer obj.Body.Close()
	zr, err := gzip.NewReader(obj.Body)
	testutil.Must(t, err)
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != len(ids)+2 || lines[0] != "#Version: 1.0" || !strings.Contains(lines[len(lines)-1], "\t/index.html\t200\t") {
		t.Fatalf("delivered object %s: %d lines (want %d: the header and one per request), last %q", local[0], len(lines), len(ids)+2, lines[len(lines)-1])
	}
	for i, id := range ids {
		if f := strings.Split(lines[i+2], "\t"); len(f) < 15 || f[14] != id {
			t.Errorf("line %d: %q; want x-edge-request-id %s (the viewer's X-Amz-Cf-Id)", i+3, lines[i+2], id)
		}
	}
}
