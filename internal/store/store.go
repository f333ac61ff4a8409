package store

import (
	"context"
	"errors"
)

// Sentinel errors every backend returns (wrapped with %w where useful).
var (
	// ErrNotFound: Get on a key that does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict: a Txn condition did not hold; nothing was written.
	ErrConflict = errors.New("store: transaction condition failed")
	// ErrCompacted: Watch asked for a revision older than the oldest the
	// backend still keeps. The watcher must List again and watch from there.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrUnavailable: the backend cannot be reached right now.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrNoSpace: the backend is out of space (a full disk under bbolt,
	// etcd's NOSPACE alarm); nothing was written. Reads still work, and a
	// write may succeed once an operator frees space.
	ErrNoSpace = errors.New("store: no space left")
)

// KV is one stored key with the revisions that describe its history.
type KV struct {
	Key   string
	Value []byte
	// ModRevision is the store revision of the transaction that last wrote the key.
	ModRevision int64
	// CreateRevision is the store revision of the transaction that created the key.
	CreateRevision int64
}

// Cond is a compare-on-revision guard for Txn. ModRevision == 0 means "the key
// must not exist"; any other value means "the key exists and was last written
// at exactly this revision".
type Cond struct {
	Key         string
	ModRevision int64
}

// Op is one write inside a Txn: a put of Value, or a delete when Delete is set.
// Deleting a missing key is not an error.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
}

// EventType says what happened to a key.
type EventType int

const (
	EventPut EventType = iota + 1
	EventDelete
)

// Event is one change seen by a watcher. For a delete, KV.Value is nil and
// KV.ModRevision is the revision of the deleting transaction.
type Event struct {
	Type EventType
	KV   KV
}

// WatchResponse carries all the events of one transaction (all share
// Revision), in the order the transaction applied them. Responses arrive in
// strictly increasing Revision order with no gaps among revisions that touch
// the watched prefix. Err is set on the last response before the channel
// closes abnormally (for example ErrCompacted).
type WatchResponse struct {
	Revision int64
	Events   []Event
	Err      error
}

// Store is the contract of every backend (bbolt, etcd). All writes are
// durable when the call returns without error.
type Store interface {
	// Get returns the key, or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns every key with the prefix, sorted by key, and the store
	// revision the listing was read at (use rev+1 to Watch from).
	List(ctx context.Context, prefix string) (kvs []KV, rev int64, err error)
	// Txn applies ops atomically if every cond holds, and returns the new
	// store revision. If any cond fails it writes nothing and returns
	// ErrConflict. A Txn with no ops still checks conds and returns the
	// current revision without creating a new one.
	Txn(ctx context.Context, conds []Cond, ops []Op) (rev int64, err error)
	// Watch streams changes to keys with the prefix, starting with the
	// transaction at revision fromRev (inclusive). fromRev <= 0 means "from
	// now on". The channel closes when ctx is done or the watch fails (the
	// last response then carries Err).
	Watch(ctx context.Context, prefix string, fromRev int64) <-chan WatchResponse
	// Revision returns the current store revision.
	Revision(ctx context.Context) (int64, error)
	// Close releases the backend.
	Close() error
}
