package origin

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestFetchNoGoroutineLeak runs successes and every kind of failure, then
// checks that the goroutine count settles back once the Fetcher and the
// servers are closed.
func TestFetchNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		}))
		defer ok.Close()
		slow := httptest.NewServer(slowOrigin(2 * time.Second))
		defer slow.Close()
		f := newTestFetcher(t, Options{})
		defer f.Close()

		spec := func(addr string, read time.Duration) *Spec {
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			return &Spec{ID: "o", DomainName: host, HTTPPort: p, ProtocolPolicy: HTTPOnly,
				ReadTimeout: read, ConnectionAttempts: 2}
		}
		okURL := ok.Listener.Addr().String()
		slowURL := slow.Listener.Addr().String()
		tests := []struct {
			name       string
			spec       *Spec
			timeout    time.Duration // of the caller's ctx; 0 = none
			wantStatus int
		}{
			{"success", spec(okURL, 0), 0, http.StatusOK},
			{"success again on a pooled connection", spec(okURL, 0), 0, http.StatusOK},
			{"refused", spec(closedAddr(t), 0), 0, http.StatusBadGateway},
			{"read timeout", spec(slowURL, 200*time.Millisecond), 0, http.StatusGatewayTimeout},
			{"caller's deadline", spec(slowURL, 0), 150 * time.Millisecond, http.StatusGatewayTimeout},
		}
		for _, tt := range tests {
			ctx := context.Background()
			cancel := context.CancelFunc(func() {})
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
			}
			resp, err := f.Fetch(ctx, tt.spec, &Request{Path: "/"})
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			cancel()
			if got := StatusFor(err); got != tt.wantStatus {
				t.Errorf("%s: StatusFor(%v): got %d, want %d", tt.name, err, got, tt.wantStatus)
			}
		}
	}()

	deadline := time.Now().Add(5 * time.Second)
	after := runtime.NumGoroutine()
	for after > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: got %d after, want at most %d (before)\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
}
