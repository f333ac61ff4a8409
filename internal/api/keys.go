package api

import (
	"context"
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// resourceAPI describes a resource with Create, Get, GetConfig, Update,
// Delete and List operations (public keys, key groups, origin access
// identities) to handleResource. C is its config shape, R its shape.
type resourceAPI[C any, R any] struct {
	path string // e.g. "/2020-05-31/public-key"
	root string // the resource's XML root; +"Config", +"List"
	// configRoot is the config's XML root ("" means root+"Config").
	configRoot string
	what       string
	// updatePath is the Update path under path+"/{Id}": "" or "/config".
	updatePath string
	create     func(ctx context.Context, cfg *C) (R, string, error)
	get        func(ctx context.Context, id string) (R, string, error)
	update     func(ctx context.Context, id, ifMatch string, cfg *C) (R, string, error)
	delete     func(ctx context.Context, id, ifMatch string) error
	list       func(ctx context.Context, marker string, maxItems int) (any, error)
	// config returns the resource's config and id.
	config func(R) (any, string)
}

// handleResource registers the six operations of one resource kind.
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
		list, err := k.list(r.Context(), marker, maxItems)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.what, err)
		}
		return &reply{status: http.StatusOK, root: k.root + "List", body: list}, nil
	})
}

// keyRoutes registers public keys, key groups, origin access identities
// and ListDistributionsByKeyGroup.
func (s *server) keyRoutes() {
	handleResource(s, resourceAPI[cf.PublicKeyConfig, *cf.PublicKey]{
		path: APIVersion + "/public-key", root: "PublicKey", what: "public key", updatePath: "/config",
		create: s.svc.CreatePublicKey, get: s.svc.GetPublicKey, update: s.svc.UpdatePublicKey, delete: s.svc.DeletePublicKey,
		list: func(ctx context.Context, marker string, maxItems int) (any, error) {
			return s.svc.ListPublicKeys(ctx, marker, maxItems)
		},
		config: func(k *cf.PublicKey) (any, string) { return k.PublicKeyConfig, cf.Str(k.Id) },
	})
	handleResource(s, resourceAPI[cf.KeyGroupConfig, *cf.KeyGroup]{
		path: APIVersion + "/key-group", root: "KeyGroup", what: "key group",
		create: s.svc.CreateKeyGroup, get: s.svc.GetKeyGroup, update: s.svc.UpdateKeyGroup, delete: s.svc.DeleteKeyGroup,
		list: func(ctx context.Context, marker string, maxItems int) (any, error) {
			return s.svc.ListKeyGroups(ctx, marker, maxItems)
		},
		config: func(g *cf.KeyGroup) (any, string) { return g.KeyGroupConfig, cf.Str(g.Id) },
	})
	handleResource(s, resourceAPI[cf.CloudFrontOriginAccessIdentityConfig, *cf.CloudFrontOriginAccessIdentity]{
		path: APIVersion + "/origin-access-identity/cloudfront", root: "CloudFrontOriginAccessIdentity",
		what: "origin access identity", updatePath: "/config",
		create: s.svc.CreateOAI, get: s.svc.GetOAI, update: s.svc.UpdateOAI, delete: s.svc.DeleteOAI,
		list: func(ctx context.Context, marker string, maxItems int) (any, error) {
			return s.svc.ListOAIs(ctx, marker, maxItems)
		},
		config: func(o *cf.CloudFrontOriginAccessIdentity) (any, string) {
			return o.CloudFrontOriginAccessIdentityConfig, cf.Str(o.Id)
		},
	})
	s.handle("GET "+APIVersion+"/distributionsByKeyGroupId/{Id}", func(r *http.Request) (*reply, error) {
		marker, maxItems, err := listParams(r)
		if err != nil {
			return nil, err
		}
		list, err := s.svc.ListDistributionsByKeyGroup(r.Context(), r.PathValue("Id"), marker, maxItems)
		if err != nil {
			return nil, fmt.Errorf("list distributions by key group: %w", err)
		}
		return &reply{status: http.StatusOK, root: "DistributionIdList", body: list}, nil
	})
}
