package main

import (
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/cli"
	"github.com/stagefront/stagefront/internal/testutil"
)

// releaseServe is a `stagefront serve` subprocess for the SIGKILL test.
type releaseServe struct {
	cmd       *exec.Cmd
	api, edge string
}

func startReleaseServe(t *testing.T, bin, dir string) *releaseServe {
	t.Helper()
	s := &releaseServe{api: testutil.FreeAddr(t), edge: testutil.FreeAddr(t)}
	admin := testutil.FreeAddr(t)
	s.cmd = exec.Command(bin, "serve", "--data-dir", dir, "--api-addr", s.api, "--edge-addr", s.edge, "--admin-addr", admin, "--log-level", "warn")
	s.cmd.Env = append(os.Environ(), "STAGEFRONT_ACCESS_KEY_ID="+adminKey, "STAGEFRONT_SECRET_ACCESS_KEY="+adminSecret)
	s.cmd.Stderr = os.Stderr
	testutil.Must(t, s.cmd.Start())
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	testutil.Eventually(t, 15*time.Second, "healthy", func() bool {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// TestReleaseSurvivesSIGKILL kills `stagefront serve` during a weight hold;
// a new process on the same data dir continues the release from that step.
func TestReleaseSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	origin := versionOrigin(t)
	dir := t.TempDir()
	srv := startReleaseServe(t, bin, dir)
	cf := testutil.CloudFront("http://"+srv.api, adminKey, adminSecret)
	primaryID, domain := createVersionPrimary(t, cf, origin.URL)
	spec, err := release.Parse([]byte(`
name: killed
primary: `+primaryID+`
staging:
  set:
    Origins.Items[Id=web].OriginPath: /v3
steps:
  - weight: {percent: 15, hold: 4s}
  - weight: {percent: 10, hold: 1h}
  - promote
`), "killed.yaml", nil)
	testutil.Must(t, err)
	client, err := cli.NewClient("http://"+srv.api, adminKey, adminSecret)
	testutil.Must(t, err)
	rel, err := client.Start(t.Context(), spec)
	testutil.Must(t, err)
	if rel.State.Step != 0 || rel.State.Phase != release.PhaseProgressing {
		t.Fatalf("after start: step %d %s (%s)", rel.State.Step, rel.State.Phase, rel.State.LastError)
	}
	started := rel.State.StepStarted

	testutil.Must(t, srv.cmd.Process.Signal(syscall.SIGKILL))
	_ = srv.cmd.Wait()
	srv = startReleaseServe(t, bin, dir)
	client, err = cli.NewClient("http://"+srv.api, adminKey, adminSecret)
	testutil.Must(t, err)
	live, err := client.Status(t.Context(), "killed")
	testutil.Must(t, err)
	if live.State.Step > 0 && live.State.StepStarted.Sub(started) < 4*time.Second {
		t.Fatalf("the hold was cut short: step %d began %v after the first", live.State.Step, live.State.StepStarted.Sub(started))
	}
	// The new process goes on from the weight step: staging is served, and
	// after the 4s hold the release moves to the next step.
	testutil.Eventually(t, 10*time.Second, "staging traffic after the restart", func() bool {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+srv.edge+"/index.html", nil)
		req.Host = domain
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body := make([]byte, 8)
		n, _ := resp.Body.Read(body)
		return string(body[:n]) == "v3"
	})
	testutil.Eventually(t, 15*time.Second, "the next step", func() bool {
		live, err := client.Status(t.Context(), "killed")
		return err == nil && live.State.Step == 1 && live.State.Phase == release.PhaseProgressing
	})
}
