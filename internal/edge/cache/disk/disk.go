package disk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/stagefront/stagefront/internal/edge/cache"
)

// Config configures a Tier.
type Config struct {
	// Dir holds the tier's files; it is created if missing. Required.
	Dir string
	// MaxBytes bounds the bytes of all object files (each rounded up to
	// a 4 KiB block). Required.
	MaxBytes int64
	// MaxEntryBytes is the largest object file kept; 0 means MaxBytes/8.
	MaxEntryBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// QueueLength bounds the entries waiting to be written; when it is
	// full, Store drops the entry (counted). 0 means 256.
	QueueLength int
	Logger      *slog.Logger
}

// Stats is a snapshot of the tier's counters. Counters only grow; Bytes
// and Entries are gauges.
type Stats struct {
	Hits, Misses uint64 // Loads that found an object, and that did not
	Writes       uint64 // object files written
	Dropped      uint64 // entries not written: the queue was full, or the entry too large
	WriteErrors  uint64
	Corrupt      uint64 // files found torn or damaged and removed
	Evictions    uint64 // objects removed to stay under MaxBytes
	Purged       uint64
	Bytes        int64
	Entries      int
}

// Tier is the disk tier of the edge cache. It implements cache.Tier and is
// safe for concurrent use. Open it with Open and release it with Close.
type Tier struct {
	dir, objects, tmp string
	maxBytes          int64
	maxEntryBytes     int64
	now               func() time.Time
	log               *slog.Logger

	index *otter.Cache[string, *object]

	// mu makes a write's generation check and its insertion atomic with
	// respect to Purge, which bumps generation: an entry handed to Store
	// before a Purge is never indexed after it.
	mu         sync.Mutex
	generation atomic.Uint64

	// closeMu orders Stores (read side) before Close closes the queue.
	closeMu sync.RWMutex
	closed  bool
	queue   chan job
	done    chan struct{}
	seq     atomic.Uint64

	invalidations *invalidationLog

	bytes                                atomic.Int64
	hits, misses, writes, dropped        atomic.Uint64
	writeErrors, corrupt, evicted, purge atomic.Uint64
}

// object is the index's record of one object file.
type object struct {
	file      string // path under objects/
	size      int64  // bytes charged: the file rounded up to a block
	identity  string
	path      string
	keepUntil time.Time
}

type job struct {
	flushed    chan struct{} // set for a Flush marker, which is only closed
	key        cache.Key
	entry      *cache.Entry
	keepUntil  time.Time
	generation uint64
}

const blockSize = 4096

// Open opens the tier in cfg.Dir, indexing the object files a previous
// process left there: torn files, leftovers of interrupted writes and
// expired objects are removed. It starts the writer goroutine, which
// Close stops.
func Open(ctx context.Context, cfg Config) (*Tier, error) {
	if cfg.Dir == "" {
		return nil, errors.New("disk cache: Dir is required")
	}
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("disk cache: MaxBytes must be positive, got %d", cfg.MaxBytes)
	}
	if cfg.MaxEntryBytes < 0 || cfg.MaxEntryBytes > cfg.MaxBytes {
		return nil, fmt.Errorf("disk cache: MaxEntryBytes must be within [0, MaxBytes], got %d", cfg.MaxEntryBytes)
	}
	t := &Tier{
		dir:           cfg.Dir,
		objects:       filepath.Join(cfg.Dir, "objects"),
		tmp:           filepath.Join(cfg.Dir, "tmp"),
		maxBytes:      cfg.MaxBytes,
		maxEntryBytes: cfg.MaxEntryBytes,
		now:           cfg.Now,
		log:           cfg.Logger,
		done:          make(chan struct{}),
	}
	if t.maxEntryBytes == 0 {
		t.maxEntryBytes = max(cfg.MaxBytes/8, 1)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	queueLength := cfg.QueueLength
	if queueLength <= 0 {
		queueLength = 256
	}
	t.queue = make(chan job, queueLength)
	for _, d := range []string{t.objects, t.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("disk cache: %w", err)
		}
	}
	index, err := otter.New(&otter.Options[string, *object]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher:       func(_ string, o *object) uint32 { return uint32(min(o.size, math.MaxUint32)) },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(oe otter.Entry[string, *object]) time.Duration {
			return oe.Value.keepUntil.Sub(time.Unix(0, oe.SnapshotAtNano))
		}),
		// Runs under a bucket lock: atomics only.
		OnAtomicDeletion: func(ev otter.DeletionEvent[string, *object]) {
			t.bytes.Add(-ev.Value.size)
			if ev.Cause == otter.CauseOverflow {
				t.evicted.Add(1)
			}
		},
		OnDeletion: func(ev otter.DeletionEvent[string, *object]) {
			// Names are never reused, so this never removes a newer
			// file of the same key.
			t.remove(ev.Value.file)
		},
		Clock: clock{t.now},
	})
	if err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	t.index = index
	if t.invalidations, err = openInvalidationLog(filepath.Join(cfg.Dir, "invalidations")); err != nil {
		index.StopAllGoroutines()
		return nil, err
	}
	if err := t.load(ctx); err != nil {
		index.StopAllGoroutines()
		_ = t.invalidations.file.Close()
		return nil, err
	}
	go t.run()
	return t, nil
}

