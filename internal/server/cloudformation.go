package server

import (
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/cfn/queryapi"
	"github.com/stagefront/stagefront/internal/cfn/resource"
	cfnstack "github.com/stagefront/stagefront/internal/cfn/stack"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
)

// crashEnv names a point of a CloudFormation operation ("before-create:X",
// "after-create:X", …) where the process kills itself with SIGKILL. Only
// the crash-recovery tests set it.
const crashEnv = "STAGEFRONT_TEST_CFN_CRASH_AT"

// stagingStackRegion is the region of the stacks that releases deploy
// their staging from (the aws CLI's usual region for CloudFront).
const stagingStackRegion = release.DefaultStackRegion

// newStackManager returns the CloudFormation stack manager over the
// control service; node names this API node (its operations' owner) and
// leaseTTL is how long its heartbeat keeps them its own.
func newStackManager(svc *control.Service, strict bool, log *slog.Logger, node string, leaseTTL time.Duration) *cfnstack.Manager {
	opts := cfnstack.Options{Strict: strict, Logger: log, Node: node, LeaseTTL: leaseTTL}
	if at := os.Getenv(crashEnv); at != "" {
		opts.CrashPoint = func(point string) {
			if point == at {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
	}
	return cfnstack.New(svc.Store(), &resource.Env{Svc: svc}, opts)
}

// mountCloudFormation routes requests to the endpoint root to the
// CloudFormation Query API and everything else to next.
func mountCloudFormation(next http.Handler, m *cfnstack.Manager, verifier *auth.Verifier, log *slog.Logger) http.Handler {
	query := queryapi.New(m, verifier, log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if queryapi.IsQueryRequest(r) && !strings.HasPrefix(r.URL.Path, "/2020-05-31") {
			query.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
