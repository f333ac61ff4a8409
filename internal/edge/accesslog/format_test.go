package accesslog

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendTabField: fields are written as a byte-by-byte escaper would,
// whatever bytes they hold, wherever in a word of 8 they are.
func TestAppendTabField(t *testing.T) {
	ref := func(b []byte, s string) []byte {
		b = append(b, '\t')
		if s == "" {
			return append(b, '-')
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f {
				b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
			} else {
				b = append(b, c)
			}
		}
		return b
	}
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(s string) {
		t.Helper()
		if got, want := string(appendTabField(nil, s)), string(ref(nil, s)); got != want {
			t.Fatalf("appendTabField(%q) = %q, want %q", s, got, want)
		}
	}
	for c := range 256 {
		for n := 1; n <= 17; n++ {
			for at := range n {
				b := []byte("abcdefghijklmnopq"[:n])
				b[at] = byte(c)
				check(string(b))
			}
		}
	}
	check("")
	for range 100000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = byte('!' + rng.IntN(94))
			}
		}
		check(string(b))
	}
}

// TestAppendTabInt: numbers are written as strconv writes them.
func TestAppendTabInt(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 1342, 65535, 99999999, 1e8, 1 << 40, -1, -1 << 63} {
		if got, want := string(appendTabInt(nil, n)), "\t"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendTabInt(%d) = %q, want %q", n, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		n := rng.Int64N(1 << uint(rng.IntN(40)+1))
		if got, want := string(appendTabInt(nil, n)), "\t"+strconv.FormatInt(n, 10); got != want {
			t.Fatalf("appendTabInt(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestRequestID: ids are 56 characters of URL-safe base64 over 40 bytes,
// unique, and every one of the 320 bits is random (set about half the
// time): a mistake in spreading the random words over the characters
// shows as a bit stuck or copied.
func TestRequestID(t *testing.T) {
	const n = 20000
	seen := make(map[string]bool, n)
	var ones [320]int
	for range n {
		id := string(AppendRequestID([]byte("x")))[1:]
		if len(id) != RequestIDLen || seen[id] {
			t.Fatalf("id %q: %d characters, seen before %v", id, len(id), seen[id])
		}
		seen[id] = true
		raw, err := base64.URLEncoding.DecodeString(id)
		if err != nil || len(raw) != 40 || base64.URLEncoding.EncodeToString(raw) != id {
			t.Fatalf("id %q is not the URL-safe base64 of 40 bytes (%v)", id, err)
		}
		for i := range ones { // bit i of the base64 stream: most significant first
			ones[i] += int(raw[i/8] >> (7 - i%8) & 1)
		}
	}
	// The first 22 characters' 132 bits are each id's own, the rest the
	// process's (the same in every id).
	for i, c := range ones {
		if i < 132 && (c < n*45/100 || c > n*55/100) {
			t.Errorf("bit %d set in %d of %d ids", i, c, n)
		}
		if i >= 132 && c != 0 && c != n {
			t.Errorf("bit %d of the shared tail set in %d of %d ids", i, c, n)
		}
	}
	// The tail itself is random: about half its bits set.
	tail, _ := base64.URLEncoding.DecodeString(string(idTail[:]))
	set := 0
	for i := 132; i < 320; i++ {
		set += int(tail[i/8] >> (7 - i%8) & 1)
	}
	if set < 188*30/100 || set > 188*70/100 {
		t.Errorf("%d of the tail's 188 bits set", set)
	}
	if id := NewRequestID(); len(id) != RequestIDLen || seen[id] {
		t.Errorf("NewRequestID = %q", id)
	}
}
