package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Names of the environment variables that supply the admin credentials.
const (
	EnvAccessKeyID     = "STAGEFRONT_ACCESS_KEY_ID"
	EnvSecretAccessKey = "STAGEFRONT_SECRET_ACCESS_KEY"
	// AdminName names the credentials from the environment, or the pair
	// generated on first start.
	AdminName = "admin"
)

const (
	accessKeyPrefix   = "AKSF"
	accessKeyRandLen  = 16
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretRandBytes   = 30 // base64 of 30 bytes is exactly 40 characters
	maxNameLen        = 64
)

// Credential is one named API key pair.
type Credential struct {
	Name            string    `json:"name"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	Created         time.Time `json:"created"`
}

// CredentialFile holds the API key pairs: those stored in a JSON file
// (mode 0600) in the data directory, plus admin credentials from the
// environment, which are never written. It implements Credentials and is
// safe for concurrent use; it assumes it is the only writer of the file.
type CredentialFile struct {
	path   string
	now    func() time.Time
	random io.Reader

	mu       sync.RWMutex
	stored   []Credential          // what the file holds, in order
	envAdmin *Credential           // from the environment; shadows a stored "admin"
	byKey    map[string]Credential // the active credentials by access key ID
	// reloaded is when an unknown key last made Lookup re-read the file
	// (so `stagefront credentials add` works without a restart, and an
	// unknown key cannot make every request read the disk).
	reloaded time.Time
}

// FileOption configures LoadOrCreate.
type FileOption func(*CredentialFile)

// WithClock sets the clock that stamps Created (default time.Now).
func WithClock(now func() time.Time) FileOption { return func(f *CredentialFile) { f.now = now } }

// WithRandom sets the randomness for generated keys (default crypto/rand).
func WithRandom(r io.Reader) FileOption { return func(f *CredentialFile) { f.random = r } }

// LoadOrCreate loads the credentials file at path. If env returns both
// STAGEFRONT_ACCESS_KEY_ID and STAGEFRONT_SECRET_ACCESS_KEY they are the
// "admin" credentials (kept in memory only, and taking the place of a stored
// "admin"). Otherwise, if the file holds no credentials, it generates an
// "admin" pair, writes the file and reports created=true so that the caller
// can show the new pair once.
func LoadOrCreate(path string, env func(string) string, opts ...FileOption) (f *CredentialFile, created bool, err error) {
	f = &CredentialFile{path: path, now: time.Now, random: rand.Reader}
	for _, opt := range opts {
		opt(f)
	}
	if f.envAdmin, err = adminFromEnv(env); err != nil {
		return nil, false, err
	}
	if f.stored, err = readCredentialFile(path); err != nil {
		return nil, false, err
	}
	if f.envAdmin == nil && len(f.stored) == 0 {
		admin, err := f.generate(AdminName)
		if err != nil {
			return nil, false, err
		}
		if err := writeCredentialFile(path, []Credential{admin}); err != nil {
			return nil, false, err
		}
		f.stored, created = []Credential{admin}, true
	}
	f.byKey = f.index(f.stored)
	return f, created, nil
}

func adminFromEnv(env func(string) string) (*Credential, error) {
	id, secret := env(EnvAccessKeyID), env(EnvSecretAccessKey)
	switch {
	case id == "" && secret == "":
		return nil, nil
	case id == "" || secret == "":
		return nil, fmt.Errorf("auth: set both %s and %s, or neither", EnvAccessKeyID, EnvSecretAccessKey)
	case strings.ContainsAny(id, "/, \t\r\n="):
		return nil, fmt.Errorf("auth: %s must not contain '/', ',', '=' or whitespace", EnvAccessKeyID)
	}
	return &Credential{Name: AdminName, AccessKeyID: id, SecretAccessKey: secret}, nil
}

// Lookup implements Credentials.
// An unknown key re-reads the file, at most once a second, so keys added by
// another process (`stagefront credentials add`) work without a restart.
func (f *CredentialFile) Lookup(accessKeyID string) (secret, name string, ok bool) {
	f.mu.RLock()
	c, ok := f.byKey[accessKeyID]
	f.mu.RUnlock()
	if !ok && f.reload() {
		f.mu.RLock()
		c, ok = f.byKey[accessKeyID]
		f.mu.RUnlock()
	}
	return c.SecretAccessKey, c.Name, ok
}

// reload re-reads the file unless it did so less than a second ago.
func (f *CredentialFile) reload() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.Sub(f.reloaded) < time.Second {
		return false
	}
	f.reloaded = now
	stored, err := readCredentialFile(f.path)
	if err != nil {
		return false
	}
	f.stored = stored
	f.byKey = f.index(stored)
	return true
}

// Get returns the active credential with the given name.
func (f *CredentialFile) Get(name string) (Credential, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, c := range f.byKey {
		if c.Name == name {
			return c, true
		}
	}
	return Credential{}, false
}

// List returns the active credentials, sorted by name.
func (f *CredentialFile) List() []Credential {
	f.mu.RLock()
	defer f.mu.RUnlock()
	list := make([]Credential, 0, len(f.byKey))
	for _, c := range f.byKey {
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b Credential) int { return strings.Compare(a.Name, b.Name) })
	return list
}

// Add generates a new key pair named name, stores it in the file and
// returns it.
func (f *CredentialFile) Add(name string) (Credential, error) {
	if err := validName(name); err != nil {
		return Credential{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.byKey {
		if c.Name == name {
			return Credential{}, fmt.Errorf("auth: credentials named %q already exist", name)
		}
	}
	if name == AdminName && f.envAdmin != nil {
		return Credential{}, fmt.Errorf("auth: %q comes from the environment", name)
	}
	c, err := f.generate(name)
	if err != nil {
		return Credential{}, err
	}
	if _, taken := f.byKey[c.AccessKeyID]; taken {
		return Credential{}, fmt.Errorf("auth: generated access key ID %s is already in use", c.AccessKeyID)
	}
	stored := append(slices.Clone(f.stored), c)
	if err := writeCredentialFile(f.path, stored); err != nil {
		return Credential{}, err
	}
	f.stored = stored
	f.byKey = f.index(stored)
	return c, nil
}

func (f *CredentialFile) index(stored []Credential) map[string]Credential {
	byKey := make(map[string]Credential, len(stored)+1)
	for _, c := range stored {
		if f.envAdmin != nil && c.Name == AdminName {
			continue
		}
		byKey[c.AccessKeyID] = c
	}
	if f.envAdmin != nil {
		byKey[f.envAdmin.AccessKeyID] = *f.envAdmin
	}
	return byKey
}

func (f *CredentialFile) generate(name string) (Credential, error) {
	id, err := randomString(f.random, accessKeyAlphabet, accessKeyRandLen)
	if err != nil {
		return Credential{}, err
	}
	secret := make([]byte, secretRandBytes)
	if _, err := io.ReadFull(f.random, secret); err != nil {
		return Credential{}, fmt.Errorf("auth: generating a secret key: %w", err)
	}
	return Credential{
		Name:            name,
		AccessKeyID:     accessKeyPrefix + id,
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
		Created:         f.now().UTC().Truncate(time.Second),
	}, nil
}

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so that no character is more likely than another).
func randomString(random io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("auth: generating an access key ID: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func validName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("auth: credential name must be 1 to %d characters", maxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("auth: credential name %q may only contain letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

func readCredentialFile(path string) ([]Credential, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: reading credentials: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil
	}
	var stored []Credential
	if err := json.Unmarshal(data, &stored); err != nil {
		return nil, fmt.Errorf("auth: parsing credentials file %s: %w", path, err)
	}
	names := make(map[string]bool, len(stored))
	keys := make(map[string]bool, len(stored))
	for i, c := range stored {
		switch {
		case c.Name == "" || c.AccessKeyID == "" || c.SecretAccessKey == "":
			return nil, fmt.Errorf("auth: credentials file %s: entry %d lacks a name, accessKeyId or secretAccessKey", path, i)
		case names[c.Name]:
			return nil, fmt.Errorf("auth: credentials file %s: name %q appears twice", path, c.Name)
		case keys[c.AccessKeyID]:
			return nil, fmt.Errorf("auth: credentials file %s: access key ID %s appears twice", path, c.AccessKeyID)
		}
		names[c.Name], keys[c.AccessKeyID] = true, true
	}
	return stored, nil
}

// writeCredentialFile replaces the file atomically: a reader (or a crash)
// sees the old file or the new one, never half of one, and the secrets are
// never readable by others, not even for a moment.
func writeCredentialFile(path string, stored []Credential) (err error) {
	data, err := json.MarshalIndent(stored, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: encoding credentials: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // created 0600
	if err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("auth: writing credentials: %w", err)
	}
	// Make the rename durable; not every platform can sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
