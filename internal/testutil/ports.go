package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
)

// FreeAddr returns a loopback address ("127.0.0.1:PORT") that was free a
// moment ago, for a subprocess to listen on.
//
// The port is picked below the kernel's ephemeral port range
// (net.ipv4.ip_local_port_range). A port the kernel chose for a listen on
// port 0 is in that range, so after it is closed the kernel may hand it
// out again as the source port of an outgoing connection (the tests make
// thousands on loopback), and the subprocess's listen then fails with
// EADDRINUSE. Below the range only another explicit bind can take it. No
// port is handed out twice in one test process.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	handed.Lock()
	defer handed.Unlock()
	if lo := ephemeralLow(); lo-lowestPort >= 1000 {
		for range 200 {
			if p := lowestPort + rand.IntN(lo-lowestPort); !handed.ports[p] {
				if addr, err := bindable(p); err == nil {
					handed.ports[p] = true
					return addr
				}
			}
		}
	}
	// No room below the range (or no /proc): let the kernel choose.
	addr, err := bindable(0)
	Must(tb, err)
	return addr
}

// bindable listens on a loopback port, closes it, and returns its address.
func bindable(port int) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// lowestPort is the bottom of the range FreeAddr picks from, above the
// ports well-known services listen on.
const lowestPort = 10000

var handed = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var lo int
	if _, err := fmt.Sscan(string(b), &lo); err != nil {
		return 0
	}
	return lo
}
