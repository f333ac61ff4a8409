package server

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	log := slog.New(slog.DiscardHandler)
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	percent, limit, tuned := TuneGC(64<<20, 0, env(nil), log)
	if !tuned || percent != 400 || limit != 384<<20 {
		t.Fatalf("TuneGC(64 MiB) = %d, %d, %v; want 400, 384 MiB, true", percent, limit, tuned)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GC percent after TuneGC = %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 384<<20 {
		t.Errorf("memory limit after TuneGC = %d, want %d", got, 384<<20)
	}

	// What the access log may hold counts on top.
	if _, limit, _ := TuneGC(64<<20, 256<<20, env(nil), log); limit != 640<<20 {
		t.Errorf("TuneGC(64 MiB, access log backlog 256 MiB): limit %d, want 640 MiB", limit)
	}
	debug.SetGCPercent(100)

	debug.SetMemoryLimit(math.MaxInt64)
	for _, vars := range []map[string]string{{"GOGC": "50"}, {"GOMEMLIMIT": "1GiB"}} {
		if _, _, tuned := TuneGC(64<<20, 0, env(vars), log); tuned {
			t.Errorf("TuneGC with %v tuned the collector; the environment's choice must stand", vars)
		}
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("with %v: GC percent = %d, want it left at 100", vars, got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("with %v: memory limit = %d, want it left unset", vars, got)
		}
	}
}
