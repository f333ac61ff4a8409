package main

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
)

// crashEnv names a point of a CloudFormation operation ("before-create:X",
// "after-create:X", …) where the process kills itself with SIGKILL. Only
// the crash-recovery tests set it.
const crashEnv = "STAGEFRONT_TEST_CFN_CRASH_AT"

// newStackManager returns the CloudFormation stack manager over the
// control service, and finishes the operations a previous process left
// in progress (every region with stacks).
func newStackManager(ctx context.Context, svc *control.Service, strict bool, log *slog.Logger) (*cfnstack.Manager, error) {
	opts := cfnstack.Options{Strict: strict, Logger: log}
	if at := os.Getenv(crashEnv); at != "" {
		opts.CrashPoint = func(point string) {
			if point == at {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
	}
	m := cfnstack.New(svc.Store(), &resource.Env{Svc: svc}, opts)
	regions, err := m.Regions(ctx)
	if err != nil {
		return nil, err
	}
	for _, region := range regions {
		if err := m.Recover(ctx, region); err != nil {
			return nil, err
		}
	}
	return m, nil
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
