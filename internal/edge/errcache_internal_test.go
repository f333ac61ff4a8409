package edge

import (
	"net/http"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/routing"
)

func TestErrorTTLRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := &routing.Dist{ErrorResponses: []routing.ErrorResponse{
		{ErrorCode: 403, CachingMinTTL: 0},
		{ErrorCode: 404, CachingMinTTL: 30 * time.Second},
		{ErrorCode: 503, CachingMinTTL: 5 * time.Second},
	}}
	b := &routing.Behavior{TTL: routing.TTLs{Min: time.Hour, Default: 24 * time.Hour, Max: 60 * time.Second}}
	for _, tc := range []struct {
		name   string
		code   int
		header http.Header
		want   time.Duration
	}{
		{"custom minimum, no header", 404, nil, 30 * time.Second},
		{"default minimum without a custom error response", 500, nil, 10 * time.Second},
		{"minimum 0 keeps nothing", 403, nil, 0},
		{"416 is never kept", 416, nil, 0},
		{"longer max-age wins", 503, http.Header{"Cache-Control": {"max-age=40"}}, 40 * time.Second},
		{"shorter max-age loses to the minimum", 404, http.Header{"Cache-Control": {"max-age=3"}}, 30 * time.Second},
		{"max-age capped at MaxTTL", 503, http.Header{"Cache-Control": {"s-maxage=600"}}, 60 * time.Second},
		{"Expires", 502, http.Header{"Expires": {now.Add(20 * time.Second).Format(http.TimeFormat)}}, 20 * time.Second},
		{"no-cache 404 keeps nothing", 404, http.Header{"Cache-Control": {"public, No-Cache"}}, 0},
		{"no-cache 503 keeps the minimum", 503, http.Header{"Cache-Control": {"no-cache"}}, 5 * time.Second},
		{"private keeps nothing", 503, http.Header{"Cache-Control": {"max-age=60", "private"}}, 0},
		{"no-store keeps nothing", 500, http.Header{"Cache-Control": {"no-store"}}, 0},
	} {
		if got := errorTTL(d, b, tc.code, tc.header, now); got != tc.want {
			t.Errorf("%s: errorTTL(%d) = %v, want %v", tc.name, tc.code, got, tc.want)
		}
	}
}
