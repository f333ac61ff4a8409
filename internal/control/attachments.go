package control

import (
	"context"
	"time"

	"github.com/stagefront/stagefront/internal/model"
)

// PolicyAttachments maps every primary distribution that has a
// continuous-deployment policy attached to that policy's id, in one store
// read (the web console pairs primaries and stagings with it, without
// reading each distribution).
func (s *Service) PolicyAttachments(ctx context.Context) (map[string]string, error) {
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, d := range all {
		if !d.rec.IsStaging() && d.rec.PolicyID() != "" {
			out[d.rec.ID] = d.rec.PolicyID()
		}
	}
	return out, nil
}

// InvalidationRecord is who invalidated which paths of a distribution, when.
type InvalidationRecord struct {
	ID             string
	DistributionID string
	Created        time.Time
	CreatedBy      string
	Paths          []string
}

// InvalidationHistory lists the invalidations of a distribution, or of
// every distribution when distID is "", with who asked for them: one store
// read.
func (s *Service) InvalidationHistory(ctx context.Context, distID string) ([]InvalidationRecord, error) {
	prefix := model.InvalidationPrefix
	if distID != "" {
		prefix += distID + "/"
	}
	invs, err := listRecords[model.Invalidation](ctx, s, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]InvalidationRecord, 0, len(invs))
	for _, inv := range invs {
		r := InvalidationRecord{ID: inv.rec.ID, DistributionID: inv.rec.DistributionID, Created: inv.rec.Created, CreatedBy: inv.rec.CreatedBy}
		if b := inv.rec.Batch; b != nil && b.Paths != nil {
			r.Paths = b.Paths.Items
		}
		out = append(out, r)
	}
	return out, nil
}
