package edge

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/edge/signed"
	"github.com/stagefront/stagefront/internal/routing"
)

// liveTable is the routing table in use with what the edge derives from
// it once, when it is published, instead of on every request.
type liveTable struct {
	table     *routing.Table
	upstreams map[*routing.Origin]*upstream
	// routes holds, for every cache behavior of every distribution, its
	// upstream and cache identity.
	routes map[*routing.Behavior]*route
	// debug holds the DebugHeader values of each distribution serving as
	// primary and as staging (read-only, len == cap).
	debug map[*routing.Dist]*[2][]string
}

// upstream is the per-origin state of the hot path.
type upstream struct {
	spec *origin.Spec // read-only, shared by every fetch
	// shield is the origin's OriginShield.Enabled (shield.go).
	shield bool
}

// route is the per-behavior state of the hot path.
type route struct {
	up       *upstream      // the behavior's origin (its group's first member)
	identity cache.Identity // cacheIdentity of the behavior, for its keys
	specs    []*origin.Spec // the specs the identity was computed from
	// verifier checks the signed URLs and cookies of a restricted
	// behavior; nil otherwise.
	verifier *signed.Verifier
}

// newRoute derives the route of b, a behavior of d.
func newRoute(lt *liveTable, d *routing.Dist, b *routing.Behavior, specs []*origin.Spec) *route {
	r := &route{up: lt.upstream(b.Origin), identity: cacheIdentity(d, b, specs), specs: specs}
	if b.Restricted {
		keys := make([]signed.Key, len(b.TrustedKeys))
		for i, k := range b.TrustedKeys {
			keys[i] = signed.Key{ID: k.ID, Public: k.Public, ECDSA: k.ECDSA}
		}
		r.verifier = signed.NewVerifier(keys)
	}
	return r
}

func newUpstream(o *routing.Origin, t *routing.Table) *upstream {
	spec := originSpec(o)
	spec.OACSigning = t.OACSigning(o.OriginAccessControlID)
	return &upstream{spec: spec, shield: o.Shield}
}

// newLiveTable derives the upstreams and routes of t. Origins that prev
// knew (a Dist unchanged by the compile keeps its Origin pointers) keep
// theirs, and behaviors whose origins kept theirs keep their identity.
func newLiveTable(t *routing.Table, prev *liveTable) *liveTable {
	lt := &liveTable{
		table: t, upstreams: map[*routing.Origin]*upstream{},
		routes: map[*routing.Behavior]*route{}, debug: map[*routing.Dist]*[2][]string{},
	}
	add := func(o *routing.Origin) {
		if o == nil || lt.upstreams[o] != nil {
			return
		}
		// Reuse unless the origin access control's signing behavior changed.
		if u := prev.lookup(o); u != nil && u.spec.OACSigning == t.OACSigning(o.OriginAccessControlID) && u.shield == o.Shield {
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
	for _, d := range t.Dists() {
		lt.addRoute(d, &d.Default, prev)
		for i := range d.Behaviors {
			lt.addRoute(d, &d.Behaviors[i], prev)
		}
	}
	return lt
}

// addRoute derives b's route, reusing prev's when b (and so its
// distribution) is the same and its origins' specs are too.
func (lt *liveTable) addRoute(d *routing.Dist, b *routing.Behavior, prev *liveTable) {
	if b.Origin == nil {
		return
	}
	specs := behaviorSpecs(lt, b)
	if prev != nil {
		if r := prev.routes[b]; r != nil && slices.Equal(r.specs, specs) {
			lt.routes[b] = r
			return
		}
	}
	lt.routes[b] = newRoute(lt, d, b, specs)
}

// route returns the route of b, a behavior of d; one the table does not
// list (never expected) gets one built for this request.
func (lt *liveTable) route(d *routing.Dist, b *routing.Behavior) *route {
	if r := lt.routes[b]; r != nil {
		return r
	}
	return newRoute(lt, d, b, behaviorSpecs(lt, b))
}

// identities returns the cache identities of every behavior of the
// distribution id in lt, for an invalidation.
func (lt *liveTable) identities(id string) []string {
	if lt == nil {
		return nil
	}
	d := lt.table.Dist(id)
	if d == nil {
		return nil
	}
	var out []string
	add := func(b *routing.Behavior) {
		if b.Origin != nil {
			out = append(out, lt.route(d, b).identity.String())
		}
	}
	add(&d.Default)
	for i := range d.Behaviors {
		add(&d.Behaviors[i])
	}
	return out
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
	// signed is the view of a request verified for a restricted behavior.
	signed signedViewer
	// dist is the distribution that served the request, reqID its id, and
	// logRec its access log record (accesslog.go).
	dist   *routing.Dist
	reqID  string
	logRec accesslog.Record
	// idBuf holds reqID's bytes on an engine that takes them as bytes.
	idBuf [accesslog.RequestIDLen]byte
	// shard is the access log shard of the requests this exchange
	// serves (accesslog.Record.Shard). sync.Pool keeps a pool per
	// processor (P), so one thread mostly gets the same exchanges back,
	// and its lines go to the same batch.
	shard uint32
	// noBlock is set by the event-loop engine (loop_linux.go), whose
	// thread serves many connections and must never wait: the request
	// path sets deferred and returns, having sent and recorded nothing,
	// where it would wait for an origin or do work beyond a cached
	// answer, and the engine serves the request again from its start on
	// a goroutine (or hands the connection to the fasthttp engine).
	noBlock, deferred bool
	// pending: the event-loop engine fetches this uncached request
	// itself (loopProxy), with lp.
	pending bool
	lp      loopProxyState
}

// loopMaxBody is the largest cached body the event-loop engine writes
// from a loop; a larger one goes out from the fasthttp engine, which waits
// for a slow viewer's socket without the loop holding a copy of the body.
const loopMaxBody = 64 << 10

// offLoop reports whether the request must leave the event loop (see
// noBlock), marking it deferred if so.
func (x *exchange) offLoop() bool {
	x.deferred = x.noBlock
	return x.noBlock
}

// exchanges pools exchange values.
type exchanges struct {
	pool sync.Pool
	// made counts the exchanges made, which numbers their shards.
	made atomic.Uint32
}

func (x *exchanges) get() *exchange {
	if e, ok := x.pool.Get().(*exchange); ok {
		return e
	}
	return &exchange{shard: x.made.Add(1)}
}

func (x *exchanges) put(e *exchange) {
	// Drop the references to this request.
	e.rec = statusRecorder{}
	e.key.Reset("", "")
	e.net = netViewer{}
	e.fast.reset()
	e.fw.reset()
	e.signed = signedViewer{}
	e.dist, e.reqID, e.logRec = nil, "", accesslog.Record{}
	e.noBlock, e.deferred, e.pending = false, false, false
	e.lp = loopProxyState{req: e.lp.req[:0]}
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
