package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagefront/stagefront/internal/api/auth"
)

// newCredentialsCmd is `stagefront credentials add|list`: named API key
// pairs in the data directory's credentials.json. The name is what release
// approvals and rejections record.
func newCredentialsCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Manage the named API key pairs in the data directory",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "stagefront-data", "directory of `stagefront serve`")
	load := func() (*auth.CredentialFile, error) {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		creds, created, err := auth.LoadOrCreate(filepath.Join(dataDir, "credentials.json"), os.Getenv)
		if err == nil && created { // `serve` will not show the admin pair it did not create
			admin, _ := creds.Get(auth.AdminName)
			fmt.Printf("# generated the admin credentials too\n# admin: AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", admin.AccessKeyID, admin.SecretAccessKey)
		}
		return creds, err
	}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a key pair named NAME and print it (a running server accepts it at once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			creds, err := load()
			if err != nil {
				return err
			}
			c, err := creds.Add(args[0])
			if err != nil {
				return err
			}
			fmt.Printf("# credentials %q (stored 0600 in %s)\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=us-east-1\n",
				c.Name, filepath.Join(dataDir, "credentials.json"), c.AccessKeyID, c.SecretAccessKey)
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the key pairs (names and access key ids, never secrets)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			creds, err := load()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tACCESS KEY ID\tCREATED")
			for _, c := range creds.List() {
				created := "-"
				if !c.Created.IsZero() {
					created = c.Created.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.AccessKeyID, created)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}