// load indexes the object files on disk, oldest first, so that of two
// files for one key (a crash between writing the new one and removing
// the old one) the newer wins and the older is removed.
func (t *Tier) load(ctx context.Context) error {
	if err := os.RemoveAll(t.tmp); err != nil {
		return fmt.Errorf("disk cache: clear interrupted writes: %w", err)
	}
	if err := os.MkdirAll(t.tmp, 0o700); err != nil {
		return fmt.Errorf("disk cache: %w", err)
	}
	type found struct {
		m      *meta
		file   string
		size   int64
		stored time.Time
	}
	var all []found
	now := t.now()
	err := filepath.WalkDir(t.objects, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		m, size, err := statObject(file)
		if err != nil {
			t.corrupt.Add(1)
			t.log.Warn("disk cache: removing a damaged object file", "file", file, "err", err)
			t.remove(file)
			return nil
		}
		if !now.Before(m.keepUntil()) {
			t.remove(file)
			return nil
		}
		all = append(all, found{m, file, size, m.storedAt()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("disk cache: index %s: %w", t.objects, err)
	}
	slices.SortFunc(all, func(a, b found) int { return a.stored.Compare(b.stored) })
	for _, f := range all {
		t.insert(f.m.Key, &object{file: f.file, size: f.size, identity: f.m.Identity, path: f.m.Path, keepUntil: f.m.keepUntil()})
	}
	t.index.CleanUp()
	t.log.Info("disk cache indexed", "dir", t.dir, "objects", t.index.EstimatedSize(), "bytes", t.bytes.Load())
	return nil
}

func statObject(file string) (*meta, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	m, err := readMeta(f, st.Size())
	if err != nil {
		return nil, 0, err
	}
	return m, blocks(st.Size()), nil
}

func blocks(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// insert indexes o under key, replacing (and so removing) any older file.
func (t *Tier) insert(key string, o *object) {
	t.bytes.Add(o.size)
	t.index.Set(key, o)
	// otter evicts on its maintenance goroutine; run it now when over the
	// bound, so the bound holds when the write returns.
	if t.bytes.Load() > t.maxBytes {
		t.index.CleanUp()
	}
}

// Close stops the writer once the entries queued are written, and stops
// the index's clean-up goroutine. Loads keep working; Stores are dropped.
func (t *Tier) Close() error {
	t.closeMu.Lock()
	if t.closed {
		t.closeMu.Unlock()
		return nil
	}
	t.closed = true
	close(t.queue)
	t.closeMu.Unlock()
	<-t.done
	t.index.StopAllGoroutines()
	if err := t.invalidations.file.Close(); err != nil {
		return fmt.Errorf("disk cache: %w", err)
	}
	return nil
}

// Load implements cache.Tier: it reads the object file of key and checks
// it whole before returning it. A damaged file is removed, a miss.
func (t *Tier) Load(key cache.Key, now time.Time) (*cache.Entry, bool) {
	o, ok := t.index.GetIfPresent(key.String())
	if !ok || !now.Before(o.keepUntil) {
		t.misses.Add(1)
		return nil, false
	}
	data, err := os.ReadFile(o.file)
	if err != nil {
		// Evicted or purged since the index lookup.
		t.misses.Add(1)
		return nil, false
	}
	m, body, err := decode(data)
	if err == nil && m.Key != key.String() {
		err = fmt.Errorf("%w: the file holds another key", errCorrupt)
	}
	if err != nil {
		t.corrupt.Add(1)
		t.misses.Add(1)
		t.log.Warn("disk cache: removing a damaged object file", "file", o.file, "err", err)
		t.index.ComputeIfPresent(key.String(), func(current *object) (*object, otter.ComputeOp) {
			if current != o {
				return current, otter.CancelOp
			}
			return nil, otter.InvalidateOp
		})
		t.remove(o.file)
		return nil, false
	}
	t.hits.Add(1)
	return &cache.Entry{
		Status:               m.Status,
		Header:               m.Header,
		Body:                 body,
		StoredAt:             m.storedAt(),
		TTL:                  time.Duration(m.TTL),
		StaleWhileRevalidate: time.Duration(m.SWR),
		StaleIfError:         time.Duration(m.SIE),
	}, true
}

// Store implements cache.Tier: it queues e for the writer, or drops it
// when the queue is full or the tier closed.
func (t *Tier) Store(key cache.Key, e *cache.Entry, keepUntil time.Time) {
	if int64(len(e.Body)) > t.maxEntryBytes {
		t.dropped.Add(1)
		return
	}
	j := job{key: key, entry: e, keepUntil: keepUntil, generation: t.generation.Load()}
	t.closeMu.RLock()
	defer t.closeMu.RUnlock()
	if t.closed {
		t.dropped.Add(1)
		return
	}
	select {
	case t.queue <- j:
	default:
		t.dropped.Add(1)
	}
}

// run writes the queued entries until Close.
func (t *Tier) run() {
	defer close(t.done)
	for j := range t.queue {
		if j.flushed != nil {
			close(j.flushed)
			continue
		}
		if err := t.write(j); err != nil {
			t.writeErrors.Add(1)
			t.log.Warn("disk cache: write failed", "err", err)
		}
	}
}

// write writes one entry to a temporary file and renames it into
// objects/ under a name never used before.
func (t *Tier) write(j job) error {
	e := j.entry
	m := &meta{
		Key: j.key.String(), Identity: j.key.OriginIdentity(), Path: j.key.PurgePath(),
		Status: e.Status, Header: e.Header, StoredAt: e.StoredAt.UnixNano(), TTL: int64(e.TTL),
		SWR: int64(e.StaleWhileRevalidate), SIE: int64(e.StaleIfError), KeepUntil: j.keepUntil.UnixNano(),
	}
	data, err := encode(m, e.Body)
	if err != nil {
		return err
	}
	if int64(len(data)) > t.maxEntryBytes {
		t.dropped.Add(1)
		return nil
	}
	if t.generation.Load() != j.generation {
		return nil // purged while queued
	}
	sum := sha256.Sum256([]byte(m.Key))
	name := hex.EncodeToString(sum[:16])
	unique := strconv.FormatInt(t.now().UnixNano(), 36) + "-" + strconv.FormatUint(t.seq.Add(1), 36)
	tmp := filepath.Join(t.tmp, name+"."+unique)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.remove(tmp)
		return fmt.Errorf("disk cache: %w", err)
	}
	dir := filepath.Join(t.objects, name[:2])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.remove(tmp)
		return fmt.Errorf("disk cache: %w", err)
	}
	file := filepath.Join(dir, name+"."+unique)
	o := &object{file: file, size: blocks(int64(len(data))), identity: m.Identity, path: m.Path, keepUntil: j.keepUntil}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.generation.Load() != j.generation {
		t.remove(tmp)
		return nil // a Purge began while it was written
	}
	if err := os.Rename(tmp, file); err != nil {
		t.remove(tmp)
		return fmt.Errorf("disk cache: %w", err)
	}
	t.insert(m.Key, o)
	t.writes.Add(1)
	return nil
}

// Purge implements cache.Tier. The files are removed before it returns,
// so a purged object cannot come back with a restart.
func (t *Tier) Purge(match func(originIdentity, path string) bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.generation.Add(1)
	removed := 0
	for key, o := range t.index.All() {
		if !match(o.identity, o.path) {
			continue
		}
		t.index.ComputeIfPresent(key, func(current *object) (*object, otter.ComputeOp) {
			if current != o {
				return current, otter.CancelOp
			}
			return nil, otter.InvalidateOp
		})
		t.remove(o.file)
		removed++
	}
	t.purge.Add(uint64(removed))
	return removed
}

func (t *Tier) remove(file string) {
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Warn("disk cache: remove", "file", file, "err", err)
	}
}

