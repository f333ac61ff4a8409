// Package etcdtest runs an embedded etcd member for tests: in t.TempDir(),
// on loopback ports fixed up front so the member can be stopped and started
// again with the same identity (to test outages and recovery).
package etcdtest

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/stagefront/stagefront/internal/testutil"
)

// Server is one embedded etcd member.
type Server struct {
	t        testing.TB
	cfg      *embed.Config
	etcd     *embed.Etcd
	Endpoint string // client URL, e.g. http://127.0.0.1:23790
}

// Start starts a member and stops it when the test ends; each configure
// func may change its configuration first (a small backend quota, say).
func Start(t testing.TB, configure ...func(*embed.Config)) *Server {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(t.TempDir(), "etcd")
	peerURL, clientURL := FreeURL(t), FreeURL(t)
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	// Durability is etcd's business; skip fsync so tests stay fast on slow disks.
	cfg.UnsafeNoFsync = true
	for _, f := range configure {
		f(cfg)
	}
	s := &Server{t: t, cfg: cfg, Endpoint: clientURL.String()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// FreeURL returns a loopback URL on a port that was free a moment ago
// (testutil.FreeAddr: below the kernel's ephemeral range, so an outgoing
// connection cannot take it before the member listens).
func FreeURL(t testing.TB) url.URL {
	t.Helper()
	return url.URL{Scheme: "http", Host: testutil.FreeAddr(t)}
}

// Restart starts the member (again) on its data dir and ports.
func (s *Server) Restart() {
	s.t.Helper()
	e, err := embed.StartEtcd(s.cfg)
	if err != nil {
		s.t.Fatalf("start embedded etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		s.t.Fatalf("embedded etcd failed: %v", err)
	case <-time.After(30 * time.Second):
		e.Close()
		s.t.Fatalf("embedded etcd not ready within 30s")
	}
	s.etcd = e
}

// Stop stops the member; Restart brings it back.
func (s *Server) Stop() {
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}
