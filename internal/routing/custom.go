package routing

import "github.com/stagefront/stagefront/internal/model"

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
		for _, id := range [...]string{b.CachePolicyID, b.OriginRequestPolicyID, b.ResponseHeadersPolicyID} {
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
