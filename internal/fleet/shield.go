package fleet

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// shieldSecretBytes is the length of the fleet's Origin Shield secret.
const shieldSecretBytes = 32

// ShieldSecret returns the secret the edges of the fleet authenticate
// their Origin Shield requests with, creating it on first use: 32 random
// bytes under keyPrefix+"fleet/shield-secret", written only if absent, so
// that every edge reads the same one. Whoever can read etcd can read it,
// as they can read everything else the fleet shares.
func (r *Registry) ShieldSecret(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key := r.root + "fleet/shield-secret"
	fresh := make([]byte, shieldSecretBytes)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails
	resp, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(fresh))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("fleet shield secret: %w", err)
	}
	if resp.Succeeded {
		return fresh, nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) != 1 || len(kvs[0].Value) < 16 {
		return nil, fmt.Errorf("fleet shield secret at %s: missing or shorter than 16 bytes", key)
	}
	return kvs[0].Value, nil
}

// WatchMembers calls onChange with the live members now and after every
// change of membership (an edge joining, leaving, its lease expiring or
// its record changing) until ctx ends. Each call lists the members again,
// so a burst of changes costs one read per watch response. When etcd is
// unreachable it retries with backoff; onChange keeps its last view.
func (r *Registry) WatchMembers(ctx context.Context, onChange func([]Member)) error {
	backoff := 100 * time.Millisecond
	for {
		err := r.watchMembers(ctx, onChange)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("fleet member watch lost; retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (r *Registry) watchMembers(ctx context.Context, onChange func([]Member)) error {
	list := func() (int64, error) {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		resp, err := r.cli.Get(lctx, r.prefix, clientv3.WithPrefix())
		if err != nil {
			return 0, fmt.Errorf("list fleet members: %w", err)
		}
		members, err := decodeMembers(resp.Kvs)
		if err != nil {
			return 0, err
		}
		onChange(members)
		return resp.Header.Revision, nil
	}
	rev, err := list()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for wr := range r.cli.Watch(wctx, r.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
		if err := wr.Err(); err != nil {
			return fmt.Errorf("watch fleet members: %w", err)
		}
		if _, err := list(); err != nil {
			return err
		}
	}
	return ctx.Err()
}
