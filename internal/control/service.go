package control

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// Deployment tells what the edges serve. A distribution is Deployed, and an
// invalidation Completed, once the revision that wrote it is served
// everywhere; a distribution some edge fails to compile stays InProgress.
// One call answers for every record, so a list costs one read however long.
type Deployment interface {
	Watermark(ctx context.Context) model.Watermark
}

// AlwaysDeployed is the Deployment of a control plane with no edges to wait for.
type AlwaysDeployed struct{}

// Watermark implements Deployment: everything is served.
func (AlwaysDeployed) Watermark(context.Context) model.Watermark {
	return model.Watermark{Revision: math.MaxInt64}
}

// Options configure a Service. Zero values get sensible defaults.
type Options struct {
	// DomainSuffix is appended to generated distribution domain names.
	DomainSuffix string
	// AccountID goes into ARNs.
	AccountID string
	// Clock and Rand are injected so tests are exact.
	Clock func() time.Time
	Rand  io.Reader
	// Deployment reports what the edges serve.
	Deployment Deployment
	// Quotas are the per-distribution limits; nil means CloudFront's
	// defaults (cloudfront.DefaultQuotas).
	Quotas *cf.Quotas
}

// Service holds the business rules of the control plane. Every mutation is
// one store transaction guarded by the revisions it read.
type Service struct {
	st      store.Store
	opts    Options
	records sync.Map // store key → cachedRecord
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	if opts.DomainSuffix == "" {
		opts.DomainSuffix = "cdn.localhost"
	}
	opts.DomainSuffix = strings.TrimPrefix(opts.DomainSuffix, ".")
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Deployment == nil {
		opts.Deployment = AlwaysDeployed{}
	}
	return &Service{st: st, opts: opts}
}

// Store returns the store the service writes to.
func (s *Service) Store() store.Store { return s.st }

func (s *Service) now() time.Time { return s.opts.Clock().UTC().Truncate(time.Millisecond) }

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func (s *Service) randomString(alphabet string, n int) (string, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(s.opts.Rand, buf); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf), nil
}

