package main

import (
	"os"
	"testing"

	"github.com/stagefront/stagefront/internal/testutil"
)

// stagefront is the binary the subprocess tests run, built once for the
// whole test process.
var stagefront = &testutil.Builder{Package: "."}

func TestMain(m *testing.M) {
	code := m.Run()
	stagefront.Cleanup()
	os.Exit(code)
}

// buildBinary returns the stagefront binary (built on first use).
func buildBinary(tb testing.TB) string { return stagefront.Binary(tb) }
