package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/stagefront/stagefront/internal/store"
)

// Defaults used for the zero fields of Options.
const (
	DefaultLogRetention = 10_000
	DefaultWatchBuffer  = 1024
	DefaultOpenTimeout  = 5 * time.Second
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// LogRetention is how many of the most recent revisions the change log
	// keeps for Watch to replay. Watch from an older revision fails with
	// store.ErrCompacted. Zero means DefaultLogRetention.
	LogRetention int64
	// WatchBuffer is how many responses a live watcher may have queued,
	// undelivered, before it is taken off the live path and made to catch up
	// from the change log instead. Writers never wait for watchers. Zero
	// means DefaultWatchBuffer.
	WatchBuffer int
	// OpenTimeout bounds how long Open waits for the file lock while another
	// process holds the file. Zero means DefaultOpenTimeout.
	OpenTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.LogRetention <= 0 {
		o.LogRetention = DefaultLogRetention
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = DefaultWatchBuffer
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	return o
}

// Store is a store.Store on one bbolt file. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
	opts Options

	// rev is the last committed revision. It is written only with mu held,
	// right after the commit, so whoever holds mu sees the file's head.
	rev    atomic.Int64
	closed atomic.Bool
	// closing is closed by Close and ends every watch.
	closing chan struct{}

	// mu serializes writers (bbolt would anyway) and is held from commit
	// through fan-out, so live watchers are fed in revision order and a
	// watcher joining the live set cannot miss or double a revision.
	mu       sync.Mutex
	watchers map[*watcher]struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.OpenTimeout,
		// The log bucket frees a page or so on every commit; the hashmap
		// freelist keeps that cheap as the file ages.
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: file locked by another process: %w: %w", path, err, store.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	var rev int64
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range []string{bucketKV, bucketLog, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket([]byte(bucketMeta))
		if meta.Get([]byte(metaFirst)) == nil {
			if err := meta.Put([]byte(metaFirst), revKey(1)); err != nil {
				return err
			}
			if err := meta.Put([]byte(metaRev), revKey(0)); err != nil {
				return err
			}
		}
		rev = getRev(meta, metaRev)
		return nil
	})
	if err != nil {
		closeErr := db.Close()
		return nil, errors.Join(fmt.Errorf("bolt: init %s: %w", path, err), closeErr)
	}
	s := &Store{
		db:       db,
		path:     path,
		opts:     opts,
		closing:  make(chan struct{}),
		watchers: make(map[*watcher]struct{}),
	}
	s.rev.Store(rev)
	return s, nil
}

func getRev(meta *bbolt.Bucket, name string) int64 {
	return parseRevKey(meta.Get([]byte(name)))
}

// view runs fn in a read transaction and maps a closed database to
// store.ErrUnavailable.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return errClosed
	}
	return err
}

var errClosed = fmt.Errorf("bolt: store closed: %w", store.ErrUnavailable)

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, err
	}
	var kv store.KV
	err := s.view(func(tx *bbolt.Tx) error {
		raw := tx.Bucket([]byte(bucketKV)).Get([]byte(key))
		if raw == nil {
			return fmt.Errorf("bolt: get %q: %w", key, store.ErrNotFound)
		}
		var err error
		kv, err = decodeRecord(key, raw)
		return err
	})
	return kv, err
}

// List implements store.Store. The listing and its revision come from one
// read transaction, so Watch from rev+1 continues it without a gap.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var (
		kvs []store.KV
		rev int64
	)
	err := s.view(func(tx *bbolt.Tx) error {
		rev = getRev(tx.Bucket([]byte(bucketMeta)), metaRev)
		p := []byte(prefix)
		c := tx.Bucket([]byte(bucketKV)).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			// A long listing holds a read transaction; give up early when
			// nobody wants the answer any more.
			if len(kvs)%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			kv, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			kvs = append(kvs, kv)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("bolt: list %q: %w", prefix, err)
	}
	return kvs, rev, nil
}

// Revision implements store.Store.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, errClosed
	}
	return s.rev.Load(), nil
}

