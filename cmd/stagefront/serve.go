package main

import (
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
	"github.com/spf13/cobra"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/errgroup"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/store"
)

type serveFlags struct {
	dataDir      string
	apiAddr      string
	edgeAddr     string
	adminAddr    string
	domainSuffix string
	authMode     string
	logLevel     string
	s3Endpoint   string
	debugHeader  bool
	cacheBytes   int64
	storeFlags
	nodeName   string
	leaseTTL   time.Duration
	tlsAddr    string
	tlsCert    string
	tlsKey     string
	edgeEngine string
	cfnStrict  bool
}

// roles says which parts a process runs: serve = both, api, edge.
type roles struct{ api, edge bool }

func newServeCmd() *cobra.Command {
	return newRoleCmd("serve", "Run the control plane, the edge and the admin endpoints in one process (embedded store by default)", roles{api: true, edge: true})
}

func newAPICmd() *cobra.Command {
	return newRoleCmd("api", "Run the control plane only (CloudFront API, releases, admin); use with --store etcd://… for a fleet", roles{api: true})
}

func newEdgeCmd() *cobra.Command {
	return newRoleCmd("edge", "Run an edge only (viewer server, admin); use with --store etcd://… to join a fleet", roles{edge: true})
}

func newRoleCmd(use, short string, r roles) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f, r)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "stagefront-data", "directory for the embedded store and credentials")
	fl.StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:9090", "admin listen address (/healthz, /metrics, /debug/pprof)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error (debug includes the access log)")
	f.storeFlags.register(fl)
	fl.StringVar(&f.nodeName, "node-name", "", "this node's name in the fleet (default: hostname:edge-port)")
	fl.DurationVar(&f.leaseTTL, "lease-ttl", 5*time.Second, "fleet membership lease: a dead edge stops delaying Deployed after this")
	if r.api {
		fl.StringVar(&f.apiAddr, "api-addr", "127.0.0.1:4566", "CloudFront API listen address")
		fl.StringVar(&f.domainSuffix, "domain-suffix", "cdn.localhost", "suffix of generated distribution domain names")
		fl.StringVar(&f.authMode, "auth", "sigv4", "API authentication: sigv4, or none (only when the API listens on loopback)")
		fl.BoolVar(&f.cfnStrict, "cfn-strict", false, "CloudFormation: reject unknown property keys as AWS does, with no key repair or S3 origin inference (docs/cloudformation.md)")
	}
	if r.edge {
		fl.StringVar(&f.edgeAddr, "edge-addr", "127.0.0.1:8080", "edge (viewer) HTTP listen address")
		fl.StringVar(&f.s3Endpoint, "s3-endpoint", "", "send S3 origins to this S3-compatible server, path style (e.g. http://127.0.0.1:9000)")
		fl.BoolVar(&f.debugHeader, "debug-header", false, "add X-Stagefront-Distribution: <id> <primary|staging> to viewer responses")
		fl.Int64Var(&f.cacheBytes, "cache-bytes", 256<<20, "size bound of the edge object cache in bytes")
		fl.StringVar(&f.tlsAddr, "tls-addr", "127.0.0.1:8443", "edge HTTPS listen address (used when --tls-cert and --tls-key are set)")
		fl.StringVar(&f.tlsCert, "tls-cert", "", "edge HTTPS certificate (PEM); enables the HTTPS listener and redirect-to-https")
		fl.StringVar(&f.tlsKey, "tls-key", "", "edge HTTPS private key (PEM)")
		fl.StringVar(&f.edgeEngine, "edge-engine", "fasthttp", "plain-HTTP edge server: fasthttp (faster) or nethttp (net/http: streams request bodies, cancels the origin fetch of a viewer that goes away)")
	}
	return cmd
}

