package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Credentials finds the secret of an access key and the name of the
// credential that owns it (auth.CredentialFile implements it).
type Credentials interface {
	Lookup(accessKeyID string) (secret, name string, ok bool)
}

// Session is one signed-in browser.
type Session struct {
	// Principal is the credential's name: what the history records.
	Principal string
	// CSRF is the token every state-changing request must carry.
	CSRF     string
	Created  time.Time
	LastSeen time.Time
}

// Errors of sign-in.
var (
	ErrBadCredentials = errors.New("the access key ID or the secret access key is wrong")
	ErrThrottled      = errors.New("too many failed sign-ins")
)

// ThrottledError says how long until another sign-in attempt is accepted.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: try again in %s", ErrThrottled, e.RetryAfter.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// sessionLimits are the expiry and throttling parameters.
type sessionLimits struct {
	Idle     time.Duration // a session unused this long ends
	Absolute time.Duration // a session ends this long after sign-in, used or not
	// MaxFailures failed sign-ins within FailureWindow, for one credential
	// or from one client address, refuse further attempts until the oldest
	// failure leaves the window.
	MaxFailures   int
	FailureWindow time.Duration
	// MaxSessions bounds the table (the oldest session is dropped).
	MaxSessions int
}

// sessions is the in-memory session table and the sign-in throttle. Tokens
// are random 256-bit values; the table is keyed by their SHA-256, so a
// lookup never compares secret bytes in variable time.
type sessions struct {
	now    func() time.Time
	random io.Reader
	creds  Credentials
	limits sessionLimits

	mu       sync.Mutex
	byHash   map[[32]byte]*Session
	failures map[string][]time.Time // "key:ID" or "addr:IP" → recent failures
}

func newSessions(creds Credentials, now func() time.Time, random io.Reader, limits sessionLimits) *sessions {
	return &sessions{
		now: now, random: random, creds: creds, limits: limits,
		byHash: map[[32]byte]*Session{}, failures: map[string][]time.Time{},
	}
}

// maxFailureKeys bounds the throttle's memory; only client addresses and
// existing access keys are tracked, so this is reached only under a wide
// attack, when the oldest entries are forgotten.
const maxFailureKeys = 100_000

// SignIn checks an access key pair and opens a session. Failures are
// counted per credential (only for keys that exist, so guessing ids cannot
// grow the table) and per client address.
func (s *sessions) SignIn(accessKeyID, secret, clientAddr string) (token string, sess *Session, err error) {
	now := s.now()
	wantSecret, name, ok := s.creds.Lookup(accessKeyID)
	keys := []string{"addr:" + clientAddr}
	if ok {
		keys = append(keys, "key:"+accessKeyID)
	}
	s.mu.Lock()
	if wait := s.throttled(keys, now); wait > 0 {
		s.mu.Unlock()
		return "", nil, &ThrottledError{RetryAfter: wait}
	}
	s.mu.Unlock()
	// Compare even for an unknown key, so the answer takes the same time.
	if !ok {
		wantSecret = "\x00unknown-access-key\x00"
	}
	match := subtle.ConstantTimeCompare([]byte(wantSecret), []byte(secret)) == 1
	if !ok || !match || secret == "" {
		s.mu.Lock()
		s.recordFailure(keys, now)
		s.mu.Unlock()
		return "", nil, ErrBadCredentials
	}
	token, err = s.newToken()
	if err != nil {
		return "", nil, err
	}
	csrf, err := s.newToken()
	if err != nil {
		return "", nil, err
	}
	sess = &Session{Principal: name, CSRF: csrf, Created: now, LastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, "key:"+accessKeyID)
	s.evictOldest()
	s.byHash[sha256.Sum256([]byte(token))] = sess
	return token, sess, nil
}

// Lookup returns the live session of a token and marks it used (touch), or
// nil when the token is unknown or the session expired (it is then removed).
func (s *sessions) Lookup(token string, touch bool) *Session {
	if token == "" {
		return nil
	}
	h := sha256.Sum256([]byte(token))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byHash[h]
	if !ok {
		return nil
	}
	if s.expired(sess, now) {
		delete(s.byHash, h)
		return nil
	}
	if touch {
		sess.LastSeen = now
	}
	cp := *sess
	return &cp
}

// SignOut ends a session.
func (s *sessions) SignOut(token string) {
	h := sha256.Sum256([]byte(token))
	s.mu.Lock()
	delete(s.byHash, h)
	s.mu.Unlock()
}

func (s *sessions) expired(sess *Session, now time.Time) bool {
	return now.Sub(sess.LastSeen) >= s.limits.Idle || now.Sub(sess.Created) >= s.limits.Absolute
}

// evictOldest drops expired sessions, then the least recently used one,
// while the table is full. Called with mu held.
func (s *sessions) evictOldest() {
	if len(s.byHash) < s.limits.MaxSessions {
		return
	}
	now := s.now()
	var oldest [32]byte
	var oldestSeen time.Time
	for h, sess := range s.byHash {
		if s.expired(sess, now) {
			delete(s.byHash, h)
			continue
		}
		if oldestSeen.IsZero() || sess.LastSeen.Before(oldestSeen) {
			oldest, oldestSeen = h, sess.LastSeen
		}
	}
	if len(s.byHash) >= s.limits.MaxSessions {
		delete(s.byHash, oldest)
	}
}

// throttled returns how long the caller must wait, 0 if it may try now.
// Called with mu held.
func (s *sessions) throttled(keys []string, now time.Time) time.Duration {
	var wait time.Duration
	for _, k := range keys {
		recent := s.recent(k, now)
		if len(recent) >= s.limits.MaxFailures {
			if w := recent[len(recent)-s.limits.MaxFailures].Add(s.limits.FailureWindow).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait
}

// recent prunes and returns the failures of key inside the window.
func (s *sessions) recent(key string, now time.Time) []time.Time {
	fs := s.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= s.limits.FailureWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(s.failures, key)
		return nil
	}
	s.failures[key] = fs
	return fs
}

func (s *sessions) recordFailure(keys []string, now time.Time) {
	if len(s.failures) >= maxFailureKeys {
		for k := range s.failures {
			if len(s.recent(k, now)) == 0 || len(s.failures) >= maxFailureKeys {
				delete(s.failures, k)
			}
			if len(s.failures) < maxFailureKeys/2 {
				break
			}
		}
	}
	for _, k := range keys {
		fs := s.recent(k, now)
		if len(fs) >= s.limits.MaxFailures {
			fs = fs[1:] // keep the table bounded: only the last MaxFailures matter
		}
		s.failures[k] = append(fs, now)
	}
}

func (s *sessions) newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.random, b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// defaultRandom is crypto/rand's reader (a function, not a package variable).
func defaultRandom() io.Reader { return rand.Reader }
