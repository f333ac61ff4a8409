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

// Public keys.

func publicKeyWire(r *model.PublicKey) *cf.PublicKey {
	return &cf.PublicKey{Id: cf.String(r.ID), CreatedTime: cf.NewTime(r.Created), PublicKeyConfig: r.Config}
}

func (s *Service) getPublicKey(ctx context.Context, id string) (loaded[model.PublicKey], error) {
	k, err := getRecord[model.PublicKey](ctx, s, model.PublicKeyPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return k, cf.ErrNoSuchPublicKey.WithMessage("The public key %s doesn't exist.", id)
	}
	return k, err
}

// CreatePublicKey implements CreatePublicKey. The EncodedKey is stored as
// sent, so every read returns it byte for byte.
func (s *Service) CreatePublicKey(ctx context.Context, cfg *cf.PublicKeyConfig) (*cf.PublicKey, string, error) {
	if err := cf.ValidatePublicKeyConfig(cfg); err != nil {
		return nil, "", err
	}
	if cfg.Comment == nil {
		cfg.Comment = cf.String("")
	}
	all, _, err := s.st.List(ctx, model.PublicKeyPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("list public keys: %w", err)
	}
	if len(all) >= cf.MaxPublicKeys {
		return nil, "", cf.ErrTooManyPublicKeys.WithMessage("You can have at most %d public keys.", cf.MaxPublicKeys)
	}
	suffix, err := s.randomString(upperAlnum, 13)
	if err != nil {
		return nil, "", err
	}
	rec := &model.PublicKey{ID: "K" + suffix, Created: s.now(), Config: cfg}
	put, err := putOp(model.PublicKeyPrefix+rec.ID, rec)
	if err != nil {
		return nil, "", err
	}
	refKey := model.NameKey(model.PublicKeyRefPrefix, cf.Str(cfg.CallerReference))
	rev, err := s.txnOr(ctx, []store.Cond{{Key: refKey}, {Key: model.PublicKeyPrefix + rec.ID}},
		[]store.Op{put, {Key: refKey, Value: []byte(rec.ID)}}, func() error {
			return cf.ErrPublicKeyAlreadyExists.WithMessage("A public key with the caller reference %q already exists.", cf.Str(cfg.CallerReference))
		})
	if err != nil {
		return nil, "", err
	}
	return publicKeyWire(rec), model.ETag(rec.ID, rev), nil
}

