package edge

import (
	"sync"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// liveTable is the routing table in use with what the edge derives from
// it once, when it is published, instead of on every request.
type liveTable struct {
	table     *routing.Table
	upstreams map[*routing.Origin]*upstream
	// debug holds the DebugHeader values of each distribution serving as
	// primary and as staging (read-only, len == cap).
	debug map[*routing.Dist]*[2][]string
}

// upstream is the per-origin state of the hot path.
type upstream struct {
	spec     *origin.Spec // read-only, shared by every fetch
	identity string       // cache.Identity.String() of the origin
}

func newUpstream(o *routing.Origin, t *routing.Table) *upstream {
	spec := originSpec(o)
	spec.OACSigning = t.OACSigning(o.OriginAccessControlID)
	return &upstream{spec: spec, identity: originIdentity(o).String()}
}

// newLiveTable derives the upstreams of t. Origins that prev knew (a
// Dist unchanged by the compile keeps its Origin pointers) keep theirs.
func newLiveTable(t *routing.Table, prev *liveTable) *liveTable {
	lt := &liveTable{table: t, upstreams: map[*routing.Origin]*upstream{}, debug: map[*routing.Dist]*[2][]string{}}
	add := func(o *routing.Origin) {
		if o == nil || lt.upstreams[o] != nil {
			return
		}
		// Reuse unless the origin access control's signing behavior changed.
		if u := prev.lookup(o); u != nil && u.spec.OACSigning == t.OACSigning(o.OriginAccessControlID) {
			lt.upstreams[o] = u
			return
		}
		lt.upstreams[o] = newUpstream(o, t)
	}
	for _, d := range t.Dists() {
		lt.debug[d] = &[2][]string{{d.ID + " primary"}, {d.ID + " staging"}}
		for _, o := range d.Origins {
			add(o)
		}
		add(d.Default.Origin)
		for i := range d.Behaviors {
			add(d.Behaviors[i].Origin)
		}
		for _, g := range d.OriginGroups {
			for _, m := range g.Members {
				add(m)
			}
		}
	}
	return lt
}

func (lt *liveTable) lookup(o *routing.Origin) *upstream {
	if lt == nil {
		return nil
	}
	return lt.upstreams[o]
}

// upstream returns o's upstream; an origin the table does not list (never
// expected) gets one built for this request.
func (lt *liveTable) upstream(o *routing.Origin) *upstream {
	if u := lt.upstreams[o]; u != nil {
		return u
	}
	return newUpstream(o, lt.table)
}

// debugHeader returns the DebugHeader value for d serving as variant.
func (lt *liveTable) debugHeader(d *routing.Dist, variant routing.Variant, name string) []string {
	if v := lt.debug[d]; v != nil {
		if variant == routing.VariantStaging {
			return v[1]
		}
		return v[0]
	}
	return []string{d.ID + " " + name}
}

// exchange is the per-request scratch state, pooled by the Server.
type exchange struct {
	rec  statusRecorder
	key  cache.KeyBuilder
	net  netViewer  // the net/http engine's request view
	fast fastViewer // the fasthttp engine's request view
	fw   fastWriter // the fasthttp engine's response writer
}

// exchanges pools exchange values.
type exchanges struct{ pool sync.Pool }

func (x *exchanges) get() *exchange {
	if e, ok := x.pool.Get().(*exchange); ok {
		return e
	}
	return &exchange{}
}

func (x *exchanges) put(e *exchange) {
	// Drop the references to this request.
	e.rec = statusRecorder{}
	e.key.Reset("", "")
	e.net = netViewer{}
	e.fast.reset()
	e.fw.reset()
	x.pool.Put(e)
}

// copyBufSize is the buffer of a streamed (uncached) body: large enough
// that big objects move in few reads, pooled so that small ones do not
// allocate it per request.
const copyBufSize = 32 << 10

type copyBuffers struct{ pool sync.Pool }

func (c *copyBuffers) get() *[]byte {
	if b, ok := c.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufSize)
	return &b
}

func (c *copyBuffers) put(b *[]byte) { c.pool.Put(b) }
