package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, Options{})
	})
}

// openTemp opens a store in t.TempDir(); the caller (or Run) closes it.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestReopenKeepsDataAndRevision(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range 5 {
		storetest.MustPut(t, s, fmt.Sprintf("k/%d", i), fmt.Sprint(i))
	}
	if _, err := s.Txn(ctx, nil, []store.Op{{Key: "k/0", Delete: true}}); err != nil {
		t.Fatalf("Txn delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if rev, err := s.Revision(ctx); err != nil || rev != 6 {
		t.Errorf("Revision() after reopen = %d, %v; want 6", rev, err)
	}
	kvs, rev, err := s.List(ctx, "k/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(kvs) != 4 || rev != 6 {
		t.Errorf("List after reopen = %d keys at rev %d; want 4 keys at rev 6", len(kvs), rev)
	}
	if kv, err := s.Get(ctx, "k/3"); err != nil || string(kv.Value) != "3" || kv.ModRevision != 4 || kv.CreateRevision != 4 {
		t.Errorf("Get(k/3) after reopen = %+v, %v; want value 3 at mod/create 4", kv, err)
	}
	if got := storetest.MustPut(t, s, "k/new", "v"); got != 7 {
		t.Errorf("first Txn after reopen = revision %d; want 7", got)
	}
	// The change log survives too: replay everything from revision 1.
	storetest.WantRevisions(t, storetest.RecvN(t, s.Watch(ctx, "k/", 1), 7), 1)
}

func TestWatchCompacted(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, Options{LogRetention: 5})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range 20 {
		storetest.MustPut(t, s, fmt.Sprintf("c/%d", i), "v")
	}
	check := func(s *Store) {
		t.Helper()
		tests := []struct {
			fromRev       int64
			wantCompacted bool
			wantFirst     int64 // first replayed revision
		}{
			{1, true, 0},
			{15, true, 0},
			{16, false, 16},
			{20, false, 20},
		}
		for _, tc := range tests {
			wctx, cancel := context.WithCancel(ctx)
			ch := s.Watch(wctx, "c/", tc.fromRev)
			if tc.wantCompacted {
				got := storetest.ReadUntilClosed(t, ch)
				if len(got) != 1 || !errors.Is(got[0].Err, store.ErrCompacted) {
					t.Errorf("Watch(from %d) = %+v; want one response with ErrCompacted, then close", tc.fromRev, got)
				}
			} else {
				storetest.WantRevisions(t, storetest.RecvN(t, ch, int(20-tc.wantFirst+1)), tc.wantFirst)
			}
			cancel()
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// A larger retention after reopen cannot bring compacted revisions back.
	s, err = Open(path, Options{LogRetention: 100})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	check(s)
}

// TestSlowWatcherCatchesUp: a watcher that reads nothing while writers run is
// moved off the live path, then replays from the log without losing a revision.
func TestSlowWatcherCatchesUp(t *testing.T) {
	s := openTemp(t, Options{WatchBuffer: 2})
	defer s.Close()
	ch := s.Watch(t.Context(), "", 0)
	for i := range 50 {
		storetest.MustPut(t, s, fmt.Sprintf("k/%d", i), "v")
	}
	storetest.WantRevisions(t, storetest.RecvN(t, ch, 50), 1)
	rev := storetest.MustPut(t, s, "k/live", "v")
	storetest.WantRevisions(t, storetest.RecvN(t, ch, 1), rev)
}

// TestSlowWatcherCompacted: a watcher that falls behind the log's retention
// ends with ErrCompacted after what it could still be given, in order.
func TestSlowWatcherCompacted(t *testing.T) {
	s := openTemp(t, Options{WatchBuffer: 2, LogRetention: 10})
	defer s.Close()
	ch := s.Watch(t.Context(), "", 0)
	for i := range 50 {
		storetest.MustPut(t, s, fmt.Sprintf("k/%d", i), "v")
	}
	got := storetest.ReadUntilClosed(t, ch)
	if len(got) == 0 || !errors.Is(got[len(got)-1].Err, store.ErrCompacted) {
		t.Fatalf("got %d responses, last %+v; want the last to carry ErrCompacted", len(got), got[len(got)-1])
	}
	storetest.WantRevisions(t, got[:len(got)-1], 1)
}

func TestCloseEndsWatchesAndCalls(t *testing.T) {
	s := openTemp(t, Options{})
	storetest.CloseEndsWatchesAndCalls(t, s, false)
	if _, err := s.Txn(t.Context(), nil, nil); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("empty Txn after Close: error = %v; want ErrUnavailable", err)
	}
}

