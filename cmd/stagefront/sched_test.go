//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/testutil"
)

// threadSched returns the scheduling policy (sched(7): 0 SCHED_OTHER,
// 3 SCHED_BATCH) and the nice value of every thread of process pid, by
// thread id, from /proc/PID/task/TID/stat (proc(5): fields 19 and 41).
func threadSched(t *testing.T, pid int) map[int][2]int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	entries, err := os.ReadDir(dir)
	testutil.Must(t, err)
	out := make(map[int][2]int, len(entries))
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
		if err != nil {
			continue // the thread has exited
		}
		// The fields after the command name, which may hold spaces: the
		// first of them is field 3.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		nice, err1 := strconv.Atoi(fields[19-3])
		policy, err2 := strconv.Atoi(fields[41-3])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s/stat: %q", e.Name(), b)
		}
		tid, _ := strconv.Atoi(e.Name())
		out[tid] = [2]int{policy, nice}
	}
	return out
}

// TestCPUSched: by default every thread of a serving process, those the Go
// runtime started after the policy was set included, runs under
// SCHED_BATCH, with the nice value the process was started with;
// --cpu-sched normal leaves them under SCHED_OTHER; another value is
// refused before anything starts.
func TestCPUSched(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nice"); err != nil {
		t.Fatal("needs nice(1) (coreutils)")
	}
	bin := buildBinary(t)
	serve := func(extra ...string) (pid int) {
		api, admin, edge := testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)
		args := append([]string{"-n", "5", bin, "serve", "--auth", "none", "--data-dir", t.TempDir(),
			"--api-addr", api, "--admin-addr", admin, "--edge-addr", edge}, extra...)
		cmd := startProc(t, "nice", args...) // nice execs serve: the same pid
		waitHealthy(t, admin, cmd)
		return cmd.Process.Pid
	}
	const schedOther, schedBatch = 0, 3
	for name, c := range map[string]struct {
		args   []string
		policy int
	}{
		"default": {nil, schedBatch},
		"normal":  {[]string{"--cpu-sched", "normal"}, schedOther},
	} {
		pid := serve(c.args...)
		threads := threadSched(t, pid)
		if len(threads) < 4 {
			t.Fatalf("%s: %d threads; a serving process has more", name, len(threads))
		}
		for tid, s := range threads {
			if s != [2]int{c.policy, 5} {
				t.Errorf("%s: thread %d: policy %d, nice %d; want policy %d, nice 5", name, tid, s[0], s[1], c.policy)
			}
		}
	}
	out, err := exec.Command(bin, "serve", "--cpu-sched", "fast", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `--cpu-sched must be batch or normal, not "fast"`) {
		t.Errorf("--cpu-sched fast: %v, %s", err, out)
	}
}

// TestAccessLogBacklogFlag: a negative access log backlog is refused
// before anything starts.
func TestAccessLogBacklogFlag(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "--access-log-backlog-bytes", "-1", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--access-log-backlog-bytes must be 0 or more, not -1") {
		t.Errorf("--access-log-backlog-bytes -1: %v, %s", err, out)
	}
}
