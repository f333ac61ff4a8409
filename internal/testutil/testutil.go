// Package testutil holds the helpers stagefront's tests share: failing on
// an error, a free loopback address, polling for an outcome, building the
// stagefront binary once per test process, the SDK's CloudFront client for
// a test server, a bbolt store in a temporary directory, a log buffer, and
// headless Chromium for the console's browser tests. It is imported only by
// _test.go files (of packages the store does not import, so that it may
// open a bbolt store).
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Must fails the test at once when err is not nil.
func Must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// Eventually polls cond every 20 ms until it holds, and fails the test
// after limit. It is for outcomes of real time (subprocesses, sockets);
// timer logic takes an injected clock instead.
func Eventually(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}

// Builder builds a main package once and hands every caller the same
// binary; Cleanup removes it. A test package keeps one in a variable
// initialized by TestMain.
type Builder struct {
	Package string // import path or directory, as `go build` takes it

	once sync.Once
	dir  string
	bin  string
	err  error
}

// Binary builds the package on first use and returns the binary's path.
func (b *Builder) Binary(tb testing.TB) string {
	tb.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "stagefront-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "bin")
		cmd := exec.Command("go", "build", "-o", b.bin, b.Package)
		cmd.Stderr = os.Stderr
		b.err = cmd.Run()
	})
	if b.err != nil {
		tb.Fatalf("go build %s: %v", b.Package, b.err)
	}
	return b.bin
}

// Cleanup removes the built binary.
func (b *Builder) Cleanup() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// Clock is an injected clock that moves only when a test says so (timers
// such as holds, approval timeouts and session expiry).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