// GetPublicKey implements GetPublicKey(Config).
func (s *Service) GetPublicKey(ctx context.Context, id string) (*cf.PublicKey, string, error) {
	k, err := s.getPublicKey(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return publicKeyWire(k.rec), k.etag(id), nil
}

// UpdatePublicKey implements UpdatePublicKey: only the Comment may change.
func (s *Service) UpdatePublicKey(ctx context.Context, id, ifMatch string, cfg *cf.PublicKeyConfig) (*cf.PublicKey, string, error) {
	if cfg == nil {
		return nil, "", cf.ErrMissingBody
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, "", cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getPublicKey(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, "", err
	}
	if err := cf.CheckShape("PublicKeyConfig", cfg); err != nil {
		return nil, "", err
	}
	old := cur.rec.Config
	if cf.Str(cfg.EncodedKey) != cf.Str(old.EncodedKey) {
		return nil, "", cf.ErrCannotChangeImmutablePublicKeyFields
	}
	if cf.Str(cfg.Name) != cf.Str(old.Name) || cf.Str(cfg.CallerReference) != cf.Str(old.CallerReference) {
		return nil, "", cf.ErrIllegalUpdate.WithMessage("Only the Comment of a public key can be changed.")
	}
	if err := cf.ValidatePublicKeyConfig(cfg); err != nil {
		return nil, "", err
	}
	if cfg.Comment == nil {
		cfg.Comment = cf.String("")
	}
	next := &model.PublicKey{ID: id, Created: cur.rec.Created, Config: cfg}
	put, err := putOp(model.PublicKeyPrefix+id, next)
	if err != nil {
		return nil, "", err
	}
	rev, err := s.txn(ctx, []store.Cond{{Key: model.PublicKeyPrefix + id, ModRevision: cur.rev}}, []store.Op{put})
	if err != nil {
		return nil, "", err
	}
	return publicKeyWire(next), model.ETag(id, rev), nil
}

// DeletePublicKey implements DeletePublicKey: a key in a key group is in use.
func (s *Service) DeletePublicKey(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getPublicKey(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	groups, err := listRecords[model.KeyGroup](ctx, s, model.KeyGroupPrefix)
	if err != nil {
		return err
	}
	for _, g := range groups {
		for _, k := range g.rec.Config.Items {
			if k == id {
				return cf.ErrPublicKeyInUse.WithMessage("The public key %s is in key group %s.", id, g.rec.ID)
			}
		}
	}
	_, err = s.txn(ctx, []store.Cond{{Key: model.PublicKeyPrefix + id, ModRevision: cur.rev}}, []store.Op{
		{Key: model.PublicKeyPrefix + id, Delete: true},
		{Key: model.NameKey(model.PublicKeyRefPrefix, cf.Str(cur.rec.Config.CallerReference)), Delete: true},
	})
	return err
}

// ListPublicKeys implements ListPublicKeys.
func (s *Service) ListPublicKeys(ctx context.Context, marker string, maxItems int) (*cf.PublicKeyList, error) {
	all, err := listRecords[model.PublicKey](ctx, s, model.PublicKeyPrefix)
	if err != nil {
		return nil, err
	}
	items, next := pageAfter(all, func(k loaded[model.PublicKey]) string { return k.rec.ID }, marker, maxItems)
	list := &cf.PublicKeyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(items))), NextMarker: next}
	for _, k := range items {
		c := k.rec.Config
		list.Items = append(list.Items, cf.PublicKeySummary{Id: cf.String(k.rec.ID), Name: c.Name,
			CreatedTime: cf.NewTime(k.rec.Created), EncodedKey: c.EncodedKey, Comment: c.Comment})
	}
	return list, nil
}

// Key groups.

func keyGroupWire(r *model.KeyGroup) *cf.KeyGroup {
	return &cf.KeyGroup{Id: cf.String(r.ID), LastModifiedTime: cf.NewTime(r.LastModified), KeyGroupConfig: r.Config}
}

func (s *Service) getKeyGroup(ctx context.Context, id string) (loaded[model.KeyGroup], error) {
	g, err := getRecord[model.KeyGroup](ctx, s, model.KeyGroupPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return g, cf.ErrNoSuchResource.WithMessage("The key group %s does not exist.", id)
	}
	return g, err
}

func (s *Service) publicKeyExists(ctx context.Context) func(string) bool {
	return func(id string) bool {
		_, err := s.st.Get(ctx, model.PublicKeyPrefix+id)
		return err == nil
	}
}

func (s *Service) keyGroupExists(ctx context.Context, id string) bool {
	_, err := s.st.Get(ctx, model.KeyGroupPrefix+id)
	return err == nil
}

// keyGroupKeyConds guard the public keys a key group names: each must
// still exist, at the revision it was checked at, when the group is written.
func (s *Service) keyGroupKeyConds(ctx context.Context, ids []string) ([]store.Cond, error) {
	var conds []store.Cond
	for _, id := range ids {
		k, err := s.getPublicKey(ctx, id)
		if err != nil {
			return nil, cf.ErrInvalidArgument.WithMessage("The public key %s does not exist.", id)
		}
		conds = append(conds, store.Cond{Key: model.PublicKeyPrefix + id, ModRevision: k.rev})
	}
	return conds, nil
}

