package main

import (
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/server"
)

// TestDefaultAPIAddr: the API's default port is stagefront's own (not
// LocalStack's 4566), and every command that talks to the API defaults to
// the address serve and api listen on.
func TestDefaultAPIAddr(t *testing.T) {
	t.Parallel()
	if strings.HasSuffix(server.DefaultAPIAddr, ":4566") {
		t.Fatalf("DefaultAPIAddr %s is LocalStack's port", server.DefaultAPIAddr)
	}
	root := newRootCmd()
	for _, path := range [][]string{{"serve"}, {"api"}} {
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := cmd.Flags().Lookup("api-addr").DefValue; got != server.DefaultAPIAddr {
			t.Errorf("%v --api-addr defaults to %s, want %s", path, got, server.DefaultAPIAddr)
		}
	}
	rel, _, err := root.Find([]string{"release", "list"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rel.Flag("endpoint").DefValue; got != "http://"+server.DefaultAPIAddr {
		t.Errorf("release --endpoint defaults to %s, want http://%s", got, server.DefaultAPIAddr)
	}
}
