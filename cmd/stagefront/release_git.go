package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/spf13/cobra"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/gitwatch"
)

// newReleaseWatchGitCmd is `stagefront release watch-git`: the Git trigger
// (internal/release/gitwatch) wired to the release API client and the
// CloudFront API, both signed with the caller's credentials.
func newReleaseWatchGitCmd() *cobra.Command {
	var f struct {
		repo, branch, file, writeBack, stateDir, logLevel string
		interval                                          time.Duration
	}
	cmd := &cobra.Command{
		Use:   "watch-git --repo PATH --branch main --file release.yaml",
		Short: "Start a release for each new commit that changes a spec file; commit the promoted config back",
		Long: "Polls a branch of a Git repository (a clone or a bare repository; no git binary needed) and starts a\n" +
			"release, through the release API, for each new commit that changes --file, oldest first, waiting while\n" +
			"the primary has an active release. With --write-back FILE, each promotion the watcher started commits the\n" +
			"primary's live DistributionConfig to FILE on the branch. The last handled commit is kept in\n" +
			"--state-dir/.stagefront-watch-<branch>, so a restart starts nothing twice. See docs/releases.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			endpoint, err := cmd.Flags().GetString("endpoint") // the release command's persistent flag
			if err != nil {
				return err
			}
			accessKey, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
			client, err := newReleaseClient(endpoint, accessKey, secret)
			if err != nil {
				return err
			}
			w, err := gitwatch.New(gitwatch.Options{
				Repo: f.repo, Branch: f.branch, File: f.file, WriteBack: f.writeBack, StateDir: f.stateDir,
				Releases: gitReleases{client},
				Configs: cloudfront.New(cloudfront.Options{
					BaseEndpoint: aws.String(client.endpoint), Region: "us-east-1",
					Credentials: credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
				}),
				Logger: newLogger(f.logLevel),
			})
			if err != nil {
				return err
			}
			return w.Run(cmd.Context(), f.interval)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "the Git repository: a clone or a bare repository")
	fl.StringVar(&f.branch, "branch", "main", "branch to follow")
	fl.StringVar(&f.file, "file", "release.yaml", "release spec, as a path in the repository")
	fl.StringVar(&f.writeBack, "write-back", "", "commit the promoted primary's live DistributionConfig (JSON) to this path in the repository")
	fl.DurationVar(&f.interval, "interval", 5*time.Second, "how often to poll the branch")
	fl.StringVar(&f.stateDir, "state-dir", ".", "directory of the state file .stagefront-watch-<branch>")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}

// gitReleases is the release API client as gitwatch needs it: the API's
// answers translated to gitwatch's sentinel errors.
type gitReleases struct{ c *releaseClient }

func (g gitReleases) Start(ctx context.Context, spec *release.Spec) (*release.Release, error) {
	rel, err := g.c.start(ctx, spec)
	var ae *apiError
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

func (g gitReleases) Get(ctx context.Context, name string) (*release.Release, error) {
	live, err := g.c.status(ctx, name)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "NotFound" {
		return nil, fmt.Errorf("%w: %w", gitwatch.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return live.Release, nil
}

func (g gitReleases) List(ctx context.Context) ([]*release.Release, error) { return g.c.list(ctx) }
