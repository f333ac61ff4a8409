package etcd

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
)

// TestNoSpaceIsErrNoSpace: once etcd's backend quota is exhausted (its
// NOSPACE alarm, what a full disk looks like to an etcd client), a write
// fails with store.ErrNoSpace — which the API answers 503, not 500 — and
// reads still work.
func TestNoSpaceIsErrNoSpace(t *testing.T) {
	t.Parallel()
	srv := &server{etcdtest.Start(t, func(c *embed.Config) {
		c.QuotaBackendBytes = 1 << 20
		// etcd learns its backend's size when a batch commits (every
		// 100 ms by default); commit each write so the quota check sees
		// every earlier write and the test does not race the batch timer.
		c.BackendBatchLimit = 1
	})}
	st := srv.open(t, Config{})
	defer st.Close()
	value := bytes.Repeat([]byte("x"), 128<<10)
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		_, err = st.Txn(t.Context(), nil, []store.Op{{Key: fmt.Sprintf("fill/%d", i), Value: value}})
	}
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("writing past a 1 MiB quota: %v, want store.ErrNoSpace", err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("no space is not unavailability: %v", err)
	}
	if _, err := st.Get(t.Context(), "fill/0"); err != nil {
		t.Errorf("reading with the NOSPACE alarm raised: %v", err)
	}
}
