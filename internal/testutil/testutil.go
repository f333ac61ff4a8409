// Package testutil holds the helpers stagefront's tests share: failing on
// an error, a free loopback address, polling for an outcome, and building
// the stagefront binary once per test process. It is imported only by
// _test.go files.
package testutil

import (
	"net"
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

// FreeAddr returns a loopback address ("127.0.0.1:PORT") that was free a
// moment ago, for a subprocess to listen on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(tb, err)
	defer ln.Close()
	return ln.Addr().String()
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
