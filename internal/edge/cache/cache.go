package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultFetchTimeout bounds a fetch when Config.FetchTimeout is 0. It is a
// backstop above CloudFront's largest origin timeouts (3 connection attempts
// and a 120 s read timeout); the origin fetcher enforces the real ones.
const DefaultFetchTimeout = 5 * time.Minute

// ErrNilEntry is returned when a fetch returns neither an entry nor an error.
var ErrNilEntry = errors.New("cache: fetch returned a nil entry")

// Config configures a Cache.
type Config struct {
	// MaxBytes bounds the bytes of all stored entries (body, header and a
	// small fixed overhead each). Required.
	MaxBytes int64
	// MaxEntryBytes is the largest entry that is stored; larger responses
	// are still returned to their waiters. 0 means MaxBytes/8.
	MaxEntryBytes int64
	// Now is the clock; nil means time.Now. With nil, the store's own
	// bookkeeping (when it drops an expired entry) reads a coarse clock
	// instead (see coarseResolution); whether an entry is fresh is always
	// decided on Now, or the time a caller passes (GetBuiltAt).
	Now func() time.Time
	// FetchTimeout bounds one fetch, which runs detached from any single
	// caller's cancellation. 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// HitForMiss is how long a key whose response could not be stored
	// stays marked uncacheable: its requests then fetch on their own
	// instead of queueing behind one fetch. 0 means DefaultHitForMiss.
	HitForMiss time.Duration
	// Tier, when not nil, is a second store below memory (the disk tier):
	// a memory miss looks there before fetching, and every stored entry
	// is handed to it. See Tier.
	Tier Tier
}

// DefaultHitForMiss is Config.HitForMiss when unset: Varnish's default
// for its hit-for-miss objects (beresp.ttl = 120s in its built-in VCL).
const DefaultHitForMiss = 2 * time.Minute

// FetchFunc fetches an object from its origin. It must return a new Entry
// (the cache takes ownership) with TTL set, usually from TTL(). A TTL of 0
// means the response may be given only to the request whose fetch it was:
// it is not stored, and the requests that were waiting for the same fetch
// fetch for themselves.
type FetchFunc func(ctx context.Context) (*Entry, error)

// Stats is a snapshot of the cache's counters, for export as metrics.
// Counters only grow; Bytes and Entries are gauges.
type Stats struct {
	Hits        uint64 // requests answered from the cache
	Misses      uint64 // requests that waited for a fetch (their own or a coalesced one)
	Fetches     uint64 // calls of a FetchFunc
	FetchErrors uint64 // fetches that returned an error or panicked
	Stores      uint64 // entries stored
	Evictions   uint64 // entries removed to stay under MaxBytes
	Expirations uint64 // entries removed because their TTL ran out
	Purged      uint64 // entries removed by Purge or Invalidate
	// Uncoalesced counts requests that fetched on their own, not sharing
	// a fetch, because their key's response may not be shared.
	Uncoalesced uint64
	// StaleHits counts requests answered with an expired entry, within
	// its stale-while-revalidate or stale-if-error window (also in Hits).
	StaleHits uint64
	Bytes     int64 // bytes charged by stored entries
	Entries   int   // approximate number of stored entries
	// Waiting is the number of requests waiting for a coalesced fetch.
	Waiting int64
	// UncacheableKeys is the approximate number of keys marked uncacheable
	// (hit-for-miss).
	UncacheableKeys int
}

