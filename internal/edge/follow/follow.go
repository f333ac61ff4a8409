package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/store"
)

// Publisher serves the tables the follower compiles.
type Publisher interface {
	// Publish purges the cached objects the invalidations name, then makes
	// t the table every request from now on is served from. t may be the
	// table already published, with invalidations to apply.
	Publish(t *routing.Table, invalidations []*model.Invalidation)
}

// Store is what the follower reads of the store.
type Store interface {
	List(ctx context.Context, prefix string) ([]store.KV, int64, error)
	Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.WatchResponse
}

// Options configure a Follower.
type Options struct {
	Store     Store
	Publisher Publisher
	Logger    *slog.Logger
	Registry  prometheus.Registerer
	// HTTPS says the edge has an HTTPS listener; the watermark reports an
	// edge without one (model.Watermark.WithoutTLS), so the control plane
	// can warn about behaviors that need TLS.
	HTTPS bool
}

// Follower keeps a Publisher's table current with the store.
type Follower struct {
	st      Store
	pub     Publisher
	log     *slog.Logger
	metrics *metrics

	// table is the last table compiled; only the Run goroutine touches it.
	table *routing.Table
	// appliedInvalidations holds the keys of the stored invalidations this
	// edge has purged for, so a resync purges only for the others. Only
	// the Run goroutine touches it.
	appliedInvalidations map[string]bool

	watermark atomic.Pointer[model.Watermark]
	servedMu  sync.Mutex
	servedCh  chan struct{}
}

