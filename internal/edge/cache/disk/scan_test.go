package disk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
)

// TestScanResistance: a one-off scan of many objects (a crawler, a batch
// job) larger than the tier does not flush the objects that viewers keep
// asking for. A plain LRU would keep only the scan's tail.
func TestScanResistance(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	const (
		hot      = 40
		capacity = 100 // objects of one 4 KiB block each
		scan     = 1000
	)
	tier := openTier(t, t.TempDir(), capacity*4096, clk.Now)
	body := []byte(strings.Repeat("b", 3000))
	store := func(path string) cache.Key {
		k := key(idA, path)
		tier.Store(k, &cache.Entry{Status: 200, Body: body, StoredAt: clk.Now(), TTL: time.Hour}, clk.Now().Add(time.Hour))
		return k
	}
	// A full tier: the hot objects and others asked for once. (TinyLFU
	// counts frequencies once the cache is half full, as Caffeine does.)
	var hotKeys []cache.Key
	for i := range capacity - hot {
		store(fmt.Sprintf("/once/%d", i))
	}
	for i := range hot {
		hotKeys = append(hotKeys, store(fmt.Sprintf("/hot/%d", i)))
	}
	flush(t, tier)
	// Viewers ask for the hot objects ten times each. The index samples
	// reads through lossy 16-slot buffers; flushing after every few reads
	// lets each one count however few CPUs the test gets (with one, a
	// burst of 400 reads counted as few as a third of them).
	for range 10 {
		for i, k := range hotKeys {
			if _, ok := tier.Load(k, clk.Now()); !ok {
				t.Fatalf("hot object %s missing before the scan", k.PurgePath())
			}
			if i%8 == 7 {
				flush(t, tier)
			}
		}
	}
	for i := range scan {
		store(fmt.Sprintf("/scan/%d", i))
		if i%100 == 99 {
			flush(t, tier) // keep the queue from dropping the scan
		}
	}
	flush(t, tier)
	survived := 0
	for _, k := range hotKeys {
		if _, ok := tier.Load(k, clk.Now()); ok {
			survived++
		}
	}
	st := tier.Stats()
	t.Logf("hot objects kept after a scan of %d: %d/%d; %d objects, %d bytes on disk", scan, survived, hot, st.Entries, st.Bytes)
	if survived < hot*3/4 {
		t.Errorf("only %d of %d hot objects survived the scan; want at least 75%% (an LRU keeps none)", survived, hot)
	}
	if st.Bytes > capacity*4096 {
		t.Errorf("disk bytes %d above the bound %d", st.Bytes, capacity*4096)
	}
}
