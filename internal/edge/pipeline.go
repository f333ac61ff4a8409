package edge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/store"
)

// state is the edge's copy of the store under model.Root, kept current by
// the watch. Only the pipeline goroutine touches it.
type state struct {
	dists        map[string]routing.DistributionRecord
	policies     map[string]routing.PolicyRecord
	stickyKey    []byte
	invalidation map[string]bool // keys of invalidations already applied
	oacs         map[string]*model.OriginAccessControl
	cachePols    map[string]routing.CustomPolicyRecord[cloudfront.CachePolicyConfig]
	orPols       map[string]routing.CustomPolicyRecord[cloudfront.OriginRequestPolicyConfig]
	rhPols       map[string]routing.CustomPolicyRecord[cloudfront.ResponseHeadersPolicyConfig]
}

func newState() *state {
	return &state{
		dists:        map[string]routing.DistributionRecord{},
		policies:     map[string]routing.PolicyRecord{},
		invalidation: map[string]bool{},
		oacs:         map[string]*model.OriginAccessControl{},
		cachePols:    map[string]routing.CustomPolicyRecord[cloudfront.CachePolicyConfig]{},
		orPols:       map[string]routing.CustomPolicyRecord[cloudfront.OriginRequestPolicyConfig]{},
		rhPols:       map[string]routing.CustomPolicyRecord[cloudfront.ResponseHeadersPolicyConfig]{},
	}
}

// apply folds one store change into the state. It returns the invalidation
// the change created, if any, so the caller can purge before publishing.
func (st *state) apply(ev store.Event) (*model.Invalidation, error) {
	key := ev.KV.Key
	del := ev.Type == store.EventDelete
	switch {
	case strings.HasPrefix(key, model.DistributionPrefix):
		if del {
			delete(st.dists, key)
			return nil, nil
		}
		d, err := model.Decode[model.Distribution](ev.KV.Value)
		if err != nil {
			// Keep the key with no config: the compiler reports it and
			// keeps the distribution's last good entry, on a resync too
			// (skipping the record there would drop the distribution).
			d = &model.Distribution{ID: strings.TrimPrefix(key, model.DistributionPrefix)}
		}
		st.dists[key] = routing.DistributionRecord{Distribution: d, ModRevision: ev.KV.ModRevision}
		return nil, err
	case strings.HasPrefix(key, model.OACPrefix):
		if del {
			delete(st.oacs, key)
			return nil, nil
		}
		o, err := model.Decode[model.OriginAccessControl](ev.KV.Value)
		if err != nil {
			return nil, err
		}
		st.oacs[key] = o
	case strings.HasPrefix(key, model.PolicyPrefix):
		if del {
			delete(st.policies, key)
			return nil, nil
		}
		p, err := model.Decode[model.Policy](ev.KV.Value)
		if err != nil {
			// As above: the compiler reports the primary's policy as invalid.
			p = &model.Policy{ID: strings.TrimPrefix(key, model.PolicyPrefix)}
		}
		st.policies[key] = routing.PolicyRecord{Policy: p, ModRevision: ev.KV.ModRevision}
		return nil, err
	case strings.HasPrefix(key, model.CachePolicyPrefix):
		return nil, applyCustomPolicy(st.cachePols, model.CachePolicyPrefix, ev, del)
	case strings.HasPrefix(key, model.OriginRequestPolicyPrefix):
		return nil, applyCustomPolicy(st.orPols, model.OriginRequestPolicyPrefix, ev, del)
	case strings.HasPrefix(key, model.ResponseHeadersPolicyPrefix):
		return nil, applyCustomPolicy(st.rhPols, model.ResponseHeadersPolicyPrefix, ev, del)
	case key == model.StickyKeyKey:
		if !del {
			st.stickyKey = append([]byte(nil), ev.KV.Value...)
		}
	case strings.HasPrefix(key, model.InvalidationPrefix):
		if del {
			delete(st.invalidation, key)
			return nil, nil
		}
		if st.invalidation[key] {
			return nil, nil
		}
		st.invalidation[key] = true
		return model.Decode[model.Invalidation](ev.KV.Value)
	}
	return nil, nil
}

func (st *state) snapshot(rev int64) routing.Snapshot {
	snap := routing.Snapshot{Revision: rev, StickyKey: st.stickyKey}
	for _, o := range st.oacs {
		snap.OACs = append(snap.OACs, o)
	}
	for _, d := range st.dists {
		snap.Distributions = append(snap.Distributions, d)
	}
	for _, p := range st.policies {
		snap.Policies = append(snap.Policies, p)
	}
	for _, p := range st.cachePols {
		snap.CachePolicies = append(snap.CachePolicies, p)
	}
	for _, p := range st.orPols {
		snap.OriginRequestPolicies = append(snap.OriginRequestPolicies, p)
	}
	for _, p := range st.rhPols {
		snap.ResponseHeadersPolicies = append(snap.ResponseHeadersPolicies, p)
	}
	return snap
}

// applyCustomPolicy folds a change to a custom policy into m. An
// undecodable record stays as a policy without config: the distributions
// naming it fail to compile and keep their last good entry.
func applyCustomPolicy[C any](m map[string]routing.CustomPolicyRecord[C], prefix string, ev store.Event, del bool) error {
	if del {
		delete(m, ev.KV.Key)
		return nil
	}
	p, err := model.Decode[model.CustomPolicy[C]](ev.KV.Value)
	if err != nil {
		p = &model.CustomPolicy[C]{ID: strings.TrimPrefix(ev.KV.Key, prefix)}
	}
	m[ev.KV.Key] = routing.CustomPolicyRecord[C]{Policy: p, ModRevision: ev.KV.ModRevision}
	return err
}

