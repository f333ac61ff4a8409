package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/cli"
	"github.com/stagefront/stagefront/internal/release/gitwatch"
	"github.com/stagefront/stagefront/internal/release/gitwatch/gittest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// TestReleaseWatchGit drives releases from commits against the real API,
// edge and controller: a commit of release.yaml starts a release; commits
// that do not touch it start nothing; a restarted watcher starts nothing
// twice; a second spec committed during a release starts when the first
// ends; each promotion is committed back with the primary's live config;
// a rejection writes nothing; bad specs are skipped with line and field.
func TestReleaseWatchGit(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	repo := gittest.New(t, false)
	stateDir := t.TempDir()
	logs := &testutil.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("watcher logs:\n%s", logs)
		}
	})
	watcherClient := s.client("gitwatch")
	cf := testutil.CloudFront(s.api.URL, s.cred("gitwatch").AccessKeyID, s.cred("gitwatch").SecretAccessKey)
	newWatcher := func() *gitwatch.Watcher {
		w, err := gitwatch.New(gitwatch.Options{
			Repo: repo.Dir, Branch: "main", File: "release.yaml", WriteBack: "live/distribution.json", StateDir: stateDir,
			Releases: cli.GitReleases{C: watcherClient}, Configs: cf,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		testutil.Must(t, err)
		return w
	}
	w := newWatcher()
	step := func() {
		t.Helper()
		testutil.Must(t, w.Step(s.ctx()))
		s.waitEdge()
	}
	releases := func() []string {
		t.Helper()
		rels, err := s.client("admin-viewer").List(s.ctx())
		testutil.Must(t, err)
		var names []string
		for _, r := range rels {
			names = append(names, r.Name)
		}
		return names
	}
	wantReleases := func(want ...string) {
		t.Helper()
		got := releases()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("releases %v, want %v", got, want)
		}
	}
	writtenBack := func(c *object.Commit) string {
		t.Helper()
		f, err := c.File("live/distribution.json")
		testutil.Must(t, err)
		content, err := f.Contents()
		testutil.Must(t, err)
		var cfg struct {
			Origins struct {
				Items []struct{ Id, OriginPath string }
			}
		}
		testutil.Must(t, json.Unmarshal([]byte(content), &cfg))
		// The file is exactly the primary's live config.
		live, err := cf.GetDistributionConfig(s.ctx(), &cloudfront.GetDistributionConfigInput{Id: aws.String(primaryID)})
		testutil.Must(t, err)
		want, err := gitwatch.RenderConfig(live.DistributionConfig)
		testutil.Must(t, err)
		if content != string(want) {
			t.Errorf("written back:\n%s\nwant the live config:\n%s", content, want)
		}
		return cfg.Origins.Items[0].OriginPath
	}

	step() // first run: the head is where the watcher starts
	wantReleases()

	// A commit of release.yaml starts its release, as the watcher's principal.
	repo.Commit("release 2.0.0", map[string]string{"release.yaml": headerSpec("git-2.0.0", primaryID, "v2")})
	step()
	if live := wantPhase(t, s, "git-2.0.0", release.PhaseProgressing); live.CreatedBy != "gitwatch" || live.State.Step != 1 {
		t.Fatalf("git-2.0.0 created by %q at step %d, want gitwatch at step 1 (approve)", live.CreatedBy, live.State.Step)
	}
	if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v2" || variant != "staging" {
		t.Fatalf("with the header: %q from %q, want v2 from staging", body, variant)
	}

	// A commit that does not touch release.yaml starts nothing; a second
	// spec waits while git-2.0.0 is active.
	repo.Commit("docs", map[string]string{"README.md": "the site, now v2\n"})
	step()
	specCommit := repo.Commit("release 3.0.0", map[string]string{"release.yaml": headerSpec("git-3.0.0", primaryID, "v3")})
	step()
	step()
	wantReleases("git-2.0.0")

	// A restarted watcher (same state directory) starts nothing twice.
	w = newWatcher()
	step()
	wantReleases("git-2.0.0")

	// Approved → promoted → written back; then git-3.0.0 starts.
	_, err := s.client("bob").Decide(s.ctx(), "git-2.0.0", "approve", "looks good")
	testutil.Must(t, err)
	s.waitEdge()
	gen := wantPhase(t, s, "git-2.0.0", release.PhasePromoted).State.Generation
	step()
	head := repo.Head()
	if got, want := strings.TrimSpace(head.Message), "stagefront: promoted git-2.0.0 (generation 1)"; !strings.HasPrefix(got, want) || gen != 1 {
		t.Fatalf("head %q (generation %d), want %q", got, gen, want)
	}
	if head.Author.String() != "stagefront <stagefront@localhost>" || head.ParentHashes[0] != specCommit {
		t.Errorf("write-back by %s on %s, want stagefront <stagefront@localhost> on %s", head.Author.String(), head.ParentHashes[0], specCommit)
	}
	if got := writtenBack(head); got != "/v2" {
		t.Errorf("written-back OriginPath %q, want /v2", got)
	}
	wantPhase(t, s, "git-3.0.0", release.PhaseProgressing)
	if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v3" || variant != "staging" {
		t.Errorf("with the header during git-3.0.0: %q from %q, want v3 from staging", body, variant)
	}
	if body, _, _ := s.viewer(domain, false).get(); body != "v2" {
		t.Errorf("without the header: %q, want v2 (promoted)", body)
	}

	// The write-back commit is not a trigger.
	step()
	wantReleases("git-2.0.0", "git-3.0.0")

	_, err = s.client("bob").Decide(s.ctx(), "git-3.0.0", "approve", "")
	testutil.Must(t, err)
	s.waitEdge()
	step()
	head = repo.Head()
	if got := strings.TrimSpace(head.Message); !strings.HasPrefix(got, "stagefront: promoted git-3.0.0 (generation 2)") {
		t.Fatalf("head %q, want git-3.0.0's write-back", got)
	}
	if got := writtenBack(head); got != "/v3" {
		t.Errorf("written-back OriginPath %q, want /v3", got)
	}
	if status, err := repo.Worktree.Status(); err != nil || !status.IsClean() {
		t.Errorf("the worktree is not clean after the write-backs (%v):\n%s", err, status)
	}

	// A rejected release writes nothing back; bad specs are skipped with
	// their line and field (ours) or the API's reason.
	repo.Commit("release 4.0.0", map[string]string{"release.yaml": headerSpec("git-4.0.0", primaryID, "v4")})
	step()
	_, err = s.client("bob").Decide(s.ctx(), "git-4.0.0", "reject", "not today")
	testutil.Must(t, err)
	s.waitEdge()
	before := repo.Head().Hash
	step()
	if got := repo.Head().Hash; got != before {
		t.Errorf("a rejected release moved the branch to %s", got)
	}
	repo.Commit("too much", map[string]string{"release.yaml": strings.Replace(weightSpec("git-5.0.0", primaryID, "v5"), "percent: 15", "percent: 20", 1)})
	repo.Commit("wrong primary", map[string]string{"release.yaml": headerSpec("git-6.0.0", "E0000NOSUCHONE", "v6")})
	step()
	wantReleases("git-2.0.0", "git-3.0.0", "git-4.0.0")
	for _, want := range []string{
		"ended without promotion", "phase=Rejected",
		"release.yaml:9: steps[1].weight.percent: 20 is outside",
		`the release API refused the spec`, "E0000NOSUCHONE",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("watcher logs lack %q", want)
		}
	}
}

