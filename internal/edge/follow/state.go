package follow

import (
	"strings"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/store"
)

// state is the edge's copy of the store under model.Root, kept current by
// the watch. Only the follower goroutine touches it.
type state struct {
	dists        map[string]routing.DistributionRecord
	policies     map[string]routing.PolicyRecord
	stickyKey    []byte
	invalidation map[string]bool // keys of invalidations already seen
	oacs         map[string]*model.OriginAccessControl
	cachePols    map[string]routing.CustomPolicyRecord[cloudfront.CachePolicyConfig]
	orPols       map[string]routing.CustomPolicyRecord[cloudfront.OriginRequestPolicyConfig]
	rhPols       map[string]routing.CustomPolicyRecord[cloudfront.ResponseHeadersPolicyConfig]
	keyGroups    map[string]routing.KeyGroupRecord
	publicKeys   map[string]routing.PublicKeyRecord
}

func newState() *state {
	return &state{
		dists:        map[string]routing.DistributionRecord{},
		policies:     map[string]routing.PolicyRecord{},
		invalidation: map[string]bool{},
		oacs:         map[string]*model.OriginAccessControl{},
		cachePols:    map[string]routing.CustomPolicyRecord[cloudfront.CachePolicyConfig]{},
		orPols:       map[string]routing.CustomPolicyRecord[cloudfront.OriginRequestPolicyConfig]{},
		rhPols:       map[string]routing.CustomPolicyRecord[cloudfront.ResponseHeadersPolicyConfig]{},
		keyGroups:    map[string]routing.KeyGroupRecord{},
		publicKeys:   map[string]routing.PublicKeyRecord{},
	}
}

// apply folds one store change into the state. It returns the invalidation
// the change created, if any, so the caller can purge before publishing,
// and whether the change matters to the routing table at all.
func (st *state) apply(ev store.Event) (inv *model.Invalidation, changed bool, err error) {
	key := ev.KV.Key
	del := ev.Type == store.EventDelete
	switch {
	case strings.HasPrefix(key, model.DistributionPrefix):
		if del {
			delete(st.dists, key)
			return nil, true, nil
		}
		d, err := model.Decode[model.Distribution](ev.KV.Value)
		if err != nil {
			// Keep the key with no config: the compiler reports it and
			// keeps the distribution's last good entry, on a resync too
			// (skipping the record there would drop the distribution).
			d = &model.Distribution{ID: strings.TrimPrefix(key, model.DistributionPrefix)}
		}
		st.dists[key] = routing.DistributionRecord{Distribution: d, ModRevision: ev.KV.ModRevision}
		return nil, true, err
	case strings.HasPrefix(key, model.OACPrefix):
		if del {
			delete(st.oacs, key)
			return nil, true, nil
		}
		o, err := model.Decode[model.OriginAccessControl](ev.KV.Value)
		if err != nil {
			return nil, false, err
		}
		st.oacs[key] = o
		return nil, true, nil
	case strings.HasPrefix(key, model.PolicyPrefix):
		if del {
			delete(st.policies, key)
			return nil, true, nil
		}
		p, err := model.Decode[model.Policy](ev.KV.Value)
		if err != nil {
			// As above: the compiler reports the primary's policy as invalid.
			p = &model.Policy{ID: strings.TrimPrefix(key, model.PolicyPrefix)}
		}
		st.policies[key] = routing.PolicyRecord{Policy: p, ModRevision: ev.KV.ModRevision}
		return nil, true, err
	case strings.HasPrefix(key, model.CachePolicyPrefix):
		return nil, true, applyCustomPolicy(st.cachePols, model.CachePolicyPrefix, ev, del)
	case strings.HasPrefix(key, model.OriginRequestPolicyPrefix):
		return nil, true, applyCustomPolicy(st.orPols, model.OriginRequestPolicyPrefix, ev, del)
	case strings.HasPrefix(key, model.ResponseHeadersPolicyPrefix):
		return nil, true, applyCustomPolicy(st.rhPols, model.ResponseHeadersPolicyPrefix, ev, del)
	case strings.HasPrefix(key, model.KeyGroupPrefix):
		if del {
			delete(st.keyGroups, key)
			return nil, true, nil
		}
		g, err := model.Decode[model.KeyGroup](ev.KV.Value)
		if err != nil {
			// Without a config the group trusts nothing: its behaviors fail
			// to compile and keep their last good entry.
			g = &model.KeyGroup{ID: strings.TrimPrefix(key, model.KeyGroupPrefix)}
		}
		st.keyGroups[key] = routing.KeyGroupRecord{Group: g, ModRevision: ev.KV.ModRevision}
		return nil, true, err
	case strings.HasPrefix(key, model.PublicKeyPrefix):
		if del {
			delete(st.publicKeys, key)
			return nil, true, nil
		}
		k, err := model.Decode[model.PublicKey](ev.KV.Value)
		if err != nil {
			k = &model.PublicKey{ID: strings.TrimPrefix(key, model.PublicKeyPrefix)}
		}
		st.publicKeys[key] = routing.PublicKeyRecord{Key: k, ModRevision: ev.KV.ModRevision}
		return nil, true, err
	case key == model.StickyKeyKey:
		if !del {
			st.stickyKey = append([]byte(nil), ev.KV.Value...)
		}
		return nil, true, nil
	case strings.HasPrefix(key, model.InvalidationPrefix):
		if del {
			delete(st.invalidation, key)
			return nil, false, nil
		}
		if st.invalidation[key] {
			return nil, false, nil
		}
		st.invalidation[key] = true
		inv, err := model.Decode[model.Invalidation](ev.KV.Value)
		return inv, false, err
	}
	return nil, false, nil
}

func (st *state) snapshot(rev int64) routing.Snapshot {
	snap := routing.Snapshot{Revision: rev, StickyKey: st.stickyKey}
	for _, o := range st.oacs {
		snap.OACs = append(snap.OACs, o)
	}
	for _, d := range st.dists {
		snap.Distributions = append(snap.Distributions, d)
	}
	for _, p := range st.policies {
		snap.Policies = append(snap.Policies, p)
	}
	for _, p := range st.cachePols {
		snap.CachePolicies = append(snap.CachePolicies, p)
	}
	for _, p := range st.orPols {
		snap.OriginRequestPolicies = append(snap.OriginRequestPolicies, p)
	}
	for _, p := range st.rhPols {
		snap.ResponseHeadersPolicies = append(snap.ResponseHeadersPolicies, p)
	}
	for _, g := range st.keyGroups {
		snap.KeyGroups = append(snap.KeyGroups, g)
	}
	for _, k := range st.publicKeys {
		snap.PublicKeys = append(snap.PublicKeys, k)
	}
	return snap
}

// applyCustomPolicy folds a change to a custom policy into m. An
// undecodable record stays as a policy without config: the distributions
// naming it fail to compile and keep their last good entry.
func applyCustomPolicy[C any](m map[string]routing.CustomPolicyRecord[C], prefix string, ev store.Event, del bool) error {
	if del {
		delete(m, ev.KV.Key)
		return nil
	}
	p, err := model.Decode[model.CustomPolicy[C]](ev.KV.Value)
	if err != nil {
		p = &model.CustomPolicy[C]{ID: strings.TrimPrefix(ev.KV.Key, prefix)}
	}
	m[ev.KV.Key] = routing.CustomPolicyRecord[C]{Policy: p, ModRevision: ev.KV.ModRevision}
	return err
}
