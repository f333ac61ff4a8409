package accesslog_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
)

// files returns the names of the files under dir: hidden .partial ones
// being written, .gz ones finished.
func files(t *testing.T, dir string) (partial, finished []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".partial"):
			partial = append(partial, p)
		case strings.HasSuffix(p, ".gz"):
			finished = append(finished, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return partial, finished
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
	}
}

func lineCount(t *testing.T, dir string) int {
	n := 0
	for _, lines := range readLog(t, dir) {
		n += len(lines) - 2
	}
	return n
}

// TestWriterDefersWhileBusy: while the CPUs are busy the Writer holds its
// batches, formatting and compressing nothing (no file is even opened);
// once they are not, it writes them, and nothing is lost.
func TestWriterDefersWhileBusy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Now()
	var busy atomic.Bool
	busy.Store(true)
	var asked atomic.Int64
	w, err := accesslog.New(accesslog.Config{Dir: dir, BatchBytes: 4 << 10, Now: func() time.Time { return at },
		Busy: func() bool { asked.Add(1); return busy.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := range n {
		w.Log(sample(i, at))
	}
	// Full batches reach the writer at once, the last one within a
	// second (its tick); it asks again every 50ms.
	waitFor(t, "the writer asked whether the CPUs are busy", func() bool { return asked.Load() >= 10 })
	time.Sleep(1100 * time.Millisecond)
	if partial, finished := files(t, dir); len(partial)+len(finished) != 0 {
		t.Fatalf("files %q %q while busy: the writer did not defer", partial, finished)
	}
	busy.Store(false)
	waitFor(t, "a file once the CPUs are idle", func() bool { p, _ := files(t, dir); return len(p) > 0 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lineCount(t, dir); got != n || w.Dropped() != 0 {
		t.Fatalf("%d lines written, %d dropped, want %d and 0", got, w.Dropped(), n)
	}
}

// TestWriterBacklogBound: however busy the CPUs, the Writer holds no more
// than its backlog; beyond it, it writes.
func TestWriterBacklogBound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Now()
	w, err := accesslog.New(accesslog.Config{Dir: dir, BatchBytes: 1 << 10, Backlog: 16 << 10,
		Now: func() time.Time { return at }, Busy: func() bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		w.Log(sample(i, at))
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // let the writer keep up
		}
	}
	waitFor(t, "a file with the CPUs always busy", func() bool { p, _ := files(t, dir); return len(p) > 0 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lineCount(t, dir); int64(got)+w.Dropped() != n || got == 0 {
		t.Fatalf("%d lines written + %d dropped, want %d", got, w.Dropped(), n)
	}
}

// TestWriterPastHourIsDue: lines of an hour that has ended are written,
// and their file finished, however busy the CPUs: the file is due.
func TestWriterPastHourIsDue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Date(2026, 12, 7, 13, 59, 59, 0, time.UTC)
	var now atomic.Int64
	now.Store(at.UnixNano())
	w, err := accesslog.New(accesslog.Config{Dir: dir, Now: func() time.Time { return time.Unix(0, now.Load()) },
		Busy: func() bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		w.Log(sample(i, at))
	}
	time.Sleep(1100 * time.Millisecond) // a tick: the lines are held
	if partial, finished := files(t, dir); len(partial)+len(finished) != 0 {
		t.Fatalf("files %q %q in the lines' own hour, while busy", partial, finished)
	}
	now.Store(at.Add(2 * time.Second).UnixNano()) // 14:00:01
	waitFor(t, "the past hour's file finished", func() bool { _, f := files(t, dir); return len(f) == 1 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lineCount(t, dir); got != 10 {
		t.Fatalf("%d lines, want 10", got)
	}
}

// TestShardsLoseNothing: goroutines logging at once, each in its own
// shard or sharing one, get every line written exactly once, each with
// its own fields.
func TestShardsLoseNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Now()
	// Small batches, many of them: a queue that never fills.
	w, err := accesslog.New(accesslog.Config{Dir: dir, BatchBytes: 2 << 10, Queue: 4096, Now: func() time.Time { return at },
		Busy: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 500
	ids := make(chan string, goroutines*each)
	done := make(chan struct{})
	for g := range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				r := sample(i, at)
				r.Shard = uint32(g % 5) // some share a shard
				r.URIStem = "/g" + string(rune('a'+g))
				ids <- r.RequestID + " " + r.URIStem
				w.Log(r)
			}
		}()
	}
	for range goroutines {
		<-done
	}
	close(ids)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	seen := map[string]bool{}
	for _, lines := range readLog(t, dir) {
		for _, l := range lines[2:] {
			f := strings.Split(l, "\t")
			key := f[14] + " " + f[7] // x-edge-request-id, cs-uri-stem
			if !want[key] || seen[key] {
				t.Fatalf("line %q: not logged, or twice", key)
			}
			seen[key] = true
		}
	}
	if len(seen) != goroutines*each || w.Dropped() != 0 {
		t.Fatalf("%d lines, %d dropped; want %d and none", len(seen), w.Dropped(), goroutines*each)
	}
}
