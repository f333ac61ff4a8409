package control

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// policyKind describes one kind of policy (cache, origin request, response
// headers) to the generic operations below: C is its config shape, P its
// API shape.
type policyKind[C any, P any] struct {
	what       string // "cache policy", for messages
	prefix     string
	namePrefix string
	noSuch     *cf.Error
	dupName    *cf.Error
	inUse      *cf.Error
	tooMany    *cf.Error
	// managed returns the managed policies (read-only) as API shapes.
	managed func() []P
	idOf    func(P) string
	// prepare fills CloudFront's defaults and validates.
	prepare func(*C) error
	name    func(*C) string
	wire    func(*model.CustomPolicy[C]) P
	// ref returns the id of this kind a cache behavior names ("" for none).
	ref func(behaviorRefs) string
}

// behaviorRefs are the resources a cache behavior names.
type behaviorRefs struct {
	cachePolicy, originRequestPolicy, responseHeadersPolicy string
	keyGroups                                               []string
}

// behaviorsOf returns what each behavior of a distribution config names.
func behaviorsOf(c *cf.DistributionConfig) []behaviorRefs {
	var out []behaviorRefs
	keyGroups := func(t *cf.TrustedKeyGroups) []string {
		if t == nil || !cf.IsTrue(t.Enabled) {
			return nil
		}
		return t.Items
	}
	if b := c.DefaultCacheBehavior; b != nil {
		out = append(out, behaviorRefs{cf.Str(b.CachePolicyId), cf.Str(b.OriginRequestPolicyId), cf.Str(b.ResponseHeadersPolicyId), keyGroups(b.TrustedKeyGroups)})
	}
	if c.CacheBehaviors != nil {
		for _, b := range c.CacheBehaviors.Items {
			out = append(out, behaviorRefs{cf.Str(b.CachePolicyId), cf.Str(b.OriginRequestPolicyId), cf.Str(b.ResponseHeadersPolicyId), keyGroups(b.TrustedKeyGroups)})
		}
	}
	return out
}

func (k *policyKind[C, P]) managedByID(id string) (P, bool) {
	for _, p := range k.managed() {
		if k.idOf(p) == id {
			return p, true
		}
	}
	var zero P
	return zero, false
}

func (k *policyKind[C, P]) getRecord(ctx context.Context, s *Service, id string) (loaded[model.CustomPolicy[C]], error) {
	rec, err := getRecord[model.CustomPolicy[C]](ctx, s, k.prefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, k.noSuch.WithMessage("The %s %s does not exist.", k.what, id)
	}
	return rec, err
}

// get returns a managed or custom policy and its ETag. A managed policy
// never changes, so its ETag derives from its id alone.
func (k *policyKind[C, P]) get(ctx context.Context, s *Service, id string) (P, string, error) {
	if p, ok := k.managedByID(id); ok {
		return p, model.ETag(id, 0), nil
	}
	rec, err := k.getRecord(ctx, s, id)
	if err != nil {
		var zero P
		return zero, "", err
	}
	return k.wire(rec.rec), rec.etag(id), nil
}

// exists reports whether id names a managed or custom policy of this kind.
func (k *policyKind[C, P]) exists(ctx context.Context, s *Service, id string) bool {
	if _, ok := k.managedByID(id); ok {
		return true
	}
	_, err := s.st.Get(ctx, k.prefix+id)
	return err == nil
}

func (k *policyKind[C, P]) errExists(name string) error {
	return k.dupName.WithMessage("A %s named %q already exists.", k.what, name)
}

func (k *policyKind[C, P]) create(ctx context.Context, s *Service, cfg *C) (P, string, error) {
	var zero P
	if cfg == nil {
		return zero, "", cf.ErrMissingBody
	}
	if err := k.prepare(cfg); err != nil {
		return zero, "", err
	}
	name := k.name(cfg)
	all, _, err := s.st.List(ctx, k.prefix)
	if err != nil {
		return zero, "", err
	}
	if len(all) >= cf.MaxCustomPoliciesPerKind {
		return zero, "", k.tooMany.WithMessage("%s The maximum is %d.", k.tooMany.Message, cf.MaxCustomPoliciesPerKind)
	}
	id, err := s.newUUID()
	if err != nil {
		return zero, "", err
	}
	rec := &model.CustomPolicy[C]{ID: id, LastModified: s.now(), Config: cfg}
	put, err := putOp(k.prefix+id, rec)
	if err != nil {
		return zero, "", err
	}
	nameKey := model.NameKey(k.namePrefix, name)
	rev, err := s.txnOr(ctx, []store.Cond{{Key: nameKey}, {Key: k.prefix + id}},
		[]store.Op{put, {Key: nameKey, Value: []byte(id)}},
		func() error { return k.errExists(name) })
	if err != nil {
		return zero, "", err
	}
	return k.wire(rec), model.ETag(id, rev), nil
}

