package edge_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// phase is what the edge may answer while one configuration is in force:
// the versions a request without the CD header, and one with it, can get.
type phase struct {
	name              string
	noHeader, withHdr []string
}

// TestZeroDowntime runs a bounded load against the edge while the control
// plane switches the policy from header to weight, changes weights,
// promotes, and starts a second cycle. Every response must be a 2xx with
// a version that the configuration of that instant could have chosen.
//
// States: 2k is "phase k in force", 2k+1 "switching from phase k to k+1"
// (from just before the API call until the edge serves its revision). A
// request that saw states s0..s1 between sending and reading its body may
// get any version allowed by any of them.
func TestZeroDowntime(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pair := h.newCDPair("zdt", cachingOptimized)
	h.updateDistribution(pair.primary.id, func(c *types.DistributionConfig) {
		c.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
			PathPattern: aws.String("/nocache/*"), TargetOriginId: aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled),
		}}}
	})
	h.updateDistribution(pair.staging.id, func(c *types.DistributionConfig) {
		c.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
			PathPattern: aws.String("/nocache/*"), TargetOriginId: aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingDisabled),
		}}}
	})
	stagingDomain := pair.staging.domain
	policyID := h.createPolicy(headerPolicy(stagingDomain, "staging"))
	h.attach(pair.primary.id, policyID)
	h.waitServed()

	v := func(s ...string) []string { return s }
	phases := []phase{
		{"header policy", v("v1"), v("v2")},
		{"weight 0.15", v("v1", "v2"), v("v1", "v2")},
		{"weight 0.05", v("v1", "v2"), v("v1", "v2")},
		{"weight 0", v("v1"), v("v1")},
		{"weight 0.10 sticky", v("v1", "v2"), v("v1", "v2")},
		{"promoted", v("v2"), v("v2")},
		{"staging at v3, policy off", v("v2"), v("v2")},
		{"weight 0.15 re-enabled", v("v2", "v3"), v("v2", "v3")},
		{"header policy again", v("v2"), v("v3")},
		{"promoted again", v("v3"), v("v3")},
	}
	changes := []func(){
		func() { h.updatePolicy(policyID, weightPolicy(stagingDomain, 0.15, 0, 0)) },
		func() { h.updatePolicy(policyID, weightPolicy(stagingDomain, 0.05, 0, 0)) },
		func() { h.updatePolicy(policyID, weightPolicy(stagingDomain, 0, 0, 0)) },
		func() { h.updatePolicy(policyID, weightPolicy(stagingDomain, 0.10, 300, 600)) },
		func() { h.promote(pair.primary.id, pair.staging.id) },
		func() { h.setOriginPath(pair.staging.id, "/v3") },
		func() { h.updatePolicy(policyID, weightPolicy(stagingDomain, 0.15, 0, 0)) },
		func() { h.updatePolicy(policyID, headerPolicy(stagingDomain, "staging")) },
		func() { h.promote(pair.primary.id, pair.staging.id) },
	}
	allowed := func(s0, s1 int64, header bool) []string {
		var out []string
		for s := s0; s <= s1; s++ {
			k := int(s / 2)
			ks := []int{k}
			if s%2 == 1 {
				ks = append(ks, k+1)
			}
			for _, k := range ks {
				set := phases[k].noHeader
				if header {
					set = phases[k].withHdr
				}
				out = append(out, set...)
			}
		}
		return out
	}

	const (
		workers     = 8
		perPhase    = 400     // requests completed in each phase before the next change
		maxRequests = 100_000 // hard bounds on the loop
		maxDuration = 60 * time.Second
	)
	var (
		state, done, total atomic.Int64
		stop               atomic.Bool
		mu                 sync.Mutex
		failures           []string
		non2xx, connErrs   atomic.Int64
		wrongVersion       atomic.Int64
		perVersion         sync.Map
		wg                 sync.WaitGroup
		deadline           = time.Now().Add(maxDuration)
		recordFailure      = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(failures) < 10 {
				failures = append(failures, fmt.Sprintf(format, args...))
			}
		}
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && total.Add(1) <= maxRequests && time.Now().Before(deadline); i++ {
				header := (i+w)%3 == 0
				path := fmt.Sprintf("/p%d", i%7)
				if i%2 == 1 {
					path = "/nocache" + path
				}
				var hdr http.Header
				if header {
					hdr = http.Header{"Aws-Cf-Cd-Env": {"staging"}}
				}
				s0 := state.Load()
				r, err := h.do(http.MethodGet, pair.primary.domain, path, hdr)
				s1 := state.Load()
				done.Add(1)
				if err != nil {
					connErrs.Add(1)
					recordFailure("%s: %v", path, err)
					continue
				}
				if r.status < 200 || r.status > 299 {
					non2xx.Add(1)
					recordFailure("%s: status %d: %s", path, r.status, r.body)
					continue
				}
				version, rest, _ := strings.Cut(r.body, ":")
				ok := slices.Contains(allowed(s0, s1, header), version)
				if !ok || rest != path {
					wrongVersion.Add(1)
					recordFailure("%s (header %v) in states %d..%d: got %q, allowed %v", path, header, s0, s1, r.body, allowed(s0, s1, header))
					continue
				}
				n, _ := perVersion.LoadOrStore(version, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		}()
	}

	waitRequests := func() {
		target := done.Load() + perPhase
		for done.Load() < target && time.Now().Before(deadline) && !stop.Load() {
			time.Sleep(time.Millisecond)
		}
	}
	start := time.Now()
	for i, change := range changes {
		waitRequests()
		state.Add(1) // switching from phase i to i+1
		change()
		h.waitServed()
		state.Add(1) // phase i+1 in force
		t.Logf("%-26s in force after %v (%d requests so far)", phases[i+1].name, time.Since(start).Round(time.Millisecond), done.Load())
	}
	waitRequests()
	stop.Store(true)
	wg.Wait()

	if time.Now().After(deadline) {
		t.Errorf("the load loop hit its %v bound before every change was made", maxDuration)
	}
	counts := map[string]int64{}
	perVersion.Range(func(k, v any) bool { counts[k.(string)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("%d requests in %v by %d workers; per version %v", done.Load(), time.Since(start).Round(time.Millisecond), workers, counts)
	if non2xx.Load()+connErrs.Load()+wrongVersion.Load() > 0 {
		t.Errorf("non-2xx: %d, connection errors: %d, impossible versions: %d; first failures:\n%s",
			non2xx.Load(), connErrs.Load(), wrongVersion.Load(), strings.Join(failures, "\n"))
	}
	for _, want := range []string{"v1", "v2", "v3"} {
		if counts[want] == 0 {
			t.Errorf("no response was %s: the phases did not get traffic", want)
		}
	}
}
