package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/cache/disk"
)

// writerEnv makes the test binary a writer process for
// TestSIGKILLMidWrite: it writes objects into the directory the variable
// names, under the prefix writerPrefixEnv names, until it is killed.
const (
	writerEnv       = "STAGEFRONT_DISK_TEST_WRITER_DIR"
	writerPrefixEnv = "STAGEFRONT_DISK_TEST_WRITER_PREFIX"
	writerObjects   = 400
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(writerEnv); dir != "" {
		if err := runWriter(dir, os.Getenv(writerPrefixEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// objectBody is the body of the object at path: large enough that a write
// takes a while, and different for every path, so a mixed-up or torn
// object cannot pass for another.
func objectBody(path string, i int) []byte {
	size := 64<<10 + (i*37<<10)%(960<<10)
	return bytes.Repeat([]byte(path+";"), size/(len(path)+1)+1)[:size]
}

func runWriter(dir, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tier, err := disk.Open(ctx, disk.Config{Dir: dir, MaxBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	id := cache.IdentityOf(origin{"a.example.com", "/v1"}, nil)
	for i := range writerObjects {
		path := fmt.Sprintf("%s/%d", prefix, i)
		now := time.Now()
		tier.Store(cache.NewKeyBuilder(id, path).Key(), &cache.Entry{Status: 200, Body: objectBody(path, i), StoredAt: now, TTL: time.Hour}, now.Add(time.Hour))
		if err := tier.Flush(ctx); err != nil {
			return err
		}
	}
	return tier.Close()
}

// TestSIGKILLMidWrite kills writer processes with SIGKILL at random
// moments while they write object files, several times on one directory.
// Every object a new process serves afterwards is whole and its own; at
// most the object being written when the kill came is lost, and the
// partial file it left is removed.
func TestSIGKILLMidWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const rounds = 4
	written := make([]int, rounds) // object files present before each kill
	partial := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+dir, fmt.Sprintf("%s=/r%d", writerPrefixEnv, round))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := countFiles(t, filepath.Join(dir, "objects"))
		deadline := time.Now().Add(20 * time.Second)
		for countFiles(t, filepath.Join(dir, "objects")) < base+5 {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("the writer wrote nothing")
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		written[round] = countFiles(t, filepath.Join(dir, "objects")) - base
		partial += countFiles(t, filepath.Join(dir, "tmp"))
	}
	t.Logf("object files per round: %v; partial writes left in tmp/: %d", written, partial)

	tier := openTier(t, dir, 1<<30, nil)
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Errorf("%d partial writes left after Open", n)
	}
	id := cache.IdentityOf(origin{"a.example.com", "/v1"}, nil)
	for round := range rounds {
		served := 0
		for i := range writerObjects {
			path := fmt.Sprintf("/r%d/%d", round, i)
			e, ok := tier.Load(cache.NewKeyBuilder(id, path).Key(), time.Now())
			if !ok {
				continue
			}
			served++
			if !bytes.Equal(e.Body, objectBody(path, i)) {
				t.Fatalf("object %s served with a wrong body (%d bytes)", path, len(e.Body))
			}
		}
		if served < written[round] {
			t.Errorf("round %d: %d objects served, %d files were written before the kill", round, served, written[round])
		}
	}
	if c := tier.Stats().Corrupt; c != 0 {
		t.Errorf("%d corrupt files found: a kill must leave only complete files in objects/", c)
	}
}

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
