package cache

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestPathMatcher(t *testing.T) {
	tests := []struct {
		paths []string
		path  string
		want  bool
	}{
		{[]string{"/images/a.png"}, "/images/a.png", true},
		{[]string{"/images/a.png"}, "/images/A.png", false}, // case-sensitive
		{[]string{"/images/a.png"}, "/images/a.png.bak", false},
		{[]string{"/images/a.png"}, "/images/a.png?v=1", false}, // query versions need "*" or the query
		{[]string{"/images/a.png*"}, "/images/a.png?v=1", true},
		{[]string{"/images/a.png?v=1"}, "/images/a.png?v=1", true},
		{[]string{"/a?b=2&a=1"}, "/a?a=1&b=2", true}, // query order does not matter
		{[]string{"/images/*"}, "/images/a.png", true},
		{[]string{"/images/*"}, "/images/sub/b.png", true},
		{[]string{"/images/*"}, "/images", false},
		{[]string{"/images*"}, "/images", true},
		{[]string{"/images*"}, "/images-old/x", true},
		{[]string{"/*"}, "/anything/at/all?q=1", true},
		{[]string{"*"}, "/x", true},
		{[]string{"images/a.png"}, "/images/a.png", true}, // leading slash added
		{[]string{"/a", "/b/*"}, "/b/c", true},
		{[]string{"/a", "/b/*"}, "/c", false},
		{[]string{"/im*ges/a"}, "/images/a", false}, // "*" only at the end is a wildcard
		{nil, "/a", false},
	}
	for _, tt := range tests {
		if got := PathMatcher(tt.paths)(tt.path); got != tt.want {
			t.Errorf("PathMatcher(%q)(%q) = %v; want %v", tt.paths, tt.path, got, tt.want)
		}
	}
}

