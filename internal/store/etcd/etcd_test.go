package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/connectivity"

	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/store/storetest"
)

type server struct{ *etcdtest.Server }

func startServer(t *testing.T) *server { return &server{etcdtest.Start(t)} }

func (s *server) start() { s.Restart() }

func (s *server) stop() { s.Stop() }

func (s *server) open(t *testing.T, cfg Config) *Store {
	t.Helper()
	cfg.Endpoints = []string{s.Endpoint}
	st, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func TestConformance(t *testing.T) {
	srv := startServer(t)
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		// One member for the whole suite; each subtest gets a fresh,
		// empty namespace.
		n++
		return srv.open(t, Config{Prefix: fmt.Sprintf("/conformance/%d/", n)})
	})
}

func TestWatchCompacted(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, Config{})
	defer s.Close()
	var revs []int64
	for i := range 20 {
		revs = append(revs, storetest.MustPut(t, s, fmt.Sprintf("c/%d", i), "v"))
	}
	compactAt := revs[14]
	if _, err := s.Client().Compact(t.Context(), compactAt, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("Compact(%d): %v", compactAt, err)
	}
	tests := []struct {
		fromRev       int64
		wantCompacted bool
	}{
		{revs[0], true},
		{compactAt - 1, true},
		{compactAt, false},
		{revs[19], false},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithCancel(t.Context())
		ch := s.Watch(ctx, "c/", tc.fromRev)
		if tc.wantCompacted {
			got := storetest.ReadUntilClosed(t, ch)
			if len(got) != 1 || !errors.Is(got[0].Err, store.ErrCompacted) {
				t.Errorf("Watch(from %d) after Compact(%d) = %+v; want one response with ErrCompacted, then close",
					tc.fromRev, compactAt, got)
			}
		} else {
			storetest.WantRevisions(t, storetest.RecvN(t, ch, int(revs[19]-tc.fromRev+1)), tc.fromRev)
		}
		cancel()
	}
}

// TestUnavailable stops etcd under a live Store: calls fail with
// ErrUnavailable within the request timeout instead of hanging, and a live
// watch resumes without a gap once etcd is back.
func TestUnavailable(t *testing.T) {
	srv := startServer(t)
	const timeout = time.Second
	s := srv.open(t, Config{RequestTimeout: timeout})
	defer s.Close()
	storetest.MustPut(t, s, "k", "v")
	live := s.Watch(t.Context(), "", 0)

	stopStart := time.Now()
	srv.stop()
	t.Logf("stopping etcd took %v", time.Since(stopStart))
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err }},
		{"List", func(ctx context.Context) error { _, _, err := s.List(ctx, ""); return err }},
		{"Revision", func(ctx context.Context) error { _, err := s.Revision(ctx); return err }},
		{"Txn", func(ctx context.Context) error {
			_, err := s.Txn(ctx, nil, []store.Op{{Key: "k", Value: []byte("down")}})
			return err
		}},
		{"Watch from now", func(ctx context.Context) error {
			got := storetest.ReadUntilClosed(t, s.Watch(ctx, "", 0))
			if len(got) != 1 {
				return fmt.Errorf("%d responses; want 1", len(got))
			}
			return got[0].Err
		}},
	}
	for _, tc := range calls {
		start := time.Now()
		err := tc.call(t.Context())
		elapsed := time.Since(start)
		t.Logf("%s with etcd stopped: %v after %v", tc.name, err, elapsed)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with etcd stopped: error = %v; want ErrUnavailable", tc.name, err)
		}
		if elapsed > timeout+2*time.Second {
			t.Errorf("%s with etcd stopped took %v; want about the request timeout %v", tc.name, elapsed, timeout)
		}
	}

	// The caller's own, shorter deadline wins, and still says unavailable.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	start := time.Now()
	_, err := s.Get(ctx, "k")
	cancel()
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a 200ms deadline: error = %v; want ErrUnavailable and DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > timeout {
		t.Errorf("Get with a 200ms deadline took %v", elapsed)
	}

	restart := time.Now()
	srv.start()
	t.Logf("restarting etcd took %v", time.Since(restart))
	var rev int64
	deadline := time.Now().Add(15 * time.Second)
	for {
		rev, err = s.Txn(t.Context(), nil, []store.Op{{Key: "k", Value: []byte("back")}})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Txn after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := storetest.RecvN(t, live, 1)
	t.Logf("first write and its live watch response %v after restart", time.Since(restart))
	if got[0].Revision != rev || len(got[0].Events) != 1 || string(got[0].Events[0].KV.Value) != "back" {
		t.Errorf("live watch after restart = %+v; want the write at revision %d", got[0], rev)
	}
}

