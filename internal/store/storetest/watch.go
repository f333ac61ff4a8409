package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/store"
)

// eventState is the comparable form of an Event. For deletes the contract
// fixes only Key, ModRevision and a nil Value, so CreateRevision is ignored.
type eventState struct {
	Type           store.EventType
	Key            string
	Value          string
	ModRevision    int64
	CreateRevision int64
}

func putEvent(key, value string, mod, create int64) eventState {
	return eventState{store.EventPut, key, value, mod, create}
}

func deleteEvent(key string, mod int64) eventState {
	return eventState{Type: store.EventDelete, Key: key, ModRevision: mod}
}

func eventsOf(t *testing.T, resp store.WatchResponse) []eventState {
	t.Helper()
	var out []eventState
	for _, ev := range resp.Events {
		st := eventState{ev.Type, ev.KV.Key, string(ev.KV.Value), ev.KV.ModRevision, ev.KV.CreateRevision}
		if ev.Type == store.EventDelete {
			if ev.KV.Value != nil {
				t.Errorf("revision %d: delete event for %q has Value %q; want nil", resp.Revision, ev.KV.Key, ev.KV.Value)
			}
			st.CreateRevision = 0
		}
		out = append(out, st)
	}
	return out
}

// recv returns the next response, failing the test on timeout, on a closed
// channel or on a response carrying Err.
func recv(t *testing.T, ch <-chan store.WatchResponse) store.WatchResponse {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case resp, ok := <-ch:
		if !ok {
			t.Fatalf("watch channel closed; want a response")
		}
		if resp.Err != nil {
			t.Fatalf("watch response error: %v", resp.Err)
		}
		return resp
	case <-timer.C:
		t.Fatalf("no watch response within %v", waitTimeout)
	}
	return store.WatchResponse{}
}

type wantResp struct {
	rev    int64
	events []eventState
}

func expectResponses(t *testing.T, ch <-chan store.WatchResponse, want ...wantResp) {
	t.Helper()
	for i, w := range want {
		resp := recv(t, ch)
		if resp.Revision != w.rev {
			t.Fatalf("response %d: Revision = %d; want %d (events %+v)", i, resp.Revision, w.rev, eventsOf(t, resp))
		}
		if got := eventsOf(t, resp); !slices.Equal(got, w.events) {
			t.Errorf("response %d (rev %d): events =\n  %+v\nwant\n  %+v", i, w.rev, got, w.events)
		}
	}
}

// expectClosed drains ch until it closes, failing if it stays open.
func expectClosed(t *testing.T, ch <-chan store.WatchResponse) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("watch channel still open %v after its context was cancelled", waitTimeout)
		}
	}
}

func testWatchReplayThenLive(t *testing.T, s store.Store) {
	var revs []int64
	for i := range 10 {
		key := fmt.Sprintf("w/%d", i)
		revs = append(revs, txn(t, s, nil, put(key, strconv.Itoa(i))))
	}
	delRev := txn(t, s, nil, del("w/0"))

	ch := s.Watch(t.Context(), "w/", revs[3])
	var want []wantResp
	for i := 3; i < 10; i++ {
		key := fmt.Sprintf("w/%d", i)
		want = append(want, wantResp{revs[i], []eventState{putEvent(key, strconv.Itoa(i), revs[i], revs[i])}})
	}
	want = append(want, wantResp{delRev, []eventState{deleteEvent("w/0", delRev)}})
	expectResponses(t, ch, want...)

	// Replay hands over to live delivery with nothing lost or repeated.
	for i := range 3 {
		key := fmt.Sprintf("w/live%d", i)
		rev := txn(t, s, nil, put(key, "v"))
		expectResponses(t, ch, wantResp{rev, []eventState{putEvent(key, "v", rev, rev)}})
	}
}

