package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestTTL(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const oneYear = 31536000 * time.Second
	// The TTLs of the managed policies CachingOptimized, CachingDisabled
	// and UseOriginCacheControlHeaders (internal/cloudfront/managed.go).
	optimized := TTLPolicy{Min: time.Second, Default: 86400 * time.Second, Max: oneYear}
	disabled := TTLPolicy{}
	originCC := TTLPolicy{Max: oneYear}
	legacy := LegacyTTLPolicy(0, 86400, 31536000)
	minTen := TTLPolicy{Min: 10 * time.Second, Default: 60 * time.Second, Max: 300 * time.Second}
	httpDate := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }

	tests := []struct {
		name      string
		policy    TTLPolicy
		hdr       http.Header
		wantTTL   time.Duration
		wantStore bool
	}{
		{"no headers: default", optimized, http.Header{}, 86400 * time.Second, true},
		{"max-age within bounds", optimized, http.Header{"Cache-Control": {"public, max-age=600"}}, 600 * time.Second, true},
		{"max-age clamped up to min", minTen, http.Header{"Cache-Control": {"max-age=3"}}, 10 * time.Second, true},
		{"max-age clamped down to max", minTen, http.Header{"Cache-Control": {"max-age=3600"}}, 300 * time.Second, true},
		{"max-age=0 with min 1 stores for min", optimized, http.Header{"Cache-Control": {"max-age=0"}}, time.Second, true},
		{"max-age=0 with min 0 does not store", legacy, http.Header{"Cache-Control": {"max-age=0"}}, 0, false},
		{"s-maxage wins over max-age", optimized, http.Header{"Cache-Control": {"max-age=60, s-maxage=120"}}, 120 * time.Second, true},
		{"s-maxage clamped", minTen, http.Header{"Cache-Control": {"s-maxage=100000", "max-age=5"}}, 300 * time.Second, true},
		{"directives case-insensitive, quoted value", legacy, http.Header{"Cache-Control": {`Max-Age="42"`}}, 42 * time.Second, true},
		{"first max-age wins", legacy, http.Header{"Cache-Control": {"max-age=5, max-age=50"}}, 5 * time.Second, true},
		{"malformed max-age ignored: default", legacy, http.Header{"Cache-Control": {"max-age=abc"}}, 86400 * time.Second, true},
		{"negative max-age ignored: default", legacy, http.Header{"Cache-Control": {"max-age=-5"}}, 86400 * time.Second, true},
		{"huge max-age clamped to max", legacy, http.Header{"Cache-Control": {"max-age=99999999999999999999999"}}, 31536000 * time.Second, true},
		{"no-store, min 0: not stored", legacy, http.Header{"Cache-Control": {"no-store"}}, 0, false},
		{"no-cache, min 0: not stored", legacy, http.Header{"Cache-Control": {"no-cache"}}, 0, false},
		{"private wins over max-age, min 0", legacy, http.Header{"Cache-Control": {"private, max-age=600"}}, 0, false},
		{"qualified no-cache counts", legacy, http.Header{"Cache-Control": {`no-cache="Set-Cookie", max-age=60`}}, 0, false},
		{"no-store with min > 0: never stored", minTen, http.Header{"Cache-Control": {"no-store"}}, 0, false},
		{"private with min > 0: never stored", optimized, http.Header{"Cache-Control": {"private"}}, 0, false},
		{"private, no-store with min > 0: never stored", optimized, http.Header{"Cache-Control": {"private, no-store"}}, 0, false},
		{"qualified private counts, min > 0", optimized, http.Header{"Cache-Control": {`private="Set-Cookie", max-age=60`}}, 0, false},
		{"no-cache with min > 0: stored for min", minTen, http.Header{"Cache-Control": {"no-cache"}}, 10 * time.Second, true},
		{"Expires in the future", legacy, http.Header{"Expires": {httpDate(90 * time.Second)}}, 90 * time.Second, true},
		{"Expires clamped to max", minTen, http.Header{"Expires": {httpDate(time.Hour)}}, 300 * time.Second, true},
		{"Expires in the past, min 0", legacy, http.Header{"Expires": {httpDate(-time.Hour)}}, 0, false},
		{"Expires in the past, min > 0", minTen, http.Header{"Expires": {httpDate(-time.Hour)}}, 10 * time.Second, true},
		{"invalid Expires is expired", legacy, http.Header{"Expires": {"0"}}, 0, false},
		{"max-age wins over Expires", legacy, http.Header{"Cache-Control": {"max-age=30"}, "Expires": {httpDate(time.Hour)}}, 30 * time.Second, true},
		{"CachingDisabled never stores: default", disabled, http.Header{}, 0, false},
		{"CachingDisabled never stores: max-age", disabled, http.Header{"Cache-Control": {"max-age=600"}}, 0, false},
		{"CachingDisabled never stores: Expires", disabled, http.Header{"Expires": {httpDate(time.Hour)}}, 0, false},
		{"origin headers policy: none means no store", originCC, http.Header{}, 0, false},
		{"origin headers policy: max-age honoured", originCC, http.Header{"Cache-Control": {"max-age=120"}}, 120 * time.Second, true},
		{"default raised to min", TTLPolicy{Min: 100 * time.Second, Default: 10 * time.Second, Max: time.Hour}, http.Header{}, 100 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotTTL, gotStore := TTL(tt.policy, tt.hdr, now)
			if gotTTL != tt.wantTTL || gotStore != tt.wantStore {
				t.Errorf("TTL(%+v, %v) = %v, %v; want %v, %v", tt.policy, tt.hdr, gotTTL, gotStore, tt.wantTTL, tt.wantStore)
			}
		})
	}
}

