package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// cacheServe is `stagefront serve --cache-dir` as a subprocess.
type cacheServe struct {
	*serveProc
	edge string
}

func startCacheServe(t *testing.T, bin, dataDir, cacheDir string) *cacheServe {
	t.Helper()
	edge := testutil.FreeAddr(t)
	s := startServer(t, bin, dataDir, "--edge-addr", edge, "--cache-dir", cacheDir, "--cache-disk-bytes", "16777216", "--log-level", "warn")
	return &cacheServe{serveProc: s, edge: edge}
}

func (s *cacheServe) kill(t *testing.T) {
	t.Helper()
	testutil.Must(t, s.cmd.Process.Signal(syscall.SIGKILL))
	_ = s.cmd.Wait()
}

// get fetches path from the edge for domain: the body and X-Cache.
func (s *cacheServe) get(t *testing.T, domain, path string) (status int, body, xcache string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+s.edge+path, nil)
	testutil.Must(t, err)
	req.Host = domain
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("X-Cache")
}

func countObjectFiles(t *testing.T, cacheDir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(cacheDir, "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestDiskCacheSurvivesRestart: an edge killed with SIGKILL and started
// again on the same --cache-dir answers Hits without an origin fetch; an
// invalidation created while that edge was down is applied when it starts,
// so the object it names is fetched again.
func TestDiskCacheSurvivesRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	var version atomic.Value
	version.Store("v1")
	var fetches atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s", version.Load(), r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	u, err := url.Parse(origin.URL)
	testutil.Must(t, err)
	port, err := strconv.Atoi(u.Port())
	testutil.Must(t, err)

	dataDir, cacheDir := t.TempDir(), t.TempDir()
	srv := startCacheServe(t, bin, dataDir, cacheDir)
	out, err := srv.client().CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("disk-cache"), Comment: aws.String("disk cache"), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(int32(port)), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"), // CachingOptimized
		},
	}})
	testutil.Must(t, err)
	distID, domain := aws.ToString(out.Distribution.Id), aws.ToString(out.Distribution.DomainName)

	testutil.Eventually(t, 10*time.Second, "the distribution served", func() bool {
		status, _, _ := srv.get(t, domain, "/warmup")
		return status == http.StatusOK
	})
	paths := []string{"/a.txt", "/b.txt", "/img/c.png"}
	for _, p := range paths {
		if status, body, xcache := srv.get(t, domain, p); status != 200 || body != "v1 "+p || !strings.HasPrefix(xcache, "Miss") {
			t.Fatalf("GET %s: %d %q %q; want a 200 Miss with v1", p, status, body, xcache)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the objects written to disk", func() bool {
		return countObjectFiles(t, cacheDir) == len(paths)+1
	})
	before := fetches.Load()
	srv.kill(t)

	// Restarted on the same cache dir: Hits, no origin fetch.
	srv = startCacheServe(t, bin, dataDir, cacheDir)
	for _, p := range paths {
		status, body, xcache := srv.get(t, domain, p)
		if status != 200 || body != "v1 "+p || !strings.HasPrefix(xcache, "Hit") {
			t.Errorf("after SIGKILL and restart, GET %s: %d %q %q; want a 200 Hit with v1", p, status, body, xcache)
		}
	}
	if got := fetches.Load(); got != before {
		t.Errorf("origin fetches after the restart: %d; want none", got-before)
	}
	srv.kill(t)

	// While this edge is down, another process (on another cache dir)
	// takes an invalidation of /a.txt and /img/*, and the origin changes.
	other := startCacheServe(t, bin, dataDir, t.TempDir())
	inv, err := other.client().CreateInvalidation(t.Context(), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(distID),
		InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String("while-down"),
			Paths: &types.Paths{Quantity: aws.Int32(2), Items: []string{"/a.txt", "/img/*"}}}})
	testutil.Must(t, err)
	testutil.Eventually(t, 10*time.Second, "the invalidation completed", func() bool {
		got, err := other.client().GetInvalidation(t.Context(), &cloudfront.GetInvalidationInput{DistributionId: aws.String(distID), Id: inv.Invalidation.Id})
		return err == nil && aws.ToString(got.Invalidation.Status) == "Completed"
	})
	other.kill(t)
	version.Store("v2")

	srv = startCacheServe(t, bin, dataDir, cacheDir)
	for p, want := range map[string]string{"/a.txt": "v2 /a.txt", "/img/c.png": "v2 /img/c.png", "/b.txt": "v1 /b.txt"} {
		if status, body, xcache := srv.get(t, domain, p); status != 200 || body != want {
			t.Errorf("after an invalidation made while the edge was down, GET %s: %d %q %q; want %q", p, status, body, xcache, want)
		}
	}
	// A graceful stop and start does not apply the invalidation again:
	// the objects fetched after it are Hits.
	testutil.Must(t, srv.cmd.Process.Signal(os.Interrupt))
	_ = srv.cmd.Wait()
	srv = startCacheServe(t, bin, dataDir, cacheDir)
	if _, body, xcache := srv.get(t, domain, "/a.txt"); body != "v2 /a.txt" || !strings.HasPrefix(xcache, "Hit") {
		t.Errorf("after a second restart, GET /a.txt: %q %q; want a Hit with v2", body, xcache)
	}
}

