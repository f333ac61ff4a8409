package server

import (
	"log/slog"
	"syscall"
	"time"
)

// Limits bound the connections of every listener: timeouts for slow and
// idle clients, and caps in total and per client address. The defaults
// (DefaultLimits) follow nginx's where it has one: client_header_timeout
// and client_body_timeout 60 s, keepalive_timeout 75 s. A zero field takes
// its default.
type Limits struct {
	ReadHeaderTimeout time.Duration // every listener: a request's header
	IdleTimeout       time.Duration // every listener: between requests on a kept-alive connection
	EdgeReadTimeout   time.Duration // edge: a whole request, header and body
	APIReadTimeout    time.Duration // API: a whole request, header and body
	EdgeMaxConns      int           // edge: connections at once, HTTP and HTTPS together
	EdgeMaxConnsPerIP int           // edge: connections at once from one client address
	APIMaxConns       int
	APIMaxConnsPerIP  int
	AdminMaxConns     int // admin: its own cap, kept out of the others' descriptor budget
}

// DefaultLimits are the limits of a process whose flags say nothing.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       75 * time.Second,
		EdgeReadTimeout:   60 * time.Second,
		APIReadTimeout:    30 * time.Second,
		EdgeMaxConns:      10000,
		EdgeMaxConnsPerIP: 1000,
		APIMaxConns:       512,
		APIMaxConnsPerIP:  64,
		AdminMaxConns:     32,
	}
}

// withDefaults fills the zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setN := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	set(&l.IdleTimeout, d.IdleTimeout)
	set(&l.EdgeReadTimeout, d.EdgeReadTimeout)
	set(&l.APIReadTimeout, d.APIReadTimeout)
	setN(&l.EdgeMaxConns, d.EdgeMaxConns)
	setN(&l.EdgeMaxConnsPerIP, d.EdgeMaxConnsPerIP)
	setN(&l.APIMaxConns, d.APIMaxConns)
	setN(&l.APIMaxConnsPerIP, d.APIMaxConnsPerIP)
	setN(&l.AdminMaxConns, d.AdminMaxConns)
	return l
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
func (l *Limits) fitToFDLimit(nofile uint64, r Roles, log *slog.Logger) {
	avail := int(min(nofile, 1<<30)) - reservedFDs - l.AdminMaxConns
	if avail < 4 {
		avail = 4
	}
	edgeFit, apiFit := avail/2, avail // one role: all of it
	if r.Edge && r.API {
		edgeFit, apiFit = avail/3, avail/3 // edge 2/3 of the descriptors, API 1/3
	}
	lower := func(name string, v *int, fit int) {
		if *v > fit {
			log.Warn("connection cap lowered to fit the descriptor limit", "flag", name, "from", *v, "to", fit, "rlimit_nofile", nofile)
			*v = fit
		}
	}
	if r.Edge {
		lower("--edge-max-conns", &l.EdgeMaxConns, edgeFit)
		l.EdgeMaxConnsPerIP = min(l.EdgeMaxConnsPerIP, l.EdgeMaxConns)
	}
	if r.API {
		lower("--api-max-conns", &l.APIMaxConns, apiFit)
		l.APIMaxConnsPerIP = min(l.APIMaxConnsPerIP, l.APIMaxConns)
	}
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
