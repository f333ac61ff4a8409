package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/errgroup"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/accesslog"
	"github.com/stagefront/stagefront/internal/edge/accesslog/delivery"
	"github.com/stagefront/stagefront/internal/edge/follow"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/edge/shield"
	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/netlimit"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/store"
)

// DefaultAPIAddr is where the API listens unless told otherwise. The port
// is stagefront's own: 4566, LocalStack's edge port, would clash for
// anyone who runs both.
const DefaultAPIAddr = "127.0.0.1:7654"

// Config is what `stagefront serve|api|edge` is told by its flags.
type Config struct {
	DataDir      string
	APIAddr      string
	EdgeAddr     string
	AdminAddr    string
	DomainSuffix string
	AuthMode     string // sigv4 or none
	LogLevel     string
	S3Endpoint   string
	DebugHeader  bool
	CacheBytes   int64
	// CacheDir holds the edge cache's disk tier ("": memory only),
	// bounded by CacheDiskBytes.
	CacheDir       string
	CacheDiskBytes int64
	// AccessLogDir receives the access logs of distributions whose
	// Logging is enabled ("": none are written).
	AccessLogDir string
	// AccessLogS3Endpoint, when set, is where finished access log files
	// are delivered, to each distribution's Logging.Bucket.
	AccessLogS3Endpoint string
	// AccessLogBacklog bounds the bytes of requests the access log holds
	// while the CPUs are busy, formatting and compressing them later
	// (accesslog.Config.Backlog); 0 writes them at once.
	AccessLogBacklog int64
	Store            StoreConfig
	NodeName         string
	LeaseTTL         time.Duration
	TLSAddr          string
	TLSCert          string
	TLSKey           string
	EdgeEngine       string // loop, fasthttp or nethttp
	// ShieldAddr is where an edge of a fleet listens for the other edges'
	// Origin Shield requests ("": it shields nothing, but still sends its
	// misses to the others' shields). ShieldAdvertiseAddr is the address
	// the others dial ("": ShieldAddr).
	ShieldAddr, ShieldAdvertiseAddr string
	// Quotas are "name=value" settings of cloudfront.Quotas (--quota).
	Quotas []string
	Limits Limits // zero fields: DefaultLimits
	// CFNStrict turns off the CloudFormation key repair (docs/cloudformation.md).
	CFNStrict bool
	// CPUSched is the threads' CPU scheduling policy: CPUSchedBatch
	// (also for "") or CPUSchedNormal (see applyCPUSched).
	CPUSched string
}

// Roles says which parts a process runs: serve = both, api, edge.
type Roles struct{ API, Edge bool }

// NewLogger is the JSON logger on stderr every command logs with.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// IsLoopback reports whether addr (host:port) only listens on loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run runs the parts r names until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, f Config, r Roles) error {
	log := NewLogger(f.LogLevel)
	if err := applyCPUSched(f.CPUSched, log); err != nil {
		return err
	}
	if f.AccessLogBacklog < 0 {
		return fmt.Errorf("--access-log-backlog-bytes must be 0 or more, not %d", f.AccessLogBacklog)
	}
	if err := os.MkdirAll(f.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	var verifier *auth.Verifier
	if r.API {
		v, err := newVerifier(f, log)
		if err != nil {
			return err
		}
		verifier = v
	}

	st, fleetRegistry, err := OpenStore(ctx, f.Store, f.DataDir, log)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f.Limits = f.Limits.withDefaults()
	f.Limits.fitToFDLimit(fdLimit(), r, log)
	connMetrics, err := netlimit.NewMetrics(reg)
	if err != nil {
		return err
	}
	p := &process{cfg: f, log: log, store: st, fleet: fleetRegistry, reg: reg, conns: connMetrics, ready: func() bool { return true }}
	if r.Edge {
		closeEdge, err := p.addEdge(ctx)
		if err != nil {
			return err
		}
		defer closeEdge()
	}
	if r.API {
		if err := p.addAPI(ctx, verifier); err != nil {
			return err
		}
	}
	p.addAdmin()
	return runServers(ctx, log, p.servers, p.loops...)
}

