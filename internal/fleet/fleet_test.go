package fleet_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

func newRegistry(t *testing.T, srv *etcdtest.Server) *fleet.Registry {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return fleet.NewRegistry(cli, "/test/", nil)
}

// background runs f (a loop that ends with the test's context) and waits
// for it when the test ends, before the clients that newRegistry made are
// closed: cleanups run last-registered first, and a loop that ends removes
// its member record through its client.
func background(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	t.Cleanup(func() { <-done })
}

// fakeEdge is an edge's watermark, changed by the test.
type fakeEdge struct {
	wm atomic.Pointer[model.Watermark]
}

func newFakeEdge(rev int64) *fakeEdge {
	e := &fakeEdge{}
	e.set(model.Watermark{Revision: rev})
	return e
}

func (e *fakeEdge) set(wm model.Watermark)                    { e.wm.Store(&wm) }
func (e *fakeEdge) Watermark(context.Context) model.Watermark { return *e.wm.Load() }

func TestDeployedWaitsForEveryLiveEdge(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	reg := newRegistry(t, srv)
	ctx := t.Context()
	edgeA, edgeB := newFakeEdge(5), newFakeEdge(3)
	ctxA, stopA := context.WithCancel(ctx)
	doneA := make(chan struct{})
	background(t, func() { defer close(doneA); _ = reg.Announce(ctxA, "a", "127.0.0.1:1", edgeA, 2*time.Second) })
	background(t, func() { _ = reg.Announce(ctx, "b", "127.0.0.1:2", edgeB, 2*time.Second) })
	testutil.Eventually(t, 10*time.Second, "two members", func() bool { m, _ := reg.Members(ctx); return len(m) == 2 })

	if !reg.Watermark(ctx).Served(3) {
		t.Error("Served(3) = false; both edges serve >= 3")
	}
	if reg.Watermark(ctx).Served(4) {
		t.Error("Served(4) = true; edge b serves 3")
	}
	edgeB.set(model.Watermark{Revision: 4})
	testutil.Eventually(t, 10*time.Second, "edge b to report 4", func() bool { return reg.Watermark(ctx).Served(4) })

	// One edge failing to compile a distribution holds it back fleet-wide,
	// though every edge serves its revision; the others are deployed.
	edgeA.set(model.Watermark{Revision: 5, Failing: map[string]int64{"E1": 4}, Reasons: map[string]string{"E1": "no origin web"}, WithoutTLS: 1})
	testutil.Eventually(t, 10*time.Second, "edge a to report its failure", func() bool { return !reg.Watermark(ctx).Deployed("E1", 4) })
	if wm := reg.Watermark(ctx); !wm.Deployed("E2", 4) || wm.Reasons["E1"] != "no origin web" || wm.WithoutTLS != 1 {
		t.Errorf("watermark %+v: want E2 at 4 deployed (only E1 fails), E1's reason carried, 1 edge without TLS", wm)
	}
	edgeA.set(model.Watermark{Revision: 5})
	testutil.Eventually(t, 10*time.Second, "edge a to clear its failure", func() bool { return reg.Watermark(ctx).Deployed("E1", 4) })

	// A node that stops leaves the fleet at once (graceful) and no longer counts.
	stopA()
	<-doneA
	edgeB.set(model.Watermark{Revision: 9})
	testutil.Eventually(t, 10*time.Second, "Served(9) with only b", func() bool { return reg.Watermark(ctx).Served(9) })
	if m, _ := reg.Members(ctx); len(m) != 1 || m[0].Node != "b" {
		t.Errorf("members after a stopped = %+v; want only b", m)
	}
}

func TestGathererSumsTheFleet(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	reg := newRegistry(t, srv)
	ctx := t.Context()
	for node, n := range map[string]float64{"a": 3, "b": 4} {
		r := prometheus.NewRegistry()
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stagefront_edge_requests_total", Help: "h"}, []string{"distribution", "variant", "class"})
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stagefront_edge_request_duration_seconds", Help: "h", Buckets: []float64{0.1, 1}}, []string{"distribution", "variant"})
		other := prometheus.NewCounter(prometheus.CounterOpts{Name: "unrelated_total", Help: "h"})
		r.MustRegister(c, h, other)
		c.WithLabelValues("E1", "staging", "5xx").Add(n)
		c.WithLabelValues("E1", "primary", "2xx").Add(10 * n)
		for range int(n) {
			h.WithLabelValues("E1", "staging").Observe(0.05)
		}
		other.Add(100)
		background(t, func() { _ = reg.PublishMetrics(ctx, node, r, 50*time.Millisecond) })
	}
	var staging5xx, primary2xx, histCount float64
	var families int
	testutil.Eventually(t, 10*time.Second, "both edges' metrics", func() bool {
		fams, err := reg.Gatherer().Gather()
		if err != nil {
			return false
		}
		families = len(fams)
		staging5xx, primary2xx, histCount = 0, 0, 0
		for _, mf := range fams {
			for _, m := range mf.Metric {
				labels := map[string]string{}
				for _, l := range m.Label {
					labels[l.GetName()] = l.GetValue()
				}
				switch {
				case mf.GetName() == "stagefront_edge_requests_total" && labels["variant"] == "staging":
					staging5xx = m.Counter.GetValue()
				case mf.GetName() == "stagefront_edge_requests_total":
					primary2xx = m.Counter.GetValue()
				case mf.GetName() == "stagefront_edge_request_duration_seconds":
					histCount = float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return staging5xx == 7
	})
	if primary2xx != 70 || histCount != 7 || families != 2 {
		t.Errorf("aggregate: primary 2xx %v (want 70), histogram count %v (want 7), %d families (want 2: unrelated metrics stay local)",
			primary2xx, histCount, families)
	}
}

func TestLeadOneAtATime(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	ctx := t.Context()
	var leading, maxLeading, ran atomic.Int32
	run := func(name string, stop <-chan struct{}) func(context.Context) error {
		return func(ctx context.Context) error {
			n := leading.Add(1)
			defer leading.Add(-1)
			if n > maxLeading.Load() {
				maxLeading.Store(n)
			}
			ran.Add(1)
			select {
			case <-ctx.Done():
			case <-stop:
			}
			return nil
		}
	}
	ctxA, stopA := context.WithCancel(ctx)
	defer stopA()
	regA, regB := newRegistry(t, srv), newRegistry(t, srv)
	neverStop := make(chan struct{})
	background(t, func() { _ = regA.Lead(ctxA, "releases", "a", 2*time.Second, run("a", neverStop)) })
	testutil.Eventually(t, 10*time.Second, "a leader", func() bool { return ran.Load() == 1 })
	background(t, func() { _ = regB.Lead(ctx, "releases", "b", 2*time.Second, run("b", neverStop)) })
	time.Sleep(300 * time.Millisecond) // b campaigns but must wait
	if ran.Load() != 1 {
		t.Fatalf("%d leaders ran while a leads; want 1", ran.Load())
	}
	stopA() // the leader goes away: b takes over
	testutil.Eventually(t, 10*time.Second, "b to take over", func() bool { return ran.Load() == 2 })
	if maxLeading.Load() != 1 {
		t.Errorf("%d leaders at once; want 1", maxLeading.Load())
	}
}
