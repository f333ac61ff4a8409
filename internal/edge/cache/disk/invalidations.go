package disk

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// invalidationLog records, one per line, the invalidations whose purge
// reached the tier. Objects on disk outlive the process, so an edge that
// starts again must apply every invalidation created while it was down,
// and only those: re-applying one it applied before would purge objects
// cached after it, and skipping one would serve what it removed.
type invalidationLog struct {
	mu      sync.Mutex
	file    *os.File
	applied map[string]bool
}

func openInvalidationLog(path string) (*invalidationLog, error) {
	l := &invalidationLog{applied: map[string]bool{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	// A line cut by a crash is incomplete: it is ignored, so that
	// invalidation is applied again (which is safe, only wasteful).
	text := string(data)
	if i := strings.LastIndexByte(text, '\n'); i < len(text)-1 {
		text = text[:i+1]
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			l.applied[line] = true
		}
	}
	// Rewrite the log without a cut line before appending to it.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	if l.file, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	return l, nil
}

// InvalidationApplied reports whether the invalidation (an id that names
// it among all distributions, such as its store key) was recorded by
// RecordInvalidation, in this process or an earlier one.
func (t *Tier) InvalidationApplied(id string) bool {
	l := t.invalidations
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.applied[id]
}

// RecordInvalidation records that the invalidation's purge reached the
// tier. Call it after the purge: a crash in between applies it again.
func (t *Tier) RecordInvalidation(id string) error {
	if strings.ContainsAny(id, "\n\r") || id == "" {
		return fmt.Errorf("disk cache: invalid invalidation id %q", id)
	}
	l := t.invalidations
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.applied[id] {
		return nil
	}
	if _, err := l.file.WriteString(id + "\n"); err != nil {
		return fmt.Errorf("disk cache: record invalidation: %w", err)
	}
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("disk cache: record invalidation: %w", err)
	}
	l.applied[id] = true
	return nil
}
