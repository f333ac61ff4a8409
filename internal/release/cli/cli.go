package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/stagefront/stagefront/internal/release"
)

// CLI runs the release subcommands against one API endpoint.
type CLI struct {
	Endpoint string
	JSON     bool      // print the API's JSON instead of text
	Out      io.Writer // nil: os.Stdout
	// Getenv reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (nil: os.Getenv).
	Getenv func(string) string
	// ReadFile reads specs and the files they include (nil: os.ReadFile).
	ReadFile func(string) ([]byte, error)
	// Region is a staging stack's region when the spec names none (the
	// --region flag); "" falls back to AWS_REGION, then AWS_DEFAULT_REGION,
	// as the aws CLI does, and then to the server's us-east-1.
	Region string
}

// stackRegion is the region given to a staging template without one.
func (c *CLI) stackRegion() string {
	for _, r := range []string{c.Region, c.getenv("AWS_REGION"), c.getenv("AWS_DEFAULT_REGION")} {
		if r != "" {
			return r
		}
	}
	return ""
}

// withRegion gives a spec's staging template the region when it names none.
func withRegion(spec *release.Spec, region string) {
	if t := spec.Staging.Template; t != nil && t.Region == "" {
		t.Region = region
	}
}

func (c *CLI) out() io.Writer {
	if c.Out == nil {
		return os.Stdout
	}
	return c.Out
}

func (c *CLI) getenv(k string) string {
	if c.Getenv == nil {
		return os.Getenv(k)
	}
	return c.Getenv(k)
}

func (c *CLI) readFile(name string) ([]byte, error) {
	if c.ReadFile == nil {
		return os.ReadFile(name)
	}
	return c.ReadFile(name)
}

// Client is the API client signed with the environment's key pair.
func (c *CLI) Client() (*Client, error) {
	return NewClient(c.Endpoint, c.getenv("AWS_ACCESS_KEY_ID"), c.getenv("AWS_SECRET_ACCESS_KEY"))
}

func (c *CLI) printJSON(v any) error {
	enc := json.NewEncoder(c.out())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Start parses the spec in file and starts the release.
func (c *CLI) Start(ctx context.Context, file string) error {
	data, err := c.readFile(file)
	if err != nil {
		return err
	}
	spec, err := release.Parse(data, file, c.readFile)
	if err != nil {
		return err
	}
	withRegion(spec, c.stackRegion())
	client, err := c.Client()
	if err != nil {
		return err
	}
	rel, err := client.Start(ctx, spec)
	if err != nil {
		return locate(spec, err)
	}
	if c.JSON {
		return c.printJSON(rel)
	}
	fmt.Fprintf(c.out(), "release %s started on %s (%s)\n", rel.Name, rel.PrimaryID, rel.Domain)
	PrintRelease(c.out(), &release.Live{Release: rel, Now: rel.Updated}, false)
	return nil
}

// locate puts the spec file's name and line on the problems the API found
// in it (the API only knows field paths).
func locate(spec *release.Spec, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidSpec" {
		return err
	}
	out := *ae
	out.Problems = make([]string, len(ae.Problems))
	for i, p := range ae.Problems {
		out.Problems[i] = spec.Locate(p)
	}
	if len(out.Problems) == 1 {
		out.Message = out.Problems[0]
	}
	return &out
}

// Status shows a release once, or redraws it until it ends (watch).
func (c *CLI) Status(ctx context.Context, name string, watch bool) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	if watch {
		return Watch(ctx, client, name, c.out())
	}
	live, err := client.Status(ctx, name)
	if err != nil {
		return err
	}
	if c.JSON {
		return c.printJSON(live)
	}
	PrintRelease(c.out(), live, false)
	return nil
}

// Decide sends verb (approve, reject or abort) with a comment.
func (c *CLI) Decide(ctx context.Context, verb, name, comment string) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	rel, err := client.Decide(ctx, name, verb, comment)
	if err != nil {
		return err
	}
	if c.JSON {
		return c.printJSON(rel)
	}
	fmt.Fprintf(c.out(), "%s: %s\n", rel.Name, rel.State.Phase)
	if rel.State.Reason != "" {
		fmt.Fprintf(c.out(), "  %s\n", rel.State.Reason)
	}
	return nil
}

// List prints every release, one a line.
func (c *CLI) List(ctx context.Context) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	rels, err := client.List(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return c.printJSON(rels)
	}
	tw := tabwriter.NewWriter(c.out(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPRIMARY\tPHASE\tSTEP\tCREATED BY\tUPDATED")
	for _, r := range rels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.PrimaryID, r.State.Phase, StepLabel(r),
			r.CreatedBy, r.Updated.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// History prints a primary's generations.
func (c *CLI) History(ctx context.Context, primary string) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	gens, err := client.History(ctx, primary)
	if err != nil {
		return err
	}
	if c.JSON {
		return c.printJSON(gens)
	}
	tw := tabwriter.NewWriter(c.out(), 0, 4, 2, ' ', 0)
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
}

// Rollback puts generation to's config back on primary.
func (c *CLI) Rollback(ctx context.Context, primary string, to int) error {
	client, err := c.Client()
	if err != nil {
		return err
	}
	gen, err := client.Rollback(ctx, primary, to)
	if err != nil {
		return err
	}
	if c.JSON {
		return c.printJSON(gen)
	}
	fmt.Fprintf(c.out(), "%s: generation %d restores generation %d\n", gen.Primary, gen.Number, gen.From)
	return nil
}
