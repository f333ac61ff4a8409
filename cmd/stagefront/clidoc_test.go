package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// cliDocPath is the command reference generated from the cobra tree.
const cliDocPath = "../../docs/cli.md"

// cliDoc renders every command's help as one Markdown page, with the
// "see also" links pointing inside the page.
func cliDoc(t *testing.T) []byte {
	t.Helper()
	root := newRootCmd()
	root.DisableAutoGenTag = true
	var b bytes.Buffer
	b.WriteString("# Command reference\n\n" +
		"Generated from the commands' own help by `cmd/stagefront/clidoc_test.go`;\n" +
		"regenerate with `STAGEFRONT_WRITE_CLI_DOC=1 go test ./cmd/stagefront -run TestCLIDoc`.\n\n")
	anchor := func(name string) string {
		return "#" + strings.ReplaceAll(strings.TrimSuffix(name, ".md"), "_", "-")
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		var page bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &page, anchor); err != nil {
			t.Fatal(err)
		}
		// One page: demote each command's headings one level under its own.
		b.Write(regexp.MustCompile(`(?m)^(#+) `).ReplaceAll(page.Bytes(), []byte("#$1 ")))
		b.WriteString("\n")
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return b.Bytes()
}

// TestCLIDoc fails when docs/cli.md is not what the commands say today.
func TestCLIDoc(t *testing.T) {
	t.Parallel()
	got := cliDoc(t)
	if os.Getenv("STAGEFRONT_WRITE_CLI_DOC") == "1" {
		if err := os.WriteFile(cliDocPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(cliDocPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/cli.md is stale: run STAGEFRONT_WRITE_CLI_DOC=1 go test ./cmd/stagefront -run TestCLIDoc and commit it")
	}
}

// TestREADMEListsEveryCommand: every command a user can run appears in
// the README's command list, as `stagefront PATH`.
func TestREADMEListsEveryCommand(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.Runnable() && !sub.HasAvailableSubCommands() {
				if path := sub.CommandPath(); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `\b`).Match(readme) {
					t.Errorf("README.md does not list %q (a line starting with it)", path)
				}
			}
			walk(sub)
		}
	}
	walk(newRootCmd())
}
