package bolt

import (
	"context"
	"fmt"
	"strings"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/stagefront/stagefront/internal/store"
)

// replayBatch bounds how many log revisions one read transaction scans while
// a watcher catches up, so a slow consumer never pins an old snapshot (which
// would keep bbolt from reusing pages).
const replayBatch = 256

// A watcher is in one of two modes, both run by its own goroutine:
//
//   - catching up: it reads the change log in batches and sends what matches.
//     When a read reaches the head revision it joins the live set under
//     Store.mu, which writers hold from commit through fan-out, so the first
//     live revision is exactly the one after the last replayed: no gap, no
//     duplicate.
//   - live: writers append matching responses to pending and poke notify.
//     Writers never block: when pending is full the writer removes the
//     watcher from the live set and records resume, the first revision it
//     did not queue. The watcher drains pending and goes back to catching
//     up from resume. Only when resume has already been compacted out of the
//     log does the watch end with store.ErrCompacted.
type watcher struct {
	prefix string
	// minRev is the first revision the watch wants; it matters only when
	// Watch was asked for a revision that does not exist yet.
	minRev int64
	notify chan struct{} // capacity 1

	mu      sync.Mutex
	pending []store.WatchResponse
	resume  int64 // non-zero: dropped from the live set; replay from here
}

// Watch implements store.Store. Responses may share Event values with other
// watchers of the same revision: treat them as read-only.
//
// A consumer that stops reading is not waited for: once it is
// Options.WatchBuffer responses behind it replays from the change log, and if
// it falls behind Options.LogRetention revisions its watch ends with
// store.ErrCompacted; it should List and watch again. When the Store is
// closed, the last response carries store.ErrUnavailable.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.WatchResponse {
	if fromRev <= 0 {
		// Everything already visible is "before now".
		fromRev = s.rev.Load() + 1
	}
	w := &watcher{prefix: prefix, minRev: fromRev, notify: make(chan struct{}, 1)}
	out := make(chan store.WatchResponse)
	go s.runWatch(ctx, w, out, fromRev)
	return out
}

func (s *Store) runWatch(ctx context.Context, w *watcher, out chan<- store.WatchResponse, next int64) {
	defer close(out)
	defer s.leaveLive(w)
	for {
		for live := false; !live; {
			if ctx.Err() != nil {
				return
			}
			resps, last, err := s.readLog(w.prefix, next)
			if err != nil {
				s.fail(ctx, out, err)
				return
			}
			for _, r := range resps {
				if !s.send(ctx, out, r) {
					return
				}
			}
			next = last + 1
			if live, err = s.joinLive(w, next); err != nil {
				s.fail(ctx, out, err)
				return
			}
		}
		resume, ok := s.followLive(ctx, w, out)
		if !ok {
			return
		}
		next = resume
	}
}

// readLog returns the responses matching prefix for revisions from next on,
// at most replayBatch revisions, and the last revision it looked at (next-1
// when next is past the head).
func (s *Store) readLog(prefix string, next int64) (resps []store.WatchResponse, last int64, err error) {
	last = next - 1
	err = s.view(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if first := getRev(meta, metaFirst); next < first {
			return fmt.Errorf("bolt: watch from revision %d: oldest retained is %d: %w", next, first, store.ErrCompacted)
		}
		head := getRev(meta, metaRev)
		c := tx.Bucket([]byte(bucketLog)).Cursor()
		scanned := 0
		for k, v := c.Seek(revKey(next)); k != nil && scanned < replayBatch; k, v = c.Next() {
			rev := parseRevKey(k)
			if rev > head {
				break
			}
			events, err := decodeEvents(rev, v, prefix)
			if err != nil {
				return err
			}
			if len(events) > 0 {
				resps = append(resps, store.WatchResponse{Revision: rev, Events: events})
			}
			last = rev
			scanned++
		}
		return nil
	})
	return resps, last, err
}

// joinLive adds w to the live set if nothing was committed at or after next;
// otherwise the caller must read the log again.
func (s *Store) joinLive(w *watcher, next int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false, errClosed
	}
	if s.rev.Load() >= next {
		return false, nil
	}
	s.watchers[w] = struct{}{}
	return true, nil
}

func (s *Store) leaveLive(w *watcher) {
	s.mu.Lock()
	delete(s.watchers, w)
	s.mu.Unlock()
}

// followLive delivers what writers queue for w. It returns the revision to
// resume catching up from when w was dropped from the live set, or false
// when the watch is over.
func (s *Store) followLive(ctx context.Context, w *watcher, out chan<- store.WatchResponse) (int64, bool) {
	for {
		select {
		case <-ctx.Done():
			return 0, false
		case <-s.closing:
			s.fail(ctx, out, errClosed)
			return 0, false
		case <-w.notify:
		}
		w.mu.Lock()
		batch, resume := w.pending, w.resume
		w.pending, w.resume = nil, 0
		w.mu.Unlock()
		for _, r := range batch {
			if !s.send(ctx, out, r) {
				return 0, false
			}
		}
		if resume != 0 {
			return resume, true
		}
	}
}

// fanOut queues a committed revision for every live watcher it concerns.
// Called with s.mu held, right after the commit; it never blocks.
func (s *Store) fanOut(committed store.WatchResponse) {
	for w := range s.watchers {
		if committed.Revision < w.minRev {
			continue
		}
		events := filterEvents(committed.Events, w.prefix)
		if len(events) == 0 {
			continue
		}
		w.mu.Lock()
		if len(w.pending) >= s.opts.WatchBuffer {
			w.resume = committed.Revision
			delete(s.watchers, w)
		} else {
			w.pending = append(w.pending, store.WatchResponse{Revision: committed.Revision, Events: events})
		}
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
}

func filterEvents(events []store.Event, prefix string) []store.Event {
	if prefix == "" {
		return events
	}
	var matched []store.Event
	for _, ev := range events {
		if strings.HasPrefix(ev.KV.Key, prefix) {
			matched = append(matched, ev)
		}
	}
	return matched
}

// send delivers r unless the watch is over. On Store close it delivers the
// closing error instead.
func (s *Store) send(ctx context.Context, out chan<- store.WatchResponse, r store.WatchResponse) bool {
	select {
	case out <- r:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		s.fail(ctx, out, errClosed)
		return false
	}
}

// fail delivers the last response of a watch. It waits for the consumer to
// read it or cancel ctx, but never holds anything writers need.
func (s *Store) fail(ctx context.Context, out chan<- store.WatchResponse, err error) {
	select {
	case out <- store.WatchResponse{Err: err}:
	case <-ctx.Done():
	}
}
