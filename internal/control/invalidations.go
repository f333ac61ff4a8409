package control

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/identity"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
)

const maxInvalidationPaths = 3000

func (s *Service) invalidationWire(wm model.Watermark, inv loaded[model.Invalidation]) *cf.Invalidation {
	status := "InProgress"
	if wm.Served(inv.rev) {
		status = "Completed"
	}
	return &cf.Invalidation{
		Id:                cf.String(inv.rec.ID),
		Status:            cf.String(status),
		CreateTime:        cf.NewTime(inv.rec.Created),
		InvalidationBatch: inv.rec.Batch,
	}
}

// CreateInvalidation implements CreateInvalidation. The edges purge when
// they see the record; it is Completed once every edge serves its revision.
func (s *Service) CreateInvalidation(ctx context.Context, distID string, batch *cf.InvalidationBatch) (*cf.Invalidation, error) {
	if batch == nil {
		return nil, cf.ErrMissingBody
	}
	if _, err := s.getDistribution(ctx, distID); err != nil {
		return nil, err
	}
	if err := cf.CheckShape("InvalidationBatch", batch); err != nil {
		return nil, err
	}
	paths := batch.Paths.Items
	if len(paths) == 0 {
		return nil, cf.ErrInvalidArgument.WithMessage("An invalidation batch needs at least one path.")
	}
	if len(paths) > maxInvalidationPaths {
		return nil, cf.ErrBatchTooLarge
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return nil, cf.ErrInvalidArgument.WithMessage("The path %q must begin with a slash (/).", p)
		}
		if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
			return nil, cf.ErrInvalidArgument.WithMessage("The path %q may only have a * at its end.", p)
		}
	}
	ref := cf.Str(batch.CallerReference)
	refKey := model.InvalidationRefKey(distID, ref)
	if kv, err := s.st.Get(ctx, refKey); err == nil {
		prev, err := getRecord[model.Invalidation](ctx, s, model.InvalidationKey(distID, string(kv.Value)))
		if err != nil {
			return nil, err
		}
		if slices.Equal(sortedPaths(prev.rec.Batch.Paths.Items), sortedPaths(paths)) {
			return s.invalidationWire(s.opts.Deployment.Watermark(ctx), prev), nil
		}
		return nil, cf.ErrInvalidationBatchAlreadyExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	id, err := s.randomString(upperAlnum, 13)
	if err != nil {
		return nil, err
	}
	rec := &model.Invalidation{ID: "I" + id, DistributionID: distID, Created: s.now(), Batch: batch, CreatedBy: identity.From(ctx)}
	put, err := putOp(model.InvalidationKey(distID, rec.ID), rec)
	if err != nil {
		return nil, err
	}
	// Only the reference must be new. (A Cond on the distribution key with
	// ModRevision 0 would mean "the distribution must not exist".)
	rev, err := s.txnOr(ctx,
		[]store.Cond{{Key: refKey}},
		[]store.Op{put, {Key: refKey, Value: []byte(rec.ID)}},
		func() error { return cf.ErrInvalidationBatchAlreadyExists })
	if err != nil {
		return nil, err
	}
	// Like every write, a new invalidation answers InProgress; a later read
	// says Completed once every edge has purged.
	created := s.invalidationWire(s.opts.Deployment.Watermark(ctx), loaded[model.Invalidation]{rec: rec, rev: rev})
	created.Status = cf.String("InProgress")
	return created, nil
}

func sortedPaths(p []string) []string {
	out := slices.Clone(p)
	sort.Strings(out)
	return out
}

// GetInvalidation implements GetInvalidation.
func (s *Service) GetInvalidation(ctx context.Context, distID, id string) (*cf.Invalidation, error) {
	if _, err := s.getDistribution(ctx, distID); err != nil {
		return nil, err
	}
	inv, err := getRecord[model.Invalidation](ctx, s, model.InvalidationKey(distID, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, cf.ErrNoSuchInvalidation.WithMessage("The invalidation %s does not exist.", id)
	}
	if err != nil {
		return nil, err
	}
	return s.invalidationWire(s.opts.Deployment.Watermark(ctx), inv), nil
}

// ListInvalidations implements ListInvalidations, newest first.
func (s *Service) ListInvalidations(ctx context.Context, distID, marker string, maxItems int) (*cf.InvalidationList, error) {
	if _, err := s.getDistribution(ctx, distID); err != nil {
		return nil, err
	}
	all, err := listRecords[model.Invalidation](ctx, s, model.InvalidationPrefix+distID+"/")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].rev > all[j].rev })
	start := 0
	if marker != "" {
		start = len(all)
		for i, inv := range all {
			if inv.rec.ID == marker {
				start = i + 1
				break
			}
		}
	}
	end := min(start+maxItems, len(all))
	list := &cf.InvalidationList{
		Marker:      cf.String(marker),
		MaxItems:    cf.Int32(int32(maxItems)),
		IsTruncated: cf.Bool(end < len(all)),
		Quantity:    cf.Int32(int32(end - start)),
	}
	wm := s.opts.Deployment.Watermark(ctx)
	for _, inv := range all[start:end] {
		w := s.invalidationWire(wm, inv)
		list.Items = append(list.Items, cf.InvalidationSummary{Id: w.Id, CreateTime: w.CreateTime, Status: w.Status})
	}
	if end < len(all) && end > start {
		list.NextMarker = cf.String(all[end-1].rec.ID)
	}
	return list, nil
}
