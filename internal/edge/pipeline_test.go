package edge_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	dto "github.com/prometheus/client_model/go"

	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// body fetches path from domain and returns the body of a 200.
func (h *harness) body(domain, path string) string {
	h.t.Helper()
	r := h.get(domain, path, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("GET %s%s: status %d: %s", domain, path, r.status, r.body)
	}
	return r.body
}

// putRaw writes a value under key directly, bypassing the control plane's
// validation (which would refuse a broken config).
func (h *harness) putRaw(key string, value []byte) int64 {
	h.t.Helper()
	kv, err := h.store.Get(h.ctx, key)
	if err != nil {
		h.t.Fatalf("get %s: %v", key, err)
	}
	rev, err := h.store.Txn(h.ctx, []store.Cond{{Key: key, ModRevision: kv.ModRevision}}, []store.Op{{Key: key, Value: value}})
	if err != nil {
		h.t.Fatalf("put %s: %v", key, err)
	}
	return rev
}

// brokenDistribution returns dist's stored record with a config that does
// not compile (its default behavior targets no origin).
func (h *harness) brokenDistribution(id string) []byte {
	h.t.Helper()
	kv, err := h.store.Get(h.ctx, model.DistributionKey(id))
	if err != nil {
		h.t.Fatal(err)
	}
	rec, err := model.Decode[model.Distribution](kv.Value)
	if err != nil {
		h.t.Fatal(err)
	}
	rec.Config.DefaultCacheBehavior.TargetOriginId = aws.String("no-such-origin")
	b, err := model.Encode(rec)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func counterValue(t testing.TB, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchLabels(m, labels) {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func matchLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// TestBrokenConfigKeepsLastGoodEntry: a distribution whose stored config
// does not compile (or does not even decode) keeps serving its last good
// config while another distribution still changes.
func TestBrokenConfigKeepsLastGoodEntry(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	o := h.newTestOrigin("iso.origin.test", versionOrigin(""))
	a := h.createDistribution(customOriginConfig("iso-a", o.host, "/a1", cachingDisabled))
	b := h.createDistribution(customOriginConfig("iso-b", o.host, "/b1", cachingDisabled))
	h.waitServed()

	for _, tc := range []struct {
		name   string
		record []byte
	}{
		{"does not compile", h.brokenDistribution(a.id)},
		{"does not decode", []byte(`{"id": "` + a.id + `", "config": 42`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.putRaw(model.DistributionKey(a.id), tc.record)
			errorsBefore := counterValue(t, h, "stagefront_edge_compile_errors_total", map[string]string{"distribution": a.id})
			next := "/b-" + strings.ReplaceAll(tc.name, " ", "-")
			h.setOriginPath(b.id, next)
			h.waitServed()
			if got, want := h.body(b.domain, "/x"), strings.TrimPrefix(next, "/")+":/x"; got != want {
				t.Errorf("the other distribution did not change: got %q, want %q", got, want)
			}
			if got := h.body(a.domain, "/x"); got != "a1:/x" {
				t.Errorf("broken distribution: got %q, want its last good config's a1:/x", got)
			}
			d := h.edge.Table().Dist(a.id)
			if d == nil || d.Err == nil {
				t.Errorf("table entry of %s: %+v, want the last good entry with Err set", a.id, d)
			}
			if got := counterValue(t, h, "stagefront_edge_compile_errors_total", map[string]string{"distribution": a.id}); got <= errorsBefore {
				t.Errorf("compile errors counter for %s = %v, want more than %v", a.id, got, errorsBefore)
			}
			if reason, ok := failingReason(t, h, a.id); !ok || reason == "" {
				t.Errorf("stagefront_edge_config_failing has no series for %s with a reason", a.id)
			}
			if logs := h.followLog.String(); !strings.Contains(logs, `"distribution":"`+a.id+`"`) || !strings.Contains(logs, "did not compile") {
				t.Errorf("follower logs do not name %s as failing to compile:\n%s", a.id, logs)
			}
			if tc.name != "does not compile" {
				return // the API cannot read an undecodable record back
			}
			if reason, _ := failingReason(t, h, a.id); !strings.Contains(reason, "no-such-origin") {
				t.Errorf("failing reason %q does not name the missing origin", reason)
			}
			// The edge serves the broken record's revision but not its
			// config: the distribution is InProgress, the other Deployed.
			if s := h.status(a.id); s != "InProgress" {
				t.Errorf("status of the distribution that does not compile = %s, want InProgress", s)
			}
			if s := h.status(b.id); s != "Deployed" {
				t.Errorf("status of the other distribution = %s, want Deployed", s)
			}
			list := must[*cfsdk.ListDistributionsOutput](t)(h.cf.ListDistributions(h.ctx, &cfsdk.ListDistributionsInput{}))
			for _, item := range list.DistributionList.Items {
				want := "Deployed"
				if aws.ToString(item.Id) == a.id {
					want = "InProgress"
				}
				if got := aws.ToString(item.Status); got != want {
					t.Errorf("ListDistributions: %s is %s, want %s", aws.ToString(item.Id), got, want)
				}
			}
		})
	}

	// A good config (written directly, as the API cannot read the garbage
	// back) replaces the entry and clears the error.
	good := h.brokenDistribution(b.id) // any decodable record shape …
	rec, _ := model.Decode[model.Distribution](good)
	rec.ID, rec.DomainName = a.id, a.domain
	rec.Config.DefaultCacheBehavior.TargetOriginId = aws.String("web")
	rec.Config.Origins.Items[0].OriginPath = aws.String("/a2")
	rec.Config.CallerReference = aws.String("iso-a")
	fixed, err := model.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	h.putRaw(model.DistributionKey(a.id), fixed)
	h.waitServed()
	if got := h.body(a.domain, "/x"); got != "a2:/x" {
		t.Errorf("after the fix: got %q, want a2:/x", got)
	}
	if d := h.edge.Table().Dist(a.id); d == nil || d.Err != nil {
		t.Errorf("after the fix the entry still reports %v", d.Err)
	}
	if s := h.status(a.id); s != "Deployed" {
		t.Errorf("status after the fix = %s, want Deployed", s)
	}
	if reason, ok := failingReason(t, h, a.id); ok {
		t.Errorf("after the fix stagefront_edge_config_failing still reports %s: %s", a.id, reason)
	}
}

// status returns the distribution's Status as the API reports it.
func (h *harness) status(id string) string {
	h.t.Helper()
	out := must[*cfsdk.GetDistributionOutput](h.t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(id)}))
	return aws.ToString(out.Distribution.Status)
}

// failingReason returns the reason label of the distribution's series in
// stagefront_edge_config_failing, and whether it has one.
func failingReason(t *testing.T, h *harness, id string) (string, bool) {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "stagefront_edge_config_failing" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !matchLabels(m, map[string]string{"distribution": id}) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" {
					return lp.GetValue(), true
				}
			}
		}
	}
	return "", false
}