// bigBody is the origin's body for path: 128–1024 KiB, different for
// every path, so a torn or mixed-up object cannot pass for another.
func bigBody(path string) []byte {
	n := 0
	for _, c := range path {
		n = n*31 + int(c)
	}
	size := 128<<10 + (n%8)*(128<<10)
	return bytes.Repeat([]byte(path+";"), size/(len(path)+1)+1)[:size]
}

// TestDiskCacheSIGKILLMidWrite kills `stagefront serve --cache-dir` with
// SIGKILL while viewers fill its cache with large objects (so writes are
// in progress), and starts it again on the same directory: every answer is
// the object's own whole body, and the objects written before the kill
// are Hits.
func TestDiskCacheSIGKILLMidWrite(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(bigBody(r.URL.Path))
	}))
	t.Cleanup(origin.Close)
	u, err := url.Parse(origin.URL)
	testutil.Must(t, err)
	port, err := strconv.Atoi(u.Port())
	testutil.Must(t, err)

	dataDir, cacheDir := t.TempDir(), t.TempDir()
	srv := startCacheServe(t, bin, dataDir, cacheDir)
	out, err := srv.client().CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("disk-kill"), Comment: aws.String("disk cache kill"), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(int32(port)), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"), // CachingOptimized
		},
	}})
	testutil.Must(t, err)
	domain := aws.ToString(out.Distribution.DomainName)
	testutil.Eventually(t, 10*time.Second, "the distribution served", func() bool {
		status, _, _ := srv.get(t, domain, "/warmup")
		return status == http.StatusOK
	})

	// Four viewers ask for new objects until the kill (at most 400).
	var next atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > 400 {
					return
				}
				if status, _, _ := srv.get(t, domain, fmt.Sprintf("/obj/%d", i)); status == 0 {
					return // killed
				}
			}
		})
	}
	testutil.Eventually(t, 20*time.Second, "objects written to disk", func() bool {
		return countObjectFiles(t, cacheDir) >= 10
	})
	time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
	srv.kill(t)
	wg.Wait()
	written := countObjectFiles(t, cacheDir) - 1 // /warmup
	asked := min(int(next.Load()), 400)

	srv = startCacheServe(t, bin, dataDir, cacheDir)
	hits := 0
	for i := 1; i <= asked; i++ {
		path := fmt.Sprintf("/obj/%d", i)
		status, body, xcache := srv.get(t, domain, path)
		if status != http.StatusOK || body != string(bigBody(path)) {
			t.Fatalf("after the kill, GET %s: %d, %d bytes (%s); want its own %d-byte body", path, status, len(body), xcache, len(bigBody(path)))
		}
		if strings.HasPrefix(xcache, "Hit") {
			hits++
		}
	}
	t.Logf("%d objects asked before the kill, %d files on disk, %d Hits after the restart", asked, written, hits)
	if hits < written {
		t.Errorf("%d Hits after the restart; want at least the %d objects written before the kill", hits, written)
	}
}
