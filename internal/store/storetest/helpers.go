package storetest

import (
	"context"
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
