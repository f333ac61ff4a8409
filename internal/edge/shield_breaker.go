package edge

import (
	"sync"
	"time"
)

// A shield that cannot be reached costs the edge that asks it: a refused
// connection is quick, but a peer whose host is gone costs the dial
// timeout (ShieldConnectTimeout), and one that accepts and never answers
// costs the whole wait fetchViaShield allows (the origin's timeouts and a
// little more), on every miss it is the shield of, until it leaves the
// fleet. A stuck process may never leave: its lease is renewed by a
// goroutine that still runs. So each edge keeps a circuit breaker per
// shield: after a failure it stops asking that peer for a while and
// fetches from the origin itself; when the while is over, one miss asks
// the peer again (the probe) while the others still go to the origin, and
// its outcome closes the breaker or opens it for twice as long, up to
// shieldBreakerMax. Any answer from the peer closes it (a refusal too: the
// peer is there).

const (
	shieldBreakerBase = 2 * time.Second
	shieldBreakerMax  = 30 * time.Second
)

// shieldBreakers holds the breakers of the peers asked so far.
type shieldBreakers struct {
	mu    sync.Mutex
	peers map[string]*breaker
}

// get returns node's breaker. live reports whether a node is still a
// peer: a new breaker drops those of nodes that are not, so that fleet
// churn does not grow the map.
func (b *shieldBreakers) get(node string, live func(string) bool) *breaker {
	b.mu.Lock()
	defer b.mu.Unlock()
	if br, ok := b.peers[node]; ok {
		return br
	}
	if b.peers == nil {
		b.peers = map[string]*breaker{}
	}
	for n := range b.peers {
		if !live(n) {
			delete(b.peers, n)
		}
	}
	br := &breaker{}
	b.peers[node] = br
	return br
}

// breaker is one peer's circuit breaker.
type breaker struct {
	mu       sync.Mutex
	failures int       // consecutive failures; 0: closed
	until    time.Time // open before this
	probing  bool      // a probe is out
}

// allow reports whether a request may go to the peer now. When it does
// while the breaker is open past its while, it is the probe, and the
// caller must report its outcome (succeeded, failed or abandoned).
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures == 0:
		return true
	case b.probing || now.Before(b.until):
		return false
	}
	b.probing = true
	return true
}

// succeeded closes the breaker.
func (b *breaker) succeeded() {
	b.mu.Lock()
	b.failures, b.probing = 0, false
	b.mu.Unlock()
}

// failed opens the breaker, for twice as long as last time.
func (b *breaker) failed(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.probing = false
	d := shieldBreakerMax
	if b.failures <= 8 {
		d = min(shieldBreakerBase<<(b.failures-1), shieldBreakerMax)
	}
	b.until = now.Add(d)
}

// abandoned ends a request that says nothing of the peer (the viewer went
// away): a probe may be sent again.
func (b *breaker) abandoned() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}
