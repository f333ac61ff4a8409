//go:build unix

package testutil

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// RefusedAddr returns a loopback address whose connections are refused,
// for as long as the test runs: a TCP socket bound to a port and never
// listening. A port closed after a listen on port 0 would do only until
// someone else listens on it, which the packages tested in parallel do
// (an "origin down" test then reached another test's server).
func RefusedAddr(tb testing.TB) string {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	Must(tb, err)
	tb.Cleanup(func() { _ = syscall.Close(fd) })
	Must(tb, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	Must(tb, err)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
