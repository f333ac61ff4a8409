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

// TestRefusedAddr: connections to the address are refused, and nobody can
// listen on it while the test holds it.
func TestRefusedAddr(t *testing.T) {
	addr := RefusedAddr(t)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded, want refused", addr)
	}
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("listen on %s succeeded while it is held", addr)
	}
}
