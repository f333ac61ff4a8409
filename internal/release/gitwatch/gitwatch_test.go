package gitwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/release/gitwatch/gittest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// fakeReleases is the release API as the watcher sees it: one active
// release per primary, names unique.
type fakeReleases struct {
	mu     sync.Mutex
	rels   map[string]*release.Release
	starts []string
	// afterStart, when set, replaces a successful start's answer (the
	// release is recorded all the same): a reply lost on the way back.
	afterStart error
}

func newFakeReleases() *fakeReleases { return &fakeReleases{rels: map[string]*release.Release{}} }

func (f *fakeReleases) Start(_ context.Context, spec *release.Spec) (*release.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if spec.Primary == "EUNKNOWN" {
		return nil, fmt.Errorf("no distribution has the id or alias %q: %w", spec.Primary, ErrRefused)
	}
	if _, ok := f.rels[spec.Name]; ok {
		return nil, fmt.Errorf("release %q: already exists: %w", spec.Name, ErrConflict)
	}
	for _, r := range f.rels {
		if r.PrimaryID == spec.Primary && !r.State.Phase.Terminal() {
			return nil, fmt.Errorf("%s is busy: %w", spec.Primary, ErrConflict)
		}
	}
	rel := &release.Release{Name: spec.Name, Spec: *spec, PrimaryID: spec.Primary, State: release.State{Phase: release.PhaseProgressing}}
	f.rels[spec.Name] = rel
	f.starts = append(f.starts, spec.Name)
	if f.afterStart != nil {
		return nil, f.afterStart
	}
	cp := *rel
	return &cp, nil
}

func (f *fakeReleases) Get(_ context.Context, name string) (*release.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rels[name]
	if !ok {
		return nil, fmt.Errorf("release %q: %w", name, ErrNotFound)
	}
	cp := *r
	return &cp, nil
}

func (f *fakeReleases) List(context.Context) ([]*release.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*release.Release
	for _, r := range f.rels {
		cp := *r
		out = append(out, &cp)
	}
	return out, nil
}

func (f *fakeReleases) end(name string, phase release.Phase, generation int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rels[name].State.Phase, f.rels[name].State.Generation, f.rels[name].State.Reason = phase, generation, "test says so"
}

func (f *fakeReleases) started() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.starts...)
}

// fakeConfigs answers GetDistributionConfig with an origin path.
type fakeConfigs struct{ originPath string }

func (f *fakeConfigs) GetDistributionConfig(_ context.Context, in *cloudfront.GetDistributionConfigInput, _ ...func(*cloudfront.Options)) (*cloudfront.GetDistributionConfigOutput, error) {
	return &cloudfront.GetDistributionConfigOutput{ETag: aws.String("E1"), DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("ref-" + aws.ToString(in.Id)), Comment: aws.String("live"), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{Id: aws.String("web"), DomainName: aws.String("origin.test"), OriginPath: aws.String(f.originPath)}}},
	}}, nil
}

func spec(name, primary, version string) string {
	return fmt.Sprintf(`name: %s
primary: %s
staging:
  set:
    Origins.Items[Id=web].OriginPath: /%s
steps:
  - header: {name: aws-cf-cd-env, value: staging}
  - approve: {}
  - promote: {}
`, name, primary, version)
}

type harness struct {
	t        *testing.T
	repo     *gittest.Repo
	releases *fakeReleases
	configs  *fakeConfigs
	stateDir string
	logs     *testutil.LogBuffer
}

func newHarness(t *testing.T, bare bool) *harness {
	h := &harness{t: t, repo: gittest.New(t, bare), releases: newFakeReleases(), configs: &fakeConfigs{originPath: "/v1"},
		stateDir: t.TempDir(), logs: &testutil.LogBuffer{}}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("GITWATCH_LOGS") != "" {
			t.Logf("watcher logs:\n%s", h.logs)
		}
	})
	return h
}

