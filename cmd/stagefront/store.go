package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
	"github.com/stagefront/stagefront/internal/store/etcd"
)

// storeFlags select the store: bolt://PATH (default: the data dir's file)
// or etcd://host:port[,host:port…], with etcdctl's TLS and auth flags.
type storeFlags struct {
	storeURL   string
	etcdCACert string
	etcdCert   string
	etcdKey    string
	etcdUser   string
	etcdPrefix string
}

func (s *storeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&s.storeURL, "store", "", "store URL: bolt://PATH (default: DATA-DIR/stagefront.db) or etcd://host:port[,host:port...]")
	fl.StringVar(&s.etcdCACert, "cacert", "", "etcd: verify the server with this CA bundle (enables TLS)")
	fl.StringVar(&s.etcdCert, "cert", "", "etcd: client certificate for TLS")
	fl.StringVar(&s.etcdKey, "key", "", "etcd: client key for TLS")
	fl.StringVar(&s.etcdUser, "user", "", "etcd: username[:password] (or ETCDCTL_PASSWORD for the password)")
	fl.StringVar(&s.etcdPrefix, "etcd-prefix", etcd.DefaultPrefix, "etcd: key namespace shared by the whole fleet")
}

// openStore opens the configured store. For etcd it also returns the fleet
// registry edges announce themselves in.
func openStore(ctx context.Context, s storeFlags, dataDir string, log *slog.Logger) (store.Store, *fleet.Registry, error) {
	u := s.storeURL
	if u == "" {
		u = "bolt://" + filepath.Join(dataDir, "stagefront.db")
	}
	switch {
	case strings.HasPrefix(u, "bolt://"):
		st, err := bolt.Open(strings.TrimPrefix(u, "bolt://"), bolt.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("open store %s: %w", u, err)
		}
		return st, nil, nil
	case strings.HasPrefix(u, "etcd://"):
		cfg := etcd.Config{Prefix: s.etcdPrefix}
		for _, ep := range strings.Split(strings.TrimPrefix(u, "etcd://"), ",") {
			if ep = strings.TrimSpace(ep); ep != "" {
				cfg.Endpoints = append(cfg.Endpoints, ep)
			}
		}
		if len(cfg.Endpoints) == 0 {
			return nil, nil, fmt.Errorf("--store %s names no etcd endpoint", u)
		}
		if s.etcdUser != "" {
			user, pass, _ := strings.Cut(s.etcdUser, ":")
			if pass == "" {
				pass = os.Getenv("ETCDCTL_PASSWORD")
			}
			cfg.Username, cfg.Password = user, pass
		}
		tlsCfg, err := s.tlsConfig()
		if err != nil {
			return nil, nil, err
		}
		cfg.TLS = tlsCfg
		st, err := etcd.Open(ctx, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("open store %s: %w", u, err)
		}
		return st, fleet.NewRegistry(st.Client(), st.Prefix(), log), nil
	}
	return nil, nil, fmt.Errorf("--store must be bolt://PATH or etcd://host:port[,...], not %q", u)
}

func (s storeFlags) tlsConfig() (*tls.Config, error) {
	if s.etcdCACert == "" && s.etcdCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.etcdCACert != "" {
		pem, err := os.ReadFile(s.etcdCACert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no certificate", s.etcdCACert)
		}
		cfg.RootCAs = pool
	}
	if s.etcdCert != "" {
		cert, err := tls.LoadX509KeyPair(s.etcdCert, s.etcdKey)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
