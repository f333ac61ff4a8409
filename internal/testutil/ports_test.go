package testutil

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeAddrBelowEphemeralRange: FreeAddr's ports are listenable, below
// the kernel's ephemeral range (where an outgoing connection could take
// them before the subprocess listens), and never repeated.
func TestFreeAddrBelowEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	if lo-lowestPort < 1000 {
		t.Fatalf("ephemeral range starts at %d: no room below it on this machine", lo)
	}
	seen := map[string]bool{}
	for range 50 {
		addr := FreeAddr(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		_, port, err := net.SplitHostPort(addr)
		Must(t, err)
		p, err := strconv.Atoi(port)
		Must(t, err)
		if p < lowestPort || p >= lo {
			t.Fatalf("port %d outside [%d, %d)", p, lowestPort, lo)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		ln.Close()
	}
}
