package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stagefront/stagefront/internal/store"
)

// Watch implements store.Store on an etcd watch of the namespaced prefix.
//
// etcd never splits one revision's events across watch responses, but may
// batch several revisions in one; the events are regrouped into one
// store.WatchResponse per revision, in etcd's order (the transaction's op
// order). With fromRev <= 0 the current revision is read before Watch
// returns, so every write made after Watch returns is delivered.
//
// The watch outlives connection loss (the client resumes it on another
// connection from the next undelivered revision). It ends with
// store.ErrCompacted when its next revision has been compacted, and with
// store.ErrUnavailable when etcd cancels it (for example when the member
// loses its leader) or the Store is closed. One goroutine per watch, owned
// by ctx: it exits, closing the channel, as soon as ctx is done.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.WatchResponse {
	out := make(chan store.WatchResponse)
	if s.closed.Load() {
		go s.sendLast(ctx, out, errClosed)
		return out
	}
	if fromRev <= 0 {
		rev, err := s.Revision(ctx)
		if err != nil {
			go s.sendLast(ctx, out, fmt.Errorf("etcd: watch %q: %w", prefix, err))
			return out
		}
		fromRev = rev + 1
	}
	// WithRequireLeader makes a member cut off from its cluster cancel the
	// watch instead of silently delivering nothing.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	events := s.client.Watch(wctx, s.prefix+prefix, clientv3.WithPrefix(), clientv3.WithRev(fromRev))
	go func() {
		defer cancel()
		defer close(out)
		s.forward(ctx, prefix, events, out)
	}()
	return out
}

// forward regroups etcd watch responses into store responses until ctx is
// done or the etcd watch ends.
func (s *Store) forward(ctx context.Context, prefix string, events clientv3.WatchChan, out chan<- store.WatchResponse) {
	send := func(resp store.WatchResponse) bool {
		select {
		case out <- resp:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		var (
			wresp clientv3.WatchResponse
			ok    bool
		)
		select {
		case wresp, ok = <-events:
		case <-ctx.Done():
			return
		}
		switch {
		case ctx.Err() != nil:
			return
		case !ok:
			// The client closes a watch without a reason only when it is
			// closed itself.
			send(store.WatchResponse{Err: fmt.Errorf("etcd: watch %q: channel closed: %w", prefix, store.ErrUnavailable)})
			return
		case wresp.CompactRevision != 0:
			send(store.WatchResponse{Err: fmt.Errorf("etcd: watch %q: revisions before %d are compacted: %w",
				prefix, wresp.CompactRevision, store.ErrCompacted)})
			return
		case wresp.Err() != nil || wresp.Canceled:
			err := classify(wresp.Err())
			if s.closed.Load() {
				err = errClosed
			}
			send(store.WatchResponse{Err: fmt.Errorf("etcd: watch %q: %w", prefix, err)})
			return
		}
		for _, resp := range s.group(wresp.Events) {
			if !send(resp) {
				return
			}
		}
	}
}

// group splits etcd events into one response per revision, keeping order.
func (s *Store) group(events []*clientv3.Event) []store.WatchResponse {
	var out []store.WatchResponse
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if n := len(out); n == 0 || out[n-1].Revision != rev {
			out = append(out, store.WatchResponse{Revision: rev})
		}
		e := store.Event{Type: store.EventPut, KV: s.kv(ev.Kv)}
		if ev.Type == clientv3.EventTypeDelete {
			e = store.Event{Type: store.EventDelete, KV: store.KV{Key: e.KV.Key, ModRevision: rev}}
		}
		last := &out[len(out)-1]
		last.Events = append(last.Events, e)
	}
	return out
}

// sendLast delivers one response carrying err, then closes out.
func (s *Store) sendLast(ctx context.Context, out chan<- store.WatchResponse, err error) {
	defer close(out)
	select {
	case out <- store.WatchResponse{Err: err}:
	case <-ctx.Done():
	}
}