// CreateKeyGroup implements CreateKeyGroup.
func (s *Service) CreateKeyGroup(ctx context.Context, cfg *cf.KeyGroupConfig) (*cf.KeyGroup, string, error) {
	if err := cf.ValidateKeyGroupConfig(cfg, s.publicKeyExists(ctx)); err != nil {
		return nil, "", err
	}
	if cfg.Comment == nil {
		cfg.Comment = cf.String("")
	}
	all, _, err := s.st.List(ctx, model.KeyGroupPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("list key groups: %w", err)
	}
	if len(all) >= cf.MaxKeyGroups {
		return nil, "", cf.ErrTooManyKeyGroups.WithMessage("You can have at most %d key groups.", cf.MaxKeyGroups)
	}
	id, err := s.newUUID()
	if err != nil {
		return nil, "", err
	}
	rec := &model.KeyGroup{ID: id, LastModified: s.now(), Config: cfg}
	put, err := putOp(model.KeyGroupPrefix+id, rec)
	if err != nil {
		return nil, "", err
	}
	nameKey := model.NameKey(model.KeyGroupNamePrefix, cf.Str(cfg.Name))
	if _, err := s.st.Get(ctx, nameKey); err == nil {
		return nil, "", cf.ErrKeyGroupAlreadyExists.WithMessage("A key group named %q already exists.", cf.Str(cfg.Name))
	}
	conds, err := s.keyGroupKeyConds(ctx, cfg.Items)
	if err != nil {
		return nil, "", err
	}
	conds = append(conds, store.Cond{Key: nameKey}, store.Cond{Key: model.KeyGroupPrefix + id})
	rev, err := s.txn(ctx, conds, []store.Op{put, {Key: nameKey, Value: []byte(id)}})
	if err != nil {
		return nil, "", err
	}
	return keyGroupWire(rec), model.ETag(id, rev), nil
}

// GetKeyGroup implements GetKeyGroup(Config).
func (s *Service) GetKeyGroup(ctx context.Context, id string) (*cf.KeyGroup, string, error) {
	g, err := s.getKeyGroup(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return keyGroupWire(g.rec), g.etag(id), nil
}

// UpdateKeyGroup implements UpdateKeyGroup: a full replacement; the edges
// verify signatures with the new set of keys once they serve it.
func (s *Service) UpdateKeyGroup(ctx context.Context, id, ifMatch string, cfg *cf.KeyGroupConfig) (*cf.KeyGroup, string, error) {
	if cfg == nil {
		return nil, "", cf.ErrMissingBody
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, "", cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getKeyGroup(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, "", err
	}
	if err := cf.ValidateKeyGroupConfig(cfg, s.publicKeyExists(ctx)); err != nil {
		return nil, "", err
	}
	if cfg.Comment == nil {
		cfg.Comment = cf.String("")
	}
	next := &model.KeyGroup{ID: id, LastModified: s.now(), Config: cfg}
	put, err := putOp(model.KeyGroupPrefix+id, next)
	if err != nil {
		return nil, "", err
	}
	conds, err := s.keyGroupKeyConds(ctx, cfg.Items)
	if err != nil {
		return nil, "", err
	}
	conds = append(conds, store.Cond{Key: model.KeyGroupPrefix + id, ModRevision: cur.rev})
	ops := []store.Op{put}
	if oldName, newName := cf.Str(cur.rec.Config.Name), cf.Str(cfg.Name); oldName != newName {
		newKey := model.NameKey(model.KeyGroupNamePrefix, newName)
		if _, err := s.st.Get(ctx, newKey); err == nil {
			return nil, "", cf.ErrKeyGroupAlreadyExists.WithMessage("A key group named %q already exists.", newName)
		}
		conds = append(conds, store.Cond{Key: newKey})
		ops = append(ops, store.Op{Key: model.NameKey(model.KeyGroupNamePrefix, oldName), Delete: true}, store.Op{Key: newKey, Value: []byte(id)})
	}
	rev, err := s.txn(ctx, conds, ops)
	if err != nil {
		return nil, "", err
	}
	return keyGroupWire(next), model.ETag(id, rev), nil
}

// DeleteKeyGroup implements DeleteKeyGroup: a group a distribution trusts
// is in use.
func (s *Service) DeleteKeyGroup(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getKeyGroup(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	users, err := s.distributionsTrusting(ctx, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return cf.ErrResourceInUse.WithMessage("The key group %s is trusted by distribution %s.", id, users[0])
	}
	_, err = s.txn(ctx, []store.Cond{{Key: model.KeyGroupPrefix + id, ModRevision: cur.rev}}, []store.Op{
		{Key: model.KeyGroupPrefix + id, Delete: true},
		{Key: model.NameKey(model.KeyGroupNamePrefix, cf.Str(cur.rec.Config.Name)), Delete: true},
	})
	return err
}

// ListKeyGroups implements ListKeyGroups.
func (s *Service) ListKeyGroups(ctx context.Context, marker string, maxItems int) (*cf.KeyGroupList, error) {
	all, err := listRecords[model.KeyGroup](ctx, s, model.KeyGroupPrefix)
	if err != nil {
		return nil, err
	}
	items, next := pageAfter(all, func(g loaded[model.KeyGroup]) string { return g.rec.ID }, marker, maxItems)
	list := &cf.KeyGroupList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(items))), NextMarker: next}
	for _, g := range items {
		list.Items = append(list.Items, cf.KeyGroupSummary{KeyGroup: keyGroupWire(g.rec)})
	}
	return list, nil
}

