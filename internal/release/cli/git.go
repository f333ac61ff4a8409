package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/gitwatch"
)

// GitOptions are the flags of `release watch-git`.
type GitOptions struct {
	Repo, Branch, File, WriteBack, StateDir string
	Interval                                time.Duration
	Logger                                  *slog.Logger
}

// WatchGit runs the Git trigger (internal/release/gitwatch) wired to the
// release API client and the CloudFront API, both signed with the
// environment's credentials, until ctx ends.
func (c *CLI) WatchGit(ctx context.Context, o GitOptions) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	w, err := gitwatch.New(gitwatch.Options{
		Repo: o.Repo, Branch: o.Branch, File: o.File, WriteBack: o.WriteBack, StateDir: o.StateDir,
		Releases: GitReleases{C: client, Region: c.stackRegion()},
		Configs: cloudfront.New(cloudfront.Options{
			BaseEndpoint: aws.String(client.Endpoint()), Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(c.getenv("AWS_ACCESS_KEY_ID"), c.getenv("AWS_SECRET_ACCESS_KEY"), ""),
		}),
		Logger: o.Logger,
	})
	if err != nil {
		return err
	}
	return w.Run(ctx, o.Interval)
}

// GitReleases is the release API client as gitwatch needs it: the API's
// answers translated to gitwatch's sentinel errors.
type GitReleases struct {
	C *Client
	// Region is a staging template's region when the spec names none.
	Region string
}

// Start starts a release; a conflict or a refusal becomes gitwatch's error.
func (g GitReleases) Start(ctx context.Context, spec *release.Spec) (*release.Release, error) {
	withRegion(spec, g.Region)
	rel, err := g.C.Start(ctx, spec)
	var ae *APIError
	// Only the release API's own JSON errors (codes are words, not an HTTP
	// status line) are taken as answers: a proxy's 404 is not a refusal.
	if errors.As(err, &ae) && ae.Code != "" && (ae.Code[0] < '0' || ae.Code[0] > '9') {
		switch {
		case ae.Status == http.StatusConflict:
			return nil, fmt.Errorf("%w: %w", gitwatch.ErrConflict, err)
		case ae.Status == http.StatusBadRequest || ae.Status == http.StatusNotFound:
			// An invalid spec or an unknown primary: retrying cannot help.
			return nil, fmt.Errorf("%w: %w", gitwatch.ErrRefused, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// Get is one release, or gitwatch.ErrNotFound.
func (g GitReleases) Get(ctx context.Context, name string) (*release.Release, error) {
	live, err := g.C.Status(ctx, name)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "NotFound" {
		return nil, fmt.Errorf("%w: %w", gitwatch.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return live.Release, nil
}

// List lists releases.
func (g GitReleases) List(ctx context.Context) ([]*release.Release, error) { return g.C.List(ctx) }