// TestSharedWithAuthorization: RFC 9111 §3.5 lets a shared cache store a
// response to a request with Authorization only when the response carries
// must-revalidate, public or s-maxage.
func TestSharedWithAuthorization(t *testing.T) {
	for _, tc := range []struct {
		cc   []string
		want bool
	}{
		{nil, false},
		{[]string{"max-age=300"}, false},
		{[]string{"private, max-age=300"}, false},
		{[]string{"no-cache"}, false},
		{[]string{"public, max-age=300"}, true},
		{[]string{"max-age=300", "Public"}, true},
		{[]string{"must-revalidate, max-age=60"}, true},
		{[]string{"s-maxage=60"}, true},
		{[]string{"s-maxage=oops"}, false},
		{[]string{"proxy-revalidate, max-age=60"}, false},
	} {
		hdr := http.Header{}
		for _, v := range tc.cc {
			hdr.Add("Cache-Control", v)
		}
		if got := SharedWithAuthorization(hdr); got != tc.want {
			t.Errorf("SharedWithAuthorization(Cache-Control %q) = %v; want %v", tc.cc, got, tc.want)
		}
	}
}

func TestLegacyTTLPolicy(t *testing.T) {
	got := LegacyTTLPolicy(-1, 86400, 31536000)
	want := TTLPolicy{Min: 0, Default: 86400 * time.Second, Max: 31536000 * time.Second}
	if got != want {
		t.Errorf("LegacyTTLPolicy = %+v; want %+v", got, want)
	}
}

func TestStaleWindows(t *testing.T) {
	optimized := TTLPolicy{Min: time.Second, Default: 86400 * time.Second, Max: 31536000 * time.Second}
	smallMax := TTLPolicy{Max: 20 * time.Second}
	tests := []struct {
		name         string
		policy       TTLPolicy
		cacheControl string
		wantSWR      time.Duration
		wantSIE      time.Duration
	}{
		{"none", optimized, "max-age=60", 0, 0},
		{"both", optimized, "max-age=1, stale-while-revalidate=30, stale-if-error=60", 30 * time.Second, 60 * time.Second},
		{"case and spaces", optimized, "Max-Age=1 , STALE-WHILE-REVALIDATE = 5", 5 * time.Second, 0},
		{"bounded by MaxTTL", smallMax, "max-age=1, stale-while-revalidate=30, stale-if-error=86400", 20 * time.Second, 20 * time.Second},
		{"malformed is absent", optimized, "stale-while-revalidate=-3, stale-if-error=1x", 0, 0},
		{"first value wins", optimized, "stale-if-error=7, stale-if-error=9", 0, 7 * time.Second},
		{"must-revalidate forbids stale", optimized, "max-age=1, must-revalidate, stale-if-error=60", 0, 0},
		{"proxy-revalidate forbids stale", optimized, "max-age=1, proxy-revalidate, stale-while-revalidate=60", 0, 0},
		{"no-cache forbids stale", optimized, "no-cache, stale-while-revalidate=60", 0, 0},
		{"caching disabled", TTLPolicy{}, "max-age=1, stale-while-revalidate=60", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			swr, sie := StaleWindows(tt.policy, http.Header{"Cache-Control": {tt.cacheControl}})
			if swr != tt.wantSWR || sie != tt.wantSIE {
				t.Errorf("StaleWindows(%q) = %v, %v; want %v, %v", tt.cacheControl, swr, sie, tt.wantSWR, tt.wantSIE)
			}
		})
	}
}
