package server

import (
	"fmt"
	"log/slog"
)

// CPU scheduling policies for --cpu-sched.
const (
	// CPUSchedBatch runs every thread of the process under Linux's
	// SCHED_BATCH policy (sched(7)): a thread that wakes up (an event
	// loop whose epoll_wait returned, a goroutine's thread) waits for the
	// running task's time slice or the next tick instead of preempting
	// it. The time-sharing itself is unchanged: the same weights, the
	// same nice value, the same share of the CPUs.
	CPUSchedBatch = "batch"
	// CPUSchedNormal leaves the process under the policy it was started
	// with (SCHED_OTHER unless, say, chrt(1) chose another).
	CPUSchedNormal = "normal"
)

// applyCPUSched puts the process's threads under policy (CPUSchedBatch or
// CPUSchedNormal). Only threads under SCHED_OTHER change: a policy an
// operator chose (chrt --idle, a real-time one) is kept, and so is the
// nice value. Threads the Go runtime starts later inherit the policy of
// the thread that creates them.
//
// Why batch: an edge is a few busy threads that each serve many
// connections. A woken thread that preempts whatever runs on its CPU
// cuts short the batch of work that task was doing, and on a machine
// shared with an origin, a log shipper or a load generator, that task
// is then woken again for the next piece: more context switches for
// everyone, less work done per switch. Measured on a 2-core VM with an
// nginx origin and wrk on the same cores, SCHED_BATCH cut the origin's
// involuntary context switches from 0.18 to 0.03 per proxied request,
// and the edge's cache-miss throughput went from 0.80–0.85× nginx
// proxy_pass's to a median of 0.99× (0.83–1.14×, eight runs;
// docs/performance.md). The cost is wake-up
// latency while every CPU is busy: a woken thread waits for the running
// task's slice to end. A thread woken on an idle CPU runs at once, under
// either policy.
func applyCPUSched(policy string, log *slog.Logger) error {
	switch policy {
	case CPUSchedNormal:
		return nil
	case CPUSchedBatch, "":
		threads, err := setBatchScheduling()
		if err != nil {
			// Not fatal: the threads not moved run as with normal.
			log.Warn("--cpu-sched batch: could not move every thread to SCHED_BATCH; the others keep their policy", "moved", threads, "err", err)
			return nil
		}
		if threads > 0 {
			log.Info("threads run under SCHED_BATCH (--cpu-sched normal to keep the policy the process started with)", "threads", threads)
		}
		return nil
	}
	return fmt.Errorf("--cpu-sched must be %s or %s, not %q", CPUSchedBatch, CPUSchedNormal, policy)
}