func TestWatchCancelLeaksNoGoroutine(t *testing.T) {
	s := openTemp(t, Options{WatchBuffer: 2})
	defer s.Close()
	storetest.WatchCancelLeaksNoGoroutine(t, s)
}

func TestEmptyKeyRejected(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	if _, err := s.Txn(t.Context(), nil, []store.Op{{Key: "a", Value: []byte("v")}, {Key: ""}}); err == nil {
		t.Errorf("Txn with an empty key: error = nil; want an error")
	}
	if rev, _ := s.Revision(t.Context()); rev != 0 {
		t.Errorf("Revision() = %d after a rejected Txn; want 0", rev)
	}
}

func TestOpenLockedFile(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	_, err := Open(s.path, Options{OpenTimeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("second Open of a locked file: error = %v; want ErrUnavailable", err)
	}
}

const crashChildEnv = "STAGEFRONT_BOLT_CRASH_CHILD_PATH"

// TestCrashDurability re-executes the test binary as a child that writes as
// fast as it can and prints every acknowledged revision, SIGKILLs it
// mid-run, then checks that every acknowledged write survived.
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	const killAfter = 150
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	acked := map[string]int64{} // key → acknowledged revision
	killed := false
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		var (
			rev int64
			key string
		)
		if n, _ := fmt.Sscanf(scanner.Text(), "ack %d %s", &rev, &key); n != 2 {
			continue
		}
		acked[key] = rev
		if len(acked) == killAfter && !killed {
			// Lines already in the pipe are acknowledged too; keep reading.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	waitErr := cmd.Wait()
	if !killed || waitErr == nil {
		t.Fatalf("child was not killed mid-run (acks %d, wait %v); stderr:\n%s", len(acked), waitErr, stderr.String())
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer s.Close()
	// SIGKILL leaves the page cache intact, so it cannot catch a missing
	// fsync; guard the setting itself.
	if s.db.NoSync {
		t.Errorf("db.NoSync = true; every acknowledged write must be fsynced")
	}
	var maxRev int64
	for key, rev := range acked {
		kv, err := s.Get(t.Context(), key)
		if err != nil || kv.ModRevision != rev || string(kv.Value) != "value-"+key {
			t.Errorf("acknowledged %q at revision %d; after crash Get = %+v, %v", key, rev, kv, err)
		}
		maxRev = max(maxRev, rev)
	}
	cur, err := s.Revision(t.Context())
	if err != nil || cur < maxRev {
		t.Errorf("Revision() after crash = %d, %v; want >= %d (last acknowledged)", cur, err, maxRev)
	}
	if got := storetest.MustPut(t, s, "after-crash", "v"); got != cur+1 {
		t.Errorf("first Txn after crash = revision %d; want %d", got, cur+1)
	}
	t.Logf("%d acknowledged writes survived SIGKILL; store at revision %d", len(acked), cur)
}

// crashChild writes until killed, printing each acknowledged revision. Each
// line is written with one write(2) after Txn returned, so a printed line
// means an acknowledged write.
func crashChild(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		key := fmt.Sprintf("crash/%07d", i)
		rev, err := s.Txn(context.Background(), nil, []store.Op{
			{Key: key, Value: []byte("value-" + key)},
			{Key: "crash/last", Value: []byte(key)},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "txn:", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "ack %d %s\n", rev, key)
	}
}

func BenchmarkTxn(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s := openTemp(b, Options{})
		defer s.Close()
		value := make([]byte, 512)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			key := fmt.Sprintf("bench/%d", i%1000)
			if _, err := s.Txn(ctx, nil, []store.Op{{Key: key, Value: value}}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := openTemp(b, Options{})
		defer s.Close()
		value := make([]byte, 512)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			i := 0
			for pb.Next() {
				key := fmt.Sprintf("bench/%d", i%1000)
				if _, err := s.Txn(ctx, nil, []store.Op{{Key: key, Value: value}}); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

func BenchmarkGet(b *testing.B) {
	s := openTemp(b, Options{})
	defer s.Close()
	const keys = 1000
	ops := make([]store.Op, keys)
	for i := range ops {
		ops[i] = store.Op{Key: fmt.Sprintf("bench/%d", i), Value: make([]byte, 512)}
	}
	if _, err := s.Txn(context.Background(), nil, ops); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, ops[i%keys].Key); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			i := 0
			for pb.Next() {
				if _, err := s.Get(ctx, ops[i%keys].Key); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