// TestUnavailableFailsFast: once the client has lost its connection, a
// call fails within UnreachableTimeout rather than the (long) request
// timeout, and calls succeed again with the full timeout after a restart.
func TestUnavailableFailsFast(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, Config{RequestTimeout: 20 * time.Second, UnreachableTimeout: 300 * time.Millisecond})
	defer s.Close()
	storetest.MustPut(t, s, "k", "v")
	srv.stop()
	// The first call may still find the connection ready and wait for the
	// request timeout to notice; wait for gRPC to see the loss instead.
	deadline := time.Now().Add(10 * time.Second)
	for s.Client().ActiveConnection().GetState() == connectivity.Ready {
		if time.Now().After(deadline) {
			t.Fatal("the etcd client still reports a ready connection 10 s after etcd stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 3 {
		start := time.Now()
		_, err := s.Get(t.Context(), "k")
		elapsed := time.Since(start)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Get %d with etcd stopped: %v; want ErrUnavailable", i, err)
		}
		if elapsed > 3*time.Second {
			t.Errorf("Get %d with etcd stopped took %v; want about the 300ms unreachable timeout, not the 20 s request timeout", i, elapsed)
		}
	}
	srv.start()
	deadline = time.Now().Add(15 * time.Second)
	for {
		if _, err := s.Get(t.Context(), "k"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("Get after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOpenUnreachable(t *testing.T) {
	dead := etcdtest.FreeURL(t) // nothing listens there any more
	start := time.Now()
	_, err := Open(t.Context(), Config{Endpoints: []string{dead.String()}, DialTimeout: 500 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(%s): error = %v; want ErrUnavailable", dead.String(), err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Open of an unreachable endpoint took %v; want about the 500ms dial timeout", elapsed)
	}
}

func TestCloseEndsWatchesAndCalls(t *testing.T) {
	srv := startServer(t)
	storetest.CloseEndsWatchesAndCalls(t, srv.open(t, Config{}), true)
}

// TestNamespaces: two Stores with different prefixes on one cluster see only
// their own keys, and keys come back without the prefix.
func TestNamespaces(t *testing.T) {
	srv := startServer(t)
	a := srv.open(t, Config{Prefix: "/a/"})
	defer a.Close()
	b := srv.open(t, Config{Prefix: "/b/"})
	defer b.Close()
	watchA := a.Watch(t.Context(), "", 0)
	storetest.MustPut(t, b, "k", "from b")
	revA := storetest.MustPut(t, a, "k", "from a")

	kvs, _, err := a.List(t.Context(), "")
	if err != nil || len(kvs) != 1 || kvs[0].Key != "k" || string(kvs[0].Value) != "from a" {
		t.Errorf("a.List(\"\") = %+v, %v; want only k = \"from a\"", kvs, err)
	}
	got := storetest.RecvN(t, watchA, 1)
	if got[0].Revision != revA || len(got[0].Events) != 1 || got[0].Events[0].KV.Key != "k" {
		t.Errorf("a's watch = %+v; want only a's write at revision %d", got[0], revA)
	}
	raw, err := a.Client().Get(t.Context(), "/a/k")
	if err != nil || len(raw.Kvs) != 1 || string(raw.Kvs[0].Value) != "from a" {
		t.Errorf("raw etcd Get(/a/k) = %v, %v; want the namespaced key", raw, err)
	}
}

// TestTxnRepeatedKey: etcd rejects a transaction that writes one key twice;
// the Store applies the last op per key, which leaves the same state.
func TestTxnRepeatedKey(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, Config{})
	defer s.Close()
	storetest.MustPut(t, s, "gone", "v")
	ops := []store.Op{
		{Key: "k", Value: []byte("1")},
		{Key: "gone", Delete: true},
		{Key: "k", Value: []byte("2")},
		{Key: "gone", Value: []byte("back")},
		{Key: "x", Value: []byte("x")},
		{Key: "x", Delete: true},
	}
	rev, err := s.Txn(t.Context(), nil, ops)
	if err != nil {
		t.Fatalf("Txn: %v", err)
	}
	want := map[string]string{"k": "2", "gone": "back"}
	for key, value := range want {
		kv, err := s.Get(t.Context(), key)
		if err != nil || string(kv.Value) != value || kv.ModRevision != rev {
			t.Errorf("Get(%q) = %+v, %v; want %q at revision %d", key, kv, err, value, rev)
		}
	}
	if _, err := s.Get(t.Context(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(x) error = %v; want ErrNotFound", err)
	}
	if _, err := s.Txn(t.Context(), nil, []store.Op{{Key: ""}}); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Txn with an empty key: error = %v; want a plain error", err)
	}
}

func TestWatchCancelLeaksNoGoroutine(t *testing.T) {
	srv := startServer(t)
	s := srv.open(t, Config{})
	defer s.Close()
	storetest.WatchCancelLeaksNoGoroutine(t, s)
}
