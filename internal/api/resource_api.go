package api

import (
	"context"
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// resourceAPI describes a resource kind with CloudFront's Create, Get,
// GetConfig, Update (If-Match), Delete (If-Match) and List operations, and
// optionally a ListDistributionsBy… operation, to handleResource: custom
// policies, public keys, key groups, origin access identities and origin
// access controls. C is its config shape, R its shape.
type resourceAPI[C any, R any] struct {
	path string // e.g. "/2020-05-31/public-key"
	root string // the resource's XML root; +"Config", +"List"
	// configRoot is the config's XML root ("" means root+"Config").
	configRoot string
	what       string // for error messages, e.g. "public key"
	// updatePath is the Update path under path+"/{Id}": "" or "/config".
	updatePath string
	create     func(ctx context.Context, cfg *C) (R, string, error)
	get        func(ctx context.Context, id string) (R, string, error)
	update     func(ctx context.Context, id, ifMatch string, cfg *C) (R, string, error)
	delete     func(ctx context.Context, id, ifMatch string) error
	// list answers List; it reads what else it needs (a policy list's
	// Type) from the request.
	list func(r *http.Request, marker string, maxItems int) (any, error)
	// config returns the resource's config (the GetConfig body) and id.
	config func(R) (any, string)
	// byPath is the ListDistributionsBy… path with its {Id} wildcard, and
	// byDist its answer; "" for a kind without one.
	byPath string
	byDist func(ctx context.Context, id, marker string, maxItems int) (*cf.DistributionIdList, error)
}

// handleResource registers the operations of one resource kind.
func handleResource[C any, R any](s *server, k resourceAPI[C, R]) {
	configRoot := k.configRoot
	if configRoot == "" {
		configRoot = k.root + "Config"
	}
	s.handle("POST "+k.path, func(r *http.Request) (*reply, error) {
		cfg := new(C)
		if err := s.document(r, configRoot, cfg); err != nil {
			return nil, err
		}
		res, etag, err := k.create(r.Context(), cfg)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", k.what, err)
		}
		_, id := k.config(res)
		return &reply{status: http.StatusCreated, root: k.root, body: res, etag: etag,
			location: s.location(r, k.path[len(APIVersion):]+"/"+id)}, nil
	})
	get := func(r *http.Request, config bool) (*reply, error) {
		res, etag, err := k.get(r.Context(), r.PathValue("Id"))
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", k.what, err)
		}
		if config {
			body, _ := k.config(res)
			return &reply{status: http.StatusOK, root: configRoot, body: body, etag: etag}, nil
		}
		return &reply{status: http.StatusOK, root: k.root, body: res, etag: etag}, nil
	}
	s.handle("GET "+k.path+"/{Id}", func(r *http.Request) (*reply, error) { return get(r, false) })
	s.handle("GET "+k.path+"/{Id}/config", func(r *http.Request) (*reply, error) { return get(r, true) })
	s.handle("PUT "+k.path+"/{Id}"+k.updatePath, func(r *http.Request) (*reply, error) {
		cfg := new(C)
		if err := s.document(r, configRoot, cfg); err != nil {
			return nil, err
		}
		res, etag, err := k.update(r.Context(), r.PathValue("Id"), ifMatch(r), cfg)
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: k.root, body: res, etag: etag}, nil
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
		list, err := k.list(r, marker, maxItems)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: k.root + "List", body: list}, nil
	})
	if k.byPath == "" {
		return
	}
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

// listWith adapts a service's List (marker, maxItems) to resourceAPI.list.
func listWith[L any](list func(ctx context.Context, marker string, maxItems int) (L, error)) func(*http.Request, string, int) (any, error) {
	return func(r *http.Request, marker string, maxItems int) (any, error) {
		return list(r.Context(), marker, maxItems)
	}
}

// listPolicies adapts a policy kind's List (Type, marker, maxItems).
func listPolicies[L any](list func(ctx context.Context, typ, marker string, maxItems int) (L, error)) func(*http.Request, string, int) (any, error) {
	return func(r *http.Request, marker string, maxItems int) (any, error) {
		typ, err := policyType(r)
		if err != nil {
			return nil, err
		}
		return list(r.Context(), typ, marker, maxItems)
	}
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