// flakyStore lets a test cut the edge off the store: List fails while
// listDown is set and breakWatches ends every watch with an error.
type flakyStore struct {
	store.Store
	listDown atomic.Bool
	lists    atomic.Int64

	mu     sync.Mutex
	breaks []chan struct{}
}

func (f *flakyStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	f.lists.Add(1)
	if f.listDown.Load() {
		return nil, 0, store.ErrUnavailable
	}
	return f.Store.List(ctx, prefix)
}

func (f *flakyStore) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.WatchResponse {
	innerCtx, cancel := context.WithCancel(ctx)
	inner := f.Store.Watch(innerCtx, prefix, fromRev)
	brk := make(chan struct{})
	f.mu.Lock()
	f.breaks = append(f.breaks, brk)
	f.mu.Unlock()
	out := make(chan store.WatchResponse)
	go func() {
		defer close(out)
		defer func() {
			cancel()
			for range inner { // the inner watch's goroutine ends with its ctx
			}
		}()
		for {
			select {
			case r, ok := <-inner:
				if !ok {
					return
				}
				select {
				case out <- r:
				case <-ctx.Done():
					return
				}
			case <-brk:
				select {
				case out <- store.WatchResponse{Err: store.ErrUnavailable}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	return out
}

func (f *flakyStore) breakWatches() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.breaks {
		close(b)
	}
	f.breaks = nil
}

// TestStoreOutageKeepsServing: while the edge cannot reach the store it
// serves its last table and reports nothing newer as Deployed; a record
// that became undecodable meanwhile keeps its last good entry after the
// resync, and everything else catches up.
func TestStoreOutageKeepsServing(t *testing.T) {
	var flaky *flakyStore
	h := newHarness(t, harnessOptions{edgeStore: func(s store.Store) store.Store {
		flaky = &flakyStore{Store: s}
		return flaky
	}})
	o := h.newTestOrigin("outage.origin.test", versionOrigin(""))
	a := h.createDistribution(customOriginConfig("outage-a", o.host, "/a1", cachingDisabled))
	b := h.createDistribution(customOriginConfig("outage-b", o.host, "/b1", cachingDisabled))
	var content atomic.Value
	content.Store("old")
	co := h.newTestOrigin("outage-cached.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte(content.Load().(string) + ":" + r.URL.Path))
	})
	c := h.createDistribution(customOriginConfig("outage-c", co.host, "", cachingOptimized))
	h.waitServed()
	// An invalidation applied before the outage must not purge again on
	// the resync: /kept, cached after it, stays a hit.
	h.invalidate(c.id, "before", "/*")
	h.expect(c.domain, "/kept", "old:/kept", "Miss from stagefront")
	h.expect(c.domain, "/purged", "old:/purged", "Miss from stagefront")

	flaky.listDown.Store(true)
	listsBefore := flaky.lists.Load()
	flaky.breakWatches()
	poll(t, 10*time.Second, "the edge to retry its List", func() bool { return flaky.lists.Load() > listsBefore })

	h.setOriginPath(a.id, "/a2")
	h.putRaw(model.DistributionKey(b.id), []byte("not json"))
	content.Store("new")
	invID := h.createInvalidation(c.id, "during", "/purged")
	for range 5 {
		if got := h.body(a.domain, "/x"); got != "a1:/x" {
			t.Fatalf("during the outage: got %q, want the last table's a1:/x", got)
		}
		if got := h.body(b.domain, "/x"); got != "b1:/x" {
			t.Fatalf("during the outage: got %q, want b1:/x", got)
		}
	}
	got := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(a.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "InProgress" {
		t.Errorf("status while the edge is cut off = %s, want InProgress", s)
	}

	if s := h.invalidationStatus(c.id, invID); s != "InProgress" {
		t.Errorf("invalidation while the edge is cut off: %s, want InProgress", s)
	}
	h.expect(c.domain, "/purged", "old:/purged", "Hit from stagefront")

	flaky.listDown.Store(false)
	h.waitServed()
	if s := h.invalidationStatus(c.id, invID); s != "Completed" {
		t.Errorf("invalidation after the resync: %s, want Completed", s)
	}
	h.expect(c.domain, "/purged", "new:/purged", "Miss from stagefront")
	h.expect(c.domain, "/kept", "old:/kept", "Hit from stagefront")
	if got := h.body(a.domain, "/x"); got != "a2:/x" {
		t.Errorf("after the resync: got %q, want a2:/x", got)
	}
	if got := h.body(b.domain, "/x"); got != "b1:/x" {
		t.Errorf("undecodable record after the resync: got %q, want its last good b1:/x", got)
	}
	got = must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(a.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "Deployed" {
		t.Errorf("status after the resync = %s, want Deployed", s)
	}
}

// TestDeployedMeansServed: the API reports Deployed only once the edge
// serves the revision, and from then on every request sees the change.
func TestDeployedMeansServed(t *testing.T) {
	h := newHarness(t, harnessOptions{deferRun: true})
	o := h.newTestOrigin("deployed.origin.test", versionOrigin(""))
	created := must[*cfsdk.CreateDistributionOutput](t)(h.cf.CreateDistribution(h.ctx, &cfsdk.CreateDistributionInput{
		DistributionConfig: customOriginConfig("deployed", o.host, "/v0", cachingDisabled)}))
	d := dist{id: aws.ToString(created.Distribution.Id), domain: aws.ToString(created.Distribution.DomainName)}
	if s := aws.ToString(created.Distribution.Status); s != "InProgress" {
		t.Errorf("create with no edge running: status %s, want InProgress", s)
	}
	if r := h.get(d.domain, "/x", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("edge before its first table: status %d, want 503", r.status)
	}

	h.runEdge()
	waiter := cfsdk.NewDistributionDeployedWaiter(h.cf, func(o *cfsdk.DistributionDeployedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	if err := waiter.Wait(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}, 10*time.Second); err != nil {
		t.Fatalf("distribution-deployed waiter: %v", err)
	}
	if got := h.body(d.domain, "/x"); got != "v0:/x" {
		t.Fatalf("after Deployed: got %q", got)
	}

	for i := 1; i <= 20; i++ {
		want := "v" + string(rune('0'+i%10)) + "-" + string(rune('a'+i))
		out := h.updateDistribution(d.id, func(c *types.DistributionConfig) { c.Origins.Items[0].OriginPath = aws.String("/" + want) })
		kv, err := h.store.Get(h.ctx, model.DistributionKey(d.id))
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Distribution.Status) == "Deployed" && h.follower.ServedRevision() < kv.ModRevision {
			t.Fatalf("update %d returned Deployed before the edge served revision %d", i, kv.ModRevision)
		}
		for {
			g := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}))
			if aws.ToString(g.Distribution.Status) != "Deployed" {
				continue // InProgress: the edge has not swapped yet
			}
			if served := h.follower.ServedRevision(); served < kv.ModRevision {
				t.Fatalf("update %d: Deployed while the edge serves %d < %d", i, served, kv.ModRevision)
			}
			break
		}
		if got := h.body(d.domain, "/x"); got != want+":/x" {
			t.Fatalf("update %d: Deployed, but the edge served %q, want %s:/x", i, got, want)
		}
	}
}

// TestInvalidationPurges: a cached object stays cached until an
// invalidation; once CreateInvalidation's batch is Completed the next
// request misses and gets the new content. Other paths stay cached.
func TestInvalidationPurges(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var content atomic.Value
	content.Store("old")
	o := h.newTestOrigin("inv.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte(content.Load().(string) + ":" + r.URL.Path))
	})
	d := h.createDistribution(customOriginConfig("inv", o.host, "/site", cachingOptimized))
	h.waitServed()

	expect := func(path, wantBody, wantCache string) {
		t.Helper()
		h.expect(d.domain, path, wantBody, wantCache)
	}
	expect("/obj", "old:/site/obj", "Miss from stagefront")
	expect("/obj", "old:/site/obj", "Hit from stagefront")
	expect("/keep/a", "old:/site/keep/a", "Miss from stagefront")
	content.Store("new")
	expect("/obj", "old:/site/obj", "Hit from stagefront")

	invalidate := func(ref string, paths ...string) {
		t.Helper()
		h.invalidate(d.id, ref, paths...)
	}
	invalidate("one", "/obj")
	expect("/obj", "new:/site/obj", "Miss from stagefront")
	expect("/keep/a", "old:/site/keep/a", "Hit from stagefront")

	invalidate("all", "/*")
	expect("/keep/a", "new:/site/keep/a", "Miss from stagefront")
	expect("/obj", "new:/site/obj", "Miss from stagefront")
	expect("/obj", "new:/site/obj", "Hit from stagefront")

	g := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}))
	if n := aws.ToInt32(g.Distribution.InProgressInvalidationBatches); n != 0 {
		t.Errorf("InProgressInvalidationBatches = %d, want 0", n)
	}
}

