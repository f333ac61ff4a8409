package control

import (
	"context"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// GetOriginRequestPolicy implements GetOriginRequestPolicy(Config) for the
// managed policies. Like a managed cache policy, a managed origin request
// policy never changes, so its ETag is derived from its id alone.
func (s *Service) GetOriginRequestPolicy(_ context.Context, id string) (*cf.OriginRequestPolicy, string, error) {
	for _, p := range cf.ManagedOriginRequestPolicies(managedPoliciesTime) {
		if cf.Str(p.Id) == id {
			return &p, model.ETag(id, 0), nil
		}
	}
	return nil, "", cf.ErrNoSuchOriginRequestPolicy.WithMessage("The origin request policy %s does not exist.", id)
}

// ListOriginRequestPolicies implements ListOriginRequestPolicies (managed
// policies only; custom origin request policies are not supported yet, so
// Type=custom lists none). marker is the id of the last policy of the
// previous page.
func (s *Service) ListOriginRequestPolicies(_ context.Context, typ, marker string, maxItems int) (*cf.OriginRequestPolicyList, error) {
	var items []cf.OriginRequestPolicySummary
	if typ == "" || typ == "managed" {
		for _, p := range cf.ManagedOriginRequestPolicies(managedPoliciesTime) {
			items = append(items, cf.OriginRequestPolicySummary{Type: cf.String("managed"), OriginRequestPolicy: &p})
		}
	}
	page, next := pageAfter(items, func(it cf.OriginRequestPolicySummary) string { return cf.Str(it.OriginRequestPolicy.Id) }, marker, maxItems)
	list := &cf.OriginRequestPolicyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(page))), Items: page, NextMarker: next}
	return list, nil
}
