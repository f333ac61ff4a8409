package main

import (
	"log/slog"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// limitFlags bound the connections of every listener: timeouts for slow
// and idle clients, and caps in total and per client address. The
// defaults follow nginx's (client_header_timeout and client_body_timeout
// 60 s, keepalive_timeout 75 s) where it has one.
type limitFlags struct {
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	edgeReadTimeout   time.Duration
	apiReadTimeout    time.Duration
	edgeMaxConns      int
	edgeMaxConnsPerIP int
	apiMaxConns       int
	apiMaxConnsPerIP  int
	adminMaxConns     int
}

func (l *limitFlags) register(fl *pflag.FlagSet, r roles) {
	fl.DurationVar(&l.readHeaderTimeout, "read-header-timeout", 10*time.Second, "every listener: time a client has to send a request's header")
	fl.DurationVar(&l.idleTimeout, "idle-timeout", 75*time.Second, "every listener: time a kept-alive connection may wait for its next request")
	fl.IntVar(&l.adminMaxConns, "admin-max-conns", 32, "admin listener: connections at once (its own, so that an operator reaches it when the others are full)")
	if r.edge {
		fl.DurationVar(&l.edgeReadTimeout, "edge-read-timeout", 60*time.Second, "edge: time to read a whole viewer request, header and body")
		fl.IntVar(&l.edgeMaxConns, "edge-max-conns", 10000, "edge: viewer connections at once, HTTP and HTTPS together (lowered to fit RLIMIT_NOFILE)")
		fl.IntVar(&l.edgeMaxConnsPerIP, "edge-max-conns-per-ip", 1000, "edge: viewer connections at once from one client address")
	}
	if r.api {
		fl.DurationVar(&l.apiReadTimeout, "api-read-timeout", 30*time.Second, "API: time to read a whole request, header and body")
		fl.IntVar(&l.apiMaxConns, "api-max-conns", 512, "API: connections at once (lowered to fit RLIMIT_NOFILE)")
		fl.IntVar(&l.apiMaxConnsPerIP, "api-max-conns-per-ip", 64, "API: connections at once from one client address")
	}
}

// reservedFDs are the descriptors kept out of the connection caps for
// everything else the process opens: the store, its log and snapshot
// files, etcd client connections, origin connections beyond one per
// viewer, the listeners themselves.
const reservedFDs = 64

// fitToFDLimit lowers the edge and API caps so that, all connections open,
// the process stays under its descriptor limit (nofile): the admin
// listener and reservedFDs are kept out, an edge connection counts twice
// (its viewer and its origin connection), an API connection once. Without
// this, a flood of connections runs the process out of descriptors and
// every listener, admin included, stops accepting.
func (l *limitFlags) fitToFDLimit(nofile uint64, r roles, log *slog.Logger) {
	avail := int(min(nofile, 1<<30)) - reservedFDs - l.adminMaxConns
	if avail < 4 {
		avail = 4
	}
	edgeFit, apiFit := avail/2, avail // one role: all of it
	if r.edge && r.api {
		edgeFit, apiFit = avail/3, avail/3 // edge 2/3 of the descriptors, API 1/3
	}
	lower := func(name string, v *int, fit int) {
		if *v <= 0 || *v > fit {
			log.Warn("connection cap lowered to fit the descriptor limit", "flag", name, "from", *v, "to", fit, "rlimit_nofile", nofile)
			*v = fit
		}
	}
	if r.edge {
		lower("--edge-max-conns", &l.edgeMaxConns, edgeFit)
		l.edgeMaxConnsPerIP = clampPerIP(l.edgeMaxConnsPerIP, l.edgeMaxConns)
	}
	if r.api {
		lower("--api-max-conns", &l.apiMaxConns, apiFit)
		l.apiMaxConnsPerIP = clampPerIP(l.apiMaxConnsPerIP, l.apiMaxConns)
	}
}

func clampPerIP(perIP, total int) int {
	if perIP <= 0 || perIP > total {
		return total
	}
	return perIP
}

// fdLimit is the process's soft RLIMIT_NOFILE (Go raises it to the hard
// limit at start), or a large number when it cannot be read.
func fdLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1 << 20
	}
	return rl.Cur
}