func TestInvalidate(t *testing.T) {
	staging := identityOf("bucket.s3.amazonaws.com", "/2.0.0", "E2OAC")
	objects := []struct {
		id   Identity
		path string
	}{
		{testIdentity, "/index.html"},
		{testIdentity, "/images/a.png"},
		{testIdentity, "/images/b.png"},
		{testIdentity, "/images/sub/c.png"},
		{staging, "/images/a.png"},
	}
	tests := []struct {
		name       string
		identities []Identity
		paths      []string
		wantGone   []int // indexes into objects
	}{
		{"exact", []Identity{testIdentity}, []string{"/images/a.png"}, []int{1}},
		{"wildcard", []Identity{testIdentity}, []string{"/images/*"}, []int{1, 2, 3}},
		{"everything", []Identity{testIdentity}, []string{"/*"}, []int{0, 1, 2, 3}},
		{"other distribution's origin untouched", []Identity{staging}, []string{"/*"}, []int{4}},
		{"both origins", []Identity{testIdentity, staging}, []string{"/images/a.png"}, []int{1, 4}},
		{"no match", []Identity{testIdentity}, []string{"/nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCache(t, Config{})
			keys := make([]Key, len(objects))
			var calls atomic.Int32
			for i, o := range objects {
				keys[i] = NewKeyBuilder(o.id, o.path).Key()
				if _, _, err := c.GetOrFetch(context.Background(), keys[i], staticFetch(&calls, o.path, time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			var ids []string
			for _, id := range tt.identities {
				ids = append(ids, id.String())
			}
			if got := c.Invalidate(ids, tt.paths); got != len(tt.wantGone) {
				t.Errorf("Invalidate removed %d; want %d", got, len(tt.wantGone))
			}
			for i, k := range keys {
				_, ok := c.Get(k)
				if wantGone := slices.Contains(tt.wantGone, i); ok == wantGone {
					t.Errorf("object %d (%s): present=%v; want %v", i, objects[i].path, ok, !wantGone)
				}
			}
			if got := c.Stats().Purged; got != uint64(len(tt.wantGone)) {
				t.Errorf("Stats.Purged = %d; want %d", got, len(tt.wantGone))
			}
		})
	}
}

func TestInvalidateQueryVersions(t *testing.T) {
	c := newTestCache(t, Config{})
	var calls atomic.Int32
	withQuery := NewKeyBuilder(testIdentity, "/a.png").Query("v", "1").Key()
	plain := NewKeyBuilder(testIdentity, "/a.png").Key()
	for _, k := range []Key{withQuery, plain} {
		if _, _, err := c.GetOrFetch(context.Background(), k, staticFetch(&calls, "x", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Invalidate([]string{testIdentity.String()}, []string{"/a.png"}); got != 1 {
		t.Errorf("exact path removed %d; want 1 (only the version without a query)", got)
	}
	if got := c.Invalidate([]string{testIdentity.String()}, []string{"/a.png*"}); got != 1 {
		t.Errorf("wildcard removed %d; want 1 (the query version)", got)
	}
}

// TestPurgeDuringFetch: a fetch in flight when Purge runs answers its
// waiters but is not stored, and later requests do not join it.
func TestPurgeDuringFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCache(t, Config{})
		defer c.Close()
		key := testKey("/a.png")
		release := make(chan struct{})
		var calls atomic.Int32
		staleFetch := func(context.Context) (*Entry, error) {
			calls.Add(1)
			<-release
			return &Entry{Status: 200, Body: []byte("stale"), TTL: time.Hour}, nil
		}

		staleDone := make(chan *Entry, 1)
		go func() {
			e, _, err := c.GetOrFetch(context.Background(), key, staleFetch)
			if err != nil {
				t.Error(err)
			}
			staleDone <- e
		}()
		synctest.Wait() // the stale fetch is in flight

		if got := c.Invalidate([]string{testIdentity.String()}, []string{"/a.png"}); got != 0 {
			t.Errorf("Invalidate removed %d; want 0 (nothing stored yet)", got)
		}

		// A request after the purge starts its own fetch. The deadline (in the
		// bubble's fake time) turns joining the stale fetch into a failure
		// rather than a hang.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e, hit, err := c.GetOrFetch(ctx, key, staticFetch(&calls, "fresh", time.Hour))
		if err != nil {
			t.Fatalf("request after purge: %v; want its own fetch, not the pre-purge one", err)
		}
		if hit || string(e.Body) != "fresh" {
			t.Errorf("request after purge = %q, hit=%v; want fresh, miss", e.Body, hit)
		}

		close(release)
		if e := <-staleDone; string(e.Body) != "stale" {
			t.Errorf("waiter of the old fetch got %q; want stale", e.Body)
		}
		synctest.Wait()
		got, ok := c.Get(key)
		if !ok || string(got.Body) != "fresh" {
			t.Errorf("stored entry = %v, %v; want fresh (stale must not be stored)", got, ok)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("fetch calls = %d; want 2", n)
		}
	})
}

// TestPurgeRace hammers GetOrFetch while purging, for the race detector, and
// checks that nothing fetched before the last purge survives it.
func TestPurgeRace(t *testing.T) {
	c := newTestCache(t, Config{})
	var version atomic.Int64
	ctx := context.Background()
	keys := []Key{testKey("/a"), testKey("/b"), testKey("/c")}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c.GetOrFetch(ctx, keys[i%len(keys)], func(context.Context) (*Entry, error) {
				v := version.Load()
				return &Entry{Status: 200, Body: []byte{byte(v)}, TTL: time.Hour}, nil
			})
		}
	}()
	for range 200 {
		version.Add(1)
		c.Purge(func(string, string) bool { return true })
	}
	final := version.Load()
	close(stop)
	<-done
	// Everything stored now was fetched after the last purge began.
	for _, k := range keys {
		if e, ok := c.Get(k); ok && int64(e.Body[0]) != final%256 {
			t.Errorf("%s: stored version %d; want %d or nothing", k.PurgePath(), e.Body[0], final%256)
		}
	}
}
