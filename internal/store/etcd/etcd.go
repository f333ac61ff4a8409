package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/stagefront/stagefront/internal/store"
)

// Defaults used for the zero fields of Config.
const (
	DefaultPrefix         = "/stagefront/"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	// DefaultUnreachableTimeout is Config.UnreachableTimeout's default.
	DefaultUnreachableTimeout = 500 * time.Millisecond
)

// Config says which etcd cluster to use and how. Only Endpoints is required.
type Config struct {
	// Endpoints are the client URLs of the cluster members, e.g.
	// "http://10.0.0.1:2379" or "10.0.0.1:2379".
	Endpoints []string
	// Prefix namespaces every key: store key k is etcd key Prefix+k. Empty
	// means DefaultPrefix.
	Prefix string
	// DialTimeout bounds connecting (and authenticating) in Open. Zero
	// means DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds each call whose context has no deadline, so
	// callers never hang on an unreachable cluster. Zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// UnreachableTimeout replaces RequestTimeout while the client has no
	// ready connection to the cluster (etcd down or partitioned): a call
	// then waits this long for a reconnection instead of the full request
	// timeout, so an API answers 503 promptly during an outage. Zero means
	// DefaultUnreachableTimeout.
	UnreachableTimeout time.Duration
	// Username and Password enable etcd authentication when Username is set.
	Username string
	Password string
	// TLS, when set, is used for client connections (server verification
	// and client certificates).
	TLS *tls.Config
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.UnreachableTimeout <= 0 {
		c.UnreachableTimeout = DefaultUnreachableTimeout
	}
	return c
}

// Store is a store.Store on an etcd v3 cluster. It is safe for concurrent use.
type Store struct {
	client         *clientv3.Client
	prefix         string
	requestTimeout time.Duration
	// unreachableTimeout is Config.UnreachableTimeout.
	unreachableTimeout time.Duration
	closed             atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the cluster and checks that it answers within ctx (and
// DialTimeout). An unreachable cluster gives an error wrapping
// store.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd: open: no endpoints")
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		// Pings on an open stream notice a dead connection (a member that
		// vanished without closing TCP) so that watches move to another
		// member instead of waiting forever. etcd refuses pings more often
		// than every 5 s.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Username:             cfg.Username,
		Password:             cfg.Password,
		TLS:                  cfg.TLS,
		// gRPC's default reconnect backoff grows to 2 minutes, so a fleet
		// would stay deaf that long after an etcd outage ends; cap it so
		// that watches resume within seconds, at the cost of one dial every
		// couple of seconds per process while etcd is down.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  250 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   2 * time.Second,
			},
			MinConnectTimeout: cfg.DialTimeout,
		})},
		// The client logs every retry; failures reach callers as errors.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd: open %v: %w", cfg.Endpoints, classify(err))
	}
	s := &Store{client: client, prefix: cfg.Prefix, requestTimeout: cfg.RequestTimeout, unreachableTimeout: cfg.UnreachableTimeout}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := s.Revision(dialCtx); err != nil {
		closeErr := client.Close()
		return nil, errors.Join(fmt.Errorf("etcd: open %v: %w", cfg.Endpoints, err), ignoreCanceled(closeErr))
	}
	return s, nil
}

// Client returns the underlying etcd client, for what the store contract
// does not cover (leases, elections). Keys written through it are not
// namespaced. It is closed by Close.
func (s *Store) Client() *clientv3.Client { return s.client }

// Prefix returns the namespace prefix of every key of this Store.
func (s *Store) Prefix() string { return s.prefix }

var errClosed = fmt.Errorf("etcd: store closed: %w", store.ErrUnavailable)

// request derives the context of one etcd call: the caller's deadline if it
// has one, else RequestTimeout, or UnreachableTimeout while the client's
// connection is not ready (gRPC has lost it, or is reconnecting).
func (s *Store) request(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	timeout := s.requestTimeout
	if s.unreachableTimeout < timeout && s.client.ActiveConnection().GetState() != connectivity.Ready {
		timeout = s.unreachableTimeout
	}
	return context.WithTimeout(ctx, timeout)
}

// fail wraps err from an etcd call made for ctx. It reports the caller's own
// cancellation as such, and everything that means "etcd cannot be reached"
// as store.ErrUnavailable — including a deadline that passed while waiting
// for etcd, ours or the caller's (the error then also wraps
// context.DeadlineExceeded).
func (s *Store) fail(ctx context.Context, what string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("etcd: %s: %w", what, errClosed)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("etcd: %s: %w", what, context.Cause(ctx))
	}
	return fmt.Errorf("etcd: %s: %w", what, classify(err))
}

