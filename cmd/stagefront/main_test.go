package main

import (
	"os"
	"testing"

	"github.com/stagefront/stagefront/internal/testutil"
)

// envRunMain makes the test binary run stagefront itself (main) instead of
// the tests: a test starts the real server in a subprocess by running its
// own executable with this variable set, without a separate go build.
const envRunMain = "STAGEFRONT_TEST_RUN_MAIN"

// stagefront is the binary the subprocess tests run, built once for the
// whole test process.
var stagefront = &testutil.Builder{Package: "."}

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	stagefront.Cleanup()
	os.Exit(code)
}

// buildBinary returns the stagefront binary (built on first use).
func buildBinary(tb testing.TB) string { return stagefront.Binary(tb) }
