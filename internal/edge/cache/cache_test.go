package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

func newTestCache(t testing.TB, cfg Config) *Cache {
	t.Helper()
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 1 << 20
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testKey(path string) Key { return NewKeyBuilder(testIdentity, path).Key() }

// staticFetch returns a fetch that counts its calls and returns body with ttl.
func staticFetch(calls *atomic.Int32, body string, ttl time.Duration) FetchFunc {
	return func(context.Context) (*Entry, error) {
		calls.Add(1)
		return &Entry{Status: 200, Body: []byte(body), TTL: ttl}, nil
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{{}, {MaxBytes: -1}, {MaxBytes: 10, MaxEntryBytes: 11}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error; want an error", cfg)
		}
	}
}

func TestHitAfterStoreMissAfterExpiry(t *testing.T) {
	clk := newFakeClock()
	c := newTestCache(t, Config{Now: clk.Now})
	ctx := context.Background()
	key := testKey("/a.png")
	var calls atomic.Int32
	fetch := staticFetch(&calls, "v1", 10*time.Second)
	start := clk.Now()

	steps := []struct {
		at        time.Duration // since start
		wantHit   bool
		wantCalls int32
		wantAge   int64
	}{
		{0, false, 1, 0},
		{time.Second, true, 1, 1},
		{9*time.Second + 999*time.Millisecond, true, 1, 9},
		{10 * time.Second, false, 2, 0}, // expired exactly at StoredAt+TTL: refetched
		{11 * time.Second, true, 2, 1},
	}
	for _, st := range steps {
		clk.nanos.Store(start.Add(st.at).UnixNano())
		e, hit, err := c.GetOrFetch(ctx, key, fetch)
		if err != nil {
			t.Fatalf("at +%v: GetOrFetch error %v", st.at, err)
		}
		if hit != st.wantHit || calls.Load() != st.wantCalls {
			t.Errorf("at +%v: hit=%v calls=%d; want hit=%v calls=%d", st.at, hit, calls.Load(), st.wantHit, st.wantCalls)
		}
		if got := e.Age(clk.Now()); got != st.wantAge {
			t.Errorf("at +%v: Age = %d; want %d", st.at, got, st.wantAge)
		}
		if e.OriginIdentity != testIdentity.String() || e.Path != "/a.png" {
			t.Errorf("entry identity/path = %q, %q; want %q, %q", e.OriginIdentity, e.Path, testIdentity.String(), "/a.png")
		}
	}
	st := c.Stats()
	if st.Hits != 3 || st.Misses != 2 || st.Fetches != 2 || st.Stores != 2 {
		t.Errorf("Stats = %+v; want 3 hits, 2 misses, 2 fetches, 2 stores", st)
	}

	// Get sees the same thing without fetching.
	if _, ok := c.Get(key); !ok {
		t.Errorf("Get after store: miss; want hit")
	}
	clk.Advance(time.Hour)
	if _, ok := c.Get(key); ok {
		t.Errorf("Get after expiry: hit; want miss")
	}
}

func TestUncacheableNotStored(t *testing.T) {
	tests := []struct {
		name  string
		entry func() *Entry
	}{
		{"ttl 0", func() *Entry { return &Entry{Status: 200, Body: []byte("x")} }},
		{"larger than MaxEntryBytes", func() *Entry { return &Entry{Status: 200, Body: make([]byte, 4096), TTL: time.Minute} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCache(t, Config{MaxBytes: 1 << 20, MaxEntryBytes: 1024})
			var calls atomic.Int32
			fetch := func(context.Context) (*Entry, error) { calls.Add(1); return tt.entry(), nil }
			for range 2 {
				e, hit, err := c.GetOrFetch(context.Background(), testKey("/x"), fetch)
				if err != nil || hit || e == nil {
					t.Fatalf("GetOrFetch = %v, %v, %v; want an entry, miss, no error", e, hit, err)
				}
			}
			if got := calls.Load(); got != 2 {
				t.Errorf("fetch calls = %d; want 2 (nothing stored)", got)
			}
			if st := c.Stats(); st.Stores != 0 || st.Bytes != 0 {
				t.Errorf("Stats = %+v; want no stores, 0 bytes", st)
			}
		})
	}
}

func TestSizeBoundEvicts(t *testing.T) {
	const maxBytes = 64 << 10
	c := newTestCache(t, Config{MaxBytes: maxBytes, MaxEntryBytes: 8 << 10})
	body := strings.Repeat("x", 4<<10)
	var calls atomic.Int32
	for i := range 200 {
		key := testKey(fmt.Sprintf("/obj/%d", i))
		if _, _, err := c.GetOrFetch(context.Background(), key, staticFetch(&calls, body, time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := c.Stats().Bytes; got > maxBytes {
			t.Fatalf("after %d inserts: Bytes = %d; want <= %d", i+1, got, maxBytes)
		}
	}
	st := c.Stats()
	if st.Evictions == 0 || st.Stores != 200 {
		t.Errorf("Stats = %+v; want 200 stores and some evictions", st)
	}
	// Bytes is exact: it equals the weight of what is still stored.
	var sum int64
	n := 0
	for _, e := range c.store.All() {
		sum += int64(e.weight)
		n++
	}
	if sum != st.Bytes || sum > maxBytes || n >= 200 {
		t.Errorf("stored %d entries of %d bytes, Stats.Bytes = %d; want fewer than 200 entries, bytes equal and <= %d", n, sum, st.Bytes, maxBytes)
	}
}

func TestFetchErrorsAreNotStored(t *testing.T) {
	c := newTestCache(t, Config{})
	boom := errors.New("origin down")
	tests := []struct {
		name    string
		fetch   FetchFunc
		wantErr func(error) bool
	}{
		{"error", func(context.Context) (*Entry, error) { return nil, boom }, func(err error) bool { return errors.Is(err, boom) }},
		{"nil entry", func(context.Context) (*Entry, error) { return nil, nil }, func(err error) bool { return errors.Is(err, ErrNilEntry) }},
		{"panic", func(context.Context) (*Entry, error) { panic("bug") }, func(err error) bool { return err != nil && strings.Contains(err.Error(), "panicked: bug") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, hit, err := c.GetOrFetch(context.Background(), testKey("/"+tt.name), tt.fetch)
			if e != nil || hit || !tt.wantErr(err) {
				t.Errorf("GetOrFetch = %v, %v, %v; want nil, false, matching error", e, hit, err)
			}
		})
	}
	if st := c.Stats(); st.FetchErrors != 3 || st.Stores != 0 {
		t.Errorf("Stats = %+v; want 3 fetch errors, no stores", st)
	}
}

// TestCoalescing runs in a synctest bubble, so synctest.Wait tells exactly
// when every goroutine is blocked waiting on the one fetch.
func TestCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{})
		defer c.Close() // inside the bubble: stop otter's goroutine
		key := testKey("/hot")
		release := make(chan struct{})
		var calls atomic.Int32
		fetch := func(context.Context) (*Entry, error) {
			calls.Add(1)
			<-release
			return &Entry{Status: 200, Body: []byte("hot"), TTL: time.Minute}, nil
		}

		const n = 100
		entries := make([]*Entry, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				e, hit, err := c.GetOrFetch(context.Background(), key, fetch)
				if err != nil || hit {
					t.Errorf("GetOrFetch: hit=%v err=%v; want a miss without error", hit, err)
				}
				entries[i] = e
			})
		}
		synctest.Wait()
		if got := c.Stats().Waiting; got != n {
			t.Fatalf("Stats.Waiting = %d; want %d", got, n)
		}
		close(release)
		wg.Wait()

		if got := calls.Load(); got != 1 {
			t.Errorf("fetch calls = %d; want 1", got)
		}
		for i, e := range entries {
			if e != entries[0] || e == nil {
				t.Fatalf("waiter %d got %p; want the shared entry %p", i, e, entries[0])
			}
		}
		if _, stored := c.Get(key); !stored {
			t.Error("entry not stored")
		}
	})
}

