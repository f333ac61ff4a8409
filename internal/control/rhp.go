package control

import (
	"context"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// GetResponseHeadersPolicy implements GetResponseHeadersPolicy(Config) for
// the managed policies. A managed policy never changes, so, as for the
// managed cache and origin request policies, its ETag is derived from its
// id alone.
func (s *Service) GetResponseHeadersPolicy(_ context.Context, id string) (*cf.ResponseHeadersPolicy, string, error) {
	for _, p := range cf.ManagedResponseHeadersPolicies(managedPoliciesTime) {
		if cf.Str(p.Id) == id {
			return &p, model.ETag(id, 0), nil
		}
	}
	return nil, "", cf.ErrNoSuchResponseHeadersPolicy.WithMessage("The response headers policy %s does not exist.", id)
}

// ListResponseHeadersPolicies implements ListResponseHeadersPolicies
// (managed policies only; custom response headers policies are not
// supported yet, so Type=custom lists none). marker is the id of the last
// policy of the previous page.
func (s *Service) ListResponseHeadersPolicies(_ context.Context, typ, marker string, maxItems int) (*cf.ResponseHeadersPolicyList, error) {
	var items []cf.ResponseHeadersPolicySummary
	if typ == "" || typ == "managed" {
		for _, p := range cf.ManagedResponseHeadersPolicies(managedPoliciesTime) {
			items = append(items, cf.ResponseHeadersPolicySummary{Type: cf.String("managed"), ResponseHeadersPolicy: &p})
		}
	}
	page, next := pageAfter(items, func(it cf.ResponseHeadersPolicySummary) string { return cf.Str(it.ResponseHeadersPolicy.Id) }, marker, maxItems)
	list := &cf.ResponseHeadersPolicyList{MaxItems: cf.Int32(int32(maxItems)), Quantity: cf.Int32(int32(len(page))), Items: page, NextMarker: next}
	return list, nil
}
