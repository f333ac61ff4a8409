package edge_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/store"
)

// cachePolicyByQuery is a custom cache policy whose key holds the query
// strings names (none when names is empty).
func cachePolicyByQuery(name string, names ...string) *types.CachePolicyConfig {
	qs := &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorNone}
	if len(names) > 0 {
		qs = &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorWhitelist,
			QueryStrings: &types.QueryStringNames{Quantity: aws.Int32(int32(len(names))), Items: names}}
	}
	return &types.CachePolicyConfig{
		Name: aws.String(name), MinTTL: aws.Int64(0), DefaultTTL: aws.Int64(3600), MaxTTL: aws.Int64(86400),
		ParametersInCacheKeyAndForwardedToOrigin: &types.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: aws.Bool(false),
			HeadersConfig:            &types.CachePolicyHeadersConfig{HeaderBehavior: types.CachePolicyHeaderBehaviorNone},
			CookiesConfig:            &types.CachePolicyCookiesConfig{CookieBehavior: types.CachePolicyCookieBehaviorNone},
			QueryStringsConfig:       qs,
		},
	}
}

// TestCustomCachePolicyReachesEdge: a distribution compiles with the
// custom cache policy it names, and an update to the policy alone reaches
// the edge: the cache key changes at once (no hit from the old key), and
// the distribution is InProgress until the edge serves the change, then
// Deployed.
func TestCustomCachePolicyReachesEdge(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	log := loggingOrigin(h, "custom.origin.test", "")
	pol := must[*cfsdk.CreateCachePolicyOutput](t)(h.cf.CreateCachePolicy(h.ctx, &cfsdk.CreateCachePolicyInput{
		CachePolicyConfig: cachePolicyByQuery("by-nothing")}))
	polID := aws.ToString(pol.CachePolicy.Id)
	d := h.createDistribution(customOriginConfig("custom-cp", "custom.origin.test", "", polID))
	h.waitServed()

	// No query string in the key: ?v=1 and ?v=2 share one object, and the
	// origin gets no query.
	for _, q := range []string{"?v=1", "?v=2"} {
		if r := h.get(d.domain, "/a"+q, nil); r.status != http.StatusOK {
			t.Fatalf("GET /a%s: %d %s", q, r.status, r.body)
		}
	}
	if n := log.count(); n != 1 {
		t.Fatalf("origin got %d requests for two URLs differing only by an unkeyed query; want 1", n)
	}
	if q := log.last(t).query; q != "" {
		t.Errorf("origin got query %q; the policy keys none", q)
	}

	upd := must[*cfsdk.UpdateCachePolicyOutput](t)(h.cf.UpdateCachePolicy(h.ctx, &cfsdk.UpdateCachePolicyInput{
		Id: aws.String(polID), IfMatch: pol.ETag, CachePolicyConfig: cachePolicyByQuery("by-nothing", "v")}))
	if aws.ToString(upd.ETag) == aws.ToString(pol.ETag) {
		t.Errorf("UpdateCachePolicy kept the ETag %s", aws.ToString(pol.ETag))
	}
	h.waitServed()
	got := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "Deployed" {
		t.Errorf("after the edge serves the policy update the distribution is %s; want Deployed", s)
	}

	// The key now holds v: ?v=1 is a miss (no stale hit from the old key)
	// and reaches the origin with its query; ?v=2 is another object.
	before := log.count()
	if r := h.get(d.domain, "/a?v=1", nil); r.status != http.StatusOK {
		t.Fatalf("GET after update: %d", r.status)
	}
	if log.count() != before+1 || log.last(t).query != "v=1" {
		t.Fatalf("after the policy update GET /a?v=1 made %d origin requests (query %q); want 1 with v=1", log.count()-before, log.last(t).query)
	}
	h.get(d.domain, "/a?v=2", nil)
	h.get(d.domain, "/a?v=1", nil)
	if n := log.count(); n != before+2 {
		t.Errorf("origin requests after update = %d; want 2 (v=1 then v=2, then a hit)", n-before)
	}
}

// TestCustomPolicyStatusWaitsForEdge: while the edge has not served a
// policy update, every distribution naming the policy is InProgress.
func TestCustomPolicyStatusWaitsForEdge(t *testing.T) {
	gate := &gatedStore{}
	h := newHarness(t, harnessOptions{edgeStore: gate.wrap})
	loggingOrigin(h, "gate.origin.test", "")
	pol := must[*cfsdk.CreateCachePolicyOutput](t)(h.cf.CreateCachePolicy(h.ctx, &cfsdk.CreateCachePolicyInput{
		CachePolicyConfig: cachePolicyByQuery("gated")}))
	polID := aws.ToString(pol.CachePolicy.Id)
	d := h.createDistribution(customOriginConfig("gated-cp", "gate.origin.test", "", polID))
	h.waitServed()

	gate.hold()
	must[*cfsdk.UpdateCachePolicyOutput](t)(h.cf.UpdateCachePolicy(h.ctx, &cfsdk.UpdateCachePolicyInput{
		Id: aws.String(polID), IfMatch: pol.ETag, CachePolicyConfig: cachePolicyByQuery("gated", "v")}))
	got := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "InProgress" {
		t.Errorf("with the policy update not yet served the distribution is %s; want InProgress", s)
	}
	gate.release()
	h.waitServed()
	got = must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(d.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "Deployed" {
		t.Errorf("after the edge serves the update the distribution is %s; want Deployed", s)
	}
}

// gatedStore lets a test hold back the watch events the edge gets, so a
// change the API made is not yet served.
type gatedStore struct {
	store.Store
	mu   sync.Mutex
	gate chan struct{} // non-nil while held
}

func (g *gatedStore) wrap(s store.Store) store.Store { g.Store = s; return g }

func (g *gatedStore) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedStore) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

func (g *gatedStore) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.WatchResponse {
	in := g.Store.Watch(ctx, prefix, fromRev)
	out := make(chan store.WatchResponse)
	go func() {
		defer close(out)
		for resp := range in {
			g.mu.Lock()
			gate := g.gate
			g.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- resp:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
