// Package fleet owns what makes several stagefront processes one CDN on a
// shared etcd: edges announce themselves under a lease with their
// watermark (the store revision their table was compiled from and the
// distributions they failed to compile), and the control plane reads the
// fleet's watermark in one read: a record is deployed once every live edge
// serves its revision and none failed to compile it. A dead edge drops out
// when its lease expires, so it never delays Deployed for longer than that.
// Lifecycle: NewRegistry over the etcd store's client; each edge runs
// Announce in an owned goroutine until its context ends.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stagefront/stagefront/internal/model"
)

// DefaultLeaseTTL is how long a silent edge stays a member.
const DefaultLeaseTTL = 5 * time.Second

// Member is one live edge.
type Member struct {
	Node string `json:"node"`
	Addr string `json:"addr"`
	// ShieldAddr is where the other edges reach this edge's Origin Shield
	// listener (host:port); "" when it runs none.
	ShieldAddr string `json:"shield_addr,omitempty"`
	Revision   int64  `json:"revision"`
	// Failing is model.Watermark.Failing of this edge.
	Failing map[string]int64 `json:"failing,omitempty"`
	Updated time.Time        `json:"updated"`
}

// Source is what an edge announces: its watermark.
type Source interface {
	Watermark(ctx context.Context) model.Watermark
}

// Registry reads and writes fleet membership in etcd.
type Registry struct {
	cli    *clientv3.Client
	root   string // the keyPrefix NewRegistry was given
	prefix string
	log    *slog.Logger
}

// NewRegistry keeps members under keyPrefix+"fleet/edges/" (pass the etcd
// store's Prefix so all of stagefront shares one namespace).
func NewRegistry(cli *clientv3.Client, keyPrefix string, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{cli: cli, root: keyPrefix, prefix: keyPrefix + "fleet/edges/", log: log}
}

// Members lists the live edges.
func (r *Registry) Members(ctx context.Context) ([]Member, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list fleet members: %w", err)
	}
	return decodeMembers(resp.Kvs)
}

func decodeMembers(kvs []*mvccpb.KeyValue) ([]Member, error) {
	out := make([]Member, 0, len(kvs))
	for _, kv := range kvs {
		var m Member
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			return nil, fmt.Errorf("fleet member %s: %w", kv.Key, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Watermark implements control.Deployment with one etcd read: the lowest
// revision any live edge serves, and every edge's compile failures. With
// no live edge there is nothing to wait for. When etcd cannot be read the
// answer is "nothing served yet".
func (r *Registry) Watermark(ctx context.Context) model.Watermark {
	members, err := r.Members(ctx)
	if err != nil {
		r.log.Debug("fleet watermark", "err", err)
		return model.Watermark{}
	}
	wm := model.Watermark{Revision: math.MaxInt64}
	for _, m := range members {
		wm = wm.Join(model.Watermark{Revision: m.Revision, Failing: m.Failing})
	}
	return wm
}

// Self is what an edge announces of itself besides its watermark.
type Self struct {
	Node string
	// Addr is the edge's viewer address.
	Addr string
	// ShieldAddr is the address of its Origin Shield listener, reachable
	// by the other edges; "" when it runs none.
	ShieldAddr string
}

// Announce keeps node registered while ctx lives: it holds a lease of ttl,
// and writes served's watermark whenever it changes (polled every 10 ms, so the
// registry lags the edge by at most that). When etcd is unreachable it
// retries with backoff; the edge keeps serving meanwhile.
func (r *Registry) Announce(ctx context.Context, node, addr string, served Source, ttl time.Duration) error {
	return r.AnnounceSelf(ctx, Self{Node: node, Addr: addr}, served, ttl)
}

// AnnounceSelf is Announce with every field of the member record.
func (r *Registry) AnnounceSelf(ctx context.Context, self Self, served Source, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	node := self.Node
	backoff := 100 * time.Millisecond
	for {
		err := r.announce(ctx, self, served, ttl)
		if ctx.Err() != nil {
			r.revoke(node)
			return nil
		}
		r.log.Warn("fleet registration lost; retrying", "node", node, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (r *Registry) announce(ctx context.Context, self Self, served Source, ttl time.Duration) error {
	node := self.Node
	grantCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	lease, err := r.cli.Grant(grantCtx, int64(ttl/time.Second))
	cancel()
	if err != nil {
		return fmt.Errorf("grant lease: %w", err)
	}
	keepCtx, stopKeep := context.WithCancel(ctx)
	defer stopKeep()
	alive, err := r.cli.KeepAlive(keepCtx, lease.ID)
	if err != nil {
		return fmt.Errorf("keep lease alive: %w", err)
	}
	last := model.Watermark{Revision: -1}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if wm := served.Watermark(ctx); wm.Revision != last.Revision || !maps.Equal(wm.Failing, last.Failing) {
			m := Member{Node: node, Addr: self.Addr, ShieldAddr: self.ShieldAddr, Revision: wm.Revision, Failing: wm.Failing, Updated: time.Now().UTC()}
			b, _ := json.Marshal(m)
			putCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := r.cli.Put(putCtx, r.prefix+node, string(b), clientv3.WithLease(lease.ID))
			cancel()
			if err != nil {
				return fmt.Errorf("announce revision %d: %w", wm.Revision, err)
			}
			last = wm
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-alive:
			if !ok {
				return fmt.Errorf("lease %x expired or keep-alive stopped", lease.ID)
			}
		case <-tick.C:
		}
	}
}

// revoke removes node at shutdown so the fleet does not wait for its lease.
func (r *Registry) revoke(node string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = r.cli.Delete(ctx, r.prefix+node)
}
