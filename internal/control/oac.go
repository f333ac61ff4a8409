package control

import (
	"context"
	"errors"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// OACResult is an origin access control as the API returns it.
type OACResult struct {
	OAC  *cf.OriginAccessControl
	ETag string
}

func oacWire(o loaded[model.OriginAccessControl]) *OACResult {
	return &OACResult{ETag: o.etag(o.rec.ID), OAC: &cf.OriginAccessControl{Id: cf.String(o.rec.ID), OriginAccessControlConfig: o.rec.Config}}
}

func (s *Service) getOAC(ctx context.Context, id string) (loaded[model.OriginAccessControl], error) {
	o, err := getRecord[model.OriginAccessControl](ctx, s, model.OACKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return o, cf.ErrNoSuchOriginAccessControl.WithMessage("The origin access control %s does not exist.", id)
	}
	return o, err
}

func validateOAC(cfg *cf.OriginAccessControlConfig) error {
	if cfg == nil {
		return cf.ErrMissingBody
	}
	if err := cf.CheckShape("OriginAccessControlConfig", cfg); err != nil {
		return err
	}
	if n := len(cf.Str(cfg.Name)); n == 0 || n > 64 {
		return cf.ErrInvalidArgument.WithMessage("The origin access control Name must be 1 to 64 characters.")
	}
	if cfg.Description == nil {
		cfg.Description = cf.String("")
	}
	return nil
}

// CreateOAC implements CreateOriginAccessControl.
func (s *Service) CreateOAC(ctx context.Context, cfg *cf.OriginAccessControlConfig) (*OACResult, error) {
	if err := validateOAC(cfg); err != nil {
		return nil, err
	}
	id, err := s.randomString(upperAlnum, 13)
	if err != nil {
		return nil, err
	}
	rec := &model.OriginAccessControl{ID: "E" + id, Config: cfg}
	put, err := putOp(model.OACKey(rec.ID), rec)
	if err != nil {
		return nil, err
	}
	nameKey := model.OACNameKey(cf.Str(cfg.Name))
	rev, err := s.txnOr(ctx, []store.Cond{{Key: nameKey}, {Key: model.OACKey(rec.ID)}},
		[]store.Op{put, {Key: nameKey, Value: []byte(rec.ID)}}, func() error {
			return cf.ErrOriginAccessControlAlreadyExists.WithMessage("An origin access control named %q already exists.", cf.Str(cfg.Name))
		})
	if err != nil {
		return nil, err
	}
	return oacWire(loaded[model.OriginAccessControl]{rec: rec, rev: rev}), nil
}

// GetOAC implements GetOriginAccessControl(Config).
func (s *Service) GetOAC(ctx context.Context, id string) (*OACResult, error) {
	o, err := s.getOAC(ctx, id)
	if err != nil {
		return nil, err
	}
	return oacWire(o), nil
}

// UpdateOAC implements UpdateOriginAccessControl.
func (s *Service) UpdateOAC(ctx context.Context, id, ifMatch string, cfg *cf.OriginAccessControlConfig) (*OACResult, error) {
	if err := validateOAC(cfg); err != nil {
		return nil, err
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getOAC(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, err
	}
	next := &model.OriginAccessControl{ID: id, Config: cfg}
	put, err := putOp(model.OACKey(id), next)
	if err != nil {
		return nil, err
	}
	conds := []store.Cond{{Key: model.OACKey(id), ModRevision: cur.rev}}
	ops := []store.Op{put}
	if oldName, newName := cf.Str(cur.rec.Config.Name), cf.Str(cfg.Name); oldName != newName {
		if _, err := s.st.Get(ctx, model.OACNameKey(newName)); err == nil {
			return nil, cf.ErrOriginAccessControlAlreadyExists.WithMessage("An origin access control named %q already exists.", newName)
		}
		conds = append(conds, store.Cond{Key: model.OACNameKey(newName)})
		ops = append(ops, store.Op{Key: model.OACNameKey(oldName), Delete: true}, store.Op{Key: model.OACNameKey(newName), Value: []byte(id)})
	}
	rev, err := s.txn(ctx, conds, ops)
	if err != nil {
		return nil, err
	}
	return oacWire(loaded[model.OriginAccessControl]{rec: next, rev: rev}), nil
}

// DeleteOAC implements DeleteOriginAccessControl.
func (s *Service) DeleteOAC(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getOAC(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	user, err := s.distributionWithOrigin(ctx, func(o cf.Origin) bool { return cf.Str(o.OriginAccessControlId) == id })
	if err != nil {
		return err
	}
	if user != "" {
		return cf.ErrOriginAccessControlInUse.WithMessage("The origin access control %s is used by distribution %s.", id, user)
	}
	_, err = s.txn(ctx, []store.Cond{{Key: model.OACKey(id), ModRevision: cur.rev}},
		[]store.Op{{Key: model.OACKey(id), Delete: true}, {Key: model.OACNameKey(cf.Str(cur.rec.Config.Name)), Delete: true}})
	return err
}

// ListOACs implements ListOriginAccessControls.
func (s *Service) ListOACs(ctx context.Context, marker string, maxItems int) (*cf.OriginAccessControlList, error) {
	all, err := listRecords[model.OriginAccessControl](ctx, s, model.OACPrefix)
	if err != nil {
		return nil, err
	}
	items, next, _ := page(all, func(o loaded[model.OriginAccessControl]) string { return o.rec.ID }, marker, maxItems)
	list := &cf.OriginAccessControlList{
		Marker: cf.String(marker), MaxItems: cf.Int32(int32(maxItems)),
		IsTruncated: cf.Bool(next != ""), Quantity: cf.Int32(int32(len(items))),
	}
	if next != "" {
		list.NextMarker = cf.String(next)
	}
	for _, o := range items {
		c := o.rec.Config
		list.Items = append(list.Items, cf.OriginAccessControlSummary{
			Id: cf.String(o.rec.ID), Description: c.Description, Name: c.Name, SigningProtocol: c.SigningProtocol,
			SigningBehavior: c.SigningBehavior, OriginAccessControlOriginType: c.OriginAccessControlOriginType,
		})
	}
	return list, nil
}

// distributionWithOrigin returns the id of a distribution with an origin
// for which uses is true, or "" when none has one: the in-use check of the
// resources an origin can name (origin access controls and identities).
func (s *Service) distributionWithOrigin(ctx context.Context, uses func(cf.Origin) bool) (string, error) {
	dists, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return "", err
	}
	for _, d := range dists {
		if d.rec.Config == nil || d.rec.Config.Origins == nil {
			continue
		}
		for _, o := range d.rec.Config.Origins.Items {
			if uses(o) {
				return d.rec.ID, nil
			}
		}
	}
	return "", nil
}
