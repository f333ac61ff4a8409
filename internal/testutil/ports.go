package testutil

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
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
	if handed.ports == nil {
		handed.ports = map[int]bool{}
	}
	if lo := ephemeralLow(); lo-lowestPort >= 1000 {
		for range 200 {
			p := lowestPort + rand.IntN(lo-lowestPort)
			if handed.ports[p] {
				continue
			}
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				continue // in use
			}
			ln.Close()
			handed.ports[p] = true
			return ln.Addr().String()
		}
	}
	// No room below the range (or no /proc): let the kernel choose.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(tb, err)
	defer ln.Close()
	return ln.Addr().String()
}

// lowestPort is the bottom of the range FreeAddr picks from, above the
// ports well-known services listen on.
const lowestPort = 10000

var handed struct {
	sync.Mutex
	ports map[int]bool
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return lo
}
