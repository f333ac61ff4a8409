package server

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// setBatchScheduling moves every thread of the process that runs under
// SCHED_OTHER to SCHED_BATCH, keeping its nice value, and returns how
// many it moved. It reads /proc/self/task again until a pass finds no
// thread it has not seen, so that a thread the runtime started from a
// thread not yet moved (and so under SCHED_OTHER) is moved too.
func setBatchScheduling() (int, error) {
	seen := make(map[int]bool)
	moved := 0
	for pass := 0; pass < 10; pass++ {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return moved, fmt.Errorf("list threads: %w", err)
		}
		fresh := false
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || seen[tid] {
				continue
			}
			seen[tid], fresh = true, true
			attr, err := unix.SchedGetAttr(tid, 0)
			if errors.Is(err, unix.ESRCH) {
				continue // the thread has exited
			}
			if err != nil {
				return moved, fmt.Errorf("thread %d: sched_getattr: %w", tid, err)
			}
			if attr.Policy != unix.SCHED_NORMAL {
				continue // a policy someone chose: kept
			}
			// The nice value stays as it is. (SCHED_FLAG_KEEP_PARAMS
			// would keep it, but keeps the policy too.)
			batch := unix.SchedAttr{Policy: unix.SCHED_BATCH, Nice: attr.Nice}
			if err := unix.SchedSetAttr(tid, &batch, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				return moved, fmt.Errorf("thread %d: sched_setattr: %w", tid, err)
			}
			moved++
		}
		if !fresh {
			return moved, nil
		}
	}
	return moved, nil
}