// Cache is the edge's bounded, coalescing object cache. It is safe for
// concurrent use. Create it with New and release it with Close.
type Cache struct {
	now           func() time.Time
	maxBytes      int64
	maxEntryBytes int64
	fetchTimeout  time.Duration

	store  *otter.Cache[string, *Entry]
	flight singleflight.Group
	// coarse is the store's clock when Config.Now is nil, else nil.
	coarse *otter.CoarseClock
	// uncacheable marks, for Config.HitForMiss, the keys whose last
	// response could not be stored (Varnish's hit-for-miss): a request
	// for one fetches on its own, without waiting for anyone's fetch,
	// and stores what it gets if that turned cacheable. Bounded in bytes.
	uncacheable *otter.Cache[string, struct{}]
	tier        Tier // nil: memory only

	// closed is cancelled by Close, aborting in-flight fetches.
	closed context.Context
	close  context.CancelFunc

	// epoch is bumped by every Purge. A fetch stores its response only if
	// the epoch has not moved since the fetch started; epochMu makes that
	// check and the store atomic with respect to the bump.
	epochMu sync.RWMutex
	epoch   atomic.Uint64

	bytes                            atomic.Int64
	hits, misses, fetches, fetchErrs atomic.Uint64
	stores, evictions, expirations   atomic.Uint64
	purged, uncoalesced              atomic.Uint64
	staleHits                        atomic.Uint64
	waiting                          atomic.Int64 // callers blocked on a flight
}

// uncacheableKeyOverhead approximates the fixed memory of one hit-for-miss
// mark, so that many short keys still count against the mark's bound.
const uncacheableKeyOverhead = 96

// New creates a cache. Its otter store runs a once-a-second clean-up
// goroutine until Close.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("cache: MaxBytes must be positive, got %d", cfg.MaxBytes)
	}
	if cfg.MaxEntryBytes < 0 || cfg.MaxEntryBytes > cfg.MaxBytes {
		return nil, fmt.Errorf("cache: MaxEntryBytes must be within [0, MaxBytes], got %d", cfg.MaxEntryBytes)
	}
	c := &Cache{
		now:           cfg.Now,
		maxBytes:      cfg.MaxBytes,
		maxEntryBytes: cfg.MaxEntryBytes,
		fetchTimeout:  cfg.FetchTimeout,
		tier:          cfg.Tier,
	}
	var storeClock otter.Clock = clock{c.now}
	if c.now == nil {
		c.now = time.Now
		c.coarse = otter.NewCoarseClock(coarseResolution)
		storeClock = c.coarse
	}
	if c.maxEntryBytes == 0 {
		c.maxEntryBytes = max(cfg.MaxBytes/8, 1)
	}
	if c.fetchTimeout <= 0 {
		c.fetchTimeout = DefaultFetchTimeout
	}
	hitForMiss := cfg.HitForMiss
	if hitForMiss <= 0 {
		hitForMiss = DefaultHitForMiss
	}
	c.closed, c.close = context.WithCancel(context.Background())

	store, err := otter.New(&otter.Options[string, *Entry]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher:       func(_ string, e *Entry) uint32 { return e.weight },
		// Expire exactly at StoredAt+TTL, measured on the injected clock.
		ExpiryCalculator: otter.ExpiryWritingFunc(func(oe otter.Entry[string, *Entry]) time.Duration {
			// Kept past expiry for its stale windows: lookups check Fresh.
			return oe.Value.keepUntil().Sub(time.Unix(0, oe.SnapshotAtNano))
		}),
		// Runs under a bucket lock: atomics only.
		OnAtomicDeletion: func(ev otter.DeletionEvent[string, *Entry]) {
			c.bytes.Add(-int64(ev.Value.weight))
			switch ev.Cause {
			case otter.CauseOverflow:
				c.evictions.Add(1)
			case otter.CauseExpiration:
				c.expirations.Add(1)
			}
		},
		Clock:    storeClock,
		Executor: runInline,
	})
	if err != nil {
		c.stopClock()
		c.close()
		return nil, fmt.Errorf("cache: %w", err)
	}
	// The marks take at most a sixteenth of the cache's bound: a flood of
	// distinct uncacheable URLs evicts old marks, never objects.
	uncacheable, err := otter.New(&otter.Options[string, struct{}]{
		MaximumWeight: uint64(max(cfg.MaxBytes/16, 64<<10)),
		Weigher: func(key string, _ struct{}) uint32 {
			return uint32(min(len(key)+uncacheableKeyOverhead, math.MaxUint32))
		},
		ExpiryCalculator: otter.ExpiryWriting[string, struct{}](hitForMiss),
		Clock:            storeClock,
		Executor:         runInline,
	})
	if err != nil {
		store.StopAllGoroutines()
		c.stopClock()
		c.close()
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.store, c.uncacheable = store, uncacheable
	return c, nil
}

