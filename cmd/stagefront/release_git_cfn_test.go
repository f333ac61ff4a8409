package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	cfnstack "github.com/stagefront/stagefront/internal/cfn/stack"
	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/cli"
	"github.com/stagefront/stagefront/internal/release/gitwatch"
	"github.com/stagefront/stagefront/internal/testutil"
)

// gitRepo is a repository made and committed to with the real git binary.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the git binary is required: %v", err)
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "--quiet", "--initial-branch=main")
	r.commit("initial", map[string]string{"README.md": "site\n"})
	return r
}

func (r *gitRepo) git(args ...string) {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=dev",
		"GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (r *gitRepo) commit(msg string, files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		testutil.Must(r.t, os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o644))
		r.git("add", name)
	}
	r.git("commit", "--quiet", "-m", msg)
}

// templateSpec is a release spec whose staging is the article's template.
func templateSpec(name, primaryID, oacID string) string {
	return fmt.Sprintf(`name: %s
primary: %s
staging:
  template:
    path: staging-cloudfront-distribution.yml
    stack: cd-staging
    parameters:
      PrimaryDistributionId: %s
      StaticResourceBucketName: site
      OriginAccessControlId: %s
steps:
  - approve: {}
  - promote: {}
`, name, primaryID, primaryID, oacID)
}

// newTemplateStack starts the stack with the CloudFormation engine and an
// S3 stand-in (/site/<version>/index.html answers <version>), and creates
// the primary from testdata/cfn/primary.yml; it returns the primary's
// stack outputs (PrimaryDistributionId, OriginAccessControlId).
func newTemplateStack(t *testing.T) (*stack, map[string]string) {
	t.Helper()
	s3 := s3Origin(t)
	s := startStackWith(t, t.TempDir(), &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		harnessOptions{S3Endpoint: s3.URL, CloudFormation: true})
	primaryBody, err := os.ReadFile(seedTemplate("primary.yml"))
	testutil.Must(t, err)
	primaryStack, err := s.stacks.CreateStack(s.ctx(), cfnstack.Input{Region: release.DefaultStackRegion, StackName: "primary",
		TemplateBody: string(primaryBody), Parameters: []cfnstack.ParamInput{{Key: "BucketName", Value: "site"}}})
	if err != nil || primaryStack.Status != cfnstack.CreateComplete {
		t.Fatalf("primary stack: %v %+v", err, primaryStack)
	}
	outputs := map[string]string{}
	for _, o := range primaryStack.Outputs {
		outputs[o.Key] = o.Value
	}
	return s, outputs
}

