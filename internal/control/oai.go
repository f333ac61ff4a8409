package control

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

// maxOAIs is CloudFront's quota of origin access identities per account.
const maxOAIs = 100

func oaiWire(r *model.OAI) *cf.CloudFrontOriginAccessIdentity {
	return &cf.CloudFrontOriginAccessIdentity{Id: cf.String(r.ID), S3CanonicalUserId: cf.String(r.S3CanonicalUserID),
		CloudFrontOriginAccessIdentityConfig: r.Config}
}

func (s *Service) getOAI(ctx context.Context, id string) (loaded[model.OAI], error) {
	o, err := getRecord[model.OAI](ctx, s, model.OAIPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return o, cf.ErrNoSuchOAI.WithMessage("The origin access identity %s does not exist.", id)
	}
	return o, err
}

func validateOAIConfig(cfg *cf.CloudFrontOriginAccessIdentityConfig) error {
	if cfg == nil {
		return cf.ErrMissingBody
	}
	if err := cf.CheckShape("CloudFrontOriginAccessIdentityConfig", cfg); err != nil {
		return err
	}
	if n := len(cf.Str(cfg.CallerReference)); n == 0 || n > 128 {
		return cf.ErrInvalidArgument.WithMessage("The CallerReference must be 1 to 128 characters.")
	}
	if len(cf.Str(cfg.Comment)) > 128 {
		return cf.ErrInvalidArgument.WithMessage("The parameter Comment is too long (maximum 128 characters).")
	}
	return nil
}

// canonicalUserID is the S3 canonical user id of an identity: 48 bytes in
// hex, the length CloudFront's are, derived from the account and the id
// so that every node computes the same one.
func (s *Service) canonicalUserID(id string) string {
	sum := sha512.Sum384([]byte(s.opts.AccountID + "/origin-access-identity/" + id))
	return hex.EncodeToString(sum[:])
}

// CreateOAI implements CreateCloudFrontOriginAccessIdentity. The same
// CallerReference with the same config returns the existing identity; with
// another config it is CloudFrontOriginAccessIdentityAlreadyExists.
func (s *Service) CreateOAI(ctx context.Context, cfg *cf.CloudFrontOriginAccessIdentityConfig) (*cf.CloudFrontOriginAccessIdentity, string, error) {
	if err := validateOAIConfig(cfg); err != nil {
		return nil, "", err
	}
	refKey := model.NameKey(model.OAIRefPrefix, cf.Str(cfg.CallerReference))
	if kv, err := s.st.Get(ctx, refKey); err == nil {
		cur, err := s.getOAI(ctx, string(kv.Value))
		if err == nil && reflect.DeepEqual(cur.rec.Config, cfg) {
			return oaiWire(cur.rec), cur.etag(cur.rec.ID), nil
		}
		return nil, "", cf.ErrOAIAlreadyExists
	}
	all, _, err := s.st.List(ctx, model.OAIPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("list origin access identities: %w", err)
	}
	if len(all) >= maxOAIs {
		return nil, "", cf.ErrTooManyOAIs
	}
	suffix, err := s.randomString(upperAlnum, 13)
	if err != nil {
		return nil, "", err
	}
	rec := &model.OAI{ID: "E" + suffix, Config: cfg}
	rec.S3CanonicalUserID = s.canonicalUserID(rec.ID)
	put, err := putOp(model.OAIPrefix+rec.ID, rec)
	if err != nil {
		return nil, "", err
	}
	rev, err := s.txnOr(ctx, []store.Cond{{Key: refKey}, {Key: model.OAIPrefix + rec.ID}},
		[]store.Op{put, {Key: refKey, Value: []byte(rec.ID)}},
		func() error { return cf.ErrOAIAlreadyExists })
	if err != nil {
		return nil, "", err
	}
	return oaiWire(rec), model.ETag(rec.ID, rev), nil
}

