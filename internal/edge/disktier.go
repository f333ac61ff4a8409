package edge

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/cache/disk"
	"github.com/stagefront/stagefront/internal/model"
)

// diskFlushTimeout bounds how long Close waits for the disk tier's queued
// writes.
const diskFlushTimeout = 10 * time.Second

func closeTier(t *disk.Tier) {
	if t != nil {
		_ = t.Close()
	}
}

// InvalidationApplied tells the config follower, on its first sync,
// whether the stored invalidation under key has reached this edge's
// cache. Without a disk tier the cache starts empty, so every one has;
// with one, those created while the edge was down have not, and the
// follower hands them to Publish like new ones.
func (s *Server) InvalidationApplied(key string) bool {
	return s.disk == nil || s.disk.InvalidationApplied(key)
}

// recordInvalidation notes in the disk tier that inv's purge reached it,
// so that a restart does not apply it again.
func (s *Server) recordInvalidation(inv *model.Invalidation) {
	if s.disk == nil {
		return
	}
	if err := s.disk.RecordInvalidation(model.InvalidationKey(inv.DistributionID, inv.ID)); err != nil {
		s.log.Error("disk cache: invalidation not recorded; it is applied again after a restart", "invalidation", inv.ID, "err", err)
	}
}

// registerDiskMetrics exports the disk tier's counters.
func registerDiskMetrics(reg prometheus.Registerer, t *disk.Tier) error {
	counter := func(name, help string, get func(disk.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(get(t.Stats())) })
	}
	gauge := func(name, help string, get func(disk.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return get(t.Stats()) })
	}
	for _, c := range []prometheus.Collector{
		counter("stagefront_disk_cache_hits_total", "Memory misses answered by the disk cache tier.", func(s disk.Stats) uint64 { return s.Hits }),
		counter("stagefront_disk_cache_misses_total", "Memory misses the disk cache tier did not hold.", func(s disk.Stats) uint64 { return s.Misses }),
		counter("stagefront_disk_cache_writes_total", "Object files written by the disk cache tier.", func(s disk.Stats) uint64 { return s.Writes }),
		counter("stagefront_disk_cache_dropped_total", "Objects not written to disk: the write queue was full or the object too large.", func(s disk.Stats) uint64 { return s.Dropped }),
		counter("stagefront_disk_cache_write_errors_total", "Failed disk cache writes.", func(s disk.Stats) uint64 { return s.WriteErrors }),
		counter("stagefront_disk_cache_corrupt_total", "Damaged or torn object files found and removed.", func(s disk.Stats) uint64 { return s.Corrupt }),
		counter("stagefront_disk_cache_evictions_total", "Objects removed from disk to stay under --cache-disk-bytes.", func(s disk.Stats) uint64 { return s.Evictions }),
		gauge("stagefront_disk_cache_bytes", "Bytes of the disk cache tier's object files (4 KiB blocks).", func(s disk.Stats) float64 { return float64(s.Bytes) }),
		gauge("stagefront_disk_cache_objects", "Objects in the disk cache tier (approximate).", func(s disk.Stats) float64 { return float64(s.Entries) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
