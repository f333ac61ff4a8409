package follow_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

const cachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

// publisher records what the follower publishes.
type publisher struct {
	mu     sync.Mutex
	tables []*routing.Table
	purged []string
}

func (p *publisher) Publish(t *routing.Table, invs []*model.Invalidation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tables) == 0 || p.tables[len(p.tables)-1] != t {
		p.tables = append(p.tables, t)
	}
	for _, inv := range invs {
		p.purged = append(p.purged, inv.ID)
	}
}

func (p *publisher) last() (*routing.Table, int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tables[len(p.tables)-1], len(p.tables), append([]string(nil), p.purged...)
}

func distRecord(t *testing.T, id, target string) []byte {
	t.Helper()
	b, err := model.Encode(&model.Distribution{ID: id, DomainName: id + ".cdn.test", Config: &cf.DistributionConfig{
		CallerReference: cf.String(id), Comment: cf.String(""), Enabled: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.test"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{
			TargetOriginId: cf.String(target), ViewerProtocolPolicy: cf.String("allow-all"), CachePolicyId: cf.String(cachingDisabled),
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFollowerWatermark: the follower publishes compiled tables, skips the
// compile for a batch the table does not read, still advancing its
// watermark, and reports a distribution that fails to compile as failing
// at its revision until a good record replaces it.
func TestFollowerWatermark(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, value []byte) int64 {
		t.Helper()
		rev, err := st.Txn(ctx, nil, []store.Op{{Key: key, Value: value}})
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	pub := &publisher{}
	f, err := follow.New(follow.Options{Store: st, Publisher: pub, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	go func() { defer close(done); _ = f.Run(ctx) }()
	wait := func(rev int64) model.Watermark {
		t.Helper()
		wctx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		if err := f.WaitServed(wctx, rev); err != nil {
			t.Fatalf("WaitServed(%d): %v (serves %d)", rev, err, f.ServedRevision())
		}
		return f.Watermark(ctx)
	}

	rev := put(model.DistributionKey("E1"), distRecord(t, "E1", "web"))
	wm := wait(rev)
	table, published, _ := pub.last()
	if table.Dist("E1") == nil || !wm.Deployed("E1", rev) {
		t.Fatalf("after a good record: table has E1 = %v, watermark %+v", table.Dist("E1") != nil, wm)
	}
	if wm.WithoutTLS != 1 {
		t.Errorf("an edge without an HTTPS listener reports WithoutTLS = %d, want 1", wm.WithoutTLS)
	}

	// An index key the table does not read: no new table, watermark moves.
	rev = put(model.CallerRefKey("ref-1"), []byte("E1"))
	if wm := wait(rev); wm.Revision != rev {
		t.Errorf("watermark after an index write = %d, want %d", wm.Revision, rev)
	}
	if _, n, _ := pub.last(); n != published {
		t.Errorf("an index write published %d new tables, want none", n-published)
	}

	// An invalidation alone purges with the same table.
	inv, err := model.Encode(&model.Invalidation{ID: "I1", DistributionID: "E1"})
	if err != nil {
		t.Fatal(err)
	}
	rev = put(model.InvalidationKey("E1", "I1"), inv)
	wait(rev)
	if tbl, n, purged := pub.last(); n != published || tbl != table || len(purged) != 1 || purged[0] != "I1" {
		t.Errorf("after an invalidation: %d new tables, purged %v; want the same table and I1 purged", n-published, purged)
	}

	broken := put(model.DistributionKey("E1"), distRecord(t, "E1", "no-such-origin"))
	wm = wait(broken)
	if wm.Deployed("E1", broken) || wm.Failing["E1"] != broken || !strings.Contains(wm.Reasons["E1"], "no-such-origin") {
		t.Errorf("after a record that does not compile: watermark %+v, want E1 failing at %d, the reason naming no-such-origin", wm, broken)
	}
	if d := pub.tablesLast(t).Dist("E1"); d == nil || d.Err == nil {
		t.Errorf("E1 in the published table: %+v, want its last good entry with Err", d)
	}

	fixed := put(model.DistributionKey("E1"), distRecord(t, "E1", "web"))
	if wm := wait(fixed); !wm.Deployed("E1", fixed) || len(wm.Failing) != 0 || len(wm.Reasons) != 0 {
		t.Errorf("after the fix: watermark %+v, want E1 deployed and nothing failing", wm)
	}
}

func (p *publisher) tablesLast(t *testing.T) *routing.Table {
	t.Helper()
	tbl, _, _ := p.last()
	return tbl
}

// TestFollowerReportsTLS: an edge with an HTTPS listener reports no edge
// without TLS.
func TestFollowerReportsTLS(t *testing.T) {
	t.Parallel()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f, err := follow.New(follow.Options{Store: st, Publisher: &publisher{}, Registry: prometheus.NewRegistry(), HTTPS: true})
	if err != nil {
		t.Fatal(err)
	}
	if wm := f.Watermark(t.Context()); wm.WithoutTLS != 0 {
		t.Errorf("WithoutTLS = %d with an HTTPS listener, want 0", wm.WithoutTLS)
	}
}
