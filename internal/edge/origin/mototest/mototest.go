// Package mototest runs moto_server (an S3-compatible server, preinstalled
// on these machines) on a free loopback port for the life of a test. A
// missing moto_server fails the test instead of skipping it.
package mototest

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Start runs moto_server with the extra environment (e.g.
// "INITIAL_NO_AUTH_ACTION_COUNT=3") and returns its URL once it accepts.
func Start(t testing.TB, env ...string) *url.URL {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server not found (pip install 'moto[server]'): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)

	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A process group of its own: the binary may be a shim that starts python.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("moto_server log:\n%s", out)
		}
	})
	deadline := time.Now().Add(60 * time.Second) // python starts slowly on a busy machine
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return &url.URL{Scheme: "http", Host: addr}
		}
		select {
		case err := <-exited:
			t.Fatalf("moto_server exited before accepting connections: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not accept on %s within 60s", addr)
		}
	}
}