// runInline is the otter caches' executor: their maintenance (replaying
// the buffered reads and writes into the eviction policy, evicting) runs
// on the goroutine whose read or write filled a buffer, as the
// amortized work of that call. otter's default starts a goroutine per
// pass, about one every 16 hits: under load that is a goroutine created
// and a parked thread woken (a futex system call, and a context switch
// on another CPU) for each. Creating them and waking threads alone was
// 2.6 % of CPU profiles of cached hits on the event loops; run inline,
// a hit took about 10 % less CPU (two edges measured side by side, less
// in 9 rounds of 10) and a third fewer context switches. Inline is safe here:
// nothing these caches call back (Weigher, ExpiryCalculator,
// OnAtomicDeletion, the ComputeIfPresent functions of Purge) reads or
// writes the cache or blocks, and with expiry set, otter's periodic
// clean-up finishes what a pass leaves undone on an idle cache. (The disk
// tier's index keeps the default: its OnDeletion removes files.)
func runInline(fn func()) { fn() }

// Close aborts in-flight fetches and stops the clean-up goroutine. Lookups
// keep working afterwards; new fetches fail with context.Canceled.
func (c *Cache) Close() {
	c.close()
	c.store.StopAllGoroutines()
	c.uncacheable.StopAllGoroutines()
	c.stopClock()
}

func (c *Cache) stopClock() {
	if c.coarse != nil {
		c.coarse.Stop()
	}
}

// coarseResolution is how often the store's coarse clock reads the time
// (Config.Now nil). Reading the precise time on every lookup was a tenth
// of a cache hit's cost. The store uses its clock only to drop entries
// past their keep time (Entry.keepUntil) and hit-for-miss marks past
// theirs, and its clock only ever lags: an entry may stay stored up to
// this much longer, never leave early, and every lookup still checks
// freshness on the precise time (lookupStringAt, GetOrRefresh).
const coarseResolution = 10 * time.Millisecond

// Get returns the fresh entry stored under key, if any.
func (c *Cache) Get(key Key) (*Entry, bool) {
	if e, ok := c.lookup(key); ok {
		c.hits.Add(1)
		return e, true
	}
	c.misses.Add(1)
	return nil, false
}

func (c *Cache) lookup(key Key) (*Entry, bool) { return c.lookupString(key.str) }

func (c *Cache) lookupString(key string) (*Entry, bool) { return c.lookupStringAt(key, c.now()) }

func (c *Cache) lookupStringAt(key string, now time.Time) (*Entry, bool) {
	e, ok := c.store.GetIfPresent(key)
	if !ok || !e.Fresh(now) {
		return nil, false
	}
	return e, true
}

// flightResult is what one coalesced fetch hands to all its waiters.
type flightResult struct {
	cached bool   // found stored when the flight started: no fetch was made
	shared *Entry // for every waiter; nil when the response may not be shared
	own    *Entry // for the request whose fetch it was (with Entry.Private)
	failed bool   // the origin answered 5xx
	leader *flightToken
}

// flightToken tells the request whose fetch function a flight ran from
// the requests that joined it. It has a size, so that two tokens never
// share an address.
type flightToken struct{ _ byte }

// GetOrFetch returns the fresh entry for key, calling fetch on a miss.
// Concurrent misses for one key make one call to fetch and all get its
// result; hit reports whether the entry came from the cache without waiting
// for an origin fetch.
//
// A response that may not be shared (TTL 0, see FetchFunc) goes only to
// the request whose fetch it was; every other request that waited for it
// then fetches for itself, and the key is marked uncacheable for
// Config.HitForMiss, so that later requests for it fetch at once, each
// on its own, instead of queueing (nginx's proxy_cache_lock and Varnish's
// hit-for-miss do the same). A fetch that gets a storable response again
// stores it and lifts the mark.
//
// The fetch runs detached from the cancellation of the caller that started
// it (keeping its context values), bounded by Config.FetchTimeout and Close.
// Each caller stops waiting when its own ctx is done and gets ctx.Err(),
// without disturbing the others. A caller fetching on its own is cancelled
// with its ctx.
//
// An expired entry still within its stale-while-revalidate window is
// returned at once as a hit while one background fetch, shared with any
// other for the key, refreshes it. Within its stale-if-error window the
// request waits for the fetch, and gets the stale entry if the fetch
// fails or the origin answers 5xx. Fetches made while a stale entry is
// kept see it through StaleEntry(ctx), so they can revalidate it.
func (c *Cache) GetOrFetch(ctx context.Context, key Key, fetch FetchFunc) (entry *Entry, hit bool, err error) {
	return c.GetOrRefresh(ctx, key, fetch, nil)
}

