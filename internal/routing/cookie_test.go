package routing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSignerMAC(t *testing.T) {
	keys := []string{"k", testKey, strings.Repeat("x", 64), strings.Repeat("long key ", 20)}
	var payload [payloadLen]byte
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, key := range keys {
		h := hmac.New(sha256.New, []byte(key))
		h.Write(payload[:])
		want := h.Sum(nil)
		got := newSigner([]byte(key)).mac(&payload)
		if !bytes.Equal(got[:], want) {
			t.Errorf("key of %d bytes: mac = %x; want %x", len(key), got, want)
		}
	}
	if newSigner(nil) != nil {
		t.Errorf("newSigner(nil) != nil; want no signer without a key")
	}
}

func TestCookieRoundTrip(t *testing.T) {
	s := newSigner([]byte(testKey))
	want := cookieState{variant: VariantStaging, scope: scopeOf(primaryID, policyID), generation: 1<<40 + 3, start: 1740830400, last: 1740830400 + 299}
	value := string(s.appendCookieValue(nil, want))
	if len(value) != cookieValueLen {
		t.Errorf("cookie length = %d; want %d", len(value), cookieValueLen)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(value); err != nil {
		t.Errorf("cookie %q is not strict base64url: %v", value, err)
	}
	got, ok := s.decodeCookie(value)
	if !ok || got != want {
		t.Errorf("decodeCookie = %+v, %v; want %+v, true", got, ok, want)
	}
	// Every single-character change breaks it.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range value {
		for _, c := range []byte(alphabet) {
			if c == value[i] {
				continue
			}
			forged := value[:i] + string(c) + value[i+1:]
			if _, ok := s.decodeCookie(forged); ok {
				t.Fatalf("forged cookie %q (position %d) verifies", forged, i)
			}
		}
	}
}

func FuzzCookieDecode(f *testing.F) {
	s := newSigner([]byte(testKey))
	valid := map[string]bool{}
	for i, st := range []cookieState{
		{variant: VariantStaging, scope: scopeOf(primaryID, policyID), generation: 1, start: 1740830400, last: 1740830500},
		{variant: VariantPrimary, scope: scopeOf(primaryID, policyID), generation: 9, start: 1, last: 1},
	} {
		v := string(s.appendCookieValue(nil, st))
		valid[v] = true
		f.Add(v)
		f.Add(v[:len(v)-1])
		f.Add(v + "A")
		f.Add(strings.ToUpper(v))
		f.Add(strings.Repeat("A", i+cookieValueLen))
	}
	f.Add("")
	f.Add("not a cookie")
	f.Add(strings.Repeat("_", cookieValueLen))

	p := func() *Dist { // a sticky primary to run full decisions on
		tbl, _ := Compile(nil, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 900))))
		return tbl.Dist(primaryID)
	}()

	f.Fuzz(func(t *testing.T, value string) {
		if _, ok := s.decodeCookie(value); ok && !valid[value] {
			t.Fatalf("cookie %q verifies but was never minted", value)
		}
		dec := p.Decide(DecideInput{Cookie: value, Now: t0(), Draw: 1 << 31})
		if !dec.SetCookie || dec.Dist == nil {
			t.Fatalf("Decide(cookie %q) = %+v; want a decision with a cookie", value, dec)
		}
	})
}

// TestCookieAcrossNodes: two edge nodes compile the same snapshot on their
// own; a session started on one continues on the other, and a table swap
// keeps the signer.
func TestCookieAcrossNodes(t *testing.T) {
	snap := cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 900)))
	nodeA, nodeB := mustCompile(t, snap), mustCompile(t, snap)
	dec := nodeA.Dist(primaryID).Decide(DecideInput{Now: t0(), Draw: 0})
	cookie := string(dec.AppendCookie(nil))
	next := nodeB.Dist(primaryID).Decide(DecideInput{Cookie: cookie, Now: t0().Add(time.Minute), Draw: 1<<32 - 1})
	if next.Variant != VariantStaging || next.Reason != ReasonSession {
		t.Errorf("node B: %v (%v); want staging (session)", next.Variant, next.Reason)
	}
	swapped, _ := Compile(nodeA, snap)
	if swapped.sign != nodeA.sign {
		t.Errorf("signer not kept across a table swap with the same key")
	}
}
