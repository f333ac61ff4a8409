package disk_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/cache/disk"
)

// BenchmarkHit compares a memory hit (GetOrFetch) with a disk-tier hit
// (the Tier's Load, which a memory miss calls) of a 1 KiB and a 64 KiB
// object: the disk case reads and checks the whole object file (from the
// page cache) on every lookup.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := strings.Repeat("x", size)
		k := key(idA, "/obj")
		var calls atomic.Int32
		fetch := countingFetch(&calls, body, time.Hour)

		b.Run(fmt.Sprintf("memory/%dKiB", size>>10), func(b *testing.B) {
			c := newCache(b, nil, 64<<20, nil)
			if _, _, err := c.GetOrFetch(b.Context(), k, fetch); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, hit, _ := c.GetOrFetch(b.Context(), k, fetch); !hit {
					b.Fatal("miss")
				}
			}
		})
		b.Run(fmt.Sprintf("disk/%dKiB", size>>10), func(b *testing.B) {
			tier := openTier(b, b.TempDir(), 64<<20, nil)
			c := newCache(b, tier, 64<<20, nil)
			if _, _, err := c.GetOrFetch(b.Context(), k, fetch); err != nil {
				b.Fatal(err)
			}
			flush(b, tier)
			b.ReportAllocs()
			for b.Loop() {
				if e, ok := tier.Load(k, time.Now()); !ok || len(e.Body) != size {
					b.Fatal("disk miss")
				}
			}
		})
	}
}

// BenchmarkRestartToFirstHit measures how long a restarted edge takes from
// opening a cache directory of 2000 objects (16 MiB) to its first Hit
// (ns/op): the start indexes every file's metadata.
func BenchmarkRestartToFirstHit(b *testing.B) {
	const objects = 2000
	dir := b.TempDir()
	tier := openTier(b, dir, 1<<30, nil)
	c := newCache(b, tier, 1<<30, nil)
	var calls atomic.Int32
	body := strings.Repeat("y", 8<<10)
	for i := range objects {
		if _, _, err := c.GetOrFetch(b.Context(), key(idA, fmt.Sprintf("/o/%d", i)), countingFetch(&calls, body, time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	flush(b, tier)
	c.Close()
	_ = tier.Close()
	first := key(idA, "/o/0")
	for b.Loop() {
		// Opened and closed here, not with the helpers, whose clean-ups
		// would keep every iteration's caches until the end.
		tier, err := disk.Open(b.Context(), disk.Config{Dir: dir, MaxBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		c, err := cache.New(cache.Config{MaxBytes: 1 << 30, Tier: tier})
		if err != nil {
			b.Fatal(err)
		}
		if _, hit, err := c.GetOrFetch(b.Context(), first, countingFetch(&calls, "origin", time.Hour)); err != nil || !hit {
			b.Fatalf("first request after the restart: hit %v err %v", hit, err)
		}
		c.Close()
		_ = tier.Close()
	}
}
