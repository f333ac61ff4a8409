package gitwatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// state is what the watcher remembers between polls and across restarts.
type state struct {
	// Repo, Branch and File say what the state was written for, so that one
	// state directory cannot silently mix two watchers.
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	File   string `json:"file"`
	// Last is the last handled commit: it and every commit before it on the
	// branch were skipped or started. Empty until the first poll, which
	// takes the branch head as its starting point.
	Last string `json:"lastHandled,omitempty"`
	// Pending is a start sent for the commit after Last whose answer may not
	// have been recorded (a crash between the two): if the release exists on
	// the next try, it is the watcher's own.
	Pending *started `json:"pending,omitempty"`
	// Watching holds the releases the watcher started whose end it has not
	// handled yet (write-back on promotion).
	Watching []started `json:"watching,omitempty"`
}

// started is a release the watcher started, and the commit it came from.
type started struct {
	Release string `json:"release"`
	Commit  string `json:"commit"`
}

// StateFile is where the watcher of branch keeps its state in dir:
// .stagefront-watch-<branch>, with the branch's slashes turned into dashes.
func StateFile(dir, branch string) string {
	return filepath.Join(dir, ".stagefront-watch-"+strings.ReplaceAll(branch, "/", "-"))
}

// loadState reads the state file; a missing file is a first run. A file
// written for another repository, branch or spec file is an error.
func loadState(path string, want state) (state, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return want, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read watch state: %w", err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, fmt.Errorf("watch state %s is not valid JSON (remove it to start over from the branch head): %w", path, err)
	}
	if st.Repo != want.Repo || st.Branch != want.Branch || st.File != want.File {
		return state{}, fmt.Errorf("watch state %s belongs to %s branch %s file %s, not %s branch %s file %s: use another --state-dir",
			path, st.Repo, st.Branch, st.File, want.Repo, want.Branch, want.File)
	}
	return st, nil
}

// save writes the state atomically (temporary file, then rename), so that
// a crash leaves the old state or the new one, never half of one.
func (st *state) save(path string) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode watch state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write watch state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write watch state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write watch state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write watch state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write watch state: %w", err)
	}
	return nil
}
