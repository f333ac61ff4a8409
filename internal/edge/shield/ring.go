package shield

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Peer is one fleet member that runs a shield listener.
type Peer struct {
	Node string // its fleet node name, the rendezvous identity
	Addr string // host:port of its shield listener
}

// Ring is the set of peers an edge picks shields from.
type Ring struct {
	self  string
	peers atomic.Pointer[[]Peer]
}

// NewRing returns an empty ring for the edge named self.
func NewRing(self string) *Ring { return &Ring{self: self} }

// Self is the node name of the edge the ring belongs to.
func (r *Ring) Self() string { return r.self }

// Set replaces the peers (the ring keeps its own sorted copy; peers with
// no node name or address are left out).
func (r *Ring) Set(peers []Peer) {
	kept := make([]Peer, 0, len(peers))
	for _, p := range peers {
		if p.Node != "" && p.Addr != "" {
			kept = append(kept, p)
		}
	}
	slices.SortFunc(kept, func(a, b Peer) int { return strings.Compare(a.Node, b.Node) })
	r.peers.Store(&kept)
}

// Peers returns the current peers, sorted by node name; read-only.
func (r *Ring) Peers() []Peer {
	if p := r.peers.Load(); p != nil {
		return *p
	}
	return nil
}

// Pick returns the shield of key: the peer with the highest rendezvous
// score. ok is false when the ring is empty.
func (r *Ring) Pick(key string) (p Peer, ok bool) {
	var best uint64
	for _, peer := range r.Peers() {
		if s := Score(peer.Node, key); !ok || s > best || (s == best && peer.Node < p.Node) {
			p, best, ok = peer, s, true
		}
	}
	return p, ok
}

// Score is node's rendezvous weight for key: xxhash64 of the node name, a
// zero byte and the key, the same on every edge.
func Score(node, key string) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(node)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(key)
	return d.Sum64()
}
