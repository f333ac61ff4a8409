package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// limitedServe is `stagefront serve` in a subprocess started with a low
// RLIMIT_NOFILE.
type limitedServe struct {
	cmd              *exec.Cmd
	api, edge, admin string
	exited           chan struct{}
	exitErr          error
}

// startLimitedServe runs `stagefront serve` (this test binary, see
// TestMain) under `prlimit --nofile=N:N`, on loopback, and waits until it
// serves.
func startLimitedServe(t *testing.T, nofile int, args ...string) *limitedServe {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed to lower the server's descriptor limit: %v", err)
	}
	s := &limitedServe{api: testutil.FreeAddr(t), edge: testutil.FreeAddr(t), admin: testutil.FreeAddr(t), exited: make(chan struct{})}
	n := strconv.Itoa(nofile)
	argv := append([]string{"--nofile=" + n + ":" + n, "--", os.Args[0], "serve", "--data-dir", t.TempDir(),
		"--api-addr", s.api, "--edge-addr", s.edge, "--admin-addr", s.admin, "--log-level", "error"}, args...)
	s.cmd = exec.Command(prlimit, argv...)
	s.cmd.Env = append(os.Environ(), envRunMain+"=1", "STAGEFRONT_ACCESS_KEY_ID="+adminKey, "STAGEFRONT_SECRET_ACCESS_KEY="+adminSecret)
	s.cmd.Stderr = os.Stderr
	testutil.Must(t, s.cmd.Start())
	go func() { s.exitErr = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); <-s.exited })
	testutil.Eventually(t, 15*time.Second, "healthy", func() bool { return s.healthz(t) == http.StatusOK })
	return s
}

// alive fails the test if the server has exited.
func (s *limitedServe) alive(t *testing.T, when string) {
	t.Helper()
	select {
	case <-s.exited:
		t.Fatalf("%s: the server exited: %v", when, s.exitErr)
	default:
	}
}