// expect asserts one GET's body and X-Cache.
func (h *harness) expect(domain, path, wantBody, wantCache string) {
	h.t.Helper()
	r := h.get(domain, path, nil)
	if r.status != http.StatusOK || r.body != wantBody || r.header.Get("X-Cache") != wantCache {
		h.t.Fatalf("GET %s%s: %d %q %q, want 200 %q %q", domain, path, r.status, r.body, r.header.Get("X-Cache"), wantBody, wantCache)
	}
}

func (h *harness) createInvalidation(distID, ref string, paths ...string) string {
	h.t.Helper()
	out := must[*cfsdk.CreateInvalidationOutput](h.t)(h.cf.CreateInvalidation(h.ctx, &cfsdk.CreateInvalidationInput{
		DistributionId: aws.String(distID),
		InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String(ref),
			Paths: &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}},
	}))
	return aws.ToString(out.Invalidation.Id)
}

func (h *harness) invalidationStatus(distID, id string) string {
	h.t.Helper()
	out := must[*cfsdk.GetInvalidationOutput](h.t)(h.cf.GetInvalidation(h.ctx, &cfsdk.GetInvalidationInput{
		DistributionId: aws.String(distID), Id: aws.String(id)}))
	return aws.ToString(out.Invalidation.Status)
}

// invalidate creates an invalidation and waits with the SDK's waiter until
// it is Completed.
func (h *harness) invalidate(distID, ref string, paths ...string) {
	h.t.Helper()
	if h.tables != nil {
		h.tables.invalidate(h, distID, ref, paths...)
		return
	}
	id := h.createInvalidation(distID, ref, paths...)
	waiter := cfsdk.NewInvalidationCompletedWaiter(h.cf, func(o *cfsdk.InvalidationCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	if err := waiter.Wait(h.ctx, &cfsdk.GetInvalidationInput{DistributionId: aws.String(distID), Id: aws.String(id)}, 10*time.Second); err != nil {
		h.t.Fatalf("invalidation-completed waiter: %v", err)
	}
}
