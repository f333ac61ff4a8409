package edge_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/testutil"
)

func diskObjects(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(dir, "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestDiskTierScanResistance over HTTP: with a memory cache too small for
// any of the objects, every Hit comes from the disk tier. A scan of 1000
// objects asked for once, ten times the tier's room, leaves the objects
// viewers keep asking for on disk: they are still Hits, without an origin
// fetch. An invalidation then reaches the disk: the purged object is a
// Miss, the others still Hits.
func TestDiskTierScanResistance(t *testing.T) {
	t.Parallel()
	const (
		capacity = 100 // objects of one 4 KiB block each
		hot      = 40
		scan     = 1000
	)
	dir := t.TempDir()
	h := newHarness(t, harnessOptions{tables: true, cacheBytes: 16 << 10, cacheDir: dir, cacheDiskBytes: capacity * 4096})
	body := strings.Repeat("s", 3000) // above the memory cache's per-object bound (2 KiB)
	o := h.newTestOrigin("scan.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		fmt.Fprint(w, body)
	})
	d := h.createDistribution(customOriginConfig("scan", o.host, "", cachingOptimized))
	h.waitServed()

	miss := func(path string) {
		t.Helper()
		if r := h.get(d.domain, path, nil); r.status != 200 || r.body != body {
			t.Fatalf("GET %s: %d", path, r.status)
		}
	}
	// Fill the tier: objects asked for once, then the popular ones.
	for i := range capacity - hot {
		miss(fmt.Sprintf("/once/%d", i))
	}
	for i := range hot {
		miss(fmt.Sprintf("/hot/%d", i))
	}
	testutil.Eventually(t, 10*time.Second, "the objects written to disk", func() bool { return diskObjects(t, dir) >= capacity-2 })
	for round := range 10 {
		for i := range hot {
			r := h.get(d.domain, fmt.Sprintf("/hot/%d", i), nil)
			if round > 0 && !strings.HasPrefix(r.header.Get("X-Cache"), "Hit") {
				t.Fatalf("popular object %d before the scan: %s; want a Hit from disk", i, r.header.Get("X-Cache"))
			}
		}
	}
	for i := range scan {
		miss(fmt.Sprintf("/scan/%d", i))
		if i%100 == 99 {
			// Let the writer keep up, so the scan reaches the disk
			// instead of being dropped from a full write queue.
			want := float64(capacity + i + 1)
			testutil.Eventually(t, 10*time.Second, "the scan written", func() bool {
				return counterValue(t, h, "stagefront_disk_cache_writes_total", nil)+
					counterValue(t, h, "stagefront_disk_cache_dropped_total", nil) >= want
			})
		}
	}
	if w := counterValue(t, h, "stagefront_disk_cache_writes_total", nil); w < capacity+scan/2 {
		t.Fatalf("only %v objects written to disk; the scan did not reach it", w)
	}
	fetches := o.hits.Load()
	hits := 0
	for i := range hot {
		if r := h.get(d.domain, fmt.Sprintf("/hot/%d", i), nil); strings.HasPrefix(r.header.Get("X-Cache"), "Hit") {
			hits++
		}
	}
	t.Logf("popular objects still Hits after a scan of %d: %d/%d (origin fetches %d)", scan, hits, hot, o.hits.Load()-fetches)
	if hits < hot*3/4 {
		t.Errorf("%d of %d popular objects were Hits after the scan; want at least 75%% (an LRU keeps none)", hits, hot)
	}
	// Evicted files are removed in the background, just after the index
	// lets them go.
	testutil.Eventually(t, 5*time.Second, fmt.Sprintf("at most %d object files", capacity), func() bool {
		return diskObjects(t, dir) <= capacity
	})

	// An invalidation reaches the disk.
	h.invalidate(d.id, "purge-hot-1", "/hot/1")
	if r := h.get(d.domain, "/hot/1", nil); !strings.HasPrefix(r.header.Get("X-Cache"), "Miss") {
		t.Errorf("invalidated object: %s; want a Miss", r.header.Get("X-Cache"))
	}
}