// distributionsTrusting returns the distributions one of whose behaviors
// names the key group in TrustedKeyGroups (enabled or not).
func (s *Service) distributionsTrusting(ctx context.Context, id string) ([]string, error) {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range all {
		if d.rec.Config != nil && trustsKeyGroup(d.rec.Config, id) {
			out = append(out, d.rec.ID)
		}
	}
	return out, nil
}

func trustsKeyGroup(c *cf.DistributionConfig, id string) bool {
	groups := func(t *cf.TrustedKeyGroups) []string {
		if t == nil {
			return nil
		}
		return t.Items
	}
	var all [][]string
	if c.DefaultCacheBehavior != nil {
		all = append(all, groups(c.DefaultCacheBehavior.TrustedKeyGroups))
	}
	if c.CacheBehaviors != nil {
		for _, b := range c.CacheBehaviors.Items {
			all = append(all, groups(b.TrustedKeyGroups))
		}
	}
	for _, g := range all {
		for _, k := range g {
			if k == id {
				return true
			}
		}
	}
	return false
}

// ListDistributionsByKeyGroup implements ListDistributionsByKeyGroup.
func (s *Service) ListDistributionsByKeyGroup(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error) {
	if _, err := s.getKeyGroup(ctx, id); err != nil {
		return nil, err
	}
	ids, err := s.distributionsTrusting(ctx, id)
	if err != nil {
		return nil, err
	}
	return distributionIDList(ids, marker, maxItems), nil
}

// activeKeyGroups is a distribution's ActiveTrustedKeyGroups: the key
// groups its behaviors trust (enabled), each with its public key ids.
func (s *Service) activeKeyGroups(ctx context.Context, c *cf.DistributionConfig) *cf.ActiveTrustedKeyGroups {
	out := &cf.ActiveTrustedKeyGroups{Enabled: cf.Bool(false), Quantity: cf.Int32(0)}
	if c == nil {
		return out
	}
	seen := map[string]bool{}
	for _, b := range behaviorsOf(c) {
		for _, id := range b.keyGroups {
			if seen[id] {
				continue
			}
			seen[id] = true
			item := cf.KGKeyPairIds{KeyGroupId: cf.String(id), KeyPairIds: &cf.KeyPairIds{Quantity: cf.Int32(0)}}
			if g, err := s.getKeyGroup(ctx, id); err == nil {
				item.KeyPairIds = &cf.KeyPairIds{Quantity: cf.Int32(int32(len(g.rec.Config.Items))), Items: g.rec.Config.Items}
			}
			out.Items = append(out.Items, item)
		}
	}
	if len(out.Items) > 0 {
		out.Enabled, out.Quantity = cf.Bool(true), cf.Int32(int32(len(out.Items)))
	}
	return out
}