func (s *Service) newUUID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.opts.Rand, b[:]); err != nil {
		return "", fmt.Errorf("random uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// loaded is a record with the revision it was read at.
type loaded[T any] struct {
	rec *T
	rev int64
}

func (l loaded[T]) etag(id string) string { return model.ETag(id, l.rev) }

func getRecord[T any](ctx context.Context, s *Service, key string) (loaded[T], error) {
	kv, err := s.st.Get(ctx, key)
	if err != nil {
		return loaded[T]{}, err
	}
	rec, err := decodeCached[T](s, kv)
	if err != nil {
		return loaded[T]{}, err
	}
	return loaded[T]{rec: rec, rev: kv.ModRevision}, nil
}

func listRecords[T any](ctx context.Context, s *Service, prefix string) ([]loaded[T], error) {
	kvs, _, err := s.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := make([]loaded[T], 0, len(kvs))
	for _, kv := range kvs {
		rec, err := decodeCached[T](s, kv)
		if err != nil {
			return nil, err
		}
		out = append(out, loaded[T]{rec: rec, rev: kv.ModRevision})
	}
	return out, nil
}

// cachedRecord is a decoded record and the revision it was decoded from.
type cachedRecord struct {
	rev int64
	rec any
}

// decodeCached decodes a stored record once per (key, revision): a
// revision's content never changes, and decoding a full DistributionConfig
// is most of a GetDistribution's cost. Records it returns are shared and
// must be treated as read-only (writers copy: `next := *cur.rec`).
func decodeCached[T any](s *Service, kv store.KV) (*T, error) {
	if c, ok := s.records.Load(kv.Key); ok {
		if cr := c.(cachedRecord); cr.rev == kv.ModRevision {
			if rec, ok := cr.rec.(*T); ok {
				return rec, nil
			}
		}
	}
	rec, err := model.Decode[T](kv.Value)
	if err != nil {
		return nil, err
	}
	s.records.Store(kv.Key, cachedRecord{rev: kv.ModRevision, rec: rec})
	return rec, nil
}

func (s *Service) getDistribution(ctx context.Context, id string) (loaded[model.Distribution], error) {
	d, err := getRecord[model.Distribution](ctx, s, model.DistributionKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return d, cf.ErrNoSuchDistribution.WithMessage("The specified distribution does not exist: %s.", id)
	}
	return d, err
}

func (s *Service) getPolicy(ctx context.Context, id string) (loaded[model.Policy], error) {
	p, err := getRecord[model.Policy](ctx, s, model.PolicyKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return p, cf.ErrNoSuchCDPolicy.WithMessage("The continuous deployment policy %s doesn't exist.", id)
	}
	return p, err
}

// checkIfMatch applies CloudFront's If-Match rules: missing → 400
// InvalidIfMatchVersion, not current → 412 PreconditionFailed.
func checkIfMatch(ifMatch, current string) error {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	if ifMatch != current {
		return cf.ErrPreconditionFailed
	}
	return nil
}

// putOp encodes a record into a put.
func putOp(key string, rec any) (store.Op, error) {
	b, err := model.Encode(rec)
	if err != nil {
		return store.Op{}, err
	}
	return store.Op{Key: key, Value: b}, nil
}

// txn runs one transaction; a failed condition means somebody else wrote
// first, which for an If-Match caller is a stale version.
func (s *Service) txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	return s.txnOr(ctx, conds, ops, nil)
}

// txnOr runs one transaction, the only way the service writes. When a
// condition fails, onConflict (if not nil) says what that means to the
// caller, such as "the name is taken"; otherwise it is a stale version.
// Store errors are returned wrapped, untranslated: the API maps
// store.ErrUnavailable to ServiceUnavailable where it answers.
func (s *Service) txnOr(ctx context.Context, conds []store.Cond, ops []store.Op, onConflict func() error) (int64, error) {
	rev, err := s.st.Txn(ctx, conds, ops)
	switch {
	case errors.Is(err, store.ErrConflict) && onConflict != nil:
		return 0, onConflict()
	case errors.Is(err, store.ErrConflict):
		return 0, cf.ErrPreconditionFailed.WithMessage("The resource changed while the request was processed; read it again and retry.")
	case err != nil:
		return 0, fmt.Errorf("store transaction: %w", err)
	}
	s.forgetDeleted(ops)
	return rev, nil
}

// forgetDeleted drops decoded records of deleted keys from the cache, so it
// holds only live records.
func (s *Service) forgetDeleted(ops []store.Op) {
	for _, op := range ops {
		if op.Delete {
			s.records.Delete(op.Key)
		}
	}
}

// deepCopy clones a shape through JSON (the stored form), keeping unknown elements.
func deepCopy[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("deepCopy %T: %v", v, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("deepCopy %T: %v", v, err))
	}
	return out
}

// Bootstrap creates what every node expects to find in the store: the key
// that authenticates sticky-session cookies (shared, so a cookie minted on
// one edge is honoured on all). It is idempotent and safe to race.
func (s *Service) Bootstrap(ctx context.Context) error {
	if _, err := s.st.Get(ctx, model.StickyKeyKey); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read sticky key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(s.opts.Rand, key); err != nil {
		return fmt.Errorf("sticky key: %w", err)
	}
	// Losing the race to another node is fine: its key is as good.
	_, err := s.txnOr(ctx, []store.Cond{{Key: model.StickyKeyKey}}, []store.Op{{Key: model.StickyKeyKey, Value: key}},
		func() error { return nil })
	if err != nil {
		return fmt.Errorf("write sticky key: %w", err)
	}
	return nil
}

// IsUnavailable reports whether err means the store cannot be reached right
// now, so that each front end (REST API, CloudFormation, console) can answer
// with its own "try again later" without importing the store.
func IsUnavailable(err error) bool { return errors.Is(err, store.ErrUnavailable) }