// TestPrivateResponseNotShared: a response that may not be stored (TTL 0:
// private, no-store, a Set-Cookie the key does not cover…) goes only to
// the request whose fetch it was. The requests that waited for that fetch
// fetch for themselves, each getting its own response; afterwards the key
// is marked uncacheable, so a new burst fetches at once, nobody waiting
// on anybody's fetch (hit-for-miss).
func TestPrivateResponseNotShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{HitForMiss: time.Minute})
		defer c.Close()
		key := testKey("/account")
		release := make(chan struct{})
		var calls atomic.Int32
		fetch := func(context.Context) (*Entry, error) {
			n := calls.Add(1)
			<-release
			return &Entry{Status: 200, Body: fmt.Appendf(nil, "page of viewer %d", n)}, nil
		}

		const n = 20
		bodies := make([]string, n)
		burst := func() {
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					e, hit, err := c.GetOrFetch(context.Background(), key, fetch)
					if err != nil || hit {
						t.Errorf("GetOrFetch: hit=%v err=%v; want a miss without error", hit, err)
						return
					}
					bodies[i] = string(e.Body)
				})
			}
			synctest.Wait()
			close(release)
			wg.Wait()
		}
		burst()
		if got := calls.Load(); got != n {
			t.Errorf("fetch calls = %d; want %d (one per request)", got, n)
		}
		seen := map[string]bool{}
		for _, b := range bodies {
			if seen[b] {
				t.Errorf("two requests got %q: one viewer's private page went to another", b)
			}
			seen[b] = true
		}
		st := c.Stats()
		if st.Stores != 0 || st.Uncoalesced != n-1 || st.UncacheableKeys != 1 {
			t.Errorf("Stats = %+v; want no stores, %d uncoalesced fetches, 1 uncacheable key", st, n-1)
		}

		// A second burst: all n fetch at once, none waits on a flight.
		release = make(chan struct{})
		calls.Store(0)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, _, err := c.GetOrFetch(context.Background(), key, fetch); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		if got, waiting := calls.Load(), c.Stats().Waiting; got != n || waiting != 0 {
			t.Errorf("second burst: %d fetches running, %d requests waiting; want %d and 0", got, waiting, n)
		}
		close(release)
		wg.Wait()

		// Once the response is cacheable again, the next fetch stores it
		// and the mark goes.
		cacheable := func(context.Context) (*Entry, error) {
			return &Entry{Status: 200, Body: []byte("public"), TTL: time.Minute}, nil
		}
		if _, _, err := c.GetOrFetch(context.Background(), key, cacheable); err != nil {
			t.Fatal(err)
		}
		if e, ok := c.Get(key); !ok || string(e.Body) != "public" {
			t.Errorf("after a cacheable response: Get = %v, %v; want it stored", e, ok)
		}
		if got := c.Stats().UncacheableKeys; got != 0 {
			t.Errorf("UncacheableKeys = %d; want 0 once the key is cacheable", got)
		}
	})
}