// GetOrRefresh is GetOrFetch for a caller whose fetch may not outlive its
// request: background, when not nil, is called before a stale entry is
// returned and gives the fetch the background refresh runs instead.
func (c *Cache) GetOrRefresh(ctx context.Context, key Key, fetch FetchFunc, background func() FetchFunc) (entry *Entry, hit bool, err error) {
	stored, found := c.store.GetIfPresent(key.str)
	if !found {
		return c.getOrFetch(ctx, key, fetch, nil)
	}
	now := c.now()
	if stored.Fresh(now) {
		c.hits.Add(1)
		return stored, true, nil
	}
	ctx = context.WithValue(ctx, staleKey{}, stored)
	if stored.staleWhileRevalidate(now) {
		if background != nil {
			fetch = background()
		}
		c.refresh(ctx, key, fetch)
		c.hits.Add(1)
		c.staleHits.Add(1)
		return stored, true, nil
	}
	entry, hit, err = c.getOrFetch(ctx, key, fetch, stored)
	if (err != nil || entry.Status >= 500) && stored.staleIfError(c.now()) && ctx.Err() == nil {
		c.staleHits.Add(1)
		return stored, true, nil
	}
	return entry, hit, err
}

// staleKey is the context key of the stale entry a fetch may revalidate.
type staleKey struct{}

// StaleEntry returns the expired entry kept for the key a fetch is for, if
// any: a fetch may revalidate it (If-None-Match, If-Modified-Since) and, on
// the origin's 304, return a copy with its freshness renewed, the same
// Body and Revalidated set. The entry is shared: never modify it.
func StaleEntry(ctx context.Context) *Entry {
	e, _ := ctx.Value(staleKey{}).(*Entry)
	return e
}

// refresh starts, unless one is running, the fetch that refreshes key in
// the background, detached from ctx's cancellation like every flight.
func (c *Cache) refresh(ctx context.Context, key Key, fetch FetchFunc) {
	epoch := c.epoch.Load()
	flightKey := key.str + "\x00" + strconv.FormatUint(epoch, 10)
	// Nobody waits on the channel, which singleflight buffers; a fetch
	// that is running already for the key absorbs this one.
	c.flight.DoChan(flightKey, func() (any, error) {
		return c.fetchAndStore(ctx, key, epoch, fetch, &flightToken{})
	})
}

func (c *Cache) getOrFetch(ctx context.Context, key Key, fetch FetchFunc, stale *Entry) (entry *Entry, hit bool, err error) {
	if err := ctx.Err(); err != nil {
		c.misses.Add(1)
		return nil, false, err
	}
	if _, marked := c.uncacheable.GetIfPresent(key.str); marked {
		return c.fetchAlone(ctx, key, fetch)
	}

	epoch := c.epoch.Load()
	// The epoch is part of the flight key, so requests that arrive after a
	// Purge never join a fetch that started before it.
	flightKey := key.str + "\x00" + strconv.FormatUint(epoch, 10)
	token := &flightToken{}
	ch := c.flight.DoChan(flightKey, func() (any, error) {
		return c.fetchAndStore(ctx, key, epoch, fetch, token)
	})

	c.waiting.Add(1)
	var res singleflight.Result
	select {
	case res = <-ch:
		c.waiting.Add(-1)
	case <-ctx.Done():
		c.waiting.Add(-1)
		c.misses.Add(1)
		return nil, false, ctx.Err()
	}
	if res.Err != nil {
		c.misses.Add(1)
		return nil, false, res.Err
	}
	fr := res.Val.(flightResult)
	switch {
	case fr.cached:
		c.hits.Add(1)
		return fr.shared, true, nil
	case fr.leader == token:
		c.misses.Add(1)
		return fr.own, false, nil
	case fr.shared == nil && fr.failed && stale != nil && stale.staleIfError(c.now()):
		// The origin failed: the caller gets the stale entry rather
		// than asking the failing origin again (GetOrFetch counts it).
		c.hits.Add(1)
		return stale, true, nil
	case fr.shared == nil:
		// Another request's response, which may not be shared.
		return c.fetchAlone(ctx, key, fetch)
	}
	c.misses.Add(1)
	return fr.shared, false, nil
}

