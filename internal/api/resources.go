package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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

// Policies: cache, origin request and response headers policies have the
// same operations under their own path and XML roots.

// policyAPI describes one kind of policy to handlePolicies. C is the
// config shape, P the policy shape.
type policyAPI[C any, P any] struct {
	path string // e.g. "/2020-05-31/cache-policy"
	root string // the policy's XML root, e.g. "CachePolicy"; +"Config", +"List"
	what string // for error messages, e.g. "cache policy"
	// byPath is the ListDistributionsBy… path, with its {Id} wildcard.
	byPath string
	get    func(ctx context.Context, id string) (P, string, error)
	create func(ctx context.Context, cfg *C) (P, string, error)
	update func(ctx context.Context, id, ifMatch string, cfg *C) (P, string, error)
	delete func(ctx context.Context, id, ifMatch string) error
	// config returns the policy's config (the GetConfig body) and its id.
	config func(P) (any, string)
	list   func(ctx context.Context, typ, marker string, maxItems int) (any, error)
	byDist func(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error)
}

// handlePolicies registers the operations of one policy kind.
func handlePolicies[C any, P any](s *server, k policyAPI[C, P]) {
	get := func(r *http.Request, config bool) (*reply, error) {
		p, etag, err := k.get(r.Context(), r.PathValue("Id"))
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", k.what, err)
		}
		if config {
			body, _ := k.config(p)
			return &reply{status: http.StatusOK, root: k.root + "Config", body: body, etag: etag}, nil
		}
		return &reply{status: http.StatusOK, root: k.root, body: p, etag: etag}, nil
	}
	s.handle("GET "+k.path+"/{Id}", func(r *http.Request) (*reply, error) { return get(r, false) })
	s.handle("GET "+k.path+"/{Id}/config", func(r *http.Request) (*reply, error) { return get(r, true) })
	s.handle("POST "+k.path, func(r *http.Request) (*reply, error) {
		cfg := new(C)
		if err := s.document(r, k.root+"Config", cfg); err != nil {
			return nil, err
		}
		p, etag, err := k.create(r.Context(), cfg)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", k.what, err)
		}
		_, id := k.config(p)
		return &reply{status: http.StatusCreated, root: k.root, body: p, etag: etag,
			location: s.location(r, strings.TrimPrefix(k.path, APIVersion)+"/"+id)}, nil
	})
	s.handle("PUT "+k.path+"/{Id}", func(r *http.Request) (*reply, error) {
		cfg := new(C)
		if err := s.document(r, k.root+"Config", cfg); err != nil {
			return nil, err
		}
		p, etag, err := k.update(r.Context(), r.PathValue("Id"), ifMatch(r), cfg)
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: k.root, body: p, etag: etag}, nil
	})
	s.handle("DELETE "+k.path+"/{Id}", func(r *http.Request) (*reply, error) {
		if err := k.delete(r.Context(), r.PathValue("Id"), ifMatch(r)); err != nil {
			return nil, fmt.Errorf("delete %s: %w", k.what, err)
		}
		return &reply{status: http.StatusNoContent}, nil
	})
	s.handle("GET "+k.path, func(r *http.Request) (*reply, error) {
		marker, maxItems, err := listParams(r)
		if err != nil {
			return nil, err
		}
		typ, err := policyType(r)
		if err != nil {
			return nil, err
		}
		list, err := k.list(r.Context(), typ, marker, maxItems)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: k.root + "List", body: list}, nil
	})
	s.handle("GET "+k.byPath, func(r *http.Request) (*reply, error) {
		marker, maxItems, err := listParams(r)
		if err != nil {
			return nil, err
		}
		list, err := k.byDist(r.Context(), r.PathValue("Id"), marker, maxItems)
		if err != nil {
			return nil, fmt.Errorf("list distributions by %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: "DistributionIdList", body: list}, nil
	})
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
