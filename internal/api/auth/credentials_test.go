package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	accessKeyShape = regexp.MustCompile(`^AKSF[A-Z0-9]{16}$`)
	secretShape    = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func readStored(t *testing.T, path string) []Credential {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stored []Credential
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatalf("file is not a JSON array of credentials: %v\n%s", err, data)
	}
	return stored
}

func TestLoadOrCreateGeneratesAdmin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "credentials.json")
	f, created, err := LoadOrCreate(path, noEnv, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Errorf("created = false on first start, want true")
	}
	admin, ok := f.Get(AdminName)
	if !ok {
		t.Fatalf("no %q credential after first start", AdminName)
	}
	if !accessKeyShape.MatchString(admin.AccessKeyID) {
		t.Errorf("access key ID %q, want AKSF + 16 uppercase alphanumerics", admin.AccessKeyID)
	}
	if !secretShape.MatchString(admin.SecretAccessKey) {
		t.Errorf("secret %q, want 40 base64 characters", admin.SecretAccessKey)
	}
	if !admin.Created.Equal(testNow) {
		t.Errorf("created %v, want %v", admin.Created, testNow)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode %v, want 0600", got)
	}
	if got := readStored(t, path); len(got) != 1 || got[0] != admin {
		t.Errorf("file holds %+v, want [%+v]", got, admin)
	}
	if secret, name, ok := f.Lookup(admin.AccessKeyID); !ok || secret != admin.SecretAccessKey || name != AdminName {
		t.Errorf("Lookup(%s) = (%q, %q, %v), want the admin pair", admin.AccessKeyID, secret, name, ok)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the credentials file (no temp files)", len(entries))
	}

	// Second start: same pair, nothing new.
	f2, created, err := LoadOrCreate(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Errorf("created = true on second start, want false")
	}
	if got, _ := f2.Get(AdminName); got != admin {
		t.Errorf("second start admin = %+v, want %+v", got, admin)
	}
}

func TestLoadOrCreateFromEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	env := envOf(map[string]string{EnvAccessKeyID: "AKIDFROMENV", EnvSecretAccessKey: "secret-from-env"})
	f, created, err := LoadOrCreate(path, env)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Errorf("created = true with env credentials, want false")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("credentials file written with env credentials (stat error %v)", err)
	}
	secret, name, ok := f.Lookup("AKIDFROMENV")
	if got, want := fmt.Sprint(secret, name, ok), fmt.Sprint("secret-from-env", AdminName, true); got != want {
		t.Errorf("Lookup = %s, want %s", got, want)
	}

	// A stored admin is shadowed by the env one; other names still work.
	stored := []Credential{
		{Name: AdminName, AccessKeyID: "AKSFSTOREDADMIN00000", SecretAccessKey: "s1"},
		{Name: "ci", AccessKeyID: "AKSFSTOREDCI00000000", SecretAccessKey: "s2"},
	}
	if err := writeCredentialFile(path, stored); err != nil {
		t.Fatal(err)
	}
	if f, _, err = LoadOrCreate(path, env); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		keyID    string
		wantName string
		wantOK   bool
	}{
		{"AKIDFROMENV", AdminName, true},
		{"AKSFSTOREDADMIN00000", "", false},
		{"AKSFSTOREDCI00000000", "ci", true},
		{"AKSFUNKNOWN", "", false},
	}
	for _, tt := range tests {
		if _, name, ok := f.Lookup(tt.keyID); name != tt.wantName || ok != tt.wantOK {
			t.Errorf("Lookup(%s) = (%q, %v), want (%q, %v)", tt.keyID, name, ok, tt.wantName, tt.wantOK)
		}
	}
	if _, err := f.Add(AdminName); err == nil {
		t.Errorf("Add(%q) with env admin succeeded, want an error", AdminName)
	}
}

func TestLoadOrCreateErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string // "" means no file
		env     map[string]string
		wantErr string
	}{
		{name: "only key id in env", env: map[string]string{EnvAccessKeyID: "AKID"}, wantErr: "both"},
		{name: "only secret in env", env: map[string]string{EnvSecretAccessKey: "s"}, wantErr: "both"},
		{name: "slash in env key id", env: map[string]string{EnvAccessKeyID: "AK/ID", EnvSecretAccessKey: "s"}, wantErr: "must not contain"},
		{name: "not json", file: "{nope", wantErr: "parsing"},
		{name: "missing secret", file: `[{"name":"a","accessKeyId":"K"}]`, wantErr: "lacks"},
		{name: "duplicate name", file: `[{"name":"a","accessKeyId":"K1","secretAccessKey":"s"},{"name":"a","accessKeyId":"K2","secretAccessKey":"s"}]`, wantErr: "twice"},
		{name: "duplicate key", file: `[{"name":"a","accessKeyId":"K","secretAccessKey":"s"},{"name":"b","accessKeyId":"K","secretAccessKey":"s"}]`, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credentials.json")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := LoadOrCreate(path, envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadOrCreate error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCredentialFileAdd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	f, _, err := LoadOrCreate(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := f.Add("ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	if !accessKeyShape.MatchString(ci.AccessKeyID) || !secretShape.MatchString(ci.SecretAccessKey) || ci.Name != "ci-bot" {
		t.Errorf("Add returned %+v, want a well-formed pair named ci-bot", ci)
	}
	if _, name, ok := f.Lookup(ci.AccessKeyID); !ok || name != "ci-bot" {
		t.Errorf("Lookup(new key) = (%q, %v), want (ci-bot, true)", name, ok)
	}
	stored := readStored(t, path)
	if len(stored) != 2 || stored[0].Name != AdminName || stored[1] != ci {
		t.Errorf("file holds %+v, want admin then %+v", stored, ci)
	}
	for _, bad := range []string{"", "ci-bot", "has space", "a/b", strings.Repeat("x", 65)} {
		if _, err := f.Add(bad); err == nil {
			t.Errorf("Add(%q) succeeded, want an error", bad)
		}
	}
	// Reloading sees both.
	f2, _, err := LoadOrCreate(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f2.List()); got != 2 {
		t.Errorf("after reload List() has %d credentials, want 2", got)
	}
}

func TestCredentialFileConcurrentAdd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	f, _, err := LoadOrCreate(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := f.Add(fmt.Sprintf("user-%02d", i))
			if err != nil {
				t.Errorf("Add: %v", err)
				return
			}
			if _, _, ok := f.Lookup(c.AccessKeyID); !ok {
				t.Errorf("Lookup(%s) failed right after Add", c.AccessKeyID)
			}
		})
	}
	wg.Wait()
	if got := len(readStored(t, path)); got != n+1 {
		t.Errorf("file holds %d credentials, want %d", got, n+1)
	}
}

func TestGeneratedKeysAreDeterministicWithInjectedRandom(t *testing.T) {
	gen := func() Credential {
		path := filepath.Join(t.TempDir(), "credentials.json")
		f, _, err := LoadOrCreate(path, noEnv, WithRandom(bytes.NewReader(bytes.Repeat([]byte{7, 200, 255, 35}, 64))),
			WithClock(func() time.Time { return testNow }))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := f.Get(AdminName)
		return c
	}
	a, b := gen(), gen()
	if a != b {
		t.Errorf("same random source gave %+v and %+v", a, b)
	}
	// 255 is rejected (it is in the biased tail above 252 = 7*36); 7, 200
	// and 35 map to H, U (200 % 36 = 20) and 9. Two 16-byte reads make the
	// ID, so the secret starts at the pattern again.
	if want := "AKSFHU9HU9HU9HU9HU9H"; a.AccessKeyID != want {
		t.Errorf("access key ID = %q, want %q", a.AccessKeyID, want)
	}
	if want := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7, 200, 255, 35}, 8)[:30]); a.SecretAccessKey != want {
		t.Errorf("secret = %q, want %q", a.SecretAccessKey, want)
	}
}

func TestLoadOrCreateEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, created, err := LoadOrCreate(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Errorf("empty file: created = false, want true (an admin pair is generated)")
	}
	if _, _, ok := f.Lookup(""); ok {
		t.Errorf("Lookup(\"\") succeeded")
	}
}

// TestLookupSeesKeysAddedByAnotherProcess: `stagefront credentials add`
// writes the file from another process; the server accepts the new key
// without a restart.
func TestLookupSeesKeysAddedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	server, _, err := LoadOrCreate(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cli, _, err := LoadOrCreate(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	added, err := cli.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	secret, name, ok := server.Lookup(added.AccessKeyID)
	if !ok || name != "alice" || secret != added.SecretAccessKey {
		t.Fatalf("Lookup(new key) = %q, %q, %v; want alice's pair", secret, name, ok)
	}
	if _, _, ok := server.Lookup("AKSFNOSUCHKEY0000000"); ok {
		t.Fatal("an unknown key was accepted")
	}
}
