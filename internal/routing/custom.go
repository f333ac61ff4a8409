package routing

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// CustomPolicyRecord is a stored custom policy with the store ModRevision
// that last wrote it.
type CustomPolicyRecord[C any] struct {
	Policy      *model.CustomPolicy[C]
	ModRevision int64
}

// addCustomPolicies compiles the snapshot's custom policies into m, next
// to the managed ones (ids never collide: each is a fresh UUID). A policy
// without a config is left out, so a behavior naming it fails to compile
// and keeps its last good entry.
func addCustomPolicies(m map[string]managedPolicy, snap Snapshot) {
	for _, r := range snap.CachePolicies {
		if r.Policy != nil && r.Policy.Config != nil {
			mp := compileCachePolicy(r.Policy.Config)
			mp.rev = r.ModRevision
			m[r.Policy.ID] = mp
		}
	}
	for _, r := range snap.OriginRequestPolicies {
		if r.Policy != nil && r.Policy.Config != nil {
			m[r.Policy.ID] = managedPolicy{orp: compileManagedOriginRequestPolicy(r.Policy.Config), rev: r.ModRevision}
		}
	}
	for _, r := range snap.ResponseHeadersPolicies {
		if r.Policy != nil && r.Policy.Config != nil {
			m[r.Policy.ID] = managedPolicy{rhp: CompileResponseHeadersPolicy(r.Policy.Config), rev: r.ModRevision}
		}
	}
}

// customPolicyRevisions maps every custom policy id of the snapshot to
// its revision.
func customPolicyRevisions(snap Snapshot) map[string]int64 {
	out := make(map[string]int64, len(snap.CachePolicies)+len(snap.OriginRequestPolicies)+len(snap.ResponseHeadersPolicies))
	add := func(id string, rev int64) { out[id] = rev }
	for _, r := range snap.CachePolicies {
		if r.Policy != nil {
			add(r.Policy.ID, r.ModRevision)
		}
	}
	for _, r := range snap.OriginRequestPolicies {
		if r.Policy != nil {
			add(r.Policy.ID, r.ModRevision)
		}
	}
	for _, r := range snap.ResponseHeadersPolicies {
		if r.Policy != nil {
			add(r.Policy.ID, r.ModRevision)
		}
	}
	// A key group's revision is its own or its newest key's, as
	// addKeyGroups computes it.
	keyRevs := make(map[string]int64, len(snap.PublicKeys))
	for _, k := range snap.PublicKeys {
		if k.Key != nil {
			keyRevs[k.Key.ID] = k.ModRevision
		}
	}
	for _, g := range snap.KeyGroups {
		if g.Group != nil && g.Group.Config != nil {
			rev := g.ModRevision
			for _, id := range g.Group.Config.Items {
				rev = max(rev, keyRevs[id])
			}
			add(g.Group.ID, rev)
		}
	}
	return out
}

// sameRevisions reports whether every custom policy a Dist was compiled
// with is still at the revision it was compiled from.
func sameRevisions(used, current map[string]int64) bool {
	for id, rev := range used {
		if current[id] != rev {
			return false
		}
	}
	return true
}

// customRevisionsOf returns the revisions of the custom policies d's
// behaviors name (nil when they name only managed ones).
func customRevisionsOf(d *Dist, policies map[string]managedPolicy) map[string]int64 {
	var out map[string]int64
	add := func(b *Behavior) {
		for _, id := range append([]string{b.CachePolicyID, b.OriginRequestPolicyID, b.ResponseHeadersPolicyID}, b.KeyGroupIDs...) {
			if mp, ok := policies[id]; ok && id != "" && mp.rev != 0 {
				if out == nil {
					out = map[string]int64{}
				}
				out[id] = mp.rev
			}
		}
	}
	add(&d.Default)
	for i := range d.Behaviors {
		add(&d.Behaviors[i])
	}
	return out
}

// KeyGroupRecord is a stored key group with its ModRevision.
type KeyGroupRecord struct {
	Group       *model.KeyGroup
	ModRevision int64
}

// PublicKeyRecord is a stored public key with its ModRevision.
type PublicKeyRecord struct {
	Key         *model.PublicKey
	ModRevision int64
}

// Errors of a behavior's viewer access restriction.
var (
	// ErrUnknownKeyGroup: TrustedKeyGroups names a key group the snapshot
	// does not hold (or one of its public keys is missing or unreadable).
	ErrUnknownKeyGroup = errors.New("unknown key group")
	// ErrTrustedSigners: legacy TrustedSigners (CloudFront key pairs of
	// AWS accounts) cannot be verified; a behavior asking for them is
	// refused rather than served unprotected.
	ErrTrustedSigners = errors.New("TrustedSigners (CloudFront key pairs) are not supported")
)

// addKeyGroups adds the snapshot's key groups to m with their public
// keys, parsed once per compile. A group whose key is missing or does not
// parse is left out: a behavior trusting it fails to compile (and never
// serves unprotected).
func addKeyGroups(m map[string]managedPolicy, snap Snapshot) {
	keys := make(map[string]PublicKeyRecord, len(snap.PublicKeys))
	for _, k := range snap.PublicKeys {
		if k.Key != nil {
			keys[k.Key.ID] = k
		}
	}
	parsed := map[string]TrustedKey{}
groups:
	for _, g := range snap.KeyGroups {
		if g.Group == nil || g.Group.Config == nil {
			continue
		}
		mp := managedPolicy{rev: g.ModRevision}
		for _, id := range g.Group.Config.Items {
			rec, ok := keys[id]
			if !ok || rec.Key.Config == nil {
				continue groups
			}
			tk, ok := parsed[id]
			if !ok {
				pub, err := cloudfront.ParsePublicKey(cloudfront.Str(rec.Key.Config.EncodedKey))
				if err != nil {
					continue groups
				}
				tk = TrustedKey{ID: id}
				switch pub := pub.(type) {
				case *rsa.PublicKey:
					tk.Public = pub
				case *ecdsa.PublicKey:
					tk.ECDSA = pub
				}
				parsed[id] = tk
			}
			mp.keys = append(mp.keys, tk)
			mp.rev = max(mp.rev, rec.ModRevision)
		}
		m[g.Group.ID] = mp
	}
}

// restrict sets b's viewer access restriction from its TrustedKeyGroups.
func restrict(b *Behavior, f behaviorFields, groups map[string]managedPolicy) error {
	if ts := f.trustedSigners; ts != nil && cloudfront.IsTrue(ts.Enabled) {
		return ErrTrustedSigners
	}
	tkg := f.trustedKeyGroups
	if tkg == nil || !cloudfront.IsTrue(tkg.Enabled) {
		return nil
	}
	b.Restricted = true
	b.KeyGroupIDs = slices.Clone(tkg.Items)
	for _, id := range tkg.Items {
		mp, ok := groups[id]
		if !ok || mp.keys == nil {
			return fmt.Errorf("%w: %q", ErrUnknownKeyGroup, id)
		}
		b.TrustedKeys = append(b.TrustedKeys, mp.keys...)
	}
	return nil
}
