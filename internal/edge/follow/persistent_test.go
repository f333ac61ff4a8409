package follow_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

// persistentPublisher is a publisher whose cache survived a restart, and
// which had applied the invalidations in applied before it.
type persistentPublisher struct {
	publisher
	applied map[string]bool
}

func (p *persistentPublisher) InvalidationApplied(key string) bool { return p.applied[key] }

// TestFirstSyncAppliesMissedInvalidations: a plain publisher starts with
// an empty cache, so its first sync hands it no invalidation; one whose
// cache outlived the process gets those it has not applied (created while
// it was down), and only those.
func TestFirstSyncAppliesMissedInvalidations(t *testing.T) {
	t.Parallel()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ops := []store.Op{{Key: model.DistributionKey("E1"), Value: distRecord(t, "E1", "web")}}
	for _, id := range []string{"I1", "I2", "I3"} {
		inv, err := model.Encode(&model.Invalidation{ID: id, DistributionID: "E1"})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, store.Op{Key: model.InvalidationKey("E1", id), Value: inv})
	}
	rev, err := st.Txn(t.Context(), nil, ops)
	if err != nil {
		t.Fatal(err)
	}

	plain := &publisher{}
	persistent := &persistentPublisher{applied: map[string]bool{model.InvalidationKey("E1", "I2"): true}}
	for _, tc := range []struct {
		name string
		pub  follow.Publisher
		got  func() []string
		want []string
	}{
		{"plain", plain, func() []string { _, _, p := plain.last(); return p }, nil},
		{"persistent", persistent, func() []string { _, _, p := persistent.last(); return p }, []string{"I1", "I3"}},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		f, err := follow.New(follow.Options{Store: st, Publisher: tc.pub, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = f.Run(ctx) }()
		wctx, stop := context.WithTimeout(ctx, 10*time.Second)
		if err := f.WaitServed(wctx, rev); err != nil {
			t.Fatalf("%s: WaitServed: %v", tc.name, err)
		}
		stop()
		cancel()
		<-done
		got := tc.got()
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s publisher: first sync purged %v; want %v", tc.name, got, tc.want)
		}
	}
}
