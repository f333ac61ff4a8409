package origin

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// transportKey is everything about a Spec that net/http fixes per
// Transport. Origins with the same tuple share one Transport and its
// connection pool (which is itself keyed by scheme and host:port).
type transportKey struct {
	connectTimeout time.Duration
	readTimeout    time.Duration
	keepalive      time.Duration
	attempts       int
}

// transport returns the pooled Transport for k, creating it on first use.
// A map under an RWMutex rather than a sync.Map: the key is a struct and
// boxing it into an interface would cost an allocation per fetch.
func (f *Fetcher) transport(k transportKey) *http.Transport {
	f.mu.RLock()
	t := f.transports[k]
	f.mu.RUnlock()
	if t != nil {
		return t
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t = f.transports[k]; t == nil {
		t = f.newTransport(k)
		f.transports[k] = t
	}
	return t
}

func (f *Fetcher) newTransport(k transportKey) *http.Transport {
	return &http.Transport{
		// Proxy stays nil: origins are fetched directly, never through
		// $HTTP_PROXY. A custom DialContext and TLS config without
		// ForceAttemptHTTP2 keep this HTTP/1.1, as CloudFront speaks to
		// origins.
		DialContext:           f.dialFunc(k.connectTimeout, k.attempts),
		TLSClientConfig:       f.tlsConfig.Clone(),
		TLSHandshakeTimeout:   k.connectTimeout,
		MaxIdleConnsPerHost:   f.maxIdlePerHost,
		IdleConnTimeout:       k.keepalive,
		ResponseHeaderTimeout: k.readTimeout,
		ExpectContinueTimeout: time.Second,
		// The edge stores and serves what the origin sent; transparent
		// gzip decoding would change bodies and drop Content-Encoding.
		DisableCompression: true,
	}
}

// dialFunc returns the Transport's DialContext: up to attempts TCP
// connection attempts, each bounded by timeout. Only connecting is retried
// here; net/http itself never resends a request whose body may have been
// sent.
func (f *Fetcher) dialFunc(timeout time.Duration, attempts int) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var err error
		attempt := 0
		for attempt < attempts {
			attempt++
			attemptCtx, cancel := context.WithTimeout(ctx, timeout)
			var conn net.Conn
			conn, err = f.dial(attemptCtx, network, addr)
			cancel() // bounds the dial only, not the connection
			if err == nil {
				return conn, nil
			}
			f.log.LogAttrs(ctx, slog.LevelDebug, "origin connection attempt failed",
				slog.String("addr", addr), slog.Int("attempt", attempt), slog.Any("error", err))
			if ctx.Err() != nil {
				break
			}
		}
		return nil, &connectError{attempts: attempt, err: err}
	}
}