// healthz is the admin listener's answer (0 when it does not answer).
func (s *limitedServe) healthz(t *testing.T) int {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + s.admin + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (s *limitedServe) cf() *cloudfront.Client {
	return testutil.CloudFront("http://"+s.api, adminKey, adminSecret)
}

// vmHWM is the peak resident set of a process, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	testutil.Must(t, err)
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			testutil.Must(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// dialFrom opens a connection from the loopback address src.
func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return d.Dial("tcp", addr)
}

// roundTrip sends a raw request from src and returns the status (0 when
// the connection was refused or closed without an answer).
func roundTrip(src, addr, request string) int {
	c, err := dialFrom(src, addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestListenersSurviveDescriptorExhaustion: with RLIMIT_NOFILE at 256, a
// flood of half-sent requests on the edge and the API (1,200 connections
// from 20 addresses) neither ends the process nor shuts out the admin
// listener, and once the slow clients are timed out the edge and the API
// serve again. Each listener's caps were lowered to fit the limit.
func TestListenersSurviveDescriptorExhaustion(t *testing.T) {
	t.Parallel()
	s := startLimitedServe(t, 256, "--read-header-timeout", "2s", "--edge-max-conns-per-ip", "20", "--api-max-conns-per-ip", "20")
	edgeGet := "GET / HTTP/1.1\r\nHost: unknown.example\r\nConnection: close\r\n\r\n"
	apiGet := "GET /2020-05-31/distribution HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n"
	if got := roundTrip("127.0.0.2", s.edge, edgeGet); got != http.StatusForbidden {
		t.Fatalf("edge before the flood: %d, want 403", got)
	}

	// The flood: every connection sends part of a header and waits.
	var mu sync.Mutex
	var flood []net.Conn
	var wg sync.WaitGroup
	for i := range 20 {
		src := "127.0.0." + strconv.Itoa(10+i)
		for _, target := range []struct{ addr, partial string }{
			{s.edge, "GET /slow HTTP/1.1\r\nHost: unknown.example\r\n"},
			{s.api, "POST /2020-05-31/distribution HTTP/1.1\r\nHost: api\r\n"},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 30 {
					c, err := dialFrom(src, target.addr)
					if err != nil {
						continue
					}
					_, _ = io.WriteString(c, target.partial)
					mu.Lock()
					flood = append(flood, c)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	t.Logf("flood: %d connections open from the client side", len(flood))

	// During the flood: alive, and the admin listener answers.
	s.alive(t, "during the flood")
	if got := s.healthz(t); got != http.StatusOK {
		t.Fatalf("admin /healthz during the flood: %d, want 200", got)
	}
	// After the header timeout, the slow clients are gone and every
	// listener serves again (the flood's sockets stay open client side).
	testutil.Eventually(t, 8*time.Second, "the edge and the API to serve after the flood", func() bool {
		return roundTrip("127.0.0.2", s.edge, edgeGet) == http.StatusForbidden &&
			roundTrip("127.0.0.2", s.api, apiGet) == http.StatusForbidden
	})
	if _, err := s.cf().ListDistributions(t.Context(), &cloudfront.ListDistributionsInput{}); err != nil {
		t.Fatalf("signed API call after the flood: %v", err)
	}
	s.alive(t, "after the flood")

	metrics := fetchMetrics(t, s.admin)
	for _, want := range []string{`stagefront_listener_connections_refused_total{listener="edge"`, `stagefront_listener_connections_refused_total{listener="api"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func fetchMetrics(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	testutil.Must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	return string(b)
}

// postBody sends a POST with a body of size bytes (zeros) and returns the
// status, or 0 when the server closed the connection before answering.
// The server may answer and close before the body is sent: write errors
// are expected and ignored.
func postBody(addr, host, path string, size int, header string) int {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n%s\r\n", path, host, size, header)
	done := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	chunk := make([]byte, 256<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
			break
		}
	}
	return <-done
}

// TestUnauthenticatedBodiesDoNotGrowMemory: large bodies that no
// distribution serves, API bodies without credentials, and uploads through
// the edge to an origin leave the server's peak resident set where it was
// (before: 16 × 60 MiB to an unknown Host took it past 1 GB).
func TestUnauthenticatedBodiesDoNotGrowMemory(t *testing.T) {
	t.Parallel()
	s := startLimitedServe(t, 4096)
	var originBytes sync.Map
	origin := newUploadOrigin(t, &originBytes)
	u, _ := url.Parse(origin)
	port, _ := strconv.Atoi(u.Port())
	all := []types.Method{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
	out, err := s.cf().CreateDistribution(t.Context(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("uploads"), Comment: aws.String("uploads"), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String(u.Hostname()),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(int32(port)), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId: aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"), // CachingDisabled
			AllowedMethods: &types.AllowedMethods{Quantity: aws.Int32(7), Items: all,
				CachedMethods: &types.CachedMethods{Quantity: aws.Int32(2), Items: []types.Method{"GET", "HEAD"}}},
		},
	}})
	testutil.Must(t, err)
	domain := aws.ToString(out.Distribution.DomainName)
	testutil.Eventually(t, 10*time.Second, "the distribution at the edge", func() bool {
		return roundTrip("127.0.0.1", s.edge, "GET /x HTTP/1.1\r\nHost: "+domain+"\r\nConnection: close\r\n\r\n") == http.StatusOK
	})

	pid := s.cmd.Process.Pid
	before := vmHWM(t, pid)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	run := func(what string, want, n, size int, send func() int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got := send(); got != want {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d, want %d", what, got, want))
					mu.Unlock()
				}
			}()
		}
	}
	const mib = 1 << 20
	run("60 MiB to an unknown Host", http.StatusForbidden, 16, 60*mib, func() int {
		return postBody(s.edge, "nobody.example", "/upload", 60*mib, "")
	})
	run("10 MiB unauthenticated to the API", http.StatusForbidden, 40, 10*mib, func() int {
		return postBody(s.api, "api", "/2020-05-31/distribution", 10*mib, "")
	})
	run("10 MiB with a malformed Authorization to the API", http.StatusForbidden, 10, 10*mib, func() int {
		return postBody(s.api, "api", "/2020-05-31/distribution", 10*mib, "Authorization: AWS4-HMAC-SHA256 nonsense\r\n")
	})
	run("48 MiB uploaded through the edge", http.StatusOK, 3, 48*mib, func() int {
		return postBody(s.edge, domain, "/upload", 48*mib, "")
	})
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	uploaded := 0
	originBytes.Range(func(_, v any) bool { uploaded += v.(int); return true })
	if uploaded != 3*48*mib {
		t.Errorf("the origin received %d bytes of uploads, want %d", uploaded, 3*48*mib)
	}
	after := vmHWM(t, pid)
	t.Logf("VmHWM %d MiB → %d MiB (%d MiB of bodies sent)", before>>20, after>>20, (16*60 + 50*10 + 3*48))
	if grew := after - before; grew > 64*mib {
		t.Errorf("peak RSS grew by %d MiB, want at most 64 MiB", grew>>20)
	}
	s.alive(t, "after the bodies")
}

// newUploadOrigin is an origin that counts the bytes of each upload.
func newUploadOrigin(t *testing.T, received *sync.Map) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testutil.Must(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received.Store(r, int(n))
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "got %d bytes", n)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
