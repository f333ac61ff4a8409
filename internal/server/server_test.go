package server

import (
	"context"
	"testing"
)

// TestAuthNoneRefusedOffLoopback: --auth none only on loopback.
func TestAuthNoneRefusedOffLoopback(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), Config{DataDir: t.TempDir(), APIAddr: "0.0.0.0:0", AuthMode: "none"}, Roles{API: true, Edge: true})
	if err == nil {
		t.Fatal("Run accepted --auth none on 0.0.0.0")
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:7654": true, "localhost:1": true, "[::1]:80": true,
		"0.0.0.0:7654": false, ":7654": false, "10.0.0.1:80": false, "bad": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