// New returns a Follower; Run starts it.
func New(opts Options) (*Follower, error) {
	if opts.Store == nil || opts.Publisher == nil {
		return nil, errors.New("follow: Store and Publisher are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	f := &Follower{
		st: opts.Store, pub: opts.Publisher, log: opts.Logger, metrics: m,
		appliedInvalidations: map[string]bool{},
		servedCh:             make(chan struct{}),
	}
	wm := &model.Watermark{}
	if !opts.HTTPS {
		wm.WithoutTLS = 1
	}
	f.watermark.Store(wm)
	return f, nil
}

// Run follows the store until ctx ends: list, compile, publish, then watch
// from the next revision. When the store fails (or the watch is compacted)
// the edge keeps serving its last table and resyncs with backoff.
func (f *Follower) Run(ctx context.Context) error {
	const firstBackoff = 100 * time.Millisecond
	backoff := firstBackoff
	for {
		synced, err := f.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if synced {
			// The store was reachable: this is a new outage, not the
			// next failure of the last one.
			backoff = firstBackoff
		}
		f.log.Warn("config watch interrupted; serving the last table and resyncing", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// PersistentPublisher is a Publisher whose cache outlives the process
// (the edge with a disk tier). On the first sync, the stored invalidations
// it has not applied (created while it was down) are handed to Publish
// like new ones; a plain Publisher starts with an empty cache and needs
// none of them.
type PersistentPublisher interface {
	Publisher
	// InvalidationApplied reports whether the invalidation stored under
	// key reached the cache, in this process or an earlier one.
	InvalidationApplied(key string) bool
}

// appliedBefore reports whether, on the first sync, the invalidation under
// key needs no purge.
func (f *Follower) appliedBefore(key string) bool {
	p, ok := f.pub.(PersistentPublisher)
	return !ok || p.InvalidationApplied(key)
}

// pendingPurge is an invalidation to apply before the next swap.
type pendingPurge struct {
	key string
	inv *model.Invalidation
}

// follow lists the config, publishes it and follows the watch until it
// fails. synced reports whether the list succeeded (and a table was
// published from it).
func (f *Follower) follow(ctx context.Context) (synced bool, err error) {
	kvs, rev, err := f.st.List(ctx, model.Root)
	if err != nil {
		return false, fmt.Errorf("list config: %w", err)
	}
	st := newState()
	first := f.table == nil
	var pending []pendingPurge
	// The applied set is rebuilt from the invalidations that still exist.
	applied := make(map[string]bool, len(f.appliedInvalidations))
	for _, kv := range kvs {
		inv, _, err := st.apply(store.Event{Type: store.EventPut, KV: kv})
		if err != nil {
			f.log.Error("undecodable record", "key", kv.Key, "err", err)
			continue
		}
		if inv == nil {
			continue
		}
		// On a resync, invalidations this edge has not applied yet still
		// need their purge; on the first start the cache is empty, unless
		// it kept objects across the restart (a disk tier).
		if (first && f.appliedBefore(kv.Key)) || f.appliedInvalidations[kv.Key] {
			applied[kv.Key] = true
		} else {
			pending = append(pending, pendingPurge{kv.Key, inv})
		}
	}
	f.appliedInvalidations = applied
	f.publish(st, rev, true, pending)
	watch := f.st.Watch(ctx, model.Root, rev+1)
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
		changed := false
		for _, r := range batch {
			for _, ev := range r.Events {
				inv, ch, err := st.apply(ev)
				changed = changed || ch
				if err != nil {
					f.log.Error("undecodable record", "key", ev.KV.Key, "err", err)
					continue
				}
				if inv != nil {
					pending = append(pending, pendingPurge{ev.KV.Key, inv})
				}
				if ev.Type == store.EventDelete {
					delete(f.appliedInvalidations, ev.KV.Key)
				}
			}
		}
		f.publish(st, last, changed, pending)
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	return true, errors.New("config watch closed")
}

// publish compiles the state when it changed what the table holds (a batch
// of tags or index keys recompiles nothing), hands the table and the new
// invalidations to the Publisher, and only then moves the watermark to rev:
// "Deployed" and "Completed" mean every request from now on sees the change.
func (f *Follower) publish(st *state, rev int64, changed bool, invalidations []pendingPurge) {
	start := time.Now()
	wm := *f.watermark.Load()
	if changed || f.table == nil {
		table, errs := routing.Compile(f.table, st.snapshot(rev))
		f.table = table
		wm.Failing, wm.Reasons = f.report(errs)
	}
	invs := make([]*model.Invalidation, len(invalidations))
	for i, p := range invalidations {
		invs[i] = p.inv
	}
	if changed || len(invs) > 0 {
		f.pub.Publish(f.table, invs)
	}
	for _, p := range invalidations {
		f.appliedInvalidations[p.key] = true
	}
	wm.Revision = rev
	f.watermark.Store(&wm)
	f.metrics.tableRevision.Set(float64(rev))
	f.metrics.swapSeconds.Observe(time.Since(start).Seconds())
	f.notifyServed()
}

// report logs and counts the compile errors of a new table, and returns the
// distributions whose own record failed, with why (a policy error leaves the
// primary serving its config, without or with a degraded CD decision, so it
// does not hold the distribution InProgress).
func (f *Follower) report(errs []routing.CompileError) (failing map[string]int64, reasons map[string]string) {
	f.metrics.failing.Reset()
	for _, e := range errs {
		f.log.Error("distribution config did not compile; keeping its last good entry",
			"distribution", e.DistributionID, "policy", e.PolicyID, "revision", e.Revision, "err", e.Err)
		f.metrics.compileErrors.WithLabelValues(e.DistributionID).Inc()
		f.metrics.failing.WithLabelValues(e.DistributionID, e.PolicyID, reason(e.Err)).Set(float64(e.Revision))
		if e.PolicyID != "" {
			continue
		}
		if failing == nil {
			failing, reasons = map[string]int64{}, map[string]string{}
		}
		if prev, seen := failing[e.DistributionID]; !seen || e.Revision > prev {
			failing[e.DistributionID] = e.Revision
			reasons[e.DistributionID] = reason(e.Err)
		}
	}
	return failing, reasons
}

// reason bounds an error's text for a metric label.
func reason(err error) string {
	const maxReason = 200
	s := err.Error()
	if len(s) > maxReason {
		s = s[:maxReason]
	}
	return s
}

// Watermark returns what this edge serves. It implements the control
// plane's Deployment for a single edge.
func (f *Follower) Watermark(context.Context) model.Watermark {
	wm := *f.watermark.Load()
	wm.Failing = maps.Clone(wm.Failing)
	wm.Reasons = maps.Clone(wm.Reasons)
	return wm
}

// ServedRevision is the store revision of the table in use.
func (f *Follower) ServedRevision() int64 { return f.watermark.Load().Revision }

// WaitServed blocks until the edge serves rev or ctx ends.
func (f *Follower) WaitServed(ctx context.Context, rev int64) error {
	for {
		f.servedMu.Lock()
		ch := f.servedCh
		f.servedMu.Unlock()
		if f.ServedRevision() >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (f *Follower) notifyServed() {
	f.servedMu.Lock()
	close(f.servedCh)
	f.servedCh = make(chan struct{})
	f.servedMu.Unlock()
}
