package cache

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestGetBuilt: a reused builder finds what GetOrFetch stored under the Key
// it builds, whatever the order parts arrive in, without allocating; a
// miss counts nothing (the caller's GetOrFetch does).
func TestGetBuilt(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, Config{Now: clock.Now})
	id := testIdentity
	var kb KeyBuilder
	build := func(path string, headers ...string) *KeyBuilder {
		kb.Reset(id, path)
		for i := 0; i+1 < len(headers); i += 2 {
			kb.Header(headers[i], headers[i+1])
		}
		return &kb
	}
	fetch := func(context.Context) (*Entry, error) {
		return &Entry{Status: 200, Header: http.Header{}, Body: []byte("x"), TTL: time.Minute}, nil
	}

	if _, ok := c.GetBuilt(build("/a", "X-Enc", "br", "Accept", "*/*")); ok {
		t.Fatal("GetBuilt on an empty cache: got a hit")
	}
	if _, _, err := c.GetOrFetch(context.Background(), kb.Key(), fetch); err != nil {
		t.Fatal(err)
	}
	stats := c.Stats()
	if stats.Hits != 0 || stats.Misses != 1 {
		t.Fatalf("after a miss and a fetch: hits %d, misses %d; want 0, 1", stats.Hits, stats.Misses)
	}
	for _, tc := range []struct {
		name    string
		b       func() *KeyBuilder
		wantHit bool
	}{
		{"same parts", func() *KeyBuilder { return build("/a", "X-Enc", "br", "Accept", "*/*") }, true},
		{"other order and case", func() *KeyBuilder { return build("/a", "accept", "*/*", "x-enc", "br") }, true},
		{"other value", func() *KeyBuilder { return build("/a", "X-Enc", "gzip", "Accept", "*/*") }, false},
		{"other path", func() *KeyBuilder { return build("/b", "X-Enc", "br", "Accept", "*/*") }, false},
	} {
		if _, hit := c.GetBuilt(tc.b()); hit != tc.wantHit {
			t.Errorf("%s: hit %v, want %v", tc.name, hit, tc.wantHit)
		}
	}
	if got := c.Stats().Hits; got != 2 {
		t.Errorf("hits: got %d, want 2", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { c.GetBuilt(build("/a", "Accept", "*/*", "X-Enc", "br")) }); allocs != 0 {
		t.Errorf("GetBuilt hit: %v allocations, want 0", allocs)
	}

	// A key built from NewKeyBuilder and from a reset builder are equal.
	want := NewKeyBuilder(testIdentity, "/q").Query("b", "2").Query("a", "1").Header("Accept", "x").Cookie("c", "3").Key()
	kb.Reset(id, "/q")
	got := kb.Query("a", "1").Query("b", "2").Header("ACCEPT", "x").Cookie("c", "3").Key()
	if got != want {
		t.Errorf("reset builder key\n got %q\nwant %q", got, want)
	}
}

// TestAgeHeader: the Age value follows the clock in whole seconds and is
// shared within a second.
func TestAgeHeader(t *testing.T) {
	stored := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	e := &Entry{StoredAt: stored, TTL: time.Hour}
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{
		{-time.Second, "0"}, {0, "0"}, {999 * time.Millisecond, "0"}, {time.Second, "1"}, {150 * time.Second, "150"},
	} {
		if got := e.AgeHeader(stored.Add(tc.after)); len(got) != 1 || got[0] != tc.want || cap(got) != 1 {
			t.Errorf("AgeHeader after %v: got %q (cap %d), want [%s] with cap 1", tc.after, got, cap(got), tc.want)
		}
	}
	a, b := e.AgeHeader(stored.Add(150*time.Second)), e.AgeHeader(stored.Add(150*time.Second+time.Millisecond))
	if &a[0] != &b[0] {
		t.Error("two responses in the same second: AgeHeader built the value twice")
	}
}
