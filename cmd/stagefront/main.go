// Command stagefront is a self-hosted CDN edge with a CloudFront-compatible
// control plane and progressive releases, in one binary.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stagefront:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "stagefront",
		Short:         "A self-hosted CDN edge with a CloudFront-compatible control plane and safe, progressive releases",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newAPICmd(), newEdgeCmd())
	root.AddCommand(newReleaseCmd(), newCredentialsCmd())
	return root
}