// TestReleaseWatchGitArticleLoop runs the AWS article's whole loop with
// `release watch-git`: a repository laid out like the article's (the
// staging template, verbatim, beside release.yaml), committed to with the
// real git binary. The header template's commit starts a release that
// deploys the stack and routes the header to staging; approval promotes
// it, the primary serves staging's config, and the stack shows no drift.
// The weight template's commit then routes 15 % of viewers to staging,
// and its approval promotes that.
func TestReleaseWatchGitArticleLoop(t *testing.T) {
	t.Parallel()
	s, outputs := newTemplateStack(t)
	ctx := s.ctx()
	primaryID, oacID := outputs["PrimaryDistributionId"], outputs["OriginAccessControlId"]
	cf := s.cf()
	primary, err := cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(primaryID)})
	testutil.Must(t, err)
	domain := aws.ToString(primary.Distribution.DomainName)
	s.waitEdge()

	header, err := os.ReadFile(seedTemplate("staging-header.yml"))
	testutil.Must(t, err)
	weight, err := os.ReadFile(seedTemplate("staging-weight.yml"))
	testutil.Must(t, err)

	repo := newGitRepo(t)
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("watcher logs:\n%s", logs)
		}
	})
	w, err := gitwatch.New(gitwatch.Options{
		Repo: repo.dir, Branch: "main", File: "release.yaml", StateDir: t.TempDir(),
		Releases: cli.GitReleases{C: s.client("gitwatch")}, Configs: cf,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	testutil.Must(t, err)
	step := func() {
		t.Helper()
		testutil.Must(t, w.Step(s.ctx()))
		s.waitEdge()
	}
	get := func(hdr ...string) string {
		t.Helper()
		body, _, _ := s.viewer(domain, false).get(hdr...)
		return body
	}
	// promoted checks what a promotion leaves: the primary serves staging's
	// config, names no policy, and the staging stack is as its template.
	promoted := func(name, version string) {
		t.Helper()
		live := wantPhase(t, s, name, release.PhasePromoted)
		p, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(primaryID)})
		testutil.Must(t, err)
		st, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(live.State.StagingID)})
		testutil.Must(t, err)
		if release.ConfigDigest(p.DistributionConfig) != release.ConfigDigest(st.DistributionConfig) {
			t.Errorf("%s: the primary does not carry staging's config (origin path %s)", name, aws.ToString(p.DistributionConfig.Origins.Items[0].OriginPath))
		}
		if id := aws.ToString(p.DistributionConfig.ContinuousDeploymentPolicyId); id != "" {
			t.Errorf("%s: the primary still names policy %s", name, id)
		}
		if _, err := s.stacks.DetectStackDrift(ctx, release.DefaultStackRegion, "cd-staging", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.stacks.Describe(ctx, release.DefaultStackRegion, "cd-staging"); err != nil || got[0].Drift.Status != "IN_SYNC" {
			t.Errorf("%s: staging stack drift %v %v, want IN_SYNC", name, got[0].Drift.Status, err)
		}
		for _, hdr := range [][]string{nil, {"aws-cf-cd-env", "staging"}} {
			if body := get(hdr...); body != version {
				t.Errorf("%s: viewers (header %v) get %q, want %s", name, hdr, body, version)
			}
		}
	}

	step() // the head is where the watcher starts
	if got := get(); got != "1.0.0" {
		t.Fatalf("before any release the primary serves %q, want 1.0.0", got)
	}

	// The header template: the commit deploys the stack, the header reaches staging.
	repo.commit("staging: header routing to 2.0.0", map[string]string{
		"staging-cloudfront-distribution.yml": string(header), "release.yaml": templateSpec("header-2.0.0", primaryID, oacID)})
	step()
	if live := wantPhase(t, s, "header-2.0.0", release.PhaseProgressing); live.State.Step != 0 || live.CreatedBy != "gitwatch" {
		t.Fatalf("header-2.0.0 at step %d by %s, want the approval (step 0) by gitwatch; events %v", live.State.Step, live.CreatedBy, live.State.Events)
	}
	if got := get("aws-cf-cd-env", "staging"); got != "2.0.0" {
		t.Errorf("with the header: %q, want 2.0.0", got)
	}
	if got := get(); got != "1.0.0" {
		t.Errorf("without the header: %q, want 1.0.0", got)
	}
	_, err = s.client("bob").Decide(s.ctx(), "header-2.0.0", "approve", "header test passed")
	testutil.Must(t, err)
	s.waitEdge()
	promoted("header-2.0.0", "2.0.0")
	step()

	// The weight template on the same stack: 15 % of viewers reach staging.
	repo.commit("staging: 15% to 3.0.0", map[string]string{
		"staging-cloudfront-distribution.yml": string(weight), "release.yaml": templateSpec("weight-3.0.0", primaryID, oacID)})
	step()
	live := wantPhase(t, s, "weight-3.0.0", release.PhaseProgressing)
	if want := (release.Traffic{Enabled: true, Kind: release.TrafficWeight, WeightBP: 1500, IdleTTL: 300, MaxTTL: 600}); live.State.StackTraffic != want {
		t.Errorf("weight-3.0.0 routes %+v, want %+v", live.State.StackTraffic, want)
	}
	staged := 0
	for range 200 {
		if get() == "3.0.0" {
			staged++
		}
	}
	if staged < 20 || staged > 40 {
		t.Errorf("%d of 200 fresh viewers reached staging, want about 15%%", staged)
	}
	_, err = s.client("carol").Decide(s.ctx(), "weight-3.0.0", "approve", "")
	testutil.Must(t, err)
	s.waitEdge()
	promoted("weight-3.0.0", "3.0.0")
	step()
	if n := strings.Count(logs.String(), "watch-git: the release was promoted"); n != 2 {
		t.Errorf("the watcher saw %d promotions, want 2", n)
	}
}

