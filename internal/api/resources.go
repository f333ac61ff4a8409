package api

import (
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// Invalidations.

func (s *server) createInvalidation(r *http.Request) (*reply, error) {
	batch := new(cf.InvalidationBatch)
	if err := s.document(r, "InvalidationBatch", batch); err != nil {
		return nil, err
	}
	distID := r.PathValue("Id")
	inv, err := s.svc.CreateInvalidation(r.Context(), distID, batch)
	if err != nil {
		return nil, fmt.Errorf("create invalidation: %w", err)
	}
	return &reply{status: http.StatusCreated, root: "Invalidation", body: inv,
		location: s.location(r, "/distribution/"+distID+"/invalidation/"+cf.Str(inv.Id))}, nil
}

func (s *server) getInvalidation(r *http.Request) (*reply, error) {
	inv, err := s.svc.GetInvalidation(r.Context(), r.PathValue("Id"), r.PathValue("InvalidationId"))
	if err != nil {
		return nil, fmt.Errorf("get invalidation: %w", err)
	}
	return &reply{status: http.StatusOK, root: "Invalidation", body: inv}, nil
}

func (s *server) listInvalidations(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListInvalidations(r.Context(), r.PathValue("Id"), marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list invalidations: %w", err)
	}
	return &reply{status: http.StatusOK, root: "InvalidationList", body: list}, nil
}

// Origin access controls.

func (s *server) oacReply(r *http.Request, status int, res *control.OACResult, withLocation bool) (*reply, error) {
	if res == nil || res.OAC == nil {
		return nil, fmt.Errorf("api: control returned no origin access control")
	}
	rep := &reply{status: status, root: "OriginAccessControl", body: res.OAC, etag: res.ETag}
	if withLocation {
		rep.location = s.location(r, "/origin-access-control/"+cf.Str(res.OAC.Id))
	}
	return rep, nil
}

func (s *server) createOAC(r *http.Request) (*reply, error) {
	cfg := new(cf.OriginAccessControlConfig)
	if err := s.document(r, "OriginAccessControlConfig", cfg); err != nil {
		return nil, err
	}
	res, err := s.svc.CreateOAC(r.Context(), cfg)
	if err != nil {
		return nil, fmt.Errorf("create origin access control: %w", err)
	}
	return s.oacReply(r, http.StatusCreated, res, true)
}

func (s *server) getOAC(r *http.Request) (*reply, error) {
	res, err := s.svc.GetOAC(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get origin access control: %w", err)
	}
	return s.oacReply(r, http.StatusOK, res, false)
}

func (s *server) getOACConfig(r *http.Request) (*reply, error) {
	res, err := s.svc.GetOAC(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get origin access control config: %w", err)
	}
	if res.OAC == nil || res.OAC.OriginAccessControlConfig == nil {
		return nil, fmt.Errorf("api: origin access control %s has no config", r.PathValue("Id"))
	}
	return &reply{status: http.StatusOK, root: "OriginAccessControlConfig", body: res.OAC.OriginAccessControlConfig, etag: res.ETag}, nil
}

func (s *server) updateOAC(r *http.Request) (*reply, error) {
	cfg := new(cf.OriginAccessControlConfig)
	if err := s.document(r, "OriginAccessControlConfig", cfg); err != nil {
		return nil, err
	}
	res, err := s.svc.UpdateOAC(r.Context(), r.PathValue("Id"), ifMatch(r), cfg)
	if err != nil {
		return nil, fmt.Errorf("update origin access control: %w", err)
	}
	return s.oacReply(r, http.StatusOK, res, false)
}

func (s *server) deleteOAC(r *http.Request) (*reply, error) {
	if err := s.svc.DeleteOAC(r.Context(), r.PathValue("Id"), ifMatch(r)); err != nil {
		return nil, fmt.Errorf("delete origin access control: %w", err)
	}
	return &reply{status: http.StatusNoContent}, nil
}

func (s *server) listOACs(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListOACs(r.Context(), marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list origin access controls: %w", err)
	}
	return &reply{status: http.StatusOK, root: "OriginAccessControlList", body: list}, nil
}

// Cache policies (the managed ones).

func (s *server) getCachePolicy(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetCachePolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get cache policy: %w", err)
	}
	return &reply{status: http.StatusOK, root: "CachePolicy", body: p, etag: etag}, nil
}

