package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
	"github.com/stagefront/stagefront/internal/store/etcd"
)

// StoreConfig selects the store: bolt://PATH (default: the data dir's file)
// or etcd://host:port[,host:port…], with etcdctl's TLS and auth options.
type StoreConfig struct {
	URL        string
	EtcdCACert string
	EtcdCert   string
	EtcdKey    string
	EtcdUser   string // username[:password]
	EtcdPrefix string
}

// OpenStore opens the configured store. For etcd it also returns the fleet
// registry edges announce themselves in.
func OpenStore(ctx context.Context, s StoreConfig, dataDir string, log *slog.Logger) (store.Store, *fleet.Registry, error) {
	u := s.URL
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
		cfg := etcd.Config{Prefix: s.EtcdPrefix}
		for _, ep := range strings.Split(strings.TrimPrefix(u, "etcd://"), ",") {
			if ep = strings.TrimSpace(ep); ep != "" {
				cfg.Endpoints = append(cfg.Endpoints, ep)
			}
		}
		if len(cfg.Endpoints) == 0 {
			return nil, nil, fmt.Errorf("--store %s names no etcd endpoint", u)
		}
		if s.EtcdUser != "" {
			user, pass, _ := strings.Cut(s.EtcdUser, ":")
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

func (s StoreConfig) tlsConfig() (*tls.Config, error) {
	if s.EtcdCACert == "" && s.EtcdCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.EtcdCACert != "" {
		pem, err := os.ReadFile(s.EtcdCACert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no certificate", s.EtcdCACert)
		}
		cfg.RootCAs = pool
	}
	if s.EtcdCert != "" {
		cert, err := tls.LoadX509KeyPair(s.EtcdCert, s.EtcdKey)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
