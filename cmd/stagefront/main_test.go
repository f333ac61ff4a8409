package main

import (
	"os"
	"testing"
)

// envRunMain makes the test binary run stagefront itself (main) instead of
// the tests: a test starts the real server in a subprocess by running its
// own executable with this variable set, without a separate go build.
const envRunMain = "STAGEFRONT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
