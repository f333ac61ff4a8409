package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagefront/stagefront/internal/release"
)

// newReleaseCmd is `stagefront release …`: a client of the release API.
func newReleaseCmd() *cobra.Command {
	var endpoint string
	var asJSON bool
	client := func() (*releaseClient, error) {
		return newReleaseClient(endpoint, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"))
	}
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Run progressive releases: header tests, weight steps with analysis, approvals, promote, rollback",
		Long: "Talks to the release API of `stagefront serve` (SigV4 with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;\n" +
			"approvals record the name of those credentials). The spec format is in docs/releases.md.",
	}
	cmd.PersistentFlags().StringVar(&endpoint, "endpoint", "http://127.0.0.1:4566", "stagefront API address")
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print the API's JSON instead of text")
	printJSON := func(v any) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}

	var file string
	start := &cobra.Command{
		Use:   "start -f FILE",
		Short: "Start a release from a YAML spec",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			spec, err := release.Parse(data, file, os.ReadFile)
			if err != nil {
				return err
			}
			c, err := client()
			if err != nil {
				return err
			}
			rel, err := c.start(cmd.Context(), spec)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(rel)
			}
			fmt.Printf("release %s started on %s (%s)\n", rel.Name, rel.PrimaryID, rel.Domain)
			printRelease(os.Stdout, &release.Live{Release: rel, Now: rel.Updated}, false)
			return nil
		},
	}
	start.Flags().StringVarP(&file, "file", "f", "", "release spec (YAML)")
	_ = start.MarkFlagRequired("file")

	var watch bool
	status := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a release: step, routing, per-variant requests and error rates, time left",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			if watch {
				return watchRelease(cmd.Context(), c, args[0], os.Stdout)
			}
			live, err := c.status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(live)
			}
			printRelease(os.Stdout, live, false)
			return nil
		},
	}
	status.Flags().BoolVarP(&watch, "watch", "w", false, "keep refreshing until the release is over")

	decide := func(verb, short string) *cobra.Command {
		var comment string
		c := &cobra.Command{
			Use:   verb + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client()
				if err != nil {
					return err
				}
				rel, err := c.decide(cmd.Context(), args[0], verb, comment)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(rel)
				}
				fmt.Printf("%s: %s\n", rel.Name, rel.State.Phase)
				if rel.State.Reason != "" {
					fmt.Printf("  %s\n", rel.State.Reason)
				}
				return nil
			},
		}
		c.Flags().StringVarP(&comment, "comment", "m", "", "comment recorded with the decision")
		return c
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List releases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			rels, err := c.list(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(rels)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPRIMARY\tPHASE\tSTEP\tCREATED BY\tUPDATED")
			for _, r := range rels {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.PrimaryID, r.State.Phase, stepLabel(r),
					r.CreatedBy, r.Updated.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}

	history := &cobra.Command{
		Use:   "history PRIMARY",
		Short: "List a primary's generations (promotions and rollbacks)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			gens, err := c.history(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(gens)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GEN\tKIND\tRELEASE\tAPPROVED BY\tBY\tAT\tDIGEST")
			for _, g := range gens {
				what := g.Release
				if g.Kind == "rollback" {
					what = "→ generation " + strconv.Itoa(g.From)
				}
				approvers := ""
				for i, d := range g.ApprovedBy {
					if i > 0 {
						approvers += ","
					}
					approvers += d.By
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Number, g.Kind, what, approvers, g.By, g.At.Local().Format(time.DateTime), g.Digest)
			}
			return tw.Flush()
		},
	}

	var to int
	rollback := &cobra.Command{
		Use:   "rollback PRIMARY --to GENERATION",
		Short: "Put an earlier generation's config back on the primary (recorded as a new generation)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			gen, err := c.rollback(cmd.Context(), args[0], to)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(gen)
			}
			fmt.Printf("%s: generation %d restores generation %d\n", gen.Primary, gen.Number, gen.From)
			return nil
		},
	}
	rollback.Flags().IntVar(&to, "to", -1, "generation to restore")
	_ = rollback.MarkFlagRequired("to")

	cmd.AddCommand(start, status,
		decide("approve", "Approve the release's current approval step"),
		decide("reject", "Reject the release: routing off, staging reset"),
		decide("abort", "Abort the release at any step: routing off, staging reset"),
		list, history, rollback)
	cmd.AddCommand(newReleaseWatchGitCmd()) // release_git.go
	return cmd
}
