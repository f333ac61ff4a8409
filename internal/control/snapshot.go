package control

import (
	"context"
	"fmt"
	"strings"

	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// recordReader reads one record: the store itself, or a configSnapshot.
type recordReader interface {
	Get(ctx context.Context, key string) (store.KV, error)
}

// configSnapshot is every record under model.Root read at one revision, so
// a list answers for all its items from one store read.
type configSnapshot struct {
	kvs   []store.KV // sorted by key
	byKey map[string]store.KV
}

// readConfig lists everything under model.Root once.
func (s *Service) readConfig(ctx context.Context) (*configSnapshot, error) {
	kvs, _, err := s.st.List(ctx, model.Root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", model.Root, err)
	}
	snap := &configSnapshot{kvs: kvs, byKey: make(map[string]store.KV, len(kvs))}
	for _, kv := range kvs {
		snap.byKey[kv.Key] = kv
	}
	return snap, nil
}

// Get implements recordReader.
func (c *configSnapshot) Get(_ context.Context, key string) (store.KV, error) {
	kv, ok := c.byKey[key]
	if !ok {
		return store.KV{}, store.ErrNotFound
	}
	return kv, nil
}

// snapshotRecords is listRecords over a snapshot.
func snapshotRecords[T any](s *Service, c *configSnapshot, prefix string) ([]loaded[T], error) {
	var out []loaded[T]
	for _, kv := range c.kvs {
		if !strings.HasPrefix(kv.Key, prefix) {
			continue
		}
		rec, err := decodeCached[T](s, kv)
		if err != nil {
			return nil, err
		}
		out = append(out, loaded[T]{rec: rec, rev: kv.ModRevision})
	}
	return out, nil
}

// readRecord is getRecord through r.
func readRecord[T any](ctx context.Context, s *Service, r recordReader, key string) (loaded[T], error) {
	kv, err := r.Get(ctx, key)
	if err != nil {
		return loaded[T]{}, err
	}
	rec, err := decodeCached[T](s, kv)
	if err != nil {
		return loaded[T]{}, err
	}
	return loaded[T]{rec: rec, rev: kv.ModRevision}, nil
}