// TestHitForMissExpires: the uncacheable mark lasts Config.HitForMiss on
// the cache's clock; afterwards requests coalesce again.
func TestHitForMissExpires(t *testing.T) {
	clk := newFakeClock()
	c := newTestCache(t, Config{Now: clk.Now, HitForMiss: 30 * time.Second})
	key := testKey("/p")
	private := func(context.Context) (*Entry, error) { return &Entry{Status: 200, Body: []byte("p")}, nil }
	if _, _, err := c.GetOrFetch(context.Background(), key, private); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.GetOrFetch(context.Background(), key, private); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Uncoalesced; got != 1 {
		t.Fatalf("Uncoalesced = %d; want 1 (the second request, marked)", got)
	}
	clk.Advance(31 * time.Second)
	if _, _, err := c.GetOrFetch(context.Background(), key, private); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Uncoalesced; got != 1 {
		t.Errorf("Uncoalesced = %d; want still 1 after the mark expired", got)
	}
}

// TestPrivateHeaderOnlyForTheFetcher: Entry.Private (an origin's
// Set-Cookie) reaches the request whose fetch it was, never the stored
// entry, the requests that shared the fetch, or later hits.
func TestPrivateHeaderOnlyForTheFetcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{})
		defer c.Close()
		key := testKey("/home")
		release := make(chan struct{})
		started := make(chan struct{})
		fetch := func(context.Context) (*Entry, error) {
			close(started)
			<-release
			return &Entry{
				Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("home"), TTL: time.Minute,
				Private: http.Header{"Set-Cookie": {"session=secret-1"}},
			}, nil
		}
		leader := make(chan *Entry, 1)
		go func() {
			e, _, _ := c.GetOrFetch(context.Background(), key, fetch)
			leader <- e
		}()
		<-started
		const n = 10
		others := make([]*Entry, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { others[i], _, _ = c.GetOrFetch(context.Background(), key, fetch) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		if got := (<-leader).Header["Set-Cookie"]; len(got) != 1 || got[0] != "session=secret-1" {
			t.Errorf("fetcher's Set-Cookie = %q; want its own session=secret-1", got)
		}
		stored, ok := c.Get(key)
		if !ok {
			t.Fatal("entry not stored")
		}
		for i, e := range append(others, stored) {
			if e == nil || e.Header["Set-Cookie"] != nil || e.Private != nil || e.Header.Get("Content-Type") != "text/html" {
				t.Errorf("entry %d: %+v; want the shared entry without Set-Cookie", i, e)
			}
		}
	})
}

func TestWaiterCancelDoesNotBreakOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{})
		defer c.Close()
		key := testKey("/slow")
		release := make(chan struct{})
		var fetchErr error
		fetch := func(ctx context.Context) (*Entry, error) {
			<-release
			fetchErr = ctx.Err()
			return &Entry{Status: 200, Body: []byte("ok"), TTL: time.Minute}, nil
		}

		// The first caller starts the fetch, then gives up.
		leaderCtx, cancelLeader := context.WithCancel(context.Background())
		leaderDone := make(chan error, 1)
		go func() {
			_, _, err := c.GetOrFetch(leaderCtx, key, fetch)
			leaderDone <- err
		}()
		synctest.Wait()

		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				e, _, err := c.GetOrFetch(context.Background(), key, fetch)
				if err != nil || string(e.Body) != "ok" {
					t.Errorf("other waiter: %v, %v; want body ok", e, err)
				}
			})
		}
		synctest.Wait()
		cancelLeader()
		synctest.Wait()
		select {
		case err := <-leaderDone:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("leader err = %v; want context.Canceled", err)
			}
		default:
			t.Fatal("leader still waiting after its ctx was cancelled")
		}

		close(release)
		wg.Wait()
		if fetchErr != nil {
			t.Errorf("fetch ctx err = %v; want nil (detached from the leader)", fetchErr)
		}
		if _, ok := c.Get(key); !ok {
			t.Errorf("entry not stored after the leader left")
		}
	})
}

func TestFetchTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{FetchTimeout: 30 * time.Second})
		defer c.Close()
		fetch := func(ctx context.Context) (*Entry, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		start := time.Now()
		_, _, err := c.GetOrFetch(context.Background(), testKey("/stuck"), fetch)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want context.DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 30*time.Second {
			t.Errorf("gave up after %v; want 30s", got)
		}
	})
}

func TestCloseAbortsFetches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{})
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.GetOrFetch(context.Background(), testKey("/x"), func(ctx context.Context) (*Entry, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
			errc <- err
		}()
		synctest.Wait()
		c.Close()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v; want context.Canceled", err)
		}
	})
}

// TestHitsStartNoGoroutines: the cache's upkeep after reads runs on the
// reader, not on a goroutine of its own (runInline): otter's default
// starts one every 16 or so hits, a parked thread woken each time, which
// cost the event loops' hits about 10 % of their CPU.
func TestHitsStartNoGoroutines(t *testing.T) {
	c := newTestCache(t, Config{MaxBytes: 1 << 20})
	ctx := context.Background()
	var calls atomic.Int32
	keys := make([]Key, 8)
	for i := range keys {
		keys[i] = testKey(fmt.Sprintf("/hit/%d", i))
		if _, _, err := c.GetOrFetch(ctx, keys[i], staticFetch(&calls, "body", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	sample := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	const hits = 20000
	for i := range hits {
		if _, hit, err := c.GetOrFetch(ctx, keys[i%len(keys)], staticFetch(&calls, "body", time.Hour)); err != nil || !hit {
			t.Fatalf("lookup %d: hit %v, err %v", i, hit, err)
		}
		if i%16 == 0 {
			// As on a busy edge, a drain started on a goroutine of its
			// own would get to run before the next one is due.
			runtime.Gosched()
		}
	}
	metrics.Read(sample)
	// A few may come from elsewhere in the process (timers, the test
	// framework); a goroutine per drain would be over a thousand.
	if created := sample[0].Value.Uint64() - before; created > 20 {
		t.Errorf("%d hits started %d goroutines; want none of the cache's", hits, created)
	}
}