// Run follows the store until ctx ends: list, compile, publish, then watch
// from the next revision. When the store fails (or the watch is compacted)
// the edge keeps serving its last table and resyncs with backoff.
func (s *Server) Run(ctx context.Context) error {
	const firstBackoff = 100 * time.Millisecond
	backoff := firstBackoff
	for {
		synced, err := s.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if synced {
			// The store was reachable: this is a new outage, not the
			// next failure of the last one.
			backoff = firstBackoff
		}
		s.log.Warn("config watch interrupted; serving the last table and resyncing", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// pendingPurge is an invalidation to apply before the next swap.
type pendingPurge struct {
	key string
	inv *model.Invalidation
}

// follow lists the config, publishes it and follows the watch until it
// fails. synced reports whether the list succeeded (and a table was
// published from it).
func (s *Server) follow(ctx context.Context) (synced bool, err error) {
	kvs, rev, err := s.store.List(ctx, model.Root)
	if err != nil {
		return false, fmt.Errorf("list config: %w", err)
	}
	st := newState()
	first := s.live.Load() == nil
	var pending []pendingPurge
	// The applied set is rebuilt from the invalidations that still exist.
	applied := make(map[string]bool, len(s.appliedInvalidations))
	for _, kv := range kvs {
		inv, err := st.apply(store.Event{Type: store.EventPut, KV: kv})
		if err != nil {
			s.log.Error("undecodable record", "key", kv.Key, "err", err)
			continue
		}
		if inv == nil {
			continue
		}
		// On a resync, invalidations this edge has not applied yet still
		// need their purge; on the first start the cache is empty.
		if first || s.appliedInvalidations[kv.Key] {
			applied[kv.Key] = true
		} else {
			pending = append(pending, pendingPurge{kv.Key, inv})
		}
	}
	s.appliedInvalidations = applied
	s.publish(st, rev, pending)
	watch := s.store.Watch(ctx, model.Root, rev+1)
	for resp := range watch {
		if resp.Err != nil {
			return true, resp.Err
		}
		last := resp.Revision
		pending = pending[:0]
		batch := []store.WatchResponse{resp}
		// Fold every response already waiting into one compile.
	drain:
		for {
			select {
			case more, ok := <-watch:
				if !ok {
					break drain
				}
				if more.Err != nil {
					return true, more.Err
				}
				batch = append(batch, more)
				last = more.Revision
			default:
				break drain
			}
		}
		for _, r := range batch {
			for _, ev := range r.Events {
				inv, err := st.apply(ev)
				if err != nil {
					s.log.Error("undecodable record", "key", ev.KV.Key, "err", err)
					continue
				}
				if inv != nil {
					pending = append(pending, pendingPurge{ev.KV.Key, inv})
				}
				if ev.Type == store.EventDelete {
					delete(s.appliedInvalidations, ev.KV.Key)
				}
			}
		}
		s.publish(st, last, pending)
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	return true, errors.New("config watch closed")
}

// publish purges for new invalidations, compiles and swaps the table, and
// only then reports the revision as served: "Deployed" and "Completed" mean
// every request from now on sees the change.
func (s *Server) publish(st *state, rev int64, invalidations []pendingPurge) {
	start := time.Now()
	prevLive := s.live.Load()
	var prev *routing.Table
	if prevLive != nil {
		prev = prevLive.table
	}
	table, errs := routing.Compile(prev, st.snapshot(rev))
	for _, e := range errs {
		s.log.Error("distribution config did not compile; keeping its last good entry",
			"distribution", e.DistributionID, "policy", e.PolicyID, "revision", e.Revision, "err", e.Err)
		s.metrics.compileErrors.WithLabelValues(e.DistributionID).Inc()
	}
	s.tlsWarn.check(table)
	lt := newLiveTable(table, prevLive)
	// Purge before the swap, for the behaviors of both tables: the batch
	// that carries the invalidation may also have changed them.
	for _, p := range invalidations {
		s.purge(p.inv, prevLive, lt)
	}
	s.live.Store(lt)
	for _, p := range invalidations {
		s.appliedInvalidations[p.key] = true
	}
	s.served.Store(rev)
	s.metrics.tableRevision.Set(float64(rev))
	s.metrics.swapSeconds.Observe(time.Since(start).Seconds())
	s.notifyServed()
}

// purge removes the cached objects an invalidation names: those of every
// cache behavior its distribution has in any of the tables.
func (s *Server) purge(inv *model.Invalidation, tables ...*liveTable) {
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

// ServedRevision is the store revision of the table in use.
func (s *Server) ServedRevision() int64 { return s.served.Load() }

// Deployed implements control.Deployment for a single-node deployment: a
// revision is deployed once this edge serves it.
func (s *Server) Deployed(_ context.Context, rev int64) bool { return s.served.Load() >= rev }

// WaitServed blocks until the edge serves rev or ctx ends.
func (s *Server) WaitServed(ctx context.Context, rev int64) error {
	for {
		s.servedMu.Lock()
		ch := s.servedCh
		s.servedMu.Unlock()
		if s.served.Load() >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (s *Server) notifyServed() {
	s.servedMu.Lock()
	close(s.servedCh)
	s.servedCh = make(chan struct{})
	s.servedMu.Unlock()
}