func testWatchFromNow(t *testing.T, s store.Store) {
	for _, fromRev := range []int64{0, -1} {
		prefix := fmt.Sprintf("now%d/", -fromRev)
		txn(t, s, nil, put(prefix+"old", "v"))
		txn(t, s, nil, put(prefix+"old", "v2"))
		ch := s.Watch(t.Context(), prefix, fromRev)
		rev := txn(t, s, nil, put(prefix+"new", "v"))
		resp := recv(t, ch)
		if resp.Revision != rev {
			t.Errorf("Watch(fromRev=%d): first response revision = %d (events %+v); want %d, the first write after Watch",
				fromRev, resp.Revision, eventsOf(t, resp), rev)
		}
	}
}

func testWatchFutureRevision(t *testing.T, s store.Store) {
	const ahead = 5
	cur := revision(t, s)
	ch := s.Watch(t.Context(), "f/", cur+ahead)
	// Pace the writes through a second watcher, so the first one is surely
	// established before the revisions it must skip are written.
	pace := s.Watch(t.Context(), "f/", cur+1)
	var rev int64
	for i := range ahead {
		rev = txn(t, s, nil, put(fmt.Sprintf("f/%d", i), "v"))
		recv(t, pace)
	}
	if rev != cur+ahead {
		t.Fatalf("last txn revision = %d; want %d", rev, cur+ahead)
	}
	key := fmt.Sprintf("f/%d", ahead-1)
	expectResponses(t, ch, wantResp{rev, []eventState{putEvent(key, "v", rev, rev)}})
}

// watchCase is a watch scenario run in two modes, because backends often
// serve them from different code paths: "replay", where the writes are
// already history when the watches start, and "live", where the watches are
// established (they have delivered a marker write) before the writes happen.
// Keys and prefixes are relative to a per-mode namespace ns.
type watchCase struct {
	// prefixes are nested: each is a prefix of the next.
	prefixes []string
	// setup writes what must exist before the watches start from.
	setup func(t *testing.T, ns string)
	// write performs the writes and returns, per prefix, what its watcher
	// must receive.
	write func(t *testing.T, ns string) [][]wantResp
}

func runWatchCase(t *testing.T, s store.Store, c watchCase) {
	for _, mode := range []string{"replay", "live"} {
		t.Run(mode, func(t *testing.T) {
			ns := mode + "/"
			if c.setup != nil {
				c.setup(t, ns)
			}
			var (
				chans []<-chan store.WatchResponse
				want  [][]wantResp
			)
			if mode == "replay" {
				from := revision(t, s) + 1
				want = c.write(t, ns)
				for _, p := range c.prefixes {
					chans = append(chans, s.Watch(t.Context(), ns+p, from))
				}
			} else {
				for _, p := range c.prefixes {
					chans = append(chans, s.Watch(t.Context(), ns+p, 0))
				}
				marker := ns + c.prefixes[len(c.prefixes)-1] + "~marker"
				txn(t, s, nil, put(marker, "v"))
				for _, ch := range chans {
					if resp := recv(t, ch); len(resp.Events) != 1 || resp.Events[0].KV.Key != marker {
						t.Fatalf("first live response = %+v; want the marker %q", eventsOf(t, resp), marker)
					}
				}
				want = c.write(t, ns)
			}
			for i, ch := range chans {
				expectResponses(t, ch, want[i]...)
			}
		})
	}
}

func testWatchPrefix(t *testing.T, s store.Store) {
	runWatchCase(t, s, watchCase{
		prefixes: []string{"p/"},
		setup: func(t *testing.T, ns string) {
			txn(t, s, nil, put(ns+"q/1", "v"))
		},
		write: func(t *testing.T, ns string) [][]wantResp {
			txn(t, s, nil, put(ns+"q/2", "v"))
			r1 := txn(t, s, nil, put(ns+"p/1", "v"))
			r2 := txn(t, s, nil, put(ns+"q/3", "v"), put(ns+"p/2", "v"), del(ns+"q/1"))
			txn(t, s, nil, put(ns+"p", "v"))
			txn(t, s, nil, put(ns+"pp/1", "v"))
			txn(t, s, nil, del(ns+"q/2"))
			r3 := txn(t, s, nil, put(ns+"p/3", "v"))
			// Responses for transactions without a matching key are not
			// sent, and a mixed transaction carries only its matching events.
			return [][]wantResp{{
				{r1, []eventState{putEvent(ns+"p/1", "v", r1, r1)}},
				{r2, []eventState{putEvent(ns+"p/2", "v", r2, r2)}},
				{r3, []eventState{putEvent(ns+"p/3", "v", r3, r3)}},
			}}
		},
	})
}