// Stats returns a snapshot of the counters.
func (t *Tier) Stats() Stats {
	return Stats{
		Hits: t.hits.Load(), Misses: t.misses.Load(), Writes: t.writes.Load(), Dropped: t.dropped.Load(),
		WriteErrors: t.writeErrors.Load(), Corrupt: t.corrupt.Load(), Evictions: t.evicted.Load(),
		Purged: t.purge.Load(), Bytes: t.bytes.Load(), Entries: t.index.EstimatedSize(),
	}
}

// Flush waits until the entries queued before it are written (for tests,
// benchmarks and a graceful shutdown) or ctx ends, then applies the reads
// and writes the index has buffered to its eviction policy. otter, like
// Caffeine, samples reads through small lossy buffers drained by a
// background goroutine; a burst of reads with no chance for that goroutine
// to run (one CPU) counts only some of them.
func (t *Tier) Flush(ctx context.Context) error {
	flushed := make(chan struct{})
	t.closeMu.RLock()
	if t.closed {
		t.closeMu.RUnlock()
		return nil
	}
	select {
	case t.queue <- job{flushed: flushed}:
		t.closeMu.RUnlock()
	case <-ctx.Done():
		t.closeMu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-flushed:
		t.index.CleanUp()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clock adapts the injected clock to otter (see the cache package's).
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                        { return c.now().UnixNano() }
func (c clock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }

var _ cache.Tier = (*Tier)(nil)