func (s *server) getCachePolicyConfig(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetCachePolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get cache policy config: %w", err)
	}
	return &reply{status: http.StatusOK, root: "CachePolicyConfig", body: p.CachePolicyConfig, etag: etag}, nil
}

func (s *server) listCachePolicies(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	typ, err := policyType(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListCachePolicies(r.Context(), typ, marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list cache policies: %w", err)
	}
	return &reply{status: http.StatusOK, root: "CachePolicyList", body: list}, nil
}

// policyType is the Type parameter of a policy list: managed or custom
// (the model's CachePolicyType, OriginRequestPolicyType and
// ResponseHeadersPolicyType), or "" for both.
func policyType(r *http.Request) (string, error) {
	typ := r.URL.Query().Get("Type")
	if typ != "" && typ != "managed" && typ != "custom" {
		return "", cf.ErrInvalidArgument.WithMessage("The parameter Type %q is not valid: use managed or custom.", typ)
	}
	return typ, nil
}

// Origin request policies (the managed ones).

func (s *server) getOriginRequestPolicy(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetOriginRequestPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get origin request policy: %w", err)
	}
	return &reply{status: http.StatusOK, root: "OriginRequestPolicy", body: p, etag: etag}, nil
}

func (s *server) getOriginRequestPolicyConfig(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetOriginRequestPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get origin request policy config: %w", err)
	}
	return &reply{status: http.StatusOK, root: "OriginRequestPolicyConfig", body: p.OriginRequestPolicyConfig, etag: etag}, nil
}

func (s *server) listOriginRequestPolicies(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	typ, err := policyType(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListOriginRequestPolicies(r.Context(), typ, marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list origin request policies: %w", err)
	}
	return &reply{status: http.StatusOK, root: "OriginRequestPolicyList", body: list}, nil
}

// Response headers policies (the managed ones).

func (s *server) getResponseHeadersPolicy(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetResponseHeadersPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get response headers policy: %w", err)
	}
	return &reply{status: http.StatusOK, root: "ResponseHeadersPolicy", body: p, etag: etag}, nil
}

func (s *server) getResponseHeadersPolicyConfig(r *http.Request) (*reply, error) {
	p, etag, err := s.svc.GetResponseHeadersPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get response headers policy config: %w", err)
	}
	return &reply{status: http.StatusOK, root: "ResponseHeadersPolicyConfig", body: p.ResponseHeadersPolicyConfig, etag: etag}, nil
}

func (s *server) listResponseHeadersPolicies(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	typ, err := policyType(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListResponseHeadersPolicies(r.Context(), typ, marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list response headers policies: %w", err)
	}
	return &reply{status: http.StatusOK, root: "ResponseHeadersPolicyList", body: list}, nil
}

// Tagging: TagResource and UntagResource share POST /tagging and differ by
// the Operation query parameter.

func (s *server) tagOrUntag(r *http.Request) (*reply, error) {
	arn, err := requiredQuery(r, "Resource")
	if err != nil {
		return nil, err
	}
	switch op := r.URL.Query().Get("Operation"); op {
	case "Tag":
		tags := new(cf.Tags)
		if err := s.document(r, "Tags", tags); err != nil {
			return nil, err
		}
		if err := s.svc.TagResource(r.Context(), arn, tags); err != nil {
			return nil, fmt.Errorf("tag resource: %w", err)
		}
	case "Untag":
		keys := new(cf.TagKeys)
		if err := s.document(r, "TagKeys", keys); err != nil {
			return nil, err
		}
		if err := s.svc.UntagResource(r.Context(), arn, keys); err != nil {
			return nil, fmt.Errorf("untag resource: %w", err)
		}
	default:
		return nil, cf.ErrInvalidArgument.WithMessage("The query parameter Operation %q is not valid: use Tag or Untag.", op)
	}
	return &reply{status: http.StatusNoContent}, nil
}

func (s *server) listTags(r *http.Request) (*reply, error) {
	arn, err := requiredQuery(r, "Resource")
	if err != nil {
		return nil, err
	}
	tags, err := s.svc.ListTags(r.Context(), arn)
	if err != nil {
		return nil, fmt.Errorf("list tags for resource: %w", err)
	}
	return &reply{status: http.StatusOK, root: "Tags", body: tags}, nil
}
