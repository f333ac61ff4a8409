package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/testutil"
)

// runCLI runs `stagefront ARGS…` in process.
func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	return root.ExecuteContext(t.Context())
}

// TestReleaseCLI drives a release with the CLI commands, signed with named
// credentials from `stagefront credentials add`.
func TestReleaseCLI(t *testing.T) {
	s, primaryID, domain := newStack(t)
	// `credentials add` writes the same file the stack verifies with; the
	// stack's CredentialFile only reads it at start, so add through it.
	testutil.Must(t, runCLI(t, "credentials", "add", "erin", "--data-dir", t.TempDir()))
	s.client("erin") // creates the principal
	t.Setenv("AWS_ACCESS_KEY_ID", s.cred("erin").AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.cred("erin").SecretAccessKey)

	dir := t.TempDir()
	spec := filepath.Join(dir, "release.yaml")
	testutil.Must(t, os.WriteFile(spec, []byte(headerSpec("cli", primaryID, "v2")), 0o600))
	ep := "--endpoint=" + s.api.URL
	testutil.Must(t, runCLI(t, "release", "start", "-f", spec, ep))
	testutil.Must(t, runCLI(t, "release", "status", "cli", ep))
	testutil.Must(t, runCLI(t, "release", "list", ep))
	testutil.Must(t, runCLI(t, "release", "approve", "cli", "-m", "ship it", ep))
	s.waitEdge()
	live := wantPhase(t, s, "cli", release.PhasePromoted)
	if d := live.State.Decisions; len(d) != 1 || d[0].By != "erin" || d[0].Comment != "ship it" {
		t.Fatalf("decisions %+v, want erin's approval with her comment", d)
	}
	if body, _, _ := s.viewer(domain, false).get(); body != "v2" {
		t.Fatalf("after the CLI's promotion: %q", body)
	}
	testutil.Must(t, runCLI(t, "release", "history", primaryID, ep))
	testutil.Must(t, runCLI(t, "release", "rollback", primaryID, "--to", "0", ep))
	s.waitEdge()
	if body, _, _ := s.viewer(domain, false).get(); body != "v1" {
		t.Fatalf("after the CLI's rollback: %q", body)
	}

	// A bad spec is refused before anything is sent, with line and field.
	bad := filepath.Join(dir, "bad.yaml")
	testutil.Must(t, os.WriteFile(bad, []byte(strings.Replace(weightSpec("bad", primaryID, "v3"), "percent: 15", "percent: 20", 1)), 0o600))
	err := runCLI(t, "release", "start", "-f", bad, ep)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:9: steps[1].weight.percent") {
		t.Fatalf("bad spec: %v, want an error at bad.yaml:9 naming steps[1].weight.percent", err)
	}
	// Unsigned or wrongly signed requests are refused.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if err := runCLI(t, "release", "list", ep); err == nil {
		t.Fatal("a wrongly signed request was accepted")
	}
}

// TestReleaseStartRefusesUnknownSelector: a `set` selector that matches
// nothing on the primary is refused by `release start` with the file, line
// and field, and leaves the primary free: the next valid release starts.
func TestReleaseStartRefusesUnknownSelector(t *testing.T) {
	s, primaryID, _ := newStack(t)
	s.client("erin") // creates the principal
	t.Setenv("AWS_ACCESS_KEY_ID", s.cred("erin").AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.cred("erin").SecretAccessKey)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	testutil.Must(t, os.WriteFile(bad, []byte(strings.Replace(headerSpec("typo", primaryID, "v2"), "[Id=web]", "[Id=wbe]", 1)), 0o600))
	ep := "--endpoint=" + s.api.URL
	err := runCLI(t, "release", "start", "-f", bad, ep)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:6: staging.set.Origins.Items[Id=wbe].OriginPath:") || !strings.Contains(err.Error(), "web") {
		t.Fatalf("start with an unknown origin Id: %v; want bad.yaml:6 naming the field and the Ids the primary has", err)
	}
	if err := runCLI(t, "release", "status", "typo", ep); err == nil {
		t.Fatal("the refused release exists")
	}
	good := filepath.Join(dir, "good.yaml")
	testutil.Must(t, os.WriteFile(good, []byte(headerSpec("fixed", primaryID, "v2")), 0o600))
	testutil.Must(t, runCLI(t, "release", "start", good, ep)) // the file as the argument, without -f
	wantPhase(t, s, "fixed", release.PhaseProgressing)
}

// TestReleaseStartTakesTheFileEitherWay: `release start FILE` reads FILE as
// `-f FILE` does (it used to answer `unknown command "FILE"`); no file, or
// two different ones, is an error that says how to call it.
func TestReleaseStartTakesTheFileEitherWay(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "release.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"release", "start", missing}, "release.yaml"},
		{[]string{"release", "start", "-f", missing}, "release.yaml"},
		{[]string{"release", "start"}, "no spec file: stagefront release start -f FILE"},
		{[]string{"release", "start", "-f", "a.yaml", "b.yaml"}, "two spec files"},
	} {
		err := runCLI(t, append(tc.args, "--endpoint=http://127.0.0.1:1")...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestUnknownSubcommandFails: `stagefront release nope` is an error (exit
// status 1), with a suggestion; the group alone prints its help.
func TestUnknownSubcommandFails(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"release", "aprove"}, {"credentials", "remove"}} {
		err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%v: %v, want an unknown-command error", args, err)
		}
	}
	if err := runCLI(t, "release", "aprove"); err == nil || !strings.Contains(err.Error(), "did you mean approve") {
		t.Errorf("release aprove: %v, want a suggestion of approve", err)
	}
	if err := runCLI(t, "release"); err != nil {
		t.Errorf("release alone: %v, want its help", err)
	}
}
