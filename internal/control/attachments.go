package control

import (
	"context"

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