// process collects the listeners and background loops of one process.
type process struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	fleet    *fleet.Registry // nil: single node (bbolt)
	reg      *prometheus.Registry
	conns    *netlimit.Metrics
	viewer   *edge.Server     // nil: no edge in this process
	follower *follow.Follower // the viewer's config follower
	ready    func() bool
	servers  []*namedServer
	loops    []func(context.Context) error
	leader   *leadership // nil without the API role
}

// nodeName is this process's name in the fleet for the listener at addr.
func (p *process) nodeName(addr string) string {
	if p.cfg.NodeName != "" {
		return p.cfg.NodeName
	}
	host, _ := os.Hostname()
	return host + ":" + addr
}

// addEdge adds the viewer listeners (plain HTTP, and HTTPS when a
// certificate is set), the config follower and, in a fleet, the
// membership and metrics loops. The returned func releases the edge.
func (p *process) addEdge(ctx context.Context) (func(), error) {
	f := p.cfg
	shieldOpts, err := p.shieldOptions(ctx)
	if err != nil {
		return nil, err
	}
	viewer, closeEdge, deliver, err := newEdge(ctx, f, p.reg, p.log, shieldOpts)
	if err != nil {
		return nil, err
	}
	if deliver != nil {
		p.loops = append(p.loops, deliver)
	}
	follower, err := follow.New(follow.Options{Store: p.store, Publisher: viewer, Logger: p.log, Registry: p.reg, HTTPS: f.TLSCert != ""})
	if err != nil {
		closeEdge()
		return nil, err
	}
	p.viewer, p.follower = viewer, follower
	p.ready = func() bool { return follower.ServedRevision() > 0 }
	lim := f.Limits
	// HTTP and HTTPS share one set of caps.
	edgeLimiter := netlimit.NewLimiter("edge", netlimit.Limits{MaxConns: lim.EdgeMaxConns, MaxConnsPerIP: lim.EdgeMaxConnsPerIP}, p.conns, p.log)
	switch f.EdgeEngine {
	case "nethttp":
		p.servers = append(p.servers, &namedServer{name: "edge", limiter: edgeLimiter, srv: &http.Server{Addr: f.EdgeAddr, Handler: viewer,
			ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.EdgeReadTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: edge.MaxHeaderBytes}})
	case "fasthttp":
		p.servers = append(p.servers, &namedServer{name: "edge", limiter: edgeLimiter, addr: f.EdgeAddr, fast: viewer.FastServer()})
	case "loop":
		p.servers = append(p.servers, &namedServer{name: "edge", limiter: edgeLimiter, addr: f.EdgeAddr, loop: viewer.LoopServer(0)})
	default:
		closeEdge()
		return nil, fmt.Errorf("--edge-engine must be loop, fasthttp or nethttp, not %q", f.EdgeEngine)
	}
	if f.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(f.TLSCert, f.TLSKey)
		if err != nil {
			closeEdge()
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		p.servers = append(p.servers, &namedServer{name: "edge-https", tls: true, limiter: edgeLimiter, srv: &http.Server{Addr: f.TLSAddr, Handler: viewer,
			ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.EdgeReadTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: edge.MaxHeaderBytes,
			TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}})
	}
	p.loops = append(p.loops, follower.Run)
	if p.fleet != nil {
		node := p.nodeName(f.EdgeAddr)
		self := fleet.Self{Node: node, Addr: f.EdgeAddr}
		if f.ShieldAddr != "" {
			self.ShieldAddr = cmp.Or(f.ShieldAdvertiseAddr, f.ShieldAddr)
			p.servers = append(p.servers, &namedServer{name: "shield", srv: &http.Server{Addr: f.ShieldAddr, Handler: viewer.ShieldHandler(),
				ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.EdgeReadTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: edge.MaxHeaderBytes}})
		}
		p.loops = append(p.loops, func(ctx context.Context) error {
			return p.fleet.AnnounceSelf(ctx, self, follower, f.LeaseTTL)
		}, func(ctx context.Context) error {
			return p.fleet.WatchMembers(ctx, func(members []fleet.Member) {
				peers := make([]shield.Peer, 0, len(members))
				for _, m := range members {
					peers = append(peers, shield.Peer{Node: m.Node, Addr: m.ShieldAddr})
				}
				shieldOpts.Ring.Set(peers)
			})
		}, func(ctx context.Context) error {
			// Per-variant request metrics for the release analysis, fleet-wide.
			return p.fleet.PublishMetrics(ctx, node, p.reg, time.Second)
		})
	}
	return closeEdge, nil
}

