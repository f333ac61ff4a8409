package gitwatch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
)

// ErrHistoryRewritten is returned when the last handled commit is no longer
// in the branch's first-parent history (a force push or a reset): the
// watcher cannot tell which commits are new, so it stops and says so.
var ErrHistoryRewritten = errors.New("the branch's history was rewritten")

// maxSpecBytes bounds what is read from a commit (the release API's limit).
const maxSpecBytes = 4 << 20

// openRepo opens a clone (path holds .git) or a bare repository (path is
// the git directory). It is called on every poll: go-git indexes a
// repository's packfiles once, so a long-lived handle would miss the packs
// a later push or gc writes.
func openRepo(repoPath string) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(repoPath, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s is not a git repository (a clone or a bare repository): %w", repoPath, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", repoPath, err)
	}
	return repo, nil
}

// branchHead returns the commit refs/heads/<branch> points at.
func branchHead(repo *git.Repository, repoPath, branch string) (*plumbing.Reference, error) {
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		var names []string
		if iter, ierr := repo.Branches(); ierr == nil {
			_ = iter.ForEach(func(r *plumbing.Reference) error {
				names = append(names, r.Name().Short())
				return nil
			})
		}
		known := "it has no branches yet"
		if len(names) > 0 {
			slices.Sort(names)
			known = "its branches: " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("branch %q not found in %s (%s): %w", branch, repoPath, known, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read branch %q: %w", branch, err)
	}
	return ref, nil
}

// commitsSince returns the commits after last up to head along first
// parents (the commits the branch itself moved through, merges included as
// one step), oldest first.
func commitsSince(repo *git.Repository, head, last plumbing.Hash) ([]*object.Commit, error) {
	var out []*object.Commit
	for h := head; h != last; {
		c, err := repo.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", h, err)
		}
		out = append(out, c)
		if len(c.ParentHashes) == 0 {
			return nil, fmt.Errorf("the last handled commit %s is not an ancestor of the head %s: %w", last, head, ErrHistoryRewritten)
		}
		h = c.ParentHashes[0]
	}
	slices.Reverse(out)
	return out, nil
}

// blobAt returns the blob at p in commit c; ok is false when there is no
// file at p.
func blobAt(c *object.Commit, p string) (hash plumbing.Hash, ok bool, err error) {
	tree, err := c.Tree()
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("read tree of %s: %w", c.Hash, err)
	}
	e, err := tree.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return plumbing.ZeroHash, false, nil
	}
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("find %s in %s: %w", p, c.Hash, err)
	}
	if !e.Mode.IsFile() {
		return plumbing.ZeroHash, false, nil
	}
	return e.Hash, true, nil
}

// changes reports whether commit c changes the file at p relative to its
// first parent (adding, modifying or deleting it).
func changes(repo *git.Repository, c *object.Commit, p string) (bool, error) {
	now, okNow, err := blobAt(c, p)
	if err != nil {
		return false, err
	}
	if len(c.ParentHashes) == 0 {
		return okNow, nil
	}
	parent, err := repo.CommitObject(c.ParentHashes[0])
	if err != nil {
		return false, fmt.Errorf("read parent of %s: %w", c.Hash, err)
	}
	before, okBefore, err := blobAt(parent, p)
	if err != nil {
		return false, err
	}
	return okNow != okBefore || now != before, nil
}

// readAt reads the file at p in commit c; fs.ErrNotExist-like errors say
// which commit lacks it.
func readAt(repo *git.Repository, c *object.Commit, p string) ([]byte, error) {
	h, ok, err := blobAt(c, p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s does not exist at commit %s: %w", p, short(c.Hash), object.ErrFileNotFound)
	}
	blob, err := repo.BlobObject(h)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(c.Hash), err)
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(c.Hash), err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(c.Hash), err)
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("%s at %s is over %d bytes", p, short(c.Hash), maxSpecBytes)
	}
	return data, nil
}