// GetOAI implements GetCloudFrontOriginAccessIdentity(Config).
func (s *Service) GetOAI(ctx context.Context, id string) (*cf.CloudFrontOriginAccessIdentity, string, error) {
	o, err := s.getOAI(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return oaiWire(o.rec), o.etag(id), nil
}

// UpdateOAI implements UpdateCloudFrontOriginAccessIdentity: the Comment
// may change, the CallerReference may not.
func (s *Service) UpdateOAI(ctx context.Context, id, ifMatch string, cfg *cf.CloudFrontOriginAccessIdentityConfig) (*cf.CloudFrontOriginAccessIdentity, string, error) {
	if err := validateOAIConfig(cfg); err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(ifMatch) == "" {
		return nil, "", cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getOAI(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return nil, "", err
	}
	if cf.Str(cfg.CallerReference) != cf.Str(cur.rec.Config.CallerReference) {
		return nil, "", cf.ErrIllegalUpdate.WithMessage("The CallerReference of an origin access identity cannot be changed.")
	}
	next := &model.OAI{ID: id, S3CanonicalUserID: cur.rec.S3CanonicalUserID, Config: cfg}
	put, err := putOp(model.OAIPrefix+id, next)
	if err != nil {
		return nil, "", err
	}
	rev, err := s.txn(ctx, []store.Cond{{Key: model.OAIPrefix + id, ModRevision: cur.rev}}, []store.Op{put})
	if err != nil {
		return nil, "", err
	}
	return oaiWire(next), model.ETag(id, rev), nil
}

// DeleteOAI implements DeleteCloudFrontOriginAccessIdentity.
func (s *Service) DeleteOAI(ctx context.Context, id, ifMatch string) error {
	if strings.TrimSpace(ifMatch) == "" {
		return cf.ErrInvalidIfMatchVersion
	}
	cur, err := s.getOAI(ctx, id)
	if err != nil {
		return err
	}
	if err := checkIfMatch(ifMatch, cur.etag(id)); err != nil {
		return err
	}
	user, err := s.distributionWithOrigin(ctx, func(o cf.Origin) bool {
		return o.S3OriginConfig != nil && cf.Str(o.S3OriginConfig.OriginAccessIdentity) == cf.OAIPathPrefix+id
	})
	if err != nil {
		return err
	}
	if user != "" {
		return cf.ErrOAIInUse.WithMessage("The origin access identity %s is used by distribution %s.", id, user)
	}
	_, err = s.txn(ctx, []store.Cond{{Key: model.OAIPrefix + id, ModRevision: cur.rev}}, []store.Op{
		{Key: model.OAIPrefix + id, Delete: true},
		{Key: model.NameKey(model.OAIRefPrefix, cf.Str(cur.rec.Config.CallerReference)), Delete: true},
	})
	return err
}

// ListOAIs implements ListCloudFrontOriginAccessIdentities.
func (s *Service) ListOAIs(ctx context.Context, marker string, maxItems int) (*cf.CloudFrontOriginAccessIdentityList, error) {
	all, err := listRecords[model.OAI](ctx, s, model.OAIPrefix)
	if err != nil {
		return nil, err
	}
	items, next := pageAfter(all, func(o loaded[model.OAI]) string { return o.rec.ID }, marker, maxItems)
	list := &cf.CloudFrontOriginAccessIdentityList{
		Marker: cf.String(marker), MaxItems: cf.Int32(int32(maxItems)),
		IsTruncated: cf.Bool(next != nil), Quantity: cf.Int32(int32(len(items))), NextMarker: next,
	}
	for _, o := range items {
		list.Items = append(list.Items, cf.CloudFrontOriginAccessIdentitySummary{Id: cf.String(o.rec.ID),
			S3CanonicalUserId: cf.String(o.rec.S3CanonicalUserID), Comment: o.rec.Config.Comment})
	}
	return list, nil
}

func (s *Service) oaiExists(ctx context.Context, id string) bool {
	_, err := s.st.Get(ctx, model.OAIPrefix+id)
	return err == nil
}
