package stack

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/cfn/resource"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/etcd"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRecoveryLeavesALiveNodesOperation: two API nodes on one embedded
// etcd. Node a is in the middle of creating a stack when node b starts
// and recovers: b leaves the operation alone while a's heartbeat is
// fresh; once a has been silent for the lease, b rolls it back and no
// distribution is left. A restarted a (the same node name) would have
// recovered its own operation at once.
func TestRecoveryLeavesALiveNodesOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := etcdtest.Start(t)
	open := func() *etcd.Store {
		st, err := etcd.Open(ctx, etcd.Config{Endpoints: []string{srv.Endpoint}, Prefix: "/stagefront-lease-test/"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	node := func(name string, crash func(string)) (*Manager, *control.Service) {
		st := open()
		svc := control.New(st, control.Options{})
		return New(st, &resource.Env{Svc: svc}, Options{Node: name, LeaseTTL: 10 * time.Second, Clock: clock.Now, CrashPoint: crash}), svc
	}
	paused, resume := make(chan struct{}), make(chan struct{})
	a, svc := node("a", func(point string) {
		if point == "after-create:Site" {
			close(paused)
			<-resume
		}
	})
	b, _ := node("b", nil)
	if err := a.Beat(ctx); err != nil {
		t.Fatal(err)
	}
	body := `Resources:
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: 4135ea2d-6df8-44a3-9df3-4b5a84be39ad}
        Origins: [{Id: o, DomainName: origin.example, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]
  Later:
    Type: AWS::CloudFormation::WaitConditionHandle
    DependsOn: Site
`
	done := make(chan error, 1)
	go func() {
		_, err := a.CreateStack(ctx, Input{Region: "us-east-1", StackName: "busy", TemplateBody: body})
		done <- err
	}()
	<-paused
	status := func() string {
		t.Helper()
		s, err := b.Describe(ctx, "us-east-1", "busy")
		if err != nil {
			t.Fatal(err)
		}
		return s[0].Status
	}

	// b starts while a is alive: a's operation is a's.
	clock.Advance(5 * time.Second)
	if err := b.Beat(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Recover(ctx, "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != CreateInProgress {
		t.Fatalf("after b's recovery with a alive: %s, want %s", got, CreateInProgress)
	}

	// a stops beating; after the lease b takes the operation over.
	clock.Advance(10 * time.Second)
	if err := b.Recover(ctx, "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != RollbackComplete {
		t.Fatalf("after a's lease ran out: %s, want %s", got, RollbackComplete)
	}
	events, err := b.Events(ctx, "us-east-1", "busy")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || e.StatusReason == "stagefront node a stopped while the operation was in progress. Rollback requested by user."
	}
	if !found {
		t.Errorf("no event names node a as the reason: %+v", events)
	}
	list, err := svc.ListDistributions(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d distributions left after the rollback", len(list.Items))
	}
	// a, resumed, finds the stack changed under it and stops.
	close(resume)
	if err := <-done; err == nil {
		t.Errorf("a's create went on after b had rolled it back")
	}
	if got := status(); got != RollbackComplete {
		t.Errorf("after a resumed: %s", got)
	}
}

// hookStore runs before on every Txn before passing it on.
type hookStore struct {
	store.Store
	before func(ops []store.Op)
}

func (s *hookStore) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	s.before(ops)
	return s.Store.Txn(ctx, conds, ops)
}

// TestRecoveryLeavesAnOperationThatIsFinishing: recovery that reads a stack
// while this process writes the end of its operation must not take the
// operation over. It used to: the last write unmarked the stack as this
// process's before it committed, recovery claimed the operation in that
// window, and the operation failed with "was changed by another
// operation" (seen with the AWS CLI's deploy under load).
func TestRecoveryLeavesAnOperationThatIsFinishing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testutil.OpenBolt(t)
	svc := control.New(st, control.Options{})
	hs := &hookStore{Store: st}
	m := New(hs, &resource.Env{Svc: svc}, Options{Node: "a"})
	var once sync.Once
	var inRecovery atomic.Bool // recovery's own writes pass straight through
	hs.before = func(ops []store.Op) {
		if inRecovery.Load() {
			return
		}
		for _, op := range ops {
			if !strings.HasPrefix(op.Key, stackPrefix("us-east-1")) {
				continue
			}
			var s Stack
			if json.Unmarshal(op.Value, &s) != nil || s.Status != CreateComplete {
				continue
			}
			// The write that ends the create: recover now, before it commits.
			once.Do(func() {
				inRecovery.Store(true)
				defer inRecovery.Store(false)
				done := make(chan error, 1)
				go func() { done <- m.Recover(ctx, "us-east-1") }()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("recover: %v", err)
					}
				case <-time.After(2 * time.Second):
					// Recovery claimed the operation and now waits for
					// the stack's lock, which the create holds.
				}
			})
		}
	}
	body := `Resources:
  Later:
    Type: AWS::CloudFormation::WaitConditionHandle
`
	s, err := m.CreateStack(ctx, Input{Region: "us-east-1", StackName: "finishing", TemplateBody: body})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if s.Status != CreateComplete {
		t.Fatalf("status %s", s.Status)
	}
}
