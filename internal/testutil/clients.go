package testutil

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

// MustGet checks a call's error and hands back its value:
// MustGet(client.Op(ctx, in))(t).
func MustGet[T any](v T, err error) func(tb testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// CloudFront is the real aws-sdk-go-v2 CloudFront client for a stagefront
// API at endpoint (a URL), signing with the key pair, in us-east-1. It tries
// each call once: a test sees the first answer, not a retried one.
func CloudFront(endpoint, keyID, secret string) *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// OpenBolt opens a bbolt store in a fresh temporary directory and closes
// it when the test ends.
func OpenBolt(tb testing.TB) *bolt.Store {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "stagefront.db"), bolt.Options{})
	Must(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// LogBuffer collects what a logger writes, safely from any goroutine.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// CountingStore counts the reads (Get and List) that reach the store it
// wraps, for tests that bound what an operation costs.
type CountingStore struct {
	store.Store
	Reads atomic.Int64
}

func (s *CountingStore) Get(ctx context.Context, key string) (store.KV, error) {
	s.Reads.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *CountingStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	s.Reads.Add(1)
	return s.Store.List(ctx, prefix)
}