// watcher starts a watcher instance (a fresh process, as far as state goes).
func (h *harness) watcher() *Watcher {
	h.t.Helper()
	w, err := New(Options{
		Repo: h.repo.Dir, Branch: "main", File: "release.yaml", WriteBack: "live/distribution.json", StateDir: h.stateDir,
		Releases: h.releases, Configs: h.configs, Now: func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	testutil.Must(h.t, err)
	return w
}

func (h *harness) wantStarted(want ...string) {
	h.t.Helper()
	if got := h.releases.started(); strings.Join(got, ",") != strings.Join(want, ",") {
		h.t.Fatalf("started %v, want %v\nlogs:\n%s", got, want, h.logs)
	}
}

func TestGitWatchOrderWaitRestartWriteBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	ctx := t.Context()
	w := h.watcher()
	testutil.Must(t, w.Step(ctx)) // first run: the head is the starting point
	h.wantStarted()

	h.repo.Commit("release r1", map[string]string{"release.yaml": spec("r1", "EPRIMARY", "v2")})
	h.repo.Commit("docs", map[string]string{"README.md": "site, v2\n"})
	c3 := h.repo.Commit("release r2", map[string]string{"release.yaml": spec("r2", "EPRIMARY", "v3")})
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1") // r2 waits for r1: same primary
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1")
	if n := strings.Count(h.logs.String(), "waiting: the primary has an active release"); n != 1 {
		t.Errorf("the wait was logged %d times, want once", n)
	}

	// A restarted watcher starts nothing twice.
	w = h.watcher()
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1")

	// r1 promoted: its live config is committed, then r2 starts.
	h.configs.originPath = "/v2"
	h.releases.end("r1", release.PhasePromoted, 1)
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1", "r2")
	head := h.repo.Head()
	if got, want := subject(head), "stagefront: promoted r1 (generation 1)"; got != want {
		t.Fatalf("head is %q, want %q", got, want)
	}
	if head.Author.Name != "stagefront" || head.Author.Email != "stagefront@localhost" {
		t.Errorf("write-back author %s <%s>", head.Author.Name, head.Author.Email)
	}
	if head.ParentHashes[0] != c3 {
		t.Errorf("write-back parent %s, want the branch head %s", head.ParentHashes[0], c3)
	}
	if got := originPathIn(t, head, "live/distribution.json"); got != "/v2" {
		t.Errorf("written back OriginPath %q, want /v2", got)
	}
	// The worktree shows the file and stays clean.
	status, err := h.repo.Worktree.Status()
	testutil.Must(t, err)
	if !status.IsClean() {
		t.Errorf("worktree not clean after write-back:\n%s", status)
	}

	// The write-back commit triggers nothing; neither does a rejected r2.
	testutil.Must(t, w.Step(ctx))
	h.releases.end("r2", release.PhaseRejected, 0)
	testutil.Must(t, w.Step(ctx))
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1", "r2")
	if got := subject(h.repo.Head()); got != "stagefront: promoted r1 (generation 1)" {
		t.Errorf("after a rejection the head is %q, want the first write-back still", got)
	}
	if !strings.Contains(h.logs.String(), "ended without promotion") {
		t.Errorf("the rejection was not logged:\n%s", h.logs)
	}
	// A developer's next commit keeps the written-back file.
	h.repo.Commit("docs again", map[string]string{"README.md": "site, v3\n"})
	if got := originPathIn(t, h.repo.Head(), "live/distribution.json"); got != "/v2" {
		t.Errorf("after a developer commit, OriginPath %q", got)
	}
}

func originPathIn(t *testing.T, c *object.Commit, p string) string {
	t.Helper()
	f, err := c.File(p)
	testutil.Must(t, err)
	content, err := f.Contents()
	testutil.Must(t, err)
	var cfg struct {
		Origins struct{ Items []struct{ OriginPath string } }
	}
	testutil.Must(t, json.Unmarshal([]byte(content), &cfg))
	if len(cfg.Origins.Items) == 0 {
		t.Fatalf("%s has no origins:\n%s", p, content)
	}
	return cfg.Origins.Items[0].OriginPath
}

// TestGitWatchSkips: every commit that cannot start a release is skipped
// with a log line that says why, and the next one is handled.
func TestGitWatchSkips(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	ctx := t.Context()
	w := h.watcher()
	testutil.Must(t, w.Step(ctx))
	h.releases.rels["taken"] = &release.Release{Name: "taken", PrimaryID: "EOTHER", State: release.State{Phase: release.PhasePromoted}}

	h.repo.Commit("bad percent", map[string]string{"release.yaml": strings.Replace(spec("bad", "EPRIMARY", "v2"), "- approve: {}", "- weight: {percent: 20}", 1)})
	h.repo.Commit("unknown primary", map[string]string{"release.yaml": spec("lost", "EUNKNOWN", "v2")})
	h.repo.Commit("delete spec", map[string]string{"release.yaml": ""})
	h.repo.CommitAs(object.Signature{Name: "stagefront", Email: "stagefront@localhost"}, "stagefront: promoted x (generation 9)",
		map[string]string{"release.yaml": spec("imposter", "EPRIMARY", "v2")})
	h.repo.Commit("reused name", map[string]string{"release.yaml": spec("taken", "EPRIMARY", "v2")})
	h.repo.Commit("good", map[string]string{"release.yaml": spec("good", "EPRIMARY", "v2")})
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("good")
	logs := h.logs.String()
	for _, want := range []string{
		"release.yaml:8: steps[1].weight.percent: 20 is outside",
		"refused by the release API",
		"the spec file is missing at this commit",
		"skipped the watcher's own write-back commit",
		"a release with this name already exists",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// TestGitWatchLostReply: the API recorded a start whose reply was lost; a
// restarted watcher follows that release instead of starting another.
func TestGitWatchLostReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	ctx := t.Context()
	testutil.Must(t, h.watcher().Step(ctx))
	h.repo.Commit("release r1", map[string]string{"release.yaml": spec("r1", "EPRIMARY", "v2")})
	h.releases.afterStart = errors.New("connection reset")
	if err := h.watcher().Step(ctx); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("step with a lost reply: %v, want the transport error", err)
	}
	h.releases.afterStart = nil
	w := h.watcher() // restart
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1")
	if !strings.Contains(h.logs.String(), "already started for this commit") {
		t.Errorf("the adoption was not logged:\n%s", h.logs)
	}
	h.releases.end("r1", release.PhasePromoted, 3)
	h.configs.originPath = "/v2"
	testutil.Must(t, w.Step(ctx))
	if got := subject(h.repo.Head()); got != "stagefront: promoted r1 (generation 3)" {
		t.Fatalf("head %q, want r1's write-back", got)
	}
}

// TestGitWatchBareRepository: a bare repository (what a git server holds)
// is watched and written back to the same way.
func TestGitWatchBareRepository(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	ctx := t.Context()
	w := h.watcher()
	testutil.Must(t, w.Step(ctx))
	h.repo.Commit("release r1", map[string]string{"release.yaml": spec("r1", "EPRIMARY", "v2")})
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("r1")
	h.releases.end("r1", release.PhasePromoted, 1)
	h.configs.originPath = "/v2"
	testutil.Must(t, w.Step(ctx))
	head := h.repo.Head()
	if got := originPathIn(t, head, "live/distribution.json"); got != "/v2" || subject(head) != "stagefront: promoted r1 (generation 1)" {
		t.Fatalf("head %q with OriginPath %q, want r1's write-back with /v2", subject(head), got)
	}
	if _, err := head.File("release.yaml"); err != nil {
		t.Errorf("the write-back commit lost release.yaml: %v", err)
	}
}

func TestGitWatchErrors(t *testing.T) {
	t.Parallel()
	r := gittest.New(t, false)
	base := Options{Repo: r.Dir, Branch: "main", File: "release.yaml", StateDir: t.TempDir(), Releases: newFakeReleases()}
	for _, tc := range []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"not a repository", func(o *Options) { o.Repo = t.TempDir() }, "is not a git repository"},
		{"unknown branch", func(o *Options) { o.Branch = "prod" }, `branch "prod" not found in ` + r.Dir + " (its branches: main)"},
		{"write-back is the spec", func(o *Options) { o.WriteBack = "./release.yaml"; o.Configs = &fakeConfigs{} }, "--write-back must be another file"},
		{"file outside", func(o *Options) { o.File = "../release.yaml" }, "not a file inside the repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A state directory already used for another spec file is refused.
	o := base
	w, err := New(o)
	testutil.Must(t, err)
	testutil.Must(t, w.Step(t.Context()))
	o.File = "deploy/release.yaml"
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "use another --state-dir") {
		t.Fatalf("New with another file on the same state: %v", err)
	}
	if _, err := os.Stat(StateFile(o.StateDir, "main")); err != nil {
		t.Fatal(err)
	}
}

// TestGitWatchConfigFromCommit: `staging.config: FILE` is read from the
// same commit as the spec, relative to the spec's directory.
func TestGitWatchConfigFromCommit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	ctx := t.Context()
	w, err := New(Options{Repo: h.repo.Dir, Branch: "main", File: "deploy/release.yaml", StateDir: h.stateDir, Releases: h.releases, Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	testutil.Must(t, err)
	testutil.Must(t, w.Step(ctx))
	h.repo.Commit("release with a config", map[string]string{
		"deploy/release.yaml": "name: cfg\nprimary: EPRIMARY\nstaging: {config: staging.json}\nsteps: [{promote: {}}]\n",
		"deploy/staging.json": `{"Origins": {"Quantity": 1, "Items": [{"Id": "web", "DomainName": "origin.test", "OriginPath": "/v9"}]}}`,
	})
	testutil.Must(t, w.Step(ctx))
	h.wantStarted("cfg")
	rel, err := h.releases.Get(ctx, "cfg")
	testutil.Must(t, err)
	if !strings.Contains(string(rel.Spec.Staging.Config), "/v9") {
		t.Fatalf("the started spec's staging config is %s, want the committed staging.json", rel.Spec.Staging.Config)
	}
}
