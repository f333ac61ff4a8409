package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/stagefront/stagefront/internal/release/cli"
	"github.com/stagefront/stagefront/internal/server"
)

// newReleaseCmd is `stagefront release …`: flags, then internal/release/cli.
func newReleaseCmd() *cobra.Command {
	var c cli.CLI
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Run progressive releases: header tests, weight steps with analysis, approvals, promote, rollback",
		Long: "Talks to the release API of `stagefront serve` (SigV4 with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;\n" +
			"approvals record the name of those credentials). The spec format is in docs/releases.md.",
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.PersistentFlags().StringVar(&c.Endpoint, "endpoint", "http://"+server.DefaultAPIAddr, "stagefront API address")
	cmd.PersistentFlags().BoolVar(&c.JSON, "json", false, "print the API's JSON instead of text")
	cmd.PersistentFlags().StringVar(&c.Region, "region", "", "region of a staging template's stack when the spec names none (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)")

	var file string
	start := &cobra.Command{
		Use:   "start -f FILE",
		Short: "Start a release from a YAML spec",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return c.Start(cmd.Context(), file) },
	}
	start.Flags().StringVarP(&file, "file", "f", "", "release spec (YAML)")
	_ = start.MarkFlagRequired("file")

	var watch bool
	status := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a release: step, routing, per-variant requests and error rates, time left",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return c.Status(cmd.Context(), args[0], watch) },
	}
	status.Flags().BoolVarP(&watch, "watch", "w", false, "keep refreshing until the release is over")

	decide := func(verb, short string) *cobra.Command {
		var comment string
		d := &cobra.Command{
			Use:   verb + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE:  func(cmd *cobra.Command, args []string) error { return c.Decide(cmd.Context(), verb, args[0], comment) },
		}
		d.Flags().StringVarP(&comment, "comment", "m", "", "comment recorded with the decision")
		return d
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List releases",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return c.List(cmd.Context()) },
	}
	history := &cobra.Command{
		Use:   "history PRIMARY",
		Short: "List a primary's generations (promotions and rollbacks)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return c.History(cmd.Context(), args[0]) },
	}
	var to int
	rollback := &cobra.Command{
		Use:   "rollback PRIMARY --to GENERATION",
		Short: "Put an earlier generation's config back on the primary (recorded as a new generation)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return c.Rollback(cmd.Context(), args[0], to) },
	}
	rollback.Flags().IntVar(&to, "to", -1, "generation to restore")
	_ = rollback.MarkFlagRequired("to")

	cmd.AddCommand(start, status,
		decide("approve", "Approve the release's current approval step"),
		decide("reject", "Reject the release: routing off, staging reset"),
		decide("abort", "Abort the release at any step: routing off, staging reset"),
		list, history, rollback, newReleaseWatchGitCmd(&c))
	return cmd
}

// newReleaseWatchGitCmd is `stagefront release watch-git`.
func newReleaseWatchGitCmd(c *cli.CLI) *cobra.Command {
	var o cli.GitOptions
	var logLevel string
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
			o.Logger = server.NewLogger(logLevel)
			return c.WatchGit(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Repo, "repo", "", "the Git repository: a clone or a bare repository")
	fl.StringVar(&o.Branch, "branch", "main", "branch to follow")
	fl.StringVar(&o.File, "file", "release.yaml", "release spec, as a path in the repository")
	fl.StringVar(&o.WriteBack, "write-back", "", "commit the promoted primary's live DistributionConfig (JSON) to this path in the repository")
	fl.DurationVar(&o.Interval, "interval", 5*time.Second, "how often to poll the branch")
	fl.StringVar(&o.StateDir, "state-dir", ".", "directory of the state file .stagefront-watch-<branch>")
	fl.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}
