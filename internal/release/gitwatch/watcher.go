package gitwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagefront/stagefront/internal/release"
)

// Releases is the part of the release API the watcher calls. An
// implementation wraps ErrNotFound, ErrConflict or ErrRefused into the error
// it returns for those answers; any other error is taken as transient and
// the call is retried on the next poll.
type Releases interface {
	Start(ctx context.Context, spec *release.Spec) (*release.Release, error)
	Get(ctx context.Context, name string) (*release.Release, error)
	List(ctx context.Context) ([]*release.Release, error)
}

// Configs reads a distribution's live config; *cloudfront.Client is one.
type Configs interface {
	GetDistributionConfig(ctx context.Context, in *cloudfront.GetDistributionConfigInput, optFns ...func(*cloudfront.Options)) (*cloudfront.GetDistributionConfigOutput, error)
}

// The answers of Releases that the watcher acts on.
var (
	// ErrNotFound: Get found no release of that name.
	ErrNotFound = errors.New("no such release")
	// ErrConflict: Start was refused because the name is taken or the
	// primary has an active release.
	ErrConflict = errors.New("conflict")
	// ErrRefused: Start was refused for good: an invalid spec, an unknown primary.
	ErrRefused = errors.New("refused by the release API")
)

// Write-back commits are made by this author with this message prefix; the
// watcher recognizes (and skips) them by both.
const (
	authorName      = "stagefront"
	authorEmail     = "stagefront@localhost"
	writeBackPrefix = "stagefront: promoted "
)

// Options configure a Watcher.
type Options struct {
	// Repo is a clone (the directory holding .git) or a bare repository.
	Repo string
	// Branch is followed through refs/heads/<Branch>.
	Branch string
	// File is the release spec's path in the repository ("release.yaml",
	// "deploy/release.yaml").
	File string
	// WriteBack, when set, is the path in the repository where the promoted
	// primary's live DistributionConfig is committed. It must differ from File.
	WriteBack string
	// StateDir holds the state file (StateFile); "" is the current directory.
	StateDir string

	Releases Releases
	Configs  Configs // required with WriteBack
	Logger   *slog.Logger
	Now      func() time.Time // dates write-back commits; time.Now if nil
}

// Watcher starts a release for each new commit that changes the spec file
// of one branch. It is not safe for concurrent use: one loop calls Step.
type Watcher struct {
	opts      Options
	repoPath  string // absolute
	branch    plumbing.ReferenceName
	statePath string
	st        state
	log       *slog.Logger
	// waitingFor is the active release the last "waiting" line named, so
	// that a wait is logged once, not on every poll.
	waitingFor string
}

