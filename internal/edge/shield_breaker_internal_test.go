package edge

import (
	"testing"
	"time"
)

func TestBreakerSendsOneProbeAtATime(t *testing.T) {
	t.Parallel()
	var b breaker
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for range 2 {
		if !b.allow(t0) {
			t.Fatal("a closed breaker refused a request")
		}
	}
	b.failed(t0)
	if b.allow(t0.Add(shieldBreakerBase - time.Millisecond)) {
		t.Fatal("an open breaker let a request through")
	}
	at := t0.Add(shieldBreakerBase)
	if !b.allow(at) {
		t.Fatal("no probe once the breaker's time was up")
	}
	if b.allow(at) {
		t.Fatal("a second probe while the first is out")
	}
	b.abandoned() // the probe's viewer went away: another may probe
	if !b.allow(at) {
		t.Fatal("no probe after the first was abandoned")
	}
	b.failed(at)
	if b.allow(at.Add(2*shieldBreakerBase - time.Millisecond)) {
		t.Fatal("after a second failure the breaker opened for less than twice as long")
	}
	if !b.allow(at.Add(2 * shieldBreakerBase)) {
		t.Fatal("no probe after twice the time")
	}
	b.succeeded()
	for range 2 {
		if !b.allow(at) {
			t.Fatal("a closed breaker refused a request after a success")
		}
	}
	for range 100 {
		b.failed(at)
	}
	if got := b.until.Sub(at); got != shieldBreakerMax {
		t.Errorf("after 100 failures the breaker opens for %v; want the cap %v", got, shieldBreakerMax)
	}
}

func TestBreakersForgetPeersThatLeft(t *testing.T) {
	t.Parallel()
	var bs shieldBreakers
	live := map[string]bool{"a": true}
	for i := range 1000 {
		bs.get(string(rune('A'+i%26))+string(rune('a'+i/26%26)), func(n string) bool { return live[n] })
	}
	a := bs.get("a", func(n string) bool { return live[n] })
	if again := bs.get("a", func(n string) bool { return live[n] }); again != a {
		t.Error("a live peer's breaker was replaced")
	}
	if n := len(bs.peers); n > 32 {
		t.Errorf("%d breakers kept for 1 live peer after 1000 others came and went", n)
	}
}
