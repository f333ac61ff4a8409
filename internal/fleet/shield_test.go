package fleet_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

func TestShieldSecretIsOnePerFleet(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	a, b := newRegistry(t, srv), newRegistry(t, srv)
	ctx := t.Context()
	secretA, err := a.ShieldSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secretB, err := b.ShieldSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(secretA) != 32 || !bytes.Equal(secretA, secretB) {
		t.Fatalf("secrets %x and %x: want one 32-byte secret shared by every edge", secretA, secretB)
	}
}

func TestWatchMembersSeesJoinsAndLeaves(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	reg := newRegistry(t, srv)
	ctx := t.Context()
	var (
		mu   sync.Mutex
		seen []string
	)
	background(t, func() {
		_ = reg.WatchMembers(ctx, func(ms []fleet.Member) {
			var shields []string
			for _, m := range ms {
				shields = append(shields, m.Node+"@"+m.ShieldAddr)
			}
			slices.Sort(shields)
			mu.Lock()
			seen = shields
			mu.Unlock()
		})
	})
	view := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }

	ctxA, stopA := context.WithCancel(ctx)
	doneA := make(chan struct{})
	background(t, func() {
		defer close(doneA)
		_ = reg.AnnounceSelf(ctxA, fleet.Self{Node: "a", Addr: "127.0.0.1:1", ShieldAddr: "127.0.0.1:11"}, newFakeEdge(1), 2*time.Second)
	})
	background(t, func() {
		_ = reg.AnnounceSelf(ctx, fleet.Self{Node: "b", Addr: "127.0.0.1:2", ShieldAddr: "127.0.0.1:12"}, newFakeEdge(1), 2*time.Second)
	})
	want := []string{"a@127.0.0.1:11", "b@127.0.0.1:12"}
	testutil.Eventually(t, 10*time.Second, "both members with their shield addresses", func() bool { return slices.Equal(view(), want) })
	stopA()
	<-doneA
	testutil.Eventually(t, 10*time.Second, "a to leave", func() bool { return slices.Equal(view(), []string{"b@127.0.0.1:12"}) })
}
