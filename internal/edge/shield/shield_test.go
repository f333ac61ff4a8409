package shield_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/shield"
)

func ring(nodes ...string) *shield.Ring {
	r := shield.NewRing("self")
	var peers []shield.Peer
	for _, n := range nodes {
		peers = append(peers, shield.Peer{Node: n, Addr: n + ":1"})
	}
	r.Set(peers)
	return r
}

func TestPickMovesOnlyTheChangedMembersKeys(t *testing.T) {
	t.Parallel()
	three, four := ring("a", "b", "c"), ring("a", "b", "c", "d")
	counts := map[string]int{}
	const keys = 3000
	for i := range keys {
		key := fmt.Sprintf("id|/objects/%d", i)
		before, _ := three.Pick(key)
		after, _ := four.Pick(key)
		counts[before.Node]++
		// A member joining takes keys only for itself; every other key
		// stays where it was.
		if after.Node != "d" && after != before {
			t.Fatalf("key %s moved from %s to %s when d joined", key, before.Node, after.Node)
		}
		// A member leaving gives away only its own keys.
		without, _ := ring("a", "c").Pick(key)
		if before.Node != "b" && without != before {
			t.Fatalf("key %s moved from %s to %s when b left", key, before.Node, without.Node)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if c := counts[n]; c < keys/3*8/10 || c > keys/3*12/10 {
			t.Errorf("%s is the shield of %d of %d keys; want about a third (%v)", n, c, keys, counts)
		}
	}
}

func TestPickIsTheSameOnEveryEdge(t *testing.T) {
	t.Parallel()
	// Two edges that list the fleet in another order agree.
	x, y := ring("a", "b", "c"), ring("c", "a", "b")
	for i := range 100 {
		key := fmt.Sprint("k", i)
		px, _ := x.Pick(key)
		py, _ := y.Pick(key)
		if px != py {
			t.Fatalf("key %s: %v and %v", key, px, py)
		}
	}
	if _, ok := shield.NewRing("self").Pick("k"); ok {
		t.Error("an empty ring picked a shield")
	}
}

func TestSignerRejectsForgeriesAndReplays(t *testing.T) {
	t.Parallel()
	s, err := shield.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := shield.NewSigner([]byte("fedcba9876543210fedcba9876543210"))
	now := time.Unix(1_800_000_000, 0)
	auth := s.Sign(now, "E1", "/a", "k")
	if err := s.Verify(now.Add(30*time.Second), auth, "E1", "/a", "k"); err != nil {
		t.Fatalf("genuine request: %v", err)
	}
	for name, check := range map[string]error{
		"other field":   s.Verify(now, auth, "E1", "/b", "k"),
		"fields joined": s.Verify(now, auth, "E1/a", "", "k"),
		"other secret":  other.Verify(now, auth, "E1", "/a", "k"),
		"garbage":       s.Verify(now, "x.y", "E1", "/a", "k"),
	} {
		if !errors.Is(check, shield.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, check)
		}
	}
	if err := s.Verify(now.Add(2*shield.MaxSkew), auth, "E1", "/a", "k"); !errors.Is(err, shield.ErrExpired) {
		t.Errorf("replayed later: %v, want ErrExpired", err)
	}
	if _, err := shield.NewSigner(nil); err == nil {
		t.Error("NewSigner accepted an empty secret")
	}
}
