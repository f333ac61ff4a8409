package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/store"
)

// ReleaseWiring is what the release controller needs from a process.
type ReleaseWiring struct {
	Store store.Store
	// APIAddr is stagefront's own CloudFront API: the controller acts only
	// through it, with the aws-sdk-go-v2 client, as any pipeline would.
	APIAddr string
	// Credentials sign the controller's API calls (the admin pair).
	Credentials aws.CredentialsProvider
	Metrics     prometheus.Gatherer
	Logger      *slog.Logger
	Clock       func() time.Time // nil: time.Now
	Tick        time.Duration    // 0: 1s
	// Stacks deploys the staging stacks of releases whose staging comes
	// from a template; nil refuses such releases.
	Stacks release.Stacks
}

// ReleaseRuntime is the release controller and its JSON API.
type ReleaseRuntime struct {
	ctrl    *release.Controller
	handler http.Handler
}

// NewReleaseRuntime builds the controller on the store and its API client.
func NewReleaseRuntime(w ReleaseWiring) (*ReleaseRuntime, error) {
	client := cloudfront.New(cloudfront.Options{
		BaseEndpoint: aws.String("http://" + w.APIAddr),
		Region:       "us-east-1",
		Credentials:  w.Credentials,
	})
	var metrics release.MetricsSource
	if w.Metrics != nil {
		metrics = w.Metrics
	}
	ctrl, err := release.New(release.Options{
		CloudFront: client, Store: releaseStore{w.Store}, Metrics: metrics,
		Clock: w.Clock, Logger: w.Logger, Tick: w.Tick, Stacks: w.Stacks,
	})
	if err != nil {
		return nil, err
	}
	handler := ctrl.Handler(release.HandlerOptions{
		Principal: func(r *http.Request) string { return auth.PrincipalFrom(r.Context()) },
		Logger:    w.Logger,
	})
	return &ReleaseRuntime{ctrl: ctrl, handler: handler}, nil
}

// Run runs the controller loop until ctx ends.
func (rt *ReleaseRuntime) Run(ctx context.Context) error { return rt.ctrl.Run(ctx) }

// Controller is the release controller (tests drive its passes).
func (rt *ReleaseRuntime) Controller() *release.Controller { return rt.ctrl }

// Handler is the release API behind the same SigV4 verifier as the
// CloudFront API; authentication failures answer in the release API's JSON.
func (rt *ReleaseRuntime) Handler(verifier *auth.Verifier) http.Handler {
	return auth.Middleware(verifier, func(w http.ResponseWriter, _ *http.Request, err error) {
		var apiErr *cf.Error
		if errors.As(err, &apiErr) {
			release.WriteCodedError(w, apiErr.Status, apiErr.Code, apiErr.Message)
			return
		}
		release.WriteCodedError(w, http.StatusForbidden, "AccessDenied", err.Error())
	})(rt.handler)
}

// APIHandler is the API listener's handler: paths under release.APIPrefix
// go to the release API, everything else to the CloudFront API untouched
// (no ServeMux: its path cleaning would redirect CloudFront requests).
func APIHandler(cloudFrontAPI, releaseAPI http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, release.APIPrefix) {
			releaseAPI.ServeHTTP(w, r)
			return
		}
		cloudFrontAPI.ServeHTTP(w, r)
	})
}

// controllerCredentials returns the admin pair the controller signs with.
func controllerCredentials(dataDir, authMode string) (aws.CredentialsProvider, error) {
	if authMode == "none" {
		return credentials.NewStaticCredentialsProvider("stagefront-release", "unused", ""), nil
	}
	creds, _, err := auth.LoadOrCreate(filepath.Join(dataDir, "credentials.json"), os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("release controller credentials: %w", err)
	}
	admin, ok := creds.Get(auth.AdminName)
	if !ok {
		return nil, errors.New("release controller: no admin credentials")
	}
	return credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, ""), nil
}

// releaseStore adapts store.Store to the release package's Store.
type releaseStore struct{ st store.Store }

func (s releaseStore) Get(ctx context.Context, key string) ([]byte, int64, error) {
	kv, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, fmt.Errorf("%s: %w", key, release.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	return kv.Value, kv.ModRevision, nil
}

func (s releaseStore) List(ctx context.Context, prefix string) ([]release.KV, error) {
	kvs, _, err := s.st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]release.KV, len(kvs))
	for i, kv := range kvs {
		out[i] = release.KV{Key: kv.Key, Value: kv.Value, Rev: kv.ModRevision}
	}
	return out, nil
}

func (s releaseStore) Write(ctx context.Context, writes []release.Write) error {
	var conds []store.Cond
	var ops []store.Op
	for _, w := range writes {
		if w.Rev >= 0 {
			conds = append(conds, store.Cond{Key: w.Key, ModRevision: w.Rev})
		}
		ops = append(ops, store.Op{Key: w.Key, Value: w.Value, Delete: w.Delete})
	}
	if _, err := s.st.Txn(ctx, conds, ops); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %w", release.ErrConflict, err)
		}
		return err
	}
	return nil
}
