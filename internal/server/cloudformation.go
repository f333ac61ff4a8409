package server

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"

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
// control service.
func newStackManager(svc *control.Service, strict bool, log *slog.Logger) *cfnstack.Manager {
	opts := cfnstack.Options{Strict: strict, Logger: log}
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

// recoverStacks finishes the operations a previous process left in
// progress, in every region with stacks. It runs beside the servers: a
// rollback deletes distributions, which waits for the edges to serve the
// disabled configuration. A failure is logged, not fatal: the stack stays
// in its *_IN_PROGRESS state for the next start.
func recoverStacks(m *cfnstack.Manager, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		regions, err := m.Regions(ctx)
		if err != nil {
			log.Error("cloudformation: recovery", "err", err)
			return nil
		}
		for _, region := range regions {
			if err := m.Recover(ctx, region); err != nil {
				log.Error("cloudformation: recovery", "region", region, "err", err)
			}
		}
		return nil
	}
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
