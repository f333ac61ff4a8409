package control_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store/bolt"
	"github.com/stagefront/stagefront/internal/testutil"
)

// countingDeployment is a fleet whose edges serve everything but the
// distributions in failing; it counts how often it is asked.
type countingDeployment struct {
	calls   atomic.Int64
	failing map[string]int64
	reasons map[string]string
}

func (d *countingDeployment) Watermark(context.Context) model.Watermark {
	d.calls.Add(1)
	return model.Watermark{Revision: 1 << 62, Failing: d.failing, Reasons: d.reasons, WithoutTLS: 2}
}

func minimalConfig(ref string) *cf.DistributionConfig {
	return &cf.DistributionConfig{
		CallerReference: cf.String(ref), Comment: cf.String(""), Enabled: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.example.com"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{
			TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"),
			CachePolicyId: cf.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
		},
	}
}

// TestListDistributionsReadsOnce: listing 100 distributions, each with an
// invalidation, costs a constant number of store reads and one question
// to the fleet, not one per item; a distribution an edge fails to compile
// is InProgress, the others Deployed.
func TestListDistributionsReadsOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	counted := &testutil.CountingStore{Store: st}
	fleet := &countingDeployment{}
	svc := control.New(counted, control.Options{Deployment: fleet})
	const n = 100
	var ids []string
	for i := range n {
		d, err := svc.CreateDistribution(ctx, minimalConfig(fmt.Sprintf("ref-%d", i)), nil)
		if err != nil {
			t.Fatalf("CreateDistribution %d: %v", i, err)
		}
		id := cf.Str(d.Distribution.Id)
		ids = append(ids, id)
		if _, err := svc.CreateInvalidation(ctx, id, &cf.InvalidationBatch{
			CallerReference: cf.String("inv"), Paths: &cf.Paths{Quantity: cf.Int32(1), Items: []string{"/*"}},
		}); err != nil {
			t.Fatalf("CreateInvalidation %d: %v", i, err)
		}
	}
	kv, err := st.Get(ctx, model.DistributionKey(ids[7]))
	if err != nil {
		t.Fatal(err)
	}
	fleet.failing = map[string]int64{ids[7]: kv.ModRevision}
	fleet.reasons = map[string]string{ids[7]: "behavior *: no origin web"}

	counted.Reads.Store(0)
	fleet.calls.Store(0)
	list, err := svc.ListDistributions(ctx, "", n)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(list.Items); got != n {
		t.Fatalf("listed %d distributions, want %d", got, n)
	}
	if reads, calls := counted.Reads.Load(), fleet.calls.Load(); reads != 1 || calls != 1 {
		t.Errorf("ListDistributions of %d items: %d store reads and %d watermark reads, want 1 and 1", n, reads, calls)
	}
	for _, item := range list.Items {
		want := "Deployed"
		if cf.Str(item.Id) == ids[7] {
			want = "InProgress"
		}
		if got := cf.Str(item.Status); got != want {
			t.Errorf("%s: status %s, want %s", cf.Str(item.Id), got, want)
		}
	}
	// A read of one says why it is InProgress, and how many edges lack TLS.
	for _, id := range []string{ids[7], ids[8]} {
		got, err := svc.GetDistribution(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if id == ids[7] {
			want = fleet.reasons[id]
		}
		if got.CompileError != want || got.EdgesWithoutTLS != 2 {
			t.Errorf("GetDistribution(%s): compile error %q, %d edges without TLS; want %q and 2", id, got.CompileError, got.EdgesWithoutTLS, want)
		}
	}
}
