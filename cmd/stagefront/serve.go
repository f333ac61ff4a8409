package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/edge/accesslog"
	"github.com/stagefront/stagefront/internal/server"
	"github.com/stagefront/stagefront/internal/store/etcd"
)

func newServeCmd() *cobra.Command {
	return newRoleCmd("serve", "Run the control plane, the edge and the admin endpoints in one process (embedded store by default)", server.Roles{API: true, Edge: true})
}

func newAPICmd() *cobra.Command {
	return newRoleCmd("api", "Run the control plane only (CloudFront API, releases, admin); use with --store etcd://… for a fleet", server.Roles{API: true})
}

func newEdgeCmd() *cobra.Command {
	return newRoleCmd("edge", "Run an edge only (viewer server, admin); use with --store etcd://… to join a fleet", server.Roles{Edge: true})
}

func newRoleCmd(use, short string, r server.Roles) *cobra.Command {
	var f server.Config
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return server.Run(cmd.Context(), f, r)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.DataDir, "data-dir", "stagefront-data", "directory for the embedded store and credentials")
	fl.StringVar(&f.AdminAddr, "admin-addr", "127.0.0.1:9090", "admin listen address (/healthz, /metrics, /debug/pprof)")
	fl.StringVar(&f.LogLevel, "log-level", "info", "log level: debug, info, warn, error (debug includes the access log)")
	registerStoreFlags(fl, &f.Store)
	fl.StringVar(&f.NodeName, "node-name", "", "this node's name in the fleet (default: hostname:edge-port)")
	fl.StringVar(&f.CPUSched, "cpu-sched", server.CPUSchedBatch, "CPU scheduling policy of the process's threads on Linux: batch (SCHED_BATCH: a woken thread does not preempt the running task; more work per context switch under load) or normal (the policy it was started with)")
	fl.DurationVar(&f.LeaseTTL, "lease-ttl", 5*time.Second, "fleet membership lease: a dead edge stops delaying Deployed after this, and another API node recovers a dead one's CloudFormation operations after this")
	if r.API {
		fl.StringVar(&f.APIAddr, "api-addr", server.DefaultAPIAddr, "CloudFront API listen address (also the release API)")
		fl.StringVar(&f.DomainSuffix, "domain-suffix", "cdn.localhost", "suffix of generated distribution domain names")
		fl.StringVar(&f.AuthMode, "auth", "sigv4", "API authentication: sigv4, or none (only when the API listens on loopback)")
		fl.StringArrayVar(&f.Quotas, "quota", nil, "change a CloudFront quota, name=value (repeatable): "+strings.Join(cloudfront.QuotaNames(), ", "))
		fl.BoolVar(&f.CFNStrict, "cfn-strict", false, "CloudFormation: reject unknown property keys as AWS does, with no key repair or S3 origin inference (docs/cloudformation.md)")
	}
	registerLimitFlags(fl, &f.Limits, r)
	if r.Edge {
		fl.StringVar(&f.EdgeAddr, "edge-addr", "127.0.0.1:8080", "edge (viewer) HTTP listen address")
		fl.StringVar(&f.S3Endpoint, "s3-endpoint", "", "send S3 origins to this S3-compatible server, path style (e.g. http://127.0.0.1:9000)")
		fl.BoolVar(&f.DebugHeader, "debug-header", false, "add X-Stagefront-Distribution: <id> <primary|staging> to viewer responses")
		fl.Int64Var(&f.CacheBytes, "cache-bytes", 256<<20, "size bound of the edge object cache in bytes")
		fl.StringVar(&f.CacheDir, "cache-dir", "", "keep a disk tier of the edge object cache in this directory: objects beyond --cache-bytes, and every object after a restart")
		fl.Int64Var(&f.CacheDiskBytes, "cache-disk-bytes", 1<<30, "size bound of the disk cache tier in bytes (with --cache-dir)")
		fl.StringVar(&f.AccessLogDir, "access-log-dir", "", "write CloudFront standard access logs (hourly gzip files) of distributions whose Logging is enabled under this directory")
		fl.Int64Var(&f.AccessLogBacklog, "access-log-backlog-bytes", accesslog.DefaultBacklog, "while the CPUs are busy serving, hold up to this many bytes of requests and format and compress their access log lines once they are not (0: write at once)")
		fl.StringVar(&f.AccessLogS3Endpoint, "access-log-s3-endpoint", "", "deliver finished access log files to each distribution's Logging.Bucket on this S3-compatible server, path style (credentials: the standard AWS chain); files stay under --access-log-dir until delivered")
		fl.StringVar(&f.TLSAddr, "tls-addr", "127.0.0.1:8443", "edge HTTPS listen address (used when --tls-cert and --tls-key are set)")
		fl.StringVar(&f.TLSCert, "tls-cert", "", "edge HTTPS certificate (PEM); enables the HTTPS listener and redirect-to-https")
		fl.StringVar(&f.TLSKey, "tls-key", "", "edge HTTPS private key (PEM)")
		fl.StringVar(&f.ShieldAddr, "shield-addr", "", "in a fleet: listen here for the other edges' Origin Shield requests (docs/architecture.md, Origin Shield); without it this edge shields nothing but still uses the others' shields")
		fl.StringVar(&f.ShieldAdvertiseAddr, "shield-advertise-addr", "", "the address other edges dial for this edge's shield listener (default: --shield-addr)")
		fl.StringVar(&f.EdgeEngine, "edge-engine", "loop", "plain-HTTP edge server: loop (event loops answer cached hits and fetch uncached requests, fasthttp serves the rest), fasthttp, or nethttp (net/http: cancels the origin fetch of a viewer that goes away)")
	}
	return cmd
}