// New checks the options, the repository and the branch, and loads the
// state file.
func New(opts Options) (*Watcher, error) {
	if opts.Releases == nil {
		return nil, errors.New("gitwatch: Options.Releases is required")
	}
	if opts.Repo == "" || opts.Branch == "" || opts.File == "" {
		return nil, errors.New("--repo, --branch and --file are required")
	}
	var err error
	if opts.File, err = inRepo(opts.File); err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	if opts.WriteBack != "" {
		if opts.WriteBack, err = inRepo(opts.WriteBack); err != nil {
			return nil, fmt.Errorf("--write-back: %w", err)
		}
		if opts.WriteBack == opts.File {
			return nil, errors.New("--write-back must be another file than --file: a write-back commit must never trigger a release")
		}
		if opts.Configs == nil {
			return nil, errors.New("gitwatch: Options.Configs is required with WriteBack")
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StateDir == "" {
		opts.StateDir = "."
	}
	w := &Watcher{opts: opts, branch: plumbing.NewBranchReferenceName(opts.Branch)}
	if w.repoPath, err = filepath.Abs(opts.Repo); err != nil {
		return nil, fmt.Errorf("--repo: %w", err)
	}
	w.log = opts.Logger.With("repo", w.repoPath, "branch", opts.Branch)
	repo, err := openRepo(w.repoPath)
	if err != nil {
		return nil, err
	}
	if _, err := branchHead(repo, w.repoPath, opts.Branch); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("--state-dir: %w", err)
	}
	w.statePath = StateFile(opts.StateDir, opts.Branch)
	w.st, err = loadState(w.statePath, state{Repo: w.repoPath, Branch: opts.Branch, File: opts.File})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// inRepo cleans a path inside the repository to its slash form.
func inRepo(p string) (string, error) {
	clean := path.Clean(filepath.ToSlash(p))
	switch {
	case path.IsAbs(clean) || filepath.IsAbs(p):
		return "", fmt.Errorf("%q must be a path inside the repository, not an absolute one", p)
	case clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("%q is not a file inside the repository", p)
	case clean == ".git" || strings.HasPrefix(clean, ".git/"):
		return "", fmt.Errorf("%q is inside .git", p)
	}
	return clean, nil
}

// Run polls every interval until ctx ends. A failed poll is logged and
// retried on the next tick: nothing it did not finish is recorded as done.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("--interval must be positive, not %v", interval)
	}
	w.log.Info("watch-git: watching", "file", w.opts.File, "writeBack", w.opts.WriteBack, "state", w.statePath, "interval", interval)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := w.Step(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("watch-git: poll failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Step polls once: it settles the releases the watcher started (writing
// back promoted configs), then handles the branch's new commits, oldest
// first, until one has to wait for its primary.
func (w *Watcher) Step(ctx context.Context) error {
	repo, err := openRepo(w.repoPath)
	if err != nil {
		return err
	}
	if err := w.settle(ctx, repo); err != nil {
		return err
	}
	head, err := branchHead(repo, w.repoPath, w.opts.Branch)
	if err != nil {
		return err
	}
	if w.st.Last == "" {
		w.st.Last = head.Hash().String()
		w.log.Info("watch-git: first run: starting from the branch head; only later commits start releases", "commit", short(head.Hash()))
		return w.st.save(w.statePath)
	}
	commits, err := commitsSince(repo, head.Hash(), plumbing.NewHash(w.st.Last))
	if err != nil {
		return fmt.Errorf("%w (remove %s to start over from the head)", err, w.statePath)
	}
	for _, c := range commits {
		done, err := w.handle(ctx, repo, c)
		if err != nil {
			return fmt.Errorf("commit %s: %w", short(c.Hash), err)
		}
		if !done {
			return nil
		}
		w.st.Last, w.st.Pending = c.Hash.String(), nil
		if err := w.st.save(w.statePath); err != nil {
			return err
		}
	}
	return nil
}

// handle acts on one new commit. done is false when the commit must wait
// (its primary is busy): it is handled again on the next poll.
func (w *Watcher) handle(ctx context.Context, repo *git.Repository, c *object.Commit) (done bool, err error) {
	log := w.log.With("commit", short(c.Hash), "subject", subject(c))
	if isWriteBack(c) {
		log.Info("watch-git: skipped the watcher's own write-back commit")
		return true, nil
	}
	changed, err := changes(repo, c, w.opts.File)
	if err != nil {
		return false, err
	}
	if !changed {
		log.Info("watch-git: skipped: the commit does not change the spec", "file", w.opts.File)
		return true, nil
	}
	data, err := readAt(repo, c, w.opts.File)
	if errors.Is(err, object.ErrFileNotFound) {
		log.Warn("watch-git: skipped: the spec file is missing at this commit (deleted or renamed); nothing to release", "file", w.opts.File)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	spec, err := release.Parse(data, w.opts.File, func(name string) ([]byte, error) {
		p, err := inRepo(name)
		if err != nil {
			return nil, err
		}
		return readAt(repo, c, p)
	})
	if err != nil {
		log.Error("watch-git: skipped: invalid release spec; fix it in a new commit", "file", w.opts.File, "err", err)
		return true, nil
	}
	log = log.With("release", spec.Name, "primary", spec.Primary)

	// A release of that name may exist already: ours, if a start for this
	// commit was sent before a crash; otherwise the name is taken.
	existing, err := w.opts.Releases.Get(ctx, spec.Name)
	switch {
	case err == nil:
		if p := w.st.Pending; p != nil && p.Commit == c.Hash.String() && p.Release == spec.Name {
			log.Info("watch-git: the release was already started for this commit; following it", "phase", existing.State.Phase)
			w.follow(spec.Name, c.Hash)
			return true, nil
		}
		log.Error("watch-git: skipped: a release with this name already exists; give each release its own name",
			"phase", existing.State.Phase, "createdBy", existing.CreatedBy, "created", existing.Created)
		return true, nil
	case !errors.Is(err, ErrNotFound):
		return false, fmt.Errorf("look up release %s: %w", spec.Name, err)
	}

	if active, err := w.activeOn(ctx, spec.Primary); err != nil {
		return false, err
	} else if active != nil {
		w.logWait(log, active.Name, string(active.State.Phase))
		return false, nil
	}
	w.st.Pending = &started{Release: spec.Name, Commit: c.Hash.String()}
	if err := w.st.save(w.statePath); err != nil {
		return false, err
	}
	rel, err := w.opts.Releases.Start(ctx, spec)
	switch {
	case err == nil:
		w.waitingFor = ""
		log.Info("watch-git: started the release", "primaryId", rel.PrimaryID, "phase", rel.State.Phase, "step", rel.State.Step)
		w.follow(rel.Name, c.Hash)
		return true, nil
	case errors.Is(err, ErrConflict):
		// Nothing was created: the primary became busy since the check
		// (or is named differently there). Wait, like any busy primary.
		w.st.Pending = nil
		w.logWait(log, "", err.Error())
		return false, w.st.save(w.statePath)
	case errors.Is(err, ErrRefused):
		log.Error("watch-git: skipped: the release API refused the spec; fix it in a new commit", "file", w.opts.File, "err", err)
		return true, nil
	}
	return false, fmt.Errorf("start release %s: %w", spec.Name, err)
}

// activeOn returns the active release on primary (as the spec names it:
// id, domain or alias as written), if any.
func (w *Watcher) activeOn(ctx context.Context, primary string) (*release.Release, error) {
	rels, err := w.opts.Releases.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	for _, r := range rels {
		if r.State.Phase.Terminal() {
			continue
		}
		if r.PrimaryID == primary || r.Domain == primary || strings.EqualFold(r.Spec.Primary, primary) {
			return r, nil
		}
	}
	return nil, nil
}

func (w *Watcher) logWait(log *slog.Logger, active, detail string) {
	key := active + "\x00" + detail
	if w.waitingFor == key {
		log.Debug("watch-git: still waiting for the primary", "active", active)
		return
	}
	w.waitingFor = key
	log.Info("watch-git: waiting: the primary has an active release; this commit starts when it ends", "active", active, "detail", detail)
}

// follow records a release the watcher started, to act on its end.
func (w *Watcher) follow(name string, commit plumbing.Hash) {
	for _, s := range w.st.Watching {
		if s.Release == name {
			return
		}
	}
	w.st.Watching = append(w.st.Watching, started{Release: name, Commit: commit.String()})
}

// settle acts on the end of the releases the watcher started: a promotion
// is written back (when asked); any other ending is logged with its reason.
// A release still running stays followed. A failed write-back stops the
// poll, so no further release starts before the repository holds what is live.
func (w *Watcher) settle(ctx context.Context, repo *git.Repository) error {
	for i := 0; i < len(w.st.Watching); {
		s := w.st.Watching[i]
		log := w.log.With("release", s.Release, "commit", s.Commit[:min(10, len(s.Commit))])
		rel, err := w.opts.Releases.Get(ctx, s.Release)
		switch {
		case errors.Is(err, ErrNotFound):
			log.Warn("watch-git: the release no longer exists; nothing to write back")
		case err != nil:
			return fmt.Errorf("status of release %s: %w", s.Release, err)
		case !rel.State.Phase.Terminal():
			i++
			continue
		case rel.State.Phase != release.PhasePromoted:
			log.Warn("watch-git: the release ended without promotion; nothing written back",
				"phase", rel.State.Phase, "reason", rel.State.Reason)
		case w.opts.WriteBack == "":
			log.Info("watch-git: the release was promoted", "generation", rel.State.Generation)
		default:
			if err := w.writeBack(ctx, repo, rel, s.Commit); err != nil {
				return fmt.Errorf("write back release %s: %w", s.Release, err)
			}
		}
		w.st.Watching = append(w.st.Watching[:i], w.st.Watching[i+1:]...)
		if err := w.st.save(w.statePath); err != nil {
			return err
		}
	}
	return nil
}

func isWriteBack(c *object.Commit) bool {
	return c.Author.Email == authorEmail && strings.HasPrefix(c.Message, writeBackPrefix)
}

func subject(c *object.Commit) string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return s
}