// commitFile commits content at p on branch, on top of its head, as one
// new commit that changes nothing else. It writes objects and moves the
// branch with compare-and-swap, so it works on a bare repository and never
// picks up whatever a worktree has staged. It returns the zero hash when
// the branch already holds exactly that content.
func commitFile(repo *git.Repository, branch plumbing.ReferenceName, p string, content []byte, message string, sig object.Signature) (plumbing.Hash, error) {
	s := repo.Storer
	blob := s.NewEncodedObject()
	blob.SetType(plumbing.BlobObject)
	w, err := blob.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	blobHash, err := s.SetEncodedObject(blob)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store blob: %w", err)
	}
	// Someone may push while we commit: retry on a fresh head a few times.
	for range 5 {
		ref, err := s.Reference(branch)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read %s: %w", branch, err)
		}
		head, err := object.GetCommit(s, ref.Hash())
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read head of %s: %w", branch, err)
		}
		if cur, ok, err := blobAt(head, p); err != nil {
			return plumbing.ZeroHash, err
		} else if ok && cur == blobHash {
			return plumbing.ZeroHash, nil
		}
		tree, err := putPath(s, head.TreeHash, strings.Split(p, "/"), blobHash)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("build tree with %s: %w", p, err)
		}
		commit := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: []plumbing.Hash{head.Hash}}
		obj := s.NewEncodedObject()
		if err := commit.Encode(obj); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
		}
		h, err := s.SetEncodedObject(obj)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("store commit: %w", err)
		}
		err = s.CheckAndSetReference(plumbing.NewHashReference(branch, h), ref)
		if errors.Is(err, storage.ErrReferenceHasChanged) {
			continue
		}
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("move %s to %s: %w", branch, short(h), err)
		}
		return h, nil
	}
	return plumbing.ZeroHash, fmt.Errorf("%s kept moving while committing %s: %w", branch, p, storage.ErrReferenceHasChanged)
}

// putPath returns a tree equal to the tree at treeHash (zero: empty) with
// the file at parts set to blob, writing the trees it changes.
func putPath(s storer.EncodedObjectStorer, treeHash plumbing.Hash, parts []string, blob plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !treeHash.IsZero() {
		t, err := object.GetTree(s, treeHash)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", treeHash, err)
		}
		entries = slices.Clone(t.Entries)
	}
	name := parts[0]
	i := slices.IndexFunc(entries, func(e object.TreeEntry) bool { return e.Name == name })
	var entry object.TreeEntry
	switch {
	case len(parts) == 1:
		mode := filemode.Regular
		if i >= 0 && entries[i].Mode == filemode.Executable {
			mode = filemode.Executable
		} else if i >= 0 && !entries[i].Mode.IsFile() {
			return plumbing.ZeroHash, fmt.Errorf("%s is a directory", name)
		}
		entry = object.TreeEntry{Name: name, Mode: mode, Hash: blob}
	default:
		sub := plumbing.ZeroHash
		if i >= 0 {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s is a file, not a directory", name)
			}
			sub = entries[i].Hash
		}
		h, err := putPath(s, sub, parts[1:], blob)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	if i >= 0 {
		entries[i] = entry
	} else {
		entries = append(entries, entry)
	}
	// Git orders a tree's entries by name, a directory's name as if it
	// ended with "/".
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	slices.SortFunc(entries, func(a, b object.TreeEntry) int { return strings.Compare(sortKey(a), sortKey(b)) })
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	return s.SetEncodedObject(obj)
}

// syncWorktree makes a worktree that has branch checked out show the file
// the watcher committed: written and staged, so that `git status` stays
// clean and the next commit made there keeps it. Bare repositories and
// worktrees on another branch are left alone.
func syncWorktree(repo *git.Repository, branch plumbing.ReferenceName, p string, content []byte) error {
	wt, err := repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open worktree: %w", err)
	}
	head, err := repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return fmt.Errorf("read HEAD: %w", err)
	}
	if head.Type() != plumbing.SymbolicReference || head.Target() != branch {
		return nil
	}
	if dir := path.Dir(p); dir != "." {
		if err := wt.Filesystem.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write %s in the worktree: %w", p, err)
		}
	}
	f, err := wt.Filesystem.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s in the worktree: %w", p, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s in the worktree: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s in the worktree: %w", p, err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{Path: p, SkipStatus: true}); err != nil {
		return fmt.Errorf("stage %s in the worktree: %w", p, err)
	}
	return nil
}

func short(h plumbing.Hash) string { return h.String()[:10] }
