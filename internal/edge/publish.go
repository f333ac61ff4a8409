package edge

import (
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
)

// Publish purges the cached objects the invalidations name, then makes t the
// table every request from now on is served from; in-flight requests finish
// on the table they started with. Publishing the table in use again only
// purges. Calls must not overlap (the config follower makes them one at a
// time).
func (s *Server) Publish(t *routing.Table, invalidations []*model.Invalidation) {
	prev := s.live.Load()
	lt := prev
	if prev == nil || prev.table != t {
		lt = newLiveTable(t, prev)
		s.tlsWarn.check(t)
	}
	// Purge before the swap, for the behaviors of both tables: the batch
	// that carries the invalidation may also have changed them.
	for _, inv := range invalidations {
		s.purge(inv, prev, lt)
	}
	if lt != prev {
		s.live.Store(lt)
	}
}

// purge removes the cached objects an invalidation names: those of every
// cache behavior its distribution has in any of the tables.
func (s *Server) purge(inv *model.Invalidation, tables ...*liveTable) {
	// Recorded once the purge is done: a crash before that applies it
	// again after the restart.
	defer s.recordInvalidation(inv)
	if inv.Batch == nil || inv.Batch.Paths == nil {
		return
	}
	var identities []string
	for _, lt := range tables {
		identities = append(identities, lt.identities(inv.DistributionID)...)
	}
	if len(identities) == 0 {
		return
	}
	n := s.cache.Invalidate(identities, inv.Batch.Paths.Items)
	s.log.Info("invalidation applied", "distribution", inv.DistributionID, "invalidation", inv.ID, "purged", n)
}