// addAPI adds the API listener: the CloudFront API and, under
// /stagefront/v1/, the release API, with the release controller loop.
// In a fleet the analysis reads every edge's published metrics, and the
// controller runs only on the elected leader.
func (p *process) addAPI(ctx context.Context, verifier *auth.Verifier) error {
	f := p.cfg
	var deployment control.Deployment = control.AlwaysDeployed{}
	switch {
	case p.fleet != nil:
		deployment = p.fleet // every live edge of the fleet
	case p.follower != nil:
		deployment = p.follower // the one in-process edge
	}
	quotas, err := cloudfront.ParseQuotas(f.Quotas)
	if err != nil {
		return fmt.Errorf("--quota: %w", err)
	}
	svc := control.New(p.store, control.Options{DomainSuffix: f.DomainSuffix, Deployment: deployment, Quotas: &quotas})
	if err := svc.Bootstrap(ctx); err != nil {
		return err
	}
	cloudFrontAPI := api.New(svc, api.Options{Verifier: verifier, Logger: p.log})
	// CloudFormation (docs/cloudformation.md): the Query API at the
	// endpoint root, signed for the "cloudformation" service; operations a
	// previous process left in progress are finished beside the servers.
	// Each API node beats under its own name and recovers only the
	// operations of nodes whose heartbeat stopped (or its own, from before
	// a restart).
	stacks := newStackManager(svc, f.CFNStrict, p.log, p.nodeName(f.APIAddr), f.LeaseTTL)
	cloudFrontAPI = mountCloudFormation(cloudFrontAPI, stacks, verifier, p.log)
	p.loops = append(p.loops, stacks.RunRecovery)

	var analysis prometheus.Gatherer = p.reg
	if p.fleet != nil {
		analysis = p.fleet.Gatherer()
	}
	creds, err := controllerCredentials(f.DataDir, f.AuthMode)
	if err != nil {
		return err
	}
	releases, err := NewReleaseRuntime(ReleaseWiring{Store: p.store, APIAddr: f.APIAddr, Credentials: creds, Metrics: analysis, Logger: p.log,
		Stacks: release.StackManager(stacks, stagingStackRegion)})
	if err != nil {
		return err
	}
	handler, err := mountConsole(APIHandler(cloudFrontAPI, releases.Handler(verifier)), f.DataDir, svc, releases.Controller(), analysis, p.log)
	if err != nil {
		return err
	}
	p.servers = append(p.servers, &namedServer{name: "api",
		limiter: netlimit.NewLimiter("api", netlimit.Limits{MaxConns: f.Limits.APIMaxConns, MaxConnsPerIP: f.Limits.APIMaxConnsPerIP}, p.conns, p.log),
		srv: &http.Server{Addr: f.APIAddr, Handler: handler,
			ReadHeaderTimeout: f.Limits.ReadHeaderTimeout, ReadTimeout: f.Limits.APIReadTimeout, IdleTimeout: f.Limits.IdleTimeout}})
	node := p.nodeName(f.APIAddr)
	p.leader = newLeadership(node, time.Now, p.reg)
	runReleases := p.leader.wrap(releases.Run)
	if p.fleet != nil {
		lead := runReleases
		runReleases = func(ctx context.Context) error {
			return p.fleet.Lead(ctx, "releases", node, f.LeaseTTL, lead)
		}
	}
	p.loops = append(p.loops, runReleases)
	return nil
}