func testWatchEvents(t *testing.T, s store.Store) {
	runWatchCase(t, s, watchCase{
		prefixes: []string{"e/"},
		setup: func(t *testing.T, ns string) {
			txn(t, s, nil, put(ns+"e/b", "b"), put(ns+"e/gone", "g"))
		},
		write: func(t *testing.T, ns string) [][]wantResp {
			r2 := txn(t, s, nil, put(ns+"e/c", "c"), put(ns+"e/a", "a"), del(ns+"e/b"))
			r3 := txn(t, s, nil, put(ns+"e/a", "a2"), put(ns+"e/b", "b2"))
			r4 := txn(t, s, nil, del(ns+"e/gone"), del(ns+"e/never-existed"))
			return [][]wantResp{{
				// Events of one transaction come in op order.
				{r2, []eventState{putEvent(ns+"e/c", "c", r2, r2), putEvent(ns+"e/a", "a", r2, r2), deleteEvent(ns+"e/b", r2)}},
				{r3, []eventState{putEvent(ns+"e/a", "a2", r3, r2), putEvent(ns+"e/b", "b2", r3, r3)}},
				{r4, []eventState{deleteEvent(ns+"e/gone", r4)}},
			}}
		},
	})
}

func testWatchManyWatchers(t *testing.T, s store.Store) {
	runWatchCase(t, s, watchCase{
		prefixes: []string{"", "m/", "m/a"},
		write: func(t *testing.T, ns string) [][]wantResp {
			r1 := txn(t, s, nil, put(ns+"m/a1", "v"))
			r2 := txn(t, s, nil, put(ns+"m/b", "v"))
			r3 := txn(t, s, nil, put(ns+"x", "v"))
			r4 := txn(t, s, nil, put(ns+"x", "v2"), put(ns+"m/a2", "v"))
			return [][]wantResp{
				{
					{r1, []eventState{putEvent(ns+"m/a1", "v", r1, r1)}},
					{r2, []eventState{putEvent(ns+"m/b", "v", r2, r2)}},
					{r3, []eventState{putEvent(ns+"x", "v", r3, r3)}},
					{r4, []eventState{putEvent(ns+"x", "v2", r4, r3), putEvent(ns+"m/a2", "v", r4, r4)}},
				},
				{
					{r1, []eventState{putEvent(ns+"m/a1", "v", r1, r1)}},
					{r2, []eventState{putEvent(ns+"m/b", "v", r2, r2)}},
					{r4, []eventState{putEvent(ns+"m/a2", "v", r4, r4)}},
				},
				{
					{r1, []eventState{putEvent(ns+"m/a1", "v", r1, r1)}},
					{r4, []eventState{putEvent(ns+"m/a2", "v", r4, r4)}},
				},
			}
		},
	})
}

// testListThenWatch is how consumers sync: List, then Watch from rev+1.
func testListThenWatch(t *testing.T, s store.Store) {
	for i := range 5 {
		txn(t, s, nil, put(fmt.Sprintf("lw/before%d", i), "v"))
	}
	kvs, rev, err := s.List(t.Context(), "lw/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(kvs) != 5 {
		t.Fatalf("List returned %d keys; want 5", len(kvs))
	}
	var want []wantResp
	for i := range 5 {
		key := fmt.Sprintf("lw/after%d", i)
		r := txn(t, s, nil, put(key, "v"))
		want = append(want, wantResp{r, []eventState{putEvent(key, "v", r, r)}})
	}
	expectResponses(t, s.Watch(t.Context(), "lw/", rev+1), want...)
}

