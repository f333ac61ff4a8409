package server

import (
	"log/slog"
	"runtime/debug"
)

// edgeGCPercent is the GC target an edge runs with unless GOGC is set.
const edgeGCPercent = 400

// TuneGC sets the garbage collector for an edge, unless the environment
// (GOGC or GOMEMLIMIT) already did. An edge allocates per request while
// its live heap is mostly the object cache: with Go's default GOGC=100 and
// a small cache, the heap goal is a few MiB and the collector runs dozens
// of times a second under load. GOGC=400 makes a cycle five times rarer;
// the memory limit, twice the cache bound plus 256 MiB, plus what the
// access log may hold (logBacklog), caps what that costs once the cache
// is full (the goal is then the limit, not five times the live heap).
// See the Go GC guide, "Memory limit".
// It returns the settings made, and getenv is os.Getenv.
func TuneGC(cacheBytes, logBacklog int64, getenv func(string) string, log *slog.Logger) (gcPercent int, limit int64, tuned bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	limit = 2*cacheBytes + 256<<20 + logBacklog
	debug.SetGCPercent(edgeGCPercent)
	debug.SetMemoryLimit(limit)
	log.Info("edge garbage collector tuned (set GOGC or GOMEMLIMIT to choose yourself)", "gogc", edgeGCPercent, "memory_limit_bytes", limit)
	return edgeGCPercent, limit, true
}