// TestReleaseStartTemplateCLI sends specs with a `staging: template:` block
// through `stagefront release start` and the release HTTP API: the stack's
// region is AWS_REGION when the spec names none, --region over that, and a
// bad region is refused with its line.
func TestReleaseStartTemplateCLI(t *testing.T) {
	s, outputs := newTemplateStack(t)
	ctx := s.ctx()
	header, err := os.ReadFile(seedTemplate("staging-header.yml"))
	testutil.Must(t, err)
	dir := t.TempDir()
	testutil.Must(t, os.WriteFile(filepath.Join(dir, "staging-cloudfront-distribution.yml"), header, 0o600))
	spec := func(name, extra string) string {
		path := filepath.Join(dir, name+".yaml")
		body := strings.Replace(templateSpec(name, outputs["PrimaryDistributionId"], outputs["OriginAccessControlId"]),
			"    stack: cd-staging\n", "    stack: cd-staging\n"+extra, 1)
		testutil.Must(t, os.WriteFile(path, []byte(body), 0o600))
		return path
	}
	s.client("erin") // creates the principal
	t.Setenv("AWS_ACCESS_KEY_ID", s.cred("erin").AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.cred("erin").SecretAccessKey)
	t.Setenv("AWS_REGION", "eu-west-1")
	ep := "--endpoint=" + s.api.URL
	stackIn := func(region string) string {
		t.Helper()
		got, err := s.stacks.Describe(ctx, region, "cd-staging")
		if err != nil {
			return ""
		}
		return got[0].StackID
	}

	testutil.Must(t, runCLI(t, "release", "start", "-f", spec("from-env", ""), ep))
	if live := wantPhase(t, s, "from-env", release.PhaseProgressing); live.Spec.Staging.Template.Region != "eu-west-1" {
		t.Errorf("from-env: region %q, want eu-west-1 from AWS_REGION", live.Spec.Staging.Template.Region)
	}
	if !strings.HasPrefix(stackIn("eu-west-1"), "arn:aws:cloudformation:eu-west-1:") || stackIn("us-east-1") != "" {
		t.Errorf("from-env: stacks eu-west-1 %q us-east-1 %q, want only eu-west-1", stackIn("eu-west-1"), stackIn("us-east-1"))
	}
	testutil.Must(t, runCLI(t, "release", "reject", "from-env", ep))

	testutil.Must(t, runCLI(t, "release", "start", "-f", spec("from-flag", ""), ep, "--region", "ap-northeast-1"))
	if stackIn("ap-northeast-1") == "" {
		t.Errorf("from-flag: no stack in ap-northeast-1")
	}
	testutil.Must(t, runCLI(t, "release", "reject", "from-flag", ep))

	testutil.Must(t, runCLI(t, "release", "start", "-f", spec("from-spec", "    region: us-west-2\n"), ep, "--region", "ap-northeast-1"))
	if stackIn("us-west-2") == "" {
		t.Errorf("from-spec: no stack in us-west-2")
	}
	testutil.Must(t, runCLI(t, "release", "reject", "from-spec", ep))

	err = runCLI(t, "release", "start", "-f", spec("bad-region", "    region: Mars\n"), ep)
	if err == nil || !strings.Contains(err.Error(), `bad-region.yaml:7: staging.template.region: "Mars" is not a region name`) {
		t.Errorf("bad region: %v", err)
	}
}
