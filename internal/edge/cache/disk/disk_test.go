package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/cache/disk"
)

type origin struct{ Host, Path string }

var (
	idA = cache.IdentityOf(origin{"a.example.com", "/v1"}, nil)
	idB = cache.IdentityOf(origin{"b.example.com", "/v1"}, nil)
)

func key(id cache.Identity, path string) cache.Key { return cache.NewKeyBuilder(id, path).Key() }

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

func openTier(t testing.TB, dir string, maxBytes int64, now func() time.Time) *disk.Tier {
	t.Helper()
	tier, err := disk.Open(t.Context(), disk.Config{Dir: dir, MaxBytes: maxBytes, Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tier.Close() })
	return tier
}

func newCache(t testing.TB, tier *disk.Tier, memBytes int64, now func() time.Time) *cache.Cache {
	t.Helper()
	cfg := cache.Config{MaxBytes: memBytes, Now: now}
	if tier != nil {
		cfg.Tier = tier
	}
	c, err := cache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// countingFetch returns body for path with ttl, and counts its calls.
func countingFetch(calls *atomic.Int32, body string, ttl time.Duration) cache.FetchFunc {
	return func(context.Context) (*cache.Entry, error) {
		calls.Add(1)
		return &cache.Entry{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}, "Etag": {`"v1"`}},
			Body: []byte(body), TTL: ttl}, nil
	}
}

func flush(t testing.TB, tier *disk.Tier) {
	t.Helper()
	if err := tier.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRestartServesFromDisk(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	dir := t.TempDir()
	tier := openTier(t, dir, 1<<20, clk.Now)
	c := newCache(t, tier, 1<<20, clk.Now)
	var calls atomic.Int32
	k := key(idA, "/a.txt")
	if _, hit, err := c.GetOrFetch(t.Context(), k, countingFetch(&calls, "hello", time.Hour)); err != nil || hit {
		t.Fatalf("first GetOrFetch: hit %v err %v; want a miss", hit, err)
	}
	flush(t, tier)
	c.Close()
	if err := tier.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Advance(10 * time.Minute)
	tier2 := openTier(t, dir, 1<<20, clk.Now)
	c2 := newCache(t, tier2, 1<<20, clk.Now)
	e, hit, err := c2.GetOrFetch(t.Context(), k, countingFetch(&calls, "refetched", time.Hour))
	if err != nil || !hit || string(e.Body) != "hello" || calls.Load() != 1 {
		t.Fatalf("after restart: hit %v body %q fetches %d err %v; want a hit on %q and 1 fetch", hit, e.Body, calls.Load(), err, "hello")
	}
	if got := e.Header.Get("Etag"); got != `"v1"` {
		t.Errorf("header after restart: ETag %q, want %q", got, `"v1"`)
	}
	if e.Age(clk.Now()) != 600 {
		t.Errorf("age after restart = %d s; want 600 (the stored time survives)", e.Age(clk.Now()))
	}
	// Now in memory: the next lookup is a memory hit, no disk read.
	before := tier2.Stats().Hits
	if _, ok := c2.Get(k); !ok || tier2.Stats().Hits != before {
		t.Errorf("second lookup: ok %v, disk hits %d -> %d; want a memory hit", ok, before, tier2.Stats().Hits)
	}
	// Another identity (another config) never gets the object.
	if _, hit, _ := c2.GetOrFetch(t.Context(), key(idB, "/a.txt"), countingFetch(&calls, "b", time.Hour)); hit {
		t.Error("another identity's key was a hit")
	}
	// Expired on disk: not fresh, so fetched.
	clk.Advance(2 * time.Hour)
	if _, hit, _ := c2.GetOrFetch(t.Context(), key(idA, "/a.txt"), countingFetch(&calls, "new", time.Hour)); hit {
		t.Error("expired object was a hit")
	}
}

// TestBeyondMemoryBound: objects evicted from a small memory cache are
// still served from disk, without an origin fetch.
func TestBeyondMemoryBound(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	tier := openTier(t, t.TempDir(), 8<<20, clk.Now)
	c := newCache(t, tier, 64<<10, clk.Now) // room for a few 4 KiB objects
	var calls atomic.Int32
	body := strings.Repeat("x", 4000)
	const n = 100
	for i := range n {
		if _, _, err := c.GetOrFetch(t.Context(), key(idA, fmt.Sprintf("/%d", i)), countingFetch(&calls, body, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, tier)
	for i := range n {
		e, hit, err := c.GetOrFetch(t.Context(), key(idA, fmt.Sprintf("/%d", i)), countingFetch(&calls, "other", time.Hour))
		if err != nil || !hit || string(e.Body) != body {
			t.Fatalf("object %d: hit %v err %v; want a hit with its body", i, hit, err)
		}
	}
	if calls.Load() != n {
		t.Errorf("%d origin fetches; want %d (one per object)", calls.Load(), n)
	}
	if tier.Stats().Hits == 0 {
		t.Error("no disk hits; the memory cache cannot hold all objects")
	}
}

func objectFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDamagedFilesNeverServed damages an object file in each way a crash
// or a disk can: every one is a miss and is removed, never served.
func TestDamagedFilesNeverServed(t *testing.T) {
	t.Parallel()
	damages := map[string]func([]byte) []byte{
		"truncated body":   func(b []byte) []byte { return b[:len(b)-10] },
		"truncated header": func(b []byte) []byte { return b[:12] },
		"empty":            func([]byte) []byte { return nil },
		"flipped body bit": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"flipped meta bit": func(b []byte) []byte { b[30] ^= 0x20; return b },
		"zeroed tail":      func(b []byte) []byte { clear(b[len(b)/2:]); return b },
		"extra bytes":      func(b []byte) []byte { return append(b, "junk"...) },
	}
	for name, damage := range damages {
		for _, restart := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/restart=%v", name, restart), func(t *testing.T) {
				t.Parallel()
				clk := newFakeClock()
				dir := t.TempDir()
				tier := openTier(t, dir, 1<<20, clk.Now)
				c := newCache(t, tier, 1<<20, clk.Now)
				var calls atomic.Int32
				k := key(idA, "/obj")
				if _, _, err := c.GetOrFetch(t.Context(), k, countingFetch(&calls, strings.Repeat("body", 100), time.Hour)); err != nil {
					t.Fatal(err)
				}
				flush(t, tier)
				files := objectFiles(t, dir)
				if len(files) != 1 {
					t.Fatalf("%d object files; want 1", len(files))
				}
				data, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(files[0], damage(data), 0o600); err != nil {
					t.Fatal(err)
				}
				if restart {
					c.Close()
					_ = tier.Close()
					tier = openTier(t, dir, 1<<20, clk.Now)
				}
				if e, ok := tier.Load(k, clk.Now()); ok {
					t.Fatalf("damaged file served: %q", e.Body)
				}
				if _, err := os.Stat(files[0]); err == nil {
					t.Error("damaged file still on disk")
				}
				if tier.Stats().Corrupt != 1 {
					t.Errorf("corrupt count %d; want 1", tier.Stats().Corrupt)
				}
			})
		}
	}
}

func TestInterruptedWritesRemovedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tier := openTier(t, dir, 1<<20, nil)
	_ = tier.Close()
	leftover := filepath.Join(dir, "tmp", "abc.partial")
	if err := os.WriteFile(leftover, []byte("SFD1 half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	openTier(t, dir, 1<<20, nil)
	if _, err := os.Stat(leftover); err == nil {
		t.Error("a partial write in tmp/ survived the start")
	}
}

func TestPurgeReachesDisk(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	dir := t.TempDir()
	tier := openTier(t, dir, 1<<20, clk.Now)
	c := newCache(t, tier, 1<<20, clk.Now)
	var calls atomic.Int32
	for _, p := range []string{"/img/a.png", "/img/b.png", "/css/site.css"} {
		if _, _, err := c.GetOrFetch(t.Context(), key(idA, p), countingFetch(&calls, p, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, tier)
	if n := c.Invalidate([]string{idA.String()}, []string{"/img/*"}); n != 4 { // 2 in memory + 2 on disk
		t.Errorf("Invalidate removed %d; want 4", n)
	}
	if got := len(objectFiles(t, dir)); got != 1 {
		t.Errorf("%d object files after the purge; want 1", got)
	}
	for p, want := range map[string]bool{"/img/a.png": false, "/css/site.css": true} {
		if _, ok := tier.Load(key(idA, p), clk.Now()); ok != want {
			t.Errorf("disk Load(%s) = %v; want %v", p, ok, want)
		}
	}
	// After a restart too.
	c.Close()
	_ = tier.Close()
	tier = openTier(t, dir, 1<<20, clk.Now)
	if _, ok := tier.Load(key(idA, "/img/b.png"), clk.Now()); ok {
		t.Error("purged object back after a restart")
	}
}

// TestPurgeDropsQueuedWrites: an entry handed to the tier before a purge
// and not yet written is never written.
func TestPurgeDropsQueuedWrites(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	tier := openTier(t, t.TempDir(), 64<<20, clk.Now)
	body := bytes.Repeat([]byte("z"), 256<<10)
	var keys []cache.Key
	for i := range 64 {
		k := key(idA, fmt.Sprintf("/q/%d", i))
		keys = append(keys, k)
		tier.Store(k, &cache.Entry{Status: 200, Body: body, StoredAt: clk.Now(), TTL: time.Hour}, clk.Now().Add(time.Hour))
	}
	tier.Purge(func(string, string) bool { return true })
	flush(t, tier)
	for _, k := range keys {
		if _, ok := tier.Load(k, clk.Now()); ok {
			t.Fatalf("%s written after the purge", k.PurgePath())
		}
	}
}

func TestInvalidationLogSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tier := openTier(t, dir, 1<<20, nil)
	if err := tier.RecordInvalidation("config/invalidations/E1/I1"); err != nil {
		t.Fatal(err)
	}
	_ = tier.Close()
	// A crash while appending cuts the last line: that one is not applied.
	f, err := os.OpenFile(filepath.Join(dir, "invalidations"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("config/invalidations/E1/I2")
	_ = f.Close()
	tier = openTier(t, dir, 1<<20, nil)
	for id, want := range map[string]bool{"config/invalidations/E1/I1": true, "config/invalidations/E1/I2": false, "x": false} {
		if got := tier.InvalidationApplied(id); got != want {
			t.Errorf("InvalidationApplied(%q) = %v; want %v", id, got, want)
		}
	}
	if err := tier.RecordInvalidation("config/invalidations/E1/I3"); err != nil {
		t.Fatal(err)
	}
	_ = tier.Close()
	tier = openTier(t, dir, 1<<20, nil)
	if !tier.InvalidationApplied("config/invalidations/E1/I3") || tier.InvalidationApplied("config/invalidations/E1/I2") {
		t.Error("the log lost a record or kept a cut line")
	}
}
