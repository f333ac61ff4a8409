package edge_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
)

// directTables is the config of a harness that runs the edge alone: every
// change compiles a table with routing.Compile and publishes it, as the
// config follower would, with no store or API in between.
type directTables struct {
	rev      int64
	table    *routing.Table
	dists    map[string]*directDist
	policies map[string]*directPolicy
}

type directPolicy struct {
	rec *model.Policy
	rev int64
}

type directDist struct {
	id, domain string
	sdk        *types.DistributionConfig
	rev        int64
}

// stickyKey authenticates sticky-session cookies in direct tables.
const stickyKey = "0123456789abcdef0123456789abcdef"

func (d *directTables) create(h *harness, cfg *types.DistributionConfig) dist {
	h.t.Helper()
	id := fmt.Sprintf("EDIRECT%07d", len(d.dists)+1)
	dd := &directDist{id: id, domain: strings.ToLower(id) + ".cdn.test", sdk: cfg}
	d.dists[id] = dd
	d.publish(h, dd)
	return dist{id: id, domain: dd.domain}
}

func (d *directTables) update(h *harness, id string, mutate func(*types.DistributionConfig)) *cfsdk.UpdateDistributionOutput {
	h.t.Helper()
	dd := d.dists[id]
	if dd == nil {
		h.t.Fatalf("update of unknown distribution %s", id)
	}
	mutate(dd.sdk)
	d.publish(h, dd)
	return &cfsdk.UpdateDistributionOutput{Distribution: &types.Distribution{Id: aws.String(id), Status: aws.String("Deployed")}}
}

// invalidate purges paths of the distribution, as the follower does when
// it sees a new invalidation: the table stays, the purge is done on return.
func (d *directTables) invalidate(h *harness, distID, ref string, paths ...string) {
	h.t.Helper()
	if d.dists[distID] == nil {
		h.t.Fatalf("invalidation of unknown distribution %s", distID)
	}
	h.edge.Publish(d.table, []*model.Invalidation{{
		ID: "I" + strings.ToUpper(ref), DistributionID: distID,
		Batch: &cf.InvalidationBatch{CallerReference: aws.String(ref),
			Paths: &cf.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}},
	}})
}

// copyStaging adds a staging copy of the primary, as CopyDistribution does.
func (d *directTables) copyStaging(h *harness, primaryID, ref string) dist {
	h.t.Helper()
	p := d.dists[primaryID]
	if p == nil {
		h.t.Fatalf("copy of unknown distribution %s", primaryID)
	}
	var cfg types.DistributionConfig
	b, err := json.Marshal(p.sdk)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		h.t.Fatalf("copy %s: %v", primaryID, err)
	}
	cfg.CallerReference, cfg.Staging, cfg.ContinuousDeploymentPolicyId = aws.String(ref), aws.Bool(true), nil
	return d.create(h, &cfg)
}

// putPolicy creates (id "") or replaces a continuous-deployment policy. The
// session generation moves as the control plane moves it: when the policy
// is enabled or disabled, or stickiness is switched on or off.
func (d *directTables) putPolicy(h *harness, id string, cfg *types.ContinuousDeploymentPolicyConfig) string {
	h.t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	var wire cf.ContinuousDeploymentPolicyConfig
	if err := json.Unmarshal(b, &wire); err != nil {
		h.t.Fatalf("SDK policy to wire shape: %v", err)
	}
	if d.policies == nil {
		d.policies = map[string]*directPolicy{}
	}
	p := d.policies[id]
	if p == nil {
		id = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(d.policies)+1)
		p = &directPolicy{rec: &model.Policy{ID: id}}
		d.policies[id] = p
	} else if cf.IsTrue(p.rec.Config.Enabled) != cf.IsTrue(wire.Enabled) || sticky(p.rec.Config) != sticky(&wire) {
		p.rec = &model.Policy{ID: id, Generation: p.rec.Generation + 1}
	} else {
		p.rec = &model.Policy{ID: id, Generation: p.rec.Generation}
	}
	p.rec.Config = &wire
	d.rev++
	p.rev = d.rev
	d.compile(h)
	return id
}

func sticky(c *cf.ContinuousDeploymentPolicyConfig) bool {
	tc := c.TrafficConfig
	return tc != nil && tc.SingleWeightConfig != nil && tc.SingleWeightConfig.SessionStickinessConfig != nil
}

// publish records changed's new revision, compiles every distribution and
// publishes the table; a config that does not compile fails the test.
func (d *directTables) publish(h *harness, changed *directDist) {
	h.t.Helper()
	d.rev++
	changed.rev = d.rev
	d.compile(h)
}

func (d *directTables) compile(h *harness) {
	h.t.Helper()
	snap := routing.Snapshot{Revision: d.rev, StickyKey: []byte(stickyKey)}
	for _, p := range d.policies {
		snap.Policies = append(snap.Policies, routing.PolicyRecord{Policy: p.rec, ModRevision: p.rev})
	}
	for _, dd := range d.dists {
		snap.Distributions = append(snap.Distributions, routing.DistributionRecord{
			Distribution: &model.Distribution{ID: dd.id, DomainName: dd.domain, Config: toWire(h, dd.sdk)},
			ModRevision:  dd.rev,
		})
	}
	table, errs := routing.Compile(d.table, snap)
	if len(errs) > 0 {
		h.t.Fatalf("compile: %v", errs)
	}
	d.table = table
	h.edge.Publish(table, nil)
}

// toWire converts an SDK config to the API's shape (the field names are
// botocore's on both sides) with the API's defaults applied.
func toWire(h *harness, c *types.DistributionConfig) *cf.DistributionConfig {
	h.t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		h.t.Fatal(err)
	}
	var out cf.DistributionConfig
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatalf("SDK config to wire shape: %v", err)
	}
	cf.ApplyDistributionDefaults(&out)
	return &out
}
