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
	rev   int64
	table *routing.Table
	dists map[string]*directDist
}

type directDist struct {
	id, domain string
	sdk        *types.DistributionConfig
	rev        int64
}

// stickyKey authenticates sticky-session cookies in direct tables.
var stickyKey = []byte("0123456789abcdef0123456789abcdef")

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

// publish records changed's new revision, compiles every distribution and
// publishes the table; a config that does not compile fails the test.
func (d *directTables) publish(h *harness, changed *directDist) {
	h.t.Helper()
	d.rev++
	changed.rev = d.rev
	snap := routing.Snapshot{Revision: d.rev, StickyKey: stickyKey}
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