// classify adds store.ErrNoSpace to etcd's NOSPACE alarm, and
// store.ErrUnavailable to err when it means the cluster is
// unreachable, has no leader, or did not answer in time. Other errors
// (permission denied, too many ops, request too large) are returned as is.
func classify(err error) error {
	if errors.Is(err, rpctypes.ErrNoSpace) || errors.Is(err, rpctypes.ErrGRPCNoSpace) {
		return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	if err == nil || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, clientv3.ErrNoAvailableEndpoints) {
		return true
	}
	code := codes.OK
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) {
		code = etcdErr.Code()
	} else if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// ignoreCanceled drops the context.Canceled that closing a client reports
// when its own context ends, which is how it always ends.
func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled {
		return nil
	}
	return err
}

func (s *Store) kv(raw *mvccpb.KeyValue) store.KV {
	value := raw.Value
	if value == nil {
		value = []byte{}
	}
	return store.KV{
		Key:            string(raw.Key[len(s.prefix):]),
		Value:          value,
		ModRevision:    raw.ModRevision,
		CreateRevision: raw.CreateRevision,
	}
}

// Get implements store.Store. Reads are linearizable: a Get sees every
// write acknowledged before it started, whichever member answers.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if s.closed.Load() {
		return store.KV{}, errClosed
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	resp, err := s.client.Get(rctx, s.prefix+key)
	if err != nil {
		return store.KV{}, s.fail(ctx, fmt.Sprintf("get %q", key), err)
	}
	if len(resp.Kvs) == 0 {
		return store.KV{}, fmt.Errorf("etcd: get %q: %w", key, store.ErrNotFound)
	}
	return s.kv(resp.Kvs[0]), nil
}

// List implements store.Store. The listing is one etcd range read, sorted by
// key, and its header revision is the revision it was read at.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	if s.closed.Load() {
		return nil, 0, errClosed
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	resp, err := s.client.Get(rctx, s.prefix+prefix, clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, 0, s.fail(ctx, fmt.Sprintf("list %q", prefix), err)
	}
	var kvs []store.KV
	if len(resp.Kvs) > 0 {
		kvs = make([]store.KV, len(resp.Kvs))
		for i, raw := range resp.Kvs {
			kvs[i] = s.kv(raw)
		}
	}
	return kvs, resp.Header.Revision, nil
}

// Revision implements store.Store: the cluster's current revision, read
// linearizably.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	resp, err := s.client.Get(rctx, s.prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, s.fail(ctx, "revision", err)
	}
	return resp.Header.Revision, nil
}

// Txn implements store.Store with one etcd transaction. When a cond fails,
// its else branch reads the guarded keys (creating no revision) so the
// error can say which cond failed.
func (s *Store) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	cmps := make([]clientv3.Cmp, 0, len(conds))
	reads := make([]clientv3.Op, 0, len(conds))
	for _, c := range conds {
		if c.Key == "" {
			return 0, errors.New("etcd: txn: empty key in cond")
		}
		key := s.prefix + c.Key
		if c.ModRevision == 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", c.ModRevision))
		}
		reads = append(reads, clientv3.OpGet(key, clientv3.WithKeysOnly()))
	}
	writes := make([]clientv3.Op, 0, len(ops))
	for _, op := range collapse(ops) {
		if op.Key == "" {
			return 0, errors.New("etcd: txn: empty key in op")
		}
		if op.Delete {
			writes = append(writes, clientv3.OpDelete(s.prefix+op.Key))
		} else {
			writes = append(writes, clientv3.OpPut(s.prefix+op.Key, string(op.Value)))
		}
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	resp, err := s.client.Txn(rctx).If(cmps...).Then(writes...).Else(reads...).Commit()
	if err != nil {
		return 0, s.fail(ctx, "txn", err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("etcd: txn: %w", conflict(conds, resp))
	}
	return resp.Header.Revision, nil
}

// conflict names the first cond that failed, from the else branch's reads.
func conflict(conds []store.Cond, resp *clientv3.TxnResponse) error {
	for i, c := range conds {
		if i >= len(resp.Responses) {
			break
		}
		var have int64
		if rr := resp.Responses[i].GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
			have = rr.Kvs[0].ModRevision
		}
		if have != c.ModRevision {
			return fmt.Errorf("key %q is at mod revision %d, want %d: %w", c.Key, have, c.ModRevision, store.ErrConflict)
		}
	}
	return store.ErrConflict
}

// collapse keeps only the last op on each key, in the order of those last
// ops. etcd rejects a transaction that writes one key twice; applying only
// the last op leaves the same state as applying all of them in order.
func collapse(ops []store.Op) []store.Op {
	last := make(map[string]int, len(ops))
	for i, op := range ops {
		last[op.Key] = i
	}
	if len(last) == len(ops) {
		return ops
	}
	out := make([]store.Op, 0, len(last))
	for i, op := range ops {
		if last[op.Key] == i {
			out = append(out, op)
		}
	}
	return out
}

// Close ends every watch and closes the client. Calls after the first
// return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := ignoreCanceled(s.client.Close()); err != nil {
		return fmt.Errorf("etcd: close: %w", err)
	}
	return nil
}