// Txn implements store.Store. The commit is fsynced before Txn returns. A
// Txn with ops always creates a revision, even if its ops change nothing
// (deletes of missing keys); such a revision produces no watch response.
func (s *Store) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, op := range ops {
		if op.Key == "" {
			return 0, errors.New("bolt: txn: empty key")
		}
	}
	if len(ops) == 0 {
		var rev int64
		err := s.view(func(tx *bbolt.Tx) error {
			rev = getRev(tx.Bucket([]byte(bucketMeta)), metaRev)
			return checkConds(tx.Bucket([]byte(bucketKV)), conds)
		})
		if err != nil {
			return 0, fmt.Errorf("bolt: txn: %w", err)
		}
		return rev, nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return 0, errClosed
	}
	var committed store.WatchResponse
	err := s.db.Update(func(tx *bbolt.Tx) error {
		kvs := tx.Bucket([]byte(bucketKV))
		if err := checkConds(kvs, conds); err != nil {
			return err
		}
		meta := tx.Bucket([]byte(bucketMeta))
		rev := getRev(meta, metaRev) + 1
		events, err := applyOps(kvs, rev, ops)
		if err != nil {
			return err
		}
		logs := tx.Bucket([]byte(bucketLog))
		if err := logs.Put(revKey(rev), encodeEvents(events)); err != nil {
			return fmt.Errorf("append change log: %w", err)
		}
		if err := meta.Put([]byte(metaRev), revKey(rev)); err != nil {
			return err
		}
		if err := s.compact(meta, logs, rev); err != nil {
			return err
		}
		committed = store.WatchResponse{Revision: rev, Events: events}
		return nil
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return 0, errClosed
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return 0, fmt.Errorf("bolt: txn: %w: %w", store.ErrNoSpace, err)
	}
	if err != nil {
		return 0, fmt.Errorf("bolt: txn: %w", err)
	}
	s.rev.Store(committed.Revision)
	s.fanOut(committed)
	return committed.Revision, nil
}

func checkConds(kvs *bbolt.Bucket, conds []store.Cond) error {
	for _, c := range conds {
		raw := kvs.Get([]byte(c.Key))
		var have int64
		if raw != nil {
			kv, err := decodeRecord(c.Key, raw)
			if err != nil {
				return err
			}
			have = kv.ModRevision
		}
		if have != c.ModRevision {
			return fmt.Errorf("key %q is at mod revision %d, want %d: %w", c.Key, have, c.ModRevision, store.ErrConflict)
		}
	}
	return nil
}

// applyOps writes ops at revision rev and returns their events in op order.
// Values are copied, so callers may reuse their buffers after Txn returns.
func applyOps(kvs *bbolt.Bucket, rev int64, ops []store.Op) ([]store.Event, error) {
	events := make([]store.Event, 0, len(ops))
	for _, op := range ops {
		key := []byte(op.Key)
		old := kvs.Get(key)
		if op.Delete {
			if old == nil {
				continue
			}
			if err := kvs.Delete(key); err != nil {
				return nil, fmt.Errorf("delete %q: %w", op.Key, err)
			}
			events = append(events, store.Event{
				Type: store.EventDelete,
				KV:   store.KV{Key: op.Key, ModRevision: rev},
			})
			continue
		}
		createRev := rev
		if old != nil {
			var ok bool
			if createRev, ok = recordCreateRevision(old); !ok {
				return nil, fmt.Errorf("bolt: corrupt record for key %q", op.Key)
			}
		}
		value := cloneValue(op.Value)
		if err := kvs.Put(key, encodeRecord(createRev, rev, value)); err != nil {
			return nil, fmt.Errorf("put %q: %w", op.Key, err)
		}
		events = append(events, store.Event{
			Type: store.EventPut,
			KV:   store.KV{Key: op.Key, Value: value, ModRevision: rev, CreateRevision: createRev},
		})
	}
	return events, nil
}

// compact drops log entries older than the retention window ending at rev.
// In steady state that is one entry per commit.
func (s *Store) compact(meta, logs *bbolt.Bucket, rev int64) error {
	keep := rev - s.opts.LogRetention + 1 // oldest revision to keep
	if keep <= getRev(meta, metaFirst) {
		return nil
	}
	var drop [][]byte
	c := logs.Cursor()
	for k, _ := c.First(); k != nil && parseRevKey(k) < keep; k, _ = c.Next() {
		drop = append(drop, bytes.Clone(k))
	}
	for _, k := range drop {
		if err := logs.Delete(k); err != nil {
			return fmt.Errorf("compact change log: %w", err)
		}
	}
	if err := meta.Put([]byte(metaFirst), revKey(keep)); err != nil {
		return fmt.Errorf("compact change log: %w", err)
	}
	return nil
}

// Close ends every watch (each gets a last response carrying
// store.ErrUnavailable), waits for running reads and closes the file. Calls
// after the first return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	close(s.closing)
	clear(s.watchers)
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}