// isLoopback reports whether addr (host:port) only listens on loopback.
func isLoopback(addr string) bool {
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

// serve runs everything in one process (kept for tests and callers).
func serve(ctx context.Context, f serveFlags) error { return run(ctx, f, roles{api: true, edge: true}) }

func run(ctx context.Context, f serveFlags, r roles) error {
	log := newLogger(f.logLevel)
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	var verifier *auth.Verifier
	if r.api {
		v, err := newVerifier(f, log)
		if err != nil {
			return err
		}
		verifier = v
	}

	st, fleetRegistry, err := openStore(ctx, f.storeFlags, f.dataDir, log)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	admin := http.NewServeMux()
	var servers []*namedServer
	var loops []func(context.Context) error
	ready := func() bool { return true }

	var viewer *edge.Server
	if r.edge {
		v, closeEdge, err := newEdge(ctx, f, st, reg, log)
		if err != nil {
			return err
		}
		defer closeEdge()
		viewer = v
		ready = func() bool { return viewer.ServedRevision() > 0 }
		switch f.edgeEngine {
		case "nethttp":
			servers = append(servers, &namedServer{name: "edge", srv: &http.Server{Addr: f.edgeAddr, Handler: viewer,
				ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}})
		case "fasthttp":
			servers = append(servers, &namedServer{name: "edge", addr: f.edgeAddr, fast: viewer.FastServer()})
		default:
			return fmt.Errorf("--edge-engine must be nethttp or fasthttp, not %q", f.edgeEngine)
		}
		if f.tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
			if err != nil {
				return fmt.Errorf("--tls-cert/--tls-key: %w", err)
			}
			servers = append(servers, &namedServer{name: "edge-https", tls: true, srv: &http.Server{Addr: f.tlsAddr, Handler: viewer,
				ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
				TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}})
		}
		loops = append(loops, viewer.Run)
		if fleetRegistry != nil {
			node := f.nodeName
			if node == "" {
				host, _ := os.Hostname()
				node = host + ":" + f.edgeAddr
			}
			loops = append(loops, func(ctx context.Context) error {
				return fleetRegistry.Announce(ctx, node, f.edgeAddr, viewer.ServedRevision, f.leaseTTL)
			}, func(ctx context.Context) error {
				// Per-variant request metrics for the release analysis, fleet-wide.
				return fleetRegistry.PublishMetrics(ctx, node, reg, time.Second)
			})
		}
	}

	if r.api {
		var deployment control.Deployment = control.AlwaysDeployed{}
		switch {
		case fleetRegistry != nil:
			deployment = fleetRegistry // every live edge of the fleet
		case viewer != nil:
			deployment = viewer // the one in-process edge
		}
		svc := control.New(st, control.Options{DomainSuffix: f.domainSuffix, Deployment: deployment})
		if err := svc.Bootstrap(ctx); err != nil {
			return err
		}
		apiHandler := api.New(svc, api.Options{Verifier: verifier, Logger: log})
		// CloudFormation (docs/cloudformation.md): the Query API at the
		// endpoint root, signed for the "cloudformation" service.
		stacks := newStackManager(svc, f.cfnStrict, log)
		apiHandler = mountCloudFormation(apiHandler, stacks, verifier, log)
		loops = append(loops, recoverStacks(stacks, log))

		// Releases (issue 4, cmd/stagefront/release_serve.go): the controller
		// loop, and the JSON API under /stagefront/v1/ on the API address.
		// In a fleet the analysis reads every edge's published metrics, and
		// the controller runs only on the elected leader.
		var analysis prometheus.Gatherer = reg
		var runReleases func(context.Context) error
		if fleetRegistry != nil {
			analysis = fleetRegistry.Gatherer()
		}
		releases, err := startReleases(f, st, analysis, log)
		if err != nil {
			return err
		}
		apiHandler = releases.mount(apiHandler, verifier)
		servers = append(servers, &namedServer{name: "api", srv: &http.Server{Addr: f.apiAddr, Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second}})
		runReleases = releases.Run
		if fleetRegistry != nil {
			node := f.nodeName
			if node == "" {
				host, _ := os.Hostname()
				node = host + ":" + f.apiAddr
			}
			runReleases = func(ctx context.Context) error {
				return fleetRegistry.Lead(ctx, "releases", node, f.leaseTTL, releases.Run)
			}
		}
		loops = append(loops, runReleases)
	}

	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("loading configuration\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Profiling lives on the admin address, which listens on loopback by default.
	admin.HandleFunc("GET /debug/pprof/", pprof.Index)
	admin.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	admin.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	servers = append(servers, &namedServer{name: "admin", srv: &http.Server{Addr: f.adminAddr, Handler: admin, ReadHeaderTimeout: 10 * time.Second}})
	return runServers(ctx, log, servers, loops...)
}

func newVerifier(f serveFlags, log *slog.Logger) (*auth.Verifier, error) {
	switch f.authMode {
	case "none":
		if !isLoopback(f.apiAddr) {
			return nil, fmt.Errorf("--auth none is refused unless --api-addr is a loopback address (got %s)", f.apiAddr)
		}
		log.Warn("API authentication is off (--auth none); any request is accepted")
		return auth.None(), nil
	case "sigv4":
		creds, created, err := auth.LoadOrCreate(filepath.Join(f.dataDir, "credentials.json"), os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		if created {
			admin, _ := creds.Get("admin")
			fmt.Fprintf(os.Stderr, "stagefront: generated API credentials (stored 0600 in %s). Use them with:\n"+
				"export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=us-east-1\n",
				filepath.Join(f.dataDir, "credentials.json"), admin.AccessKeyID, admin.SecretAccessKey)
		}
		return auth.NewVerifier(creds, time.Now, 15*time.Minute), nil
	}
	return nil, fmt.Errorf("--auth must be sigv4 or none, not %q", f.authMode)
}

func newEdge(ctx context.Context, f serveFlags, st store.Store, reg prometheus.Registerer, log *slog.Logger) (*edge.Server, func(), error) {
	tuneGC(f.cacheBytes, os.Getenv, log)
	fetchOpts := origin.Options{Logger: log}
	if f.s3Endpoint != "" {
		u, err := url.Parse(f.s3Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, nil, fmt.Errorf("--s3-endpoint %q is not a URL", f.s3Endpoint)
		}
		fetchOpts.S3Endpoint = u
	}
	fetcher, err := origin.New(ctx, fetchOpts)
	if err != nil {
		return nil, nil, fmt.Errorf("origin fetcher: %w", err)
	}
	viewer, err := edge.New(edge.Options{
		Store: st, Fetcher: fetcher, Logger: log, Registry: reg,
		CacheBytes: f.cacheBytes, DebugHeader: f.debugHeader, HTTPS: f.tlsCert != "",
	})
	if err != nil {
		fetcher.Close()
		return nil, nil, err
	}
	return viewer, func() { viewer.Close(); fetcher.Close() }, nil
}

type namedServer struct {
	name string
	srv  *http.Server
	tls  bool // serve TLS with srv.TLSConfig
	// addr and fast are set instead of srv for the fasthttp edge engine.
	addr string
	fast *fasthttp.Server
}

func (s *namedServer) listenAddr() string {
	if s.fast != nil {
		return s.addr
	}
	return s.srv.Addr
}

func (s *namedServer) serve(ln net.Listener) error {
	switch {
	case s.fast != nil:
		return s.fast.Serve(ln)
	case s.tls:
		return s.srv.ServeTLS(ln, "", "")
	}
	return s.srv.Serve(ln)
}

func (s *namedServer) shutdown(ctx context.Context) error {
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
		listeners[i] = ln
		log.Info("listening", "server", s.name, "addr", ln.Addr().String())
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
