package cache

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func benchEntry() *Entry {
	return &Entry{
		Status: 200,
		Header: http.Header{"Content-Type": {"image/png"}, "Etag": {`"abc"`}},
		Body:   make([]byte, 2048),
		TTL:    time.Hour,
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := newTestCache(b, Config{MaxBytes: 64 << 20})
	ctx := context.Background()
	key := NewKeyBuilder(testIdentity, "/images/a.png").Query("v", "2").Header("Accept-Encoding", "br,gzip").Key()
	fetch := func(context.Context) (*Entry, error) { return benchEntry(), nil }
	if _, _, err := c.GetOrFetch(ctx, key, fetch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, hit, _ := c.GetOrFetch(ctx, key, fetch); !hit {
			b.Fatal("miss")
		}
	}
}

// BenchmarkGetOrFetchParallel: all cores on 1024 keys; the first touch of
// each key is a (coalesced) miss, the rest are hits.
func BenchmarkGetOrFetchParallel(b *testing.B) {
	c := newTestCache(b, Config{MaxBytes: 64 << 20})
	ctx := context.Background()
	keys := make([]Key, 1024)
	for i := range keys {
		keys[i] = NewKeyBuilder(testIdentity, fmt.Sprintf("/obj/%d", i)).Key()
	}
	fetch := func(context.Context) (*Entry, error) { return benchEntry(), nil }
	var seed atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := seed.Add(7919)
		for pb.Next() {
			i++
			if _, _, err := c.GetOrFetch(ctx, keys[i%uint64(len(keys))], fetch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	st := c.Stats()
	b.ReportMetric(float64(st.Fetches), "fetches")
}
