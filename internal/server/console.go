package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/console"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
)

// mountConsole serves the web console under /console/ on the API
// listener, next to the API. People sign in with the API's named
// credentials (the same file, also with --auth none); the console calls
// the control service and the release controller the API calls, and reads
// the metrics the release analysis reads.
func mountConsole(next http.Handler, dataDir string, svc *control.Service, releases *release.Controller, metrics prometheus.Gatherer, log *slog.Logger) (http.Handler, error) {
	creds, _, err := auth.LoadOrCreate(filepath.Join(dataDir, "credentials.json"), os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("console credentials: %w", err)
	}
	c, err := console.New(console.Options{
		Credentials: creds, Distributions: svc, Releases: releases, Metrics: metrics, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return c.Mount(next), nil
}