// TestReleaseWatchGitCLI runs `stagefront release watch-git` itself (its
// flags, SigV4 client and ticker loop) until a commit's release appears.
func TestReleaseWatchGitCLI(t *testing.T) {
	s, primaryID, _ := newStack(t)
	repo := gittest.New(t, false)
	c := s.client("erin")
	t.Setenv("AWS_ACCESS_KEY_ID", s.cred("erin").AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.cred("erin").SecretAccessKey)
	stateDir := t.TempDir()
	args := []string{"release", "watch-git", "--endpoint", s.api.URL, "--repo", repo.Dir, "--branch", "main",
		"--file", "release.yaml", "--write-back", "live.json", "--state-dir", stateDir, "--interval", "20ms", "--log-level", "error"}

	if err := runCLI(t, "release", "watch-git", "--repo", t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a git repository") {
		t.Errorf("watch-git on a plain directory: %v", err)
	}
	if err := runCLI(t, append(args, "--branch", "prod")...); err == nil || !strings.Contains(err.Error(), `branch "prod" not found`) {
		t.Errorf("watch-git on an unknown branch: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		root := newRootCmd()
		root.SetArgs(args)
		done <- root.ExecuteContext(ctx)
	}()
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: not within 20s", what)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// The first poll takes the head as its starting point and writes the state.
	eventually("first poll", func() bool {
		_, err := os.Stat(gitwatch.StateFile(stateDir, "main"))
		return err == nil
	})
	repo.Commit("release", map[string]string{"release.yaml": headerSpec("cli-git", primaryID, "v2")})
	eventually("the watcher starts cli-git", func() bool {
		_, err := c.Status(ctx, "cli-git")
		return err == nil
	})
	if live := s.status("cli-git"); live.CreatedBy != "erin" {
		t.Errorf("cli-git created by %q, want erin", live.CreatedBy)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch-git after cancel: %v", err)
	}
}
