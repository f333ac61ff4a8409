package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

var tagKeyRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)

func checkTags(tags *cf.Tags) error {
	if tags == nil {
		return nil
	}
	if len(tags.Items) > 50 {
		return cf.ErrInvalidTagging.WithMessage("A resource can have at most 50 tags.")
	}
	for _, t := range tags.Items {
		k := cf.Str(t.Key)
		if !tagKeyRE.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return cf.ErrInvalidTagging.WithMessage("The tag key %q is not valid.", k)
		}
		if len(cf.Str(t.Value)) > 256 {
			return cf.ErrInvalidTagging.WithMessage("The value of tag %q is longer than 256 characters.", k)
		}
	}
	return nil
}

// distributionOfARN resolves a taggable resource ARN (distributions only).
func (s *Service) distributionOfARN(ctx context.Context, arn string) (loaded[model.Distribution], error) {
	prefix := "arn:aws:cloudfront::" + s.opts.AccountID + ":distribution/"
	if !strings.HasPrefix(arn, prefix) {
		return loaded[model.Distribution]{}, cf.ErrInvalidArgument.WithMessage("The resource ARN %q is not a distribution of this account.", arn)
	}
	return s.getDistribution(ctx, strings.TrimPrefix(arn, prefix))
}

// readTags returns a distribution's tags and the revision they were read at
// (0 when it has none).
func (s *Service) readTags(ctx context.Context, id string) ([]cf.Tag, int64, error) {
	kv, err := s.st.Get(ctx, model.TagsKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var tags []cf.Tag
	if err := json.Unmarshal(kv.Value, &tags); err != nil {
		return nil, 0, fmt.Errorf("decode tags of %s: %w", id, err)
	}
	return tags, kv.ModRevision, nil
}

// writeTags replaces the tags if nobody changed them since rev, and only
// while the distribution still exists.
func (s *Service) writeTags(ctx context.Context, d loaded[model.Distribution], rev int64, tags []cf.Tag) error {
	op := store.Op{Key: model.TagsKey(d.rec.ID), Delete: true}
	if len(tags) > 0 {
		put, err := putOp(model.TagsKey(d.rec.ID), tags)
		if err != nil {
			return err
		}
		op = put
	}
	_, err := s.txn(ctx, []store.Cond{{Key: model.DistributionKey(d.rec.ID), ModRevision: d.rev}, {Key: model.TagsKey(d.rec.ID), ModRevision: rev}}, []store.Op{op})
	return err
}

// TagResource implements TagResource.
func (s *Service) TagResource(ctx context.Context, arn string, tags *cf.Tags) error {
	if tags == nil {
		return cf.ErrMissingBody
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	d, err := s.distributionOfARN(ctx, arn)
	if err != nil {
		return err
	}
	current, rev, err := s.readTags(ctx, d.rec.ID)
	if err != nil {
		return err
	}
	merged := slices.Clone(current)
	for _, t := range tags.Items {
		i := slices.IndexFunc(merged, func(x cf.Tag) bool { return cf.Str(x.Key) == cf.Str(t.Key) })
		if i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	if err := checkTags(&cf.Tags{Items: merged}); err != nil {
		return err
	}
	return s.writeTags(ctx, d, rev, merged)
}

// UntagResource implements UntagResource.
func (s *Service) UntagResource(ctx context.Context, arn string, keys *cf.TagKeys) error {
	if keys == nil {
		return cf.ErrMissingBody
	}
	d, err := s.distributionOfARN(ctx, arn)
	if err != nil {
		return err
	}
	current, rev, err := s.readTags(ctx, d.rec.ID)
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(current), func(t cf.Tag) bool { return slices.Contains(keys.Items, cf.Str(t.Key)) })
	return s.writeTags(ctx, d, rev, kept)
}

// ListTags implements ListTagsForResource.
func (s *Service) ListTags(ctx context.Context, arn string) (*cf.Tags, error) {
	d, err := s.distributionOfARN(ctx, arn)
	if err != nil {
		return nil, err
	}
	tags, _, err := s.readTags(ctx, d.rec.ID)
	if err != nil {
		return nil, err
	}
	return &cf.Tags{Items: tags}, nil
}
