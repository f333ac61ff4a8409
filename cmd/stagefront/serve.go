package main

import (
	"context"
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
	"golang.org/x/sync/errgroup"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/store/bolt"
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
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane, the edge and the admin endpoints in one process on an embedded store",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "stagefront-data", "directory for the embedded store and credentials")
	fl.StringVar(&f.apiAddr, "api-addr", "127.0.0.1:4566", "CloudFront API listen address")
	fl.StringVar(&f.edgeAddr, "edge-addr", "127.0.0.1:8080", "edge (viewer) HTTP listen address")
	fl.StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:9090", "admin listen address (/healthz, /metrics)")
	fl.StringVar(&f.domainSuffix, "domain-suffix", "cdn.localhost", "suffix of generated distribution domain names")
	fl.StringVar(&f.authMode, "auth", "sigv4", "API authentication: sigv4, or none (only when the API listens on loopback)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error (debug includes the access log)")
	fl.StringVar(&f.s3Endpoint, "s3-endpoint", "", "send S3 origins to this S3-compatible server, path style (e.g. http://127.0.0.1:9000)")
	fl.BoolVar(&f.debugHeader, "debug-header", false, "add X-Stagefront-Distribution: <id> <primary|staging> to viewer responses")
	fl.Int64Var(&f.cacheBytes, "cache-bytes", 256<<20, "size bound of the edge object cache in bytes")
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

func serve(ctx context.Context, f serveFlags) error {
	log := newLogger(f.logLevel)
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	var verifier *auth.Verifier
	switch f.authMode {
	case "none":
		if !isLoopback(f.apiAddr) {
			return fmt.Errorf("--auth none is refused unless --api-addr is a loopback address (got %s)", f.apiAddr)
		}
		verifier = auth.None()
		log.Warn("API authentication is off (--auth none); any request is accepted")
	case "sigv4":
		creds, created, err := auth.LoadOrCreate(filepath.Join(f.dataDir, "credentials.json"), os.Getenv)
		if err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
		if created {
			admin, _ := creds.Get("admin")
			fmt.Fprintf(os.Stderr, "stagefront: generated API credentials (stored 0600 in %s). Use them with:\n"+
				"export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=us-east-1\n",
				filepath.Join(f.dataDir, "credentials.json"), admin.AccessKeyID, admin.SecretAccessKey)
		}
		verifier = auth.NewVerifier(creds, time.Now, 15*time.Minute)
	default:
		return fmt.Errorf("--auth must be sigv4 or none, not %q", f.authMode)
	}

	st, err := bolt.Open(filepath.Join(f.dataDir, "stagefront.db"), bolt.Options{})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	fetchOpts := origin.Options{Logger: log}
	if f.s3Endpoint != "" {
		u, err := url.Parse(f.s3Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("--s3-endpoint %q is not a URL", f.s3Endpoint)
		}
		fetchOpts.S3Endpoint = u
	}
	fetcher, err := origin.New(ctx, fetchOpts)
	if err != nil {
		return fmt.Errorf("origin fetcher: %w", err)
	}
	defer fetcher.Close()
	viewer, err := edge.New(edge.Options{
		Store: st, Fetcher: fetcher, Logger: log, Registry: reg,
		CacheBytes: f.cacheBytes, DebugHeader: f.debugHeader,
	})
	if err != nil {
		return err
	}
	defer viewer.Close()

	svc := control.New(st, control.Options{DomainSuffix: f.domainSuffix, Deployment: viewer})
	if err := svc.Bootstrap(ctx); err != nil {
		return err
	}

	apiHandler := api.New(svc, api.Options{
		Verifier: verifier,
		Logger:   log,
	})

	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if viewer.ServedRevision() == 0 {
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

	servers := []*namedServer{
		{name: "api", srv: &http.Server{Addr: f.apiAddr, Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second}},
		{name: "admin", srv: &http.Server{Addr: f.adminAddr, Handler: admin, ReadHeaderTimeout: 10 * time.Second}},
		{name: "edge", srv: &http.Server{Addr: f.edgeAddr, Handler: viewer, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}},
	}
	return runServers(ctx, log, servers, viewer.Run)
}

type namedServer struct {
	name string
	srv  *http.Server
}

// runServers listens on every address first (so a port clash fails fast),
// then serves until ctx is cancelled and shuts down gracefully.
func runServers(ctx context.Context, log *slog.Logger, servers []*namedServer, loops ...func(context.Context) error) error {
	listeners := make([]net.Listener, len(servers))
	for i, s := range servers {
		ln, err := net.Listen("tcp", s.srv.Addr)
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
			if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
			if err := s.srv.Shutdown(shutdownCtx); err != nil {
				log.Warn("shutdown", "server", s.name, "err", err)
			}
		}
		return nil
	})
	return g.Wait()
}
