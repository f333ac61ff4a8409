package control

import (
	"context"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// validateDistribution checks a distribution config about to be written as
// distribution selfID ("" for a new one): CloudFront's rules on the config
// itself, then the quotas on how many distributions may name one custom
// policy, key group or origin access control. The second reads every
// distribution, so it runs only when the config names such a resource.
// It is checked before the write, not inside its transaction: two
// concurrent writes can pass it together and go one past a quota.
func (s *Service) validateDistribution(ctx context.Context, selfID string, cfg *cf.DistributionConfig) error {
	if err := cf.ValidateDistributionConfig(cfg, s.lookups(ctx)); err != nil {
		return err
	}
	mine := cf.Associations(cfg)
	if len(mine) == 0 {
		return nil
	}
	all, err := listRecords[model.Distribution](ctx, s, model.DistributionPrefix)
	if err != nil {
		return err
	}
	others := map[cf.Association]int{}
	for _, d := range all {
		if d.rec.ID == selfID {
			continue
		}
		for _, a := range cf.Associations(d.rec.Config) {
			others[a]++
		}
	}
	return s.quotas().CheckAssociations(mine, others)
}

func (s *Service) quotas() cf.Quotas {
	if s.opts.Quotas != nil {
		return *s.opts.Quotas
	}
	return cf.DefaultQuotas()
}