func (k *policyKind[C, P]) update(ctx context.Context, s *Service, id, ifMatch string, cfg *C) (P, string, error) {
	var zero P
	if cfg == nil {
		return zero, "", cf.ErrMissingBody
	}
	if _, ok := k.managedByID(id); ok {
		return zero, "", cf.ErrIllegalUpdate.WithMessage("The %s %s is managed by AWS and cannot be changed.", k.what, id)
	}
	if strings.TrimSpace(ifMatch) == "" {
		return zero, "", cf.ErrInvalidIfMatchVersion
	}
	cur, err := k.getRecord(ctx, s, id)
	if err != nil {
		return zero, "", err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return zero, "", err
	}
	if err := k.prepare(cfg); err != nil {
		return zero, "", err
	}
	next := &model.CustomPolicy[C]{ID: id, LastModified: s.now(), Config: cfg}
	put, err := putOp(k.prefix+id, next)
	if err != nil {
		return zero, "", err
	}
	conds := []store.Cond{{Key: k.prefix + id, ModRevision: cur.rev}}
	ops := []store.Op{put}
	if oldName, newName := k.name(cur.rec.Config), k.name(cfg); oldName != newName {
		newKey := model.NameKey(k.namePrefix, newName)
		if _, err := s.st.Get(ctx, newKey); err == nil {
			return zero, "", k.errExists(newName)
		}
		conds = append(conds, store.Cond{Key: newKey})
		ops = append(ops, store.Op{Key: model.NameKey(k.namePrefix, oldName), Delete: true}, store.Op{Key: newKey, Value: []byte(id)})
	}
	rev, err := s.txn(ctx, conds, ops)
	if err != nil {
		return zero, "", err
	}
	return k.wire(next), model.ETag(id, rev), nil
}

func (k *policyKind[C, P]) delete(ctx context.Context, s *Service, id, ifMatch string) error {
	if _, ok := k.managedByID(id); ok {
		return cf.ErrIllegalDelete.WithMessage("The %s %s is managed by AWS and cannot be deleted.", k.what, id)
	}
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := k.getRecord(ctx, s, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	users, err := s.distributionsNaming(ctx, func(b behaviorRefs) bool { return k.ref(b) == id })
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return k.inUse.WithMessage("%s It is used by distribution %s.", k.inUse.Message, users[0])
	}
	_, err = s.txn(ctx, []store.Cond{{Key: k.prefix + id, ModRevision: cur.rev}},
		[]store.Op{{Key: k.prefix + id, Delete: true}, {Key: model.NameKey(k.namePrefix, k.name(cur.rec.Config)), Delete: true}})
	return err
}

// list returns the policies of type typ ("" for both): managed ones first,
// then custom ones by id, as summaries built by summary.
func (k *policyKind[C, P]) list(ctx context.Context, s *Service, typ string) ([]P, []string, error) {
	var items []P
	var types []string
	if typ == "" || typ == "managed" {
		for _, p := range k.managed() {
			items, types = append(items, p), append(types, "managed")
		}
	}
	if typ == "" || typ == "custom" {
		recs, err := listRecords[model.CustomPolicy[C]](ctx, s, k.prefix)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range recs {
			items, types = append(items, k.wire(r.rec)), append(types, "custom")
		}
	}
	return items, types, nil
}

// distributionsNaming returns the ids of the distributions, in id order,
// one of whose behaviors match.
func (s *Service) distributionsNaming(ctx context.Context, match func(behaviorRefs) bool) ([]string, error) {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range all {
		if d.rec.Config == nil {
			continue
		}
		for _, b := range behaviorsOf(d.rec.Config) {
			if match(b) {
				out = append(out, d.rec.ID)
				break
			}
		}
	}
	return out, nil
}

// distributionIDList pages ids (sorted) into a DistributionIdList.
func distributionIDList(ids []string, marker string, maxItems int) *cf.DistributionIdList {
	items, next := pageAfter(ids, func(id string) string { return id }, marker, maxItems)
	list := &cf.DistributionIdList{
		Marker: cf.String(marker), MaxItems: cf.Int32(int32(maxItems)),
		IsTruncated: cf.Bool(next != nil), Quantity: cf.Int32(int32(len(items))), Items: items, NextMarker: next,
	}
	return list
}

// servedRevision is the store revision the edges must serve for d to be
// Deployed: the latest of d's own and of the custom resources its
// behaviors name, since a change to one of those changes what d serves.
// It reads through r: the store, or a snapshot of the config read once
// for a whole list.
func (s *Service) servedRevision(ctx context.Context, r recordReader, d loaded[model.Distribution]) (int64, error) {
	rev := d.rev
	if d.rec.Config == nil {
		return rev, nil
	}
	seen := map[string]bool{}
	consider := func(key string) error {
		if seen[key] {
			return nil
		}
		seen[key] = true
		kv, err := r.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("read %s: %w", key, err)
		}
		rev = max(rev, kv.ModRevision)
		return nil
	}
	for _, b := range behaviorsOf(d.rec.Config) {
		keys := []string{}
		if b.cachePolicy != "" {
			keys = append(keys, model.CachePolicyPrefix+b.cachePolicy)
		}
		if b.originRequestPolicy != "" {
			keys = append(keys, model.OriginRequestPolicyPrefix+b.originRequestPolicy)
		}
		if b.responseHeadersPolicy != "" {
			keys = append(keys, model.ResponseHeadersPolicyPrefix+b.responseHeadersPolicy)
		}
		for _, g := range b.keyGroups {
			keys = append(keys, model.KeyGroupPrefix+g)
			if grp, err := readRecord[model.KeyGroup](ctx, s, r, model.KeyGroupPrefix+g); err == nil && grp.rec.Config != nil {
				for _, k := range grp.rec.Config.Items {
					keys = append(keys, model.PublicKeyPrefix+k)
				}
			}
		}
		for _, k := range keys {
			if err := consider(k); err != nil {
				return 0, err
			}
		}
	}
	return rev, nil
}
