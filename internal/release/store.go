package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Store is the little the controller needs from stagefront's store (cmd
// adapts store.Store to it): reads with the revision they were read at, and
// an atomic write of several keys guarded by those revisions.
type Store interface {
	// Get returns the value and its revision, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (value []byte, rev int64, err error)
	// List returns every key with the prefix.
	List(ctx context.Context, prefix string) ([]KV, error)
	// Write applies every write atomically if each key is still at the
	// revision given (0: the key must not exist); otherwise it writes
	// nothing and returns an error wrapping ErrConflict.
	Write(ctx context.Context, writes []Write) error
}

// KV is one stored key.
type KV struct {
	Key   string
	Value []byte
	Rev   int64
}

// Write is a put (or a delete) guarded by the key's expected revision.
// Rev -1 means "whatever the key holds", without a guard.
type Write struct {
	Key    string
	Value  []byte
	Delete bool
	Rev    int64
}

// Errors a Store returns (wrapped).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Key layout. Everything lives under Prefix, outside the "cf/" tree the
// edge watches, so release bookkeeping never recompiles a routing table.
const (
	Prefix           = "releases/"
	releasePrefix    = Prefix + "r/"
	activePrefix     = Prefix + "active/"
	generationPrefix = Prefix + "generations/"
)

func releaseKey(name string) string         { return releasePrefix + name }
func activeKey(primaryID string) string     { return activePrefix + primaryID }
func generationsOf(primaryID string) string { return generationPrefix + primaryID + "/" }
func generationKey(primaryID string, n int) string {
	return fmt.Sprintf("%s%08d", generationsOf(primaryID), n)
}

func loadRelease(ctx context.Context, st Store, name string) (*Release, int64, error) {
	raw, rev, err := st.Get(ctx, releaseKey(name))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, 0, fmt.Errorf("release %q: %w", name, ErrNotFound)
		}
		return nil, 0, fmt.Errorf("load release %q: %w", name, err)
	}
	var rel Release
	if err := json.Unmarshal(raw, &rel); err != nil {
		return nil, 0, fmt.Errorf("decode release %q: %w", name, err)
	}
	return &rel, rev, nil
}

func encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return raw, nil
}

func listReleases(ctx context.Context, st Store) ([]*Release, error) {
	kvs, err := st.List(ctx, releasePrefix)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	out := make([]*Release, 0, len(kvs))
	for _, kv := range kvs {
		var rel Release
		if err := json.Unmarshal(kv.Value, &rel); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, &rel)
	}
	return out, nil
}

func listGenerations(ctx context.Context, st Store, primaryID string) ([]Generation, error) {
	kvs, err := st.List(ctx, generationsOf(primaryID))
	if err != nil {
		return nil, fmt.Errorf("list generations: %w", err)
	}
	out := make([]Generation, 0, len(kvs))
	for _, kv := range kvs {
		if !strings.HasPrefix(kv.Key, generationsOf(primaryID)) {
			continue
		}
		var g Generation
		if err := json.Unmarshal(kv.Value, &g); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, g)
	}
	return out, nil
}
