package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/store"
)

// Helpers for a backend's own tests (beyond the conformance suite).

// MustPut writes key=value in its own transaction and returns the revision.
func MustPut(t testing.TB, s store.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Txn(context.Background(), nil, []store.Op{{Key: key, Value: []byte(value)}})
	if err != nil {
		t.Fatalf("Txn put %q: %v", key, err)
	}
	return rev
}

// ReadUntilClosed collects every response until the channel closes (10 s at most).
func ReadUntilClosed(t testing.TB, ch <-chan store.WatchResponse) []store.WatchResponse {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	var got []store.WatchResponse
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, resp)
		case <-timer.C:
			t.Fatalf("watch channel still open after 10s; got %d responses", len(got))
		}
	}
}

// RecvN receives n error-free responses (10 s at most).
func RecvN(t testing.TB, ch <-chan store.WatchResponse, n int) []store.WatchResponse {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	var got []store.WatchResponse
	for len(got) < n {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed after %d of %d responses", len(got), n)
			}
			if resp.Err != nil {
				t.Fatalf("response %d: %v", len(got), resp.Err)
			}
			got = append(got, resp)
		case <-timer.C:
			t.Fatalf("got %d of %d responses within 10s", len(got), n)
		}
	}
	return got
}

// WantRevisions checks that responses carry consecutive revisions from first.
func WantRevisions(t testing.TB, resps []store.WatchResponse, first int64) {
	t.Helper()
	for i, resp := range resps {
		if want := first + int64(i); resp.Revision != want {
			t.Fatalf("response %d: revision = %d; want %d", i, resp.Revision, want)
		}
	}
}

// WatchCancelLeaksNoGoroutine opens 30 watches in every state (idle, live,
// blocked replaying, queued), cancels them, and checks that every channel
// closes and no goroutine of the store is left behind. Backends call it
// from their own tests (counting goroutines needs the process to itself).
// It counts the goroutines running the store's code (storeGoroutines),
// not every goroutine: an embedded etcd server and its client start and
// end goroutines of their own at their own pace, which once left the
// whole process one goroutine over its count on a loaded machine.
func WatchCancelLeaksNoGoroutine(t *testing.T, s store.Store) {
	t.Helper()
	for i := range 20 {
		MustPut(t, s, fmt.Sprintf("k/%d", i), "v")
	}
	before := storeGoroutines()
	ctx, cancel := context.WithCancel(t.Context())
	var chans []<-chan store.WatchResponse
	for i := range 30 {
		switch i % 3 {
		case 0: // idle, live
			chans = append(chans, s.Watch(ctx, "k/", 0))
		case 1: // blocked sending a replayed response
			chans = append(chans, s.Watch(ctx, "k/", 1))
		case 2: // live with undelivered responses queued
			chans = append(chans, s.Watch(ctx, "", 0))
		}
	}
	for i := range 5 {
		MustPut(t, s, fmt.Sprintf("k/more%d", i), "v")
	}
	// The count sees the watches' goroutines (else it would prove nothing).
	if during := storeGoroutines(); during < before+len(chans) {
		t.Fatalf("store goroutines: %d with %d watches open, %d before: the count does not see them", during, len(chans), before)
	}
	cancel()
	for _, ch := range chans {
		ReadUntilClosed(t, ch)
	}
	deadline := time.Now().Add(5 * time.Second)
	for storeGoroutines() > before {
		if time.Now().After(deadline) {
			t.Fatalf("store goroutines: %d after cancelling every watch; want <= %d", storeGoroutines(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storeGoroutines counts the goroutines with a function of the store
// packages (internal/store/...) on their stack.
func storeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("stagefront/internal/store/")) {
			count++
		}
	}
	return count
}

// CloseEndsWatchesAndCalls checks Close: a live watch and a replaying one
// end with ErrUnavailable, and so do a new Watch, Get, List, Txn and
// Revision; a second Close returns nil. waitReplay first receives the
// replayed response (for backends that start watches asynchronously).
// The store is left closed.
func CloseEndsWatchesAndCalls(t *testing.T, s store.Store, waitReplay bool) {
	t.Helper()
	ctx := t.Context()
	MustPut(t, s, "k", "v")
	live := s.Watch(ctx, "", 0)
	replaying := s.Watch(ctx, "", 1)
	if waitReplay {
		RecvN(t, replaying, 1)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, ch := range map[string]<-chan store.WatchResponse{"live": live, "replaying": replaying} {
		got := ReadUntilClosed(t, ch)
		if len(got) == 0 || !errors.Is(got[len(got)-1].Err, store.ErrUnavailable) {
			t.Errorf("%s watch after Close = %+v; want last response with ErrUnavailable", name, got)
		}
	}
	if got := ReadUntilClosed(t, s.Watch(ctx, "", 0)); len(got) != 1 || !errors.Is(got[0].Err, store.ErrUnavailable) {
		t.Errorf("Watch after Close = %+v; want one response with ErrUnavailable", got)
	}
	_, errGet := s.Get(ctx, "k")
	_, _, errList := s.List(ctx, "")
	_, errTxn := s.Txn(ctx, nil, []store.Op{{Key: "k"}})
	_, errRev := s.Revision(ctx)
	for name, err := range map[string]error{"Get": errGet, "List": errList, "Txn": errTxn, "Revision": errRev} {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s after Close: error = %v; want ErrUnavailable", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
}