// registerStoreFlags binds the store selection: bolt://PATH or
// etcd://host:port[,host:port…], with etcdctl's TLS and auth flags.
func registerStoreFlags(fl *pflag.FlagSet, s *server.StoreConfig) {
	fl.StringVar(&s.URL, "store", "", "store URL: bolt://PATH (default: DATA-DIR/stagefront.db) or etcd://host:port[,host:port...]")
	fl.StringVar(&s.EtcdCACert, "cacert", "", "etcd: verify the server with this CA bundle (enables TLS)")
	fl.StringVar(&s.EtcdCert, "cert", "", "etcd: client certificate for TLS")
	fl.StringVar(&s.EtcdKey, "key", "", "etcd: client key for TLS")
	fl.StringVar(&s.EtcdUser, "user", "", "etcd: username[:password] (or ETCDCTL_PASSWORD for the password)")
	fl.StringVar(&s.EtcdPrefix, "etcd-prefix", etcd.DefaultPrefix, "etcd: key namespace shared by the whole fleet")
}

// registerLimitFlags binds the listeners' timeouts and connection caps
// (server.Limits; defaults: server.DefaultLimits).
func registerLimitFlags(fl *pflag.FlagSet, l *server.Limits, r server.Roles) {
	d := server.DefaultLimits()
	fl.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", d.ReadHeaderTimeout, "every listener: time a client has to send a request's header")
	fl.DurationVar(&l.IdleTimeout, "idle-timeout", d.IdleTimeout, "every listener: time a kept-alive connection may wait for its next request")
	fl.IntVar(&l.AdminMaxConns, "admin-max-conns", d.AdminMaxConns, "admin listener: connections at once (its own, so that an operator reaches it when the others are full)")
	if r.Edge {
		fl.DurationVar(&l.EdgeReadTimeout, "edge-read-timeout", d.EdgeReadTimeout, "edge: time to read a whole viewer request, header and body")
		fl.IntVar(&l.EdgeMaxConns, "edge-max-conns", d.EdgeMaxConns, "edge: viewer connections at once, HTTP and HTTPS together (lowered to fit RLIMIT_NOFILE)")
		fl.IntVar(&l.EdgeMaxConnsPerIP, "edge-max-conns-per-ip", d.EdgeMaxConnsPerIP, "edge: viewer connections at once from one client address")
	}
	if r.API {
		fl.DurationVar(&l.APIReadTimeout, "api-read-timeout", d.APIReadTimeout, "API: time to read a whole request, header and body")
		fl.IntVar(&l.APIMaxConns, "api-max-conns", d.APIMaxConns, "API: connections at once (lowered to fit RLIMIT_NOFILE)")
		fl.IntVar(&l.APIMaxConnsPerIP, "api-max-conns-per-ip", d.APIMaxConnsPerIP, "API: connections at once from one client address")
	}
}
