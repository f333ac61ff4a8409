package accesslog

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuPressure tells whether tasks are waiting for a CPU, from Linux's
// pressure stall information (PSI, https://docs.kernel.org/accounting/psi.html):
// the "some" line's total is the time, in microseconds, during which at
// least one task was runnable and not running. Over a short window, that
// time's share of the window is how contended the CPUs are; while it is
// high, work the Writer can put off would only take CPU from serving.
//
// It reads the process's own cgroup's cpu.pressure when the cgroup v2
// hierarchy has one (a container's CPU limit counts there, not in the
// machine's figure), else the machine's /proc/pressure/cpu.
type cpuPressure struct {
	path string
	// at and total are the last reading; busy its verdict.
	at    time.Time
	total uint64
	busy  bool
}

// pressureWindow is the shortest window busy measures over; a verdict is
// kept that long.
const pressureWindow = 50 * time.Millisecond

// busyShare is the share of a window with a task waiting for a CPU above
// which the CPUs count as busy.
const busyShare = 0.10

// newCPUPressure returns nil where the kernel reports no CPU pressure
// (not Linux, or PSI turned off).
func newCPUPressure() *cpuPressure {
	var paths []string
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if rel, ok := bytes.CutPrefix(line, []byte("0::")); ok {
				paths = append(paths, filepath.Join("/sys/fs/cgroup", string(rel), "cpu.pressure"))
			}
		}
	}
	paths = append(paths, "/proc/pressure/cpu")
	for _, path := range paths {
		if total, err := readPressure(path); err == nil {
			return &cpuPressure{path: path, at: time.Now(), total: total}
		}
	}
	return nil
}

// Busy reports whether tasks waited for a CPU for more than busyShare of
// the time since the last reading, reading again at most once a
// pressureWindow.
func (p *cpuPressure) Busy() bool {
	now := time.Now()
	d := now.Sub(p.at)
	if d < pressureWindow {
		return p.busy
	}
	total, err := readPressure(p.path)
	if err != nil {
		p.busy = false // no figure: do the work now
		return false
	}
	p.busy = float64(total-p.total) > busyShare*float64(d.Microseconds())
	p.at, p.total = now, total
	return p.busy
}

var errNoPressure = errors.New("no CPU pressure figure")

// readPressure returns the "some" total of a PSI file.
func readPressure(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf [256]byte
	n, err := f.Read(buf[:])
	if n == 0 {
		return 0, errors.Join(errNoPressure, err)
	}
	return parsePressure(buf[:n])
}

// parsePressure returns the total of the "some" line of PSI text such as
// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0".
func parsePressure(b []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 0 || string(fields[0]) != "some" {
			continue
		}
		for _, f := range fields[1:] {
			if v, ok := bytes.CutPrefix(f, []byte("total=")); ok {
				return strconv.ParseUint(string(v), 10, 64)
			}
		}
	}
	return 0, errNoPressure
}