// addAdmin adds the admin listener. It has a cap of its own, kept out of
// the descriptor budget of the others (fitToFDLimit): an operator reaches
// /healthz, /metrics and pprof while the edge or the API is flooded.
func (p *process) addAdmin() {
	lim := p.cfg.Limits
	p.servers = append(p.servers, &namedServer{name: "admin",
		limiter: netlimit.NewLimiter("admin", netlimit.Limits{MaxConns: lim.AdminMaxConns}, p.conns, p.log),
		srv: &http.Server{Addr: p.cfg.AdminAddr, Handler: p.adminHandler(),
			ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadHeaderTimeout, IdleTimeout: lim.IdleTimeout}})
}

// adminHandler serves health, metrics, the release leader and profiling.
func (p *process) adminHandler() http.Handler {
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if !p.ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("loading configuration\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	admin.Handle("GET /metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{}))
	// Profiling lives on the admin address, which listens on loopback by default.
	admin.HandleFunc("GET /debug/pprof/", pprof.Index)
	admin.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	admin.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if p.leader != nil {
		admin.Handle("GET /leader", p.leader)
	}
	return admin
}

func newVerifier(f Config, log *slog.Logger) (*auth.Verifier, error) {
	switch f.AuthMode {
	case "none":
		if !IsLoopback(f.APIAddr) {
			return nil, fmt.Errorf("--auth none is refused unless --api-addr is a loopback address (got %s)", f.APIAddr)
		}
		log.Warn("API authentication is off (--auth none); any request is accepted")
		return auth.None(), nil
	case "sigv4":
		creds, created, err := auth.LoadOrCreate(filepath.Join(f.DataDir, "credentials.json"), os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		if created {
			admin, _ := creds.Get("admin")
			fmt.Fprintf(os.Stderr, "stagefront: generated API credentials (stored 0600 in %s). Use them with:\n"+
				"export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=us-east-1\n",
				filepath.Join(f.DataDir, "credentials.json"), admin.AccessKeyID, admin.SecretAccessKey)
		}
		return auth.NewVerifier(creds, time.Now, 15*time.Minute), nil
	}
	return nil, fmt.Errorf("--auth must be sigv4 or none, not %q", f.AuthMode)
}

// shieldOptions sets up Origin Shield for an edge of a fleet: the ring of
// members the edge picks shields from (filled by the member watch) and the
// fleet's secret. A single node has no shield.
func (p *process) shieldOptions(ctx context.Context) (*edge.ShieldOptions, error) {
	f := p.cfg
	if p.fleet == nil {
		if f.ShieldAddr != "" {
			return nil, errors.New("--shield-addr needs a fleet (--store etcd://…): a single node is its own shield")
		}
		return nil, nil
	}
	secret, err := p.fleet.ShieldSecret(ctx)
	if err != nil {
		return nil, err
	}
	signer, err := shield.NewSigner(secret)
	if err != nil {
		return nil, err
	}
	return &edge.ShieldOptions{Ring: shield.NewRing(p.nodeName(f.EdgeAddr)), Signer: signer}, nil
}

// newEdge builds the viewer server. deliver, when not nil, is the loop
// that delivers access log files to their buckets.
func newEdge(ctx context.Context, f Config, reg prometheus.Registerer, log *slog.Logger, shieldOpts *edge.ShieldOptions) (viewer *edge.Server, release func(), deliver func(context.Context) error, err error) {
	var logBacklog int64
	if f.AccessLogDir != "" {
		logBacklog = f.AccessLogBacklog
	}
	TuneGC(f.CacheBytes, logBacklog, os.Getenv, log)
	fetchOpts := origin.Options{Logger: log}
	if f.S3Endpoint != "" {
		u, err := url.Parse(f.S3Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, nil, nil, fmt.Errorf("--s3-endpoint %q is not a URL", f.S3Endpoint)
		}
		fetchOpts.S3Endpoint = u
	}
	// Access log delivery looks buckets up in the table the viewer
	// serves, which exists only once the viewer does.
	var uploader *delivery.Uploader
	if f.AccessLogS3Endpoint != "" {
		if uploader, err = newUploader(ctx, f, reg, log, func() *edge.Server { return viewer }); err != nil {
			return nil, nil, nil, err
		}
		deliver = uploader.Run
	}
	fetcher, err := origin.New(ctx, fetchOpts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("origin fetcher: %w", err)
	}
	var alog *accesslog.Writer
	if f.AccessLogDir != "" {
		cfg := accesslog.Config{Dir: f.AccessLogDir, Logger: log, Registry: reg, Backlog: int(f.AccessLogBacklog)}
		if f.AccessLogBacklog == 0 { // write every batch at once
			cfg.Busy = func() bool { return false }
		}
		if uploader != nil {
			cfg.Finished = uploader.Notify
		}
		if alog, err = accesslog.New(cfg); err != nil {
			fetcher.Close()
			return nil, nil, nil, err
		}
	}
	eopts := edge.Options{
		Fetcher: fetcher, Logger: log, Registry: reg,
		CacheBytes: f.CacheBytes, CacheDir: f.CacheDir, CacheDiskBytes: f.CacheDiskBytes, DebugHeader: f.DebugHeader, HTTPS: f.TLSCert != "",
		Viewer: edge.ViewerLimits{ReadHeaderTimeout: f.Limits.ReadHeaderTimeout, ReadTimeout: f.Limits.EdgeReadTimeout,
			IdleTimeout: f.Limits.IdleTimeout, MaxConns: f.Limits.EdgeMaxConns, MaxConnsPerIP: f.Limits.EdgeMaxConnsPerIP},
	}
	if alog != nil {
		eopts.AccessLog = alog
	}
	eopts.Shield = shieldOpts
	viewer, err = edge.New(eopts)
	if err != nil {
		fetcher.Close()
		if alog != nil {
			_ = alog.Close()
		}
		return nil, nil, nil, err
	}
	return viewer, func() {
		viewer.Close()
		fetcher.Close()
		if alog != nil {
			if err := alog.Close(); err != nil {
				log.Error("access log", "err", err)
			}
		}
	}, deliver, nil
}

type namedServer struct {
	name string
	// limiter caps the listener's connections and retries its passing
	// accept errors (nil: the listener as it is).
	limiter *netlimit.Limiter
	srv     *http.Server
	tls     bool // serve TLS with srv.TLSConfig
	// addr and fast (or loop) are set instead of srv for the fasthttp
	// (or event-loop) edge engine.
	addr string
	fast *fasthttp.Server
	loop *edge.LoopServer
}

func (s *namedServer) listenAddr() string {
	if s.fast != nil || s.loop != nil {
		return s.addr
	}
	return s.srv.Addr
}

func (s *namedServer) serve(ln net.Listener) error {
	switch {
	case s.loop != nil:
		return s.loop.Serve(ln)
	case s.fast != nil:
		return s.fast.Serve(ln)
	case s.tls:
		return s.srv.ServeTLS(ln, "", "")
	}
	return s.srv.Serve(ln)
}

func (s *namedServer) shutdown(ctx context.Context) error {
	if s.loop != nil {
		return s.loop.Shutdown(ctx)
	}
	if s.fast != nil {
		return s.fast.ShutdownWithContext(ctx)
	}
	return s.srv.Shutdown(ctx)
}

// runServers listens on every address first (so a port clash fails fast),
// then serves until ctx is cancelled and shuts down gracefully.
func runServers(ctx context.Context, log *slog.Logger, servers []*namedServer, loops ...func(context.Context) error) error {
	listeners := make([]net.Listener, len(servers))
	for i, s := range servers {
		ln, err := net.Listen("tcp", s.listenAddr())
		if err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			return fmt.Errorf("%s listen: %w", s.name, err)
		}
		log.Info("listening", "server", s.name, "addr", ln.Addr().String())
		if s.limiter != nil {
			l := s.limiter.Limits()
			log.Info("connection caps", "server", s.name, "max_conns", l.MaxConns, "max_conns_per_ip", l.MaxConnsPerIP)
			ln = s.limiter.Wrap(ln)
		}
		listeners[i] = ln
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, loop := range loops {
		g.Go(func() error { return loop(gctx) })
	}
	for i, s := range servers {
		ln := listeners[i]
		g.Go(func() error {
			if err := s.serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, s := range servers {
			if err := s.shutdown(shutdownCtx); err != nil {
				log.Warn("shutdown", "server", s.name, "err", err)
			}
		}
		return nil
	})
	return g.Wait()
}