// GetBuilt returns the fresh entry stored under the key b builds, without
// allocating: the lookup uses the key encoded in b's buffer. A hit is
// counted; a miss is not, because the caller goes on with
// GetOrFetch(ctx, b.Key(), fetch), which counts it (and builds the fetch
// closure only then). b may be reused once GetBuilt returns.
func (c *Cache) GetBuilt(b *KeyBuilder) (*Entry, bool) { return c.GetBuiltAt(b, c.now()) }

// GetBuiltAt is GetBuilt for a caller that has read the cache's clock
// already (an edge request's start): an entry is fresh when it is at now.
func (c *Cache) GetBuiltAt(b *KeyBuilder, now time.Time) (*Entry, bool) {
	e, ok := c.PeekBuiltAt(b, now)
	if ok {
		c.hits.Add(1)
	}
	return e, ok
}

// PeekBuiltAt is GetBuiltAt without counting a hit, for a caller that may
// yet not serve it (and then looks it up again): it counts one with
// CountHit when it does.
func (c *Cache) PeekBuiltAt(b *KeyBuilder, now time.Time) (*Entry, bool) {
	b.encode()
	// The string aliases b.buf, which the caller will overwrite. That is
	// safe because otter's GetIfPresent only hashes and compares the key
	// and keeps no reference to it (a hit records the stored node, a miss
	// nothing), and the string does not outlive this call.
	return c.lookupStringAt(unsafe.String(unsafe.SliceData(b.buf), len(b.buf)), now)
}

// CountHit counts a hit found with PeekBuiltAt.
func (c *Cache) CountHit() { c.hits.Add(1) }

// fetchAndStore is the body of one flight, which token's request started.
func (c *Cache) fetchAndStore(callerCtx context.Context, key Key, epoch uint64, fetch FetchFunc, token *flightToken) (flightResult, error) {
	// A flight that ended just before this one started may have stored the
	// entry after our caller's lookup missed.
	if e, ok := c.lookup(key); ok {
		return flightResult{cached: true, shared: e}, nil
	}
	var tierStale *Entry
	if c.tier != nil {
		var fresh *Entry
		if fresh, tierStale = c.loadTier(key, epoch); fresh != nil {
			return flightResult{cached: true, shared: fresh}, nil
		}
		callerCtx = withTierStale(callerCtx, tierStale)
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(callerCtx), c.fetchTimeout)
	defer cancel()
	stop := context.AfterFunc(c.closed, cancel)
	defer stop()

	shared, own, err := c.fetchOnce(ctx, key, epoch, fetch)
	if tierStale != nil && (err != nil || own.Status >= 500) && tierStale.staleIfError(c.now()) {
		return flightResult{cached: true, shared: tierStale}, nil
	}
	if err != nil {
		return flightResult{}, err
	}
	return flightResult{shared: shared, own: own, failed: own.Status >= 500, leader: token}, nil
}

// fetchAlone fetches key for one request, bounded by its ctx: the key's
// response may not be shared, so nobody waits for this fetch nor joins it.
func (c *Cache) fetchAlone(ctx context.Context, key Key, fetch FetchFunc) (*Entry, bool, error) {
	c.misses.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	c.uncoalesced.Add(1)
	epoch := c.epoch.Load()
	ctx, cancel := context.WithTimeout(ctx, c.fetchTimeout)
	defer cancel()
	stop := context.AfterFunc(c.closed, cancel)
	defer stop()
	_, own, err := c.fetchOnce(ctx, key, epoch, fetch)
	if err != nil {
		return nil, false, err
	}
	return own, false, nil
}

