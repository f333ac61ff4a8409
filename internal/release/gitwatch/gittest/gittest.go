// Package gittest makes git repositories for tests: a worktree on disk (or
// a bare repository with an in-memory worktree) in t.TempDir(), committed to
// with go-git the way a developer would.
package gittest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is a test repository on branch main.
type Repo struct {
	t        testing.TB
	Dir      string
	Repo     *git.Repository
	Worktree *git.Worktree
	when     time.Time
}

// New makes a repository with one initial commit (README.md).
func New(t testing.TB, bare bool) *Repo {
	t.Helper()
	dir := t.TempDir()
	r := &Repo{t: t, Dir: dir, when: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{Bare: bare, InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	must(t, err)
	if bare {
		// Developers' commits land in the bare repository's own storage.
		st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
		repo, err = git.Open(st, memfs.New())
		must(t, err)
	}
	r.Repo = repo
	r.Worktree, err = repo.Worktree()
	must(t, err)
	r.Commit("initial", map[string]string{"README.md": "site\n"})
	return r
}

// Commit writes files ("" deletes one) and commits them as a developer.
func (r *Repo) Commit(msg string, files map[string]string) plumbing.Hash {
	r.t.Helper()
	return r.CommitAs(object.Signature{Name: "dev", Email: "dev@example.com"}, msg, files)
}

// CommitAs is Commit with another author; each commit is a minute after the last.
func (r *Repo) CommitAs(author object.Signature, msg string, files map[string]string) plumbing.Hash {
	r.t.Helper()
	for name, content := range files {
		if content == "" {
			_, err := r.Worktree.Remove(name)
			must(r.t, err)
			continue
		}
		if dir := filepath.Dir(name); dir != "." {
			must(r.t, r.Worktree.Filesystem.MkdirAll(dir, 0o755))
		}
		f, err := r.Worktree.Filesystem.Create(name)
		must(r.t, err)
		_, err = f.Write([]byte(content))
		must(r.t, err)
		must(r.t, f.Close())
		_, err = r.Worktree.Add(name)
		must(r.t, err)
	}
	r.when = r.when.Add(time.Minute)
	author.When = r.when
	h, err := r.Worktree.Commit(msg, &git.CommitOptions{Author: &author})
	must(r.t, err)
	return h
}

// Head reopens the repository (as another process would) and returns the
// head commit of main.
func (r *Repo) Head() *object.Commit {
	r.t.Helper()
	repo, err := git.PlainOpen(r.Dir)
	must(r.t, err)
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true)
	must(r.t, err)
	c, err := repo.CommitObject(ref.Hash())
	must(r.t, err)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