// testConcurrentWriters checks that a watcher sees every revision written by
// many goroutines exactly once, in order, while half of the writers contend
// on one key with compare-and-swap.
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 50
	ctx := t.Context()
	start := revision(t, s)
	ch := s.Watch(ctx, "c/", start+1)

	var (
		mu    sync.Mutex
		acked = map[int64]string{} // revision → key written
	)
	ack := func(rev int64, key string) {
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := acked[rev]; dup {
			t.Errorf("revision %d acknowledged twice (%q and %q)", rev, prev, key)
		}
		acked[rev] = key
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if g%2 == 0 {
					key := fmt.Sprintf("c/w%d/%d", g, i)
					rev, err := s.Txn(ctx, nil, []store.Op{put(key, "v")})
					if err != nil {
						t.Errorf("writer %d: Txn: %v", g, err)
						return
					}
					ack(rev, key)
					continue
				}
				rev, err := increment(ctx, s, "c/counter")
				if err != nil {
					t.Errorf("writer %d: increment: %v", g, err)
					return
				}
				ack(rev, "c/counter")
			}
		})
	}

	const total = writers * perWriter
	var seen []wantResp
	for range total {
		resp := recv(t, ch)
		seen = append(seen, wantResp{resp.Revision, eventsOf(t, resp)})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, resp := range seen {
		want := start + 1 + int64(i)
		if resp.rev != want {
			t.Fatalf("watch response %d: revision = %d; want %d (gap, duplicate or reorder)", i, resp.rev, want)
		}
		if len(resp.events) != 1 || resp.events[0].Key != acked[want] {
			t.Errorf("revision %d: events %+v; want one event for acknowledged key %q", want, resp.events, acked[want])
		}
	}
	if len(acked) != total {
		t.Errorf("%d distinct revisions acknowledged; want %d", len(acked), total)
	}
	if got := revision(t, s); got != start+total {
		t.Errorf("Revision() = %d; want %d", got, start+total)
	}
	kv, err := s.Get(ctx, "c/counter")
	if err != nil {
		t.Fatalf("Get counter: %v", err)
	}
	if want := strconv.Itoa(writers / 2 * perWriter); string(kv.Value) != want {
		t.Errorf("counter = %q; want %s (lost update)", kv.Value, want)
	}
}

// increment adds one to the decimal counter at key with compare-and-swap,
// retrying on conflict.
func increment(ctx context.Context, s store.Store, key string) (int64, error) {
	for {
		cond := store.Cond{Key: key}
		n := 0
		kv, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return 0, err
		default:
			if n, err = strconv.Atoi(string(kv.Value)); err != nil {
				return 0, fmt.Errorf("counter value %q: %w", kv.Value, err)
			}
			cond.ModRevision = kv.ModRevision
		}
		rev, err := s.Txn(ctx, []store.Cond{cond}, []store.Op{put(key, strconv.Itoa(n+1))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return rev, err
	}
}

func testWatchCancel(t *testing.T, s store.Store) {
	for i := range 20 {
		txn(t, s, nil, put(fmt.Sprintf("x/%d", i), "v"))
	}
	first := revision(t, s) - 19
	tests := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse
	}{
		{"cancel right after Watch", func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse {
			ch := s.Watch(ctx, "x/", 0)
			cancel()
			return ch
		}},
		{"cancel while idle and live", func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse {
			ch := s.Watch(ctx, "x/", 0)
			txn(t, s, nil, put("x/idle", "v"))
			recv(t, ch)
			cancel()
			return ch
		}},
		{"already cancelled", func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse {
			cancel()
			return s.Watch(ctx, "x/", first)
		}},
		{"cancel during replay", func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse {
			ch := s.Watch(ctx, "x/", first)
			recv(t, ch)
			cancel()
			return ch
		}},
		{"cancel with live responses undelivered", func(t *testing.T, ctx context.Context, cancel context.CancelFunc) <-chan store.WatchResponse {
			ch := s.Watch(ctx, "x/", 0)
			for i := range 5 {
				txn(t, s, nil, put(fmt.Sprintf("x/live%d", i), "v"))
			}
			recv(t, ch)
			cancel()
			return ch
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			expectClosed(t, tc.run(t, ctx, cancel))
		})
	}
}