// fetchOnce calls fetch and stores what it got when it may. shared is the
// entry other requests may get (nil if none may); own is the fetching
// request's, with the entry's Private header fields.
func (c *Cache) fetchOnce(ctx context.Context, key Key, epoch uint64, fetch FetchFunc) (shared, own *Entry, err error) {
	c.fetches.Add(1)
	e, err := callFetch(ctx, fetch)
	if err == nil && e == nil {
		err = ErrNilEntry
	}
	if err != nil {
		c.fetchErrs.Add(1)
		return nil, nil, err
	}

	private := e.Private
	e.Private = nil
	if e.StoredAt.IsZero() {
		e.StoredAt = c.now()
	}
	e.OriginIdentity = key.identity
	e.Path = key.purgePath
	e.weight = computeWeight(key, e)
	e.keep = revalidationKeep(e)
	own = e
	if len(private) > 0 {
		own = e.withHeader(private)
	}
	if e.Status >= 500 && StaleEntry(ctx) != nil {
		// An origin error while a stale copy is kept: the stale copy
		// stays, for stale-if-error, and the key stays coalesced.
		return nil, own, nil
	}
	if e.TTL <= 0 {
		c.uncacheable.Set(key.str, struct{}{})
		return nil, own, nil
	}
	c.uncacheable.Invalidate(key.str)
	c.maybeStore(key, e, epoch)
	return e, own, nil
}

// callFetch turns a panic in fetch into an error: singleflight would
// otherwise re-panic it on a goroutine of its own and end the process.
func callFetch(ctx context.Context, fetch FetchFunc) (e *Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("cache: fetch panicked: %v", r)
		}
	}()
	return fetch(ctx)
}

func (c *Cache) maybeStore(key Key, e *Entry, epoch uint64) { c.storeEntry(key, e, epoch, c.tier) }

// storeEntry stores e in memory if it fits and hands it to tier if not nil.
func (c *Cache) storeEntry(key Key, e *Entry, epoch uint64, tier Tier) {
	keepUntil := e.keepUntil()
	if e.TTL <= 0 || !c.now().Before(keepUntil) {
		return
	}
	inMemory := int64(e.weight) <= c.maxEntryBytes
	if !inMemory && tier == nil {
		return
	}
	c.epochMu.RLock()
	stored := c.epoch.Load() == epoch
	if stored {
		if inMemory {
			// Count before inserting, so the deletion listener can never
			// subtract the weight before it was added.
			c.bytes.Add(int64(e.weight))
			c.store.Set(key.str, e)
		}
		if tier != nil {
			// Under the epoch lock: a Purge that starts after the check
			// reaches the tier only after the entry was handed to it.
			tier.Store(key, e, keepUntil)
		}
	}
	c.epochMu.RUnlock()
	if !stored || !inMemory {
		return
	}
	c.stores.Add(1)
	// otter evicts on its maintenance goroutine; run it now when over the
	// bound, so the bound holds when the store returns (only misses pay).
	if c.bytes.Load() > c.maxBytes {
		c.store.CleanUp()
	}
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		Fetches:     c.fetches.Load(),
		FetchErrors: c.fetchErrs.Load(),
		Stores:      c.stores.Load(),
		Evictions:   c.evictions.Load(),
		Expirations: c.expirations.Load(),
		Purged:      c.purged.Load(),
		Uncoalesced: c.uncoalesced.Load(),
		StaleHits:   c.staleHits.Load(),
		Bytes:       c.bytes.Load(),
		Entries:     c.store.EstimatedSize(),
		Waiting:     c.waiting.Load(),

		UncacheableKeys: c.uncacheable.EstimatedSize(),
	}
}

// clock adapts the injected clock to otter. Its ticks only wake otter's
// clean-up; expiry decisions read Now, so a fake clock stays exact.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64 { return c.now().UnixNano() }

// Tick returns a ticker that is collected with the clean-up goroutine
// (Go 1.23+ timers need no Stop).
func (c clock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }
