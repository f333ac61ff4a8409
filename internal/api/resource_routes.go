package api

import (
	"context"
	"fmt"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// resourceRoutes registers the resource kinds that share CloudFront's
// Create/Get/GetConfig/Update/Delete/List operations (resource_api.go):
// continuous deployment policies, the three kinds of cache behavior
// policies with their ListDistributionsBy…, origin
// access controls, public keys, key groups with ListDistributionsByKeyGroup,
// and origin access identities.
func (s *server) resourceRoutes() {
	handleResource(s, resourceAPI[cf.ContinuousDeploymentPolicyConfig, *cf.ContinuousDeploymentPolicy]{
		path: APIVersion + "/continuous-deployment-policy", root: "ContinuousDeploymentPolicy", what: "continuous deployment policy",
		create: func(ctx context.Context, cfg *cf.ContinuousDeploymentPolicyConfig) (*cf.ContinuousDeploymentPolicy, string, error) {
			return cdPolicyOf(s.svc.CreatePolicy(ctx, cfg))
		},
		get: func(ctx context.Context, id string) (*cf.ContinuousDeploymentPolicy, string, error) {
			return cdPolicyOf(s.svc.GetPolicy(ctx, id))
		},
		// Updated at {Id}, with no /config, unlike a distribution.
		update: func(ctx context.Context, id, ifMatch string, cfg *cf.ContinuousDeploymentPolicyConfig) (*cf.ContinuousDeploymentPolicy, string, error) {
			return cdPolicyOf(s.svc.UpdatePolicy(ctx, id, ifMatch, cfg))
		},
		delete: s.svc.DeletePolicy,
		list:   listWith(s.svc.ListPolicies),
		config: func(p *cf.ContinuousDeploymentPolicy) (any, string) {
			return p.ContinuousDeploymentPolicyConfig, cf.Str(p.Id)
		},
	})
	const by = APIVersion + "/distributionsBy"
	handleResource(s, resourceAPI[cf.CachePolicyConfig, *cf.CachePolicy]{
		path: APIVersion + "/cache-policy", root: "CachePolicy", what: "cache policy",
		create: s.svc.CreateCachePolicy, get: s.svc.GetCachePolicy, update: s.svc.UpdateCachePolicy, delete: s.svc.DeleteCachePolicy,
		list:   listPolicies(s.svc.ListCachePolicies),
		config: func(p *cf.CachePolicy) (any, string) { return p.CachePolicyConfig, cf.Str(p.Id) },
		byPath: by + "CachePolicyId/{Id}", byDist: s.svc.ListDistributionsByCachePolicy,
	})
	handleResource(s, resourceAPI[cf.OriginRequestPolicyConfig, *cf.OriginRequestPolicy]{
		path: APIVersion + "/origin-request-policy", root: "OriginRequestPolicy", what: "origin request policy",
		create: s.svc.CreateOriginRequestPolicy, get: s.svc.GetOriginRequestPolicy, update: s.svc.UpdateOriginRequestPolicy, delete: s.svc.DeleteOriginRequestPolicy,
		list:   listPolicies(s.svc.ListOriginRequestPolicies),
		config: func(p *cf.OriginRequestPolicy) (any, string) { return p.OriginRequestPolicyConfig, cf.Str(p.Id) },
		byPath: by + "OriginRequestPolicyId/{Id}", byDist: s.svc.ListDistributionsByOriginRequestPolicy,
	})
	handleResource(s, resourceAPI[cf.ResponseHeadersPolicyConfig, *cf.ResponseHeadersPolicy]{
		path: APIVersion + "/response-headers-policy", root: "ResponseHeadersPolicy", what: "response headers policy",
		create: s.svc.CreateResponseHeadersPolicy, get: s.svc.GetResponseHeadersPolicy, update: s.svc.UpdateResponseHeadersPolicy, delete: s.svc.DeleteResponseHeadersPolicy,
		list:   listPolicies(s.svc.ListResponseHeadersPolicies),
		config: func(p *cf.ResponseHeadersPolicy) (any, string) { return p.ResponseHeadersPolicyConfig, cf.Str(p.Id) },
		byPath: by + "ResponseHeadersPolicyId/{Id}", byDist: s.svc.ListDistributionsByResponseHeadersPolicy,
	})
	handleResource(s, resourceAPI[cf.OriginAccessControlConfig, *cf.OriginAccessControl]{
		path: APIVersion + "/origin-access-control", root: "OriginAccessControl", what: "origin access control", updatePath: "/config",
		create: func(ctx context.Context, cfg *cf.OriginAccessControlConfig) (*cf.OriginAccessControl, string, error) {
			return oacOf(s.svc.CreateOAC(ctx, cfg))
		},
		get: func(ctx context.Context, id string) (*cf.OriginAccessControl, string, error) {
			return oacOf(s.svc.GetOAC(ctx, id))
		},
		update: func(ctx context.Context, id, ifMatch string, cfg *cf.OriginAccessControlConfig) (*cf.OriginAccessControl, string, error) {
			return oacOf(s.svc.UpdateOAC(ctx, id, ifMatch, cfg))
		},
		delete: s.svc.DeleteOAC,
		list:   listWith(s.svc.ListOACs),
		config: func(o *cf.OriginAccessControl) (any, string) { return o.OriginAccessControlConfig, cf.Str(o.Id) },
	})
	handleResource(s, resourceAPI[cf.PublicKeyConfig, *cf.PublicKey]{
		path: APIVersion + "/public-key", root: "PublicKey", what: "public key", updatePath: "/config",
		create: s.svc.CreatePublicKey, get: s.svc.GetPublicKey, update: s.svc.UpdatePublicKey, delete: s.svc.DeletePublicKey,
		list:   listWith(s.svc.ListPublicKeys),
		config: func(k *cf.PublicKey) (any, string) { return k.PublicKeyConfig, cf.Str(k.Id) },
	})
	handleResource(s, resourceAPI[cf.KeyGroupConfig, *cf.KeyGroup]{
		path: APIVersion + "/key-group", root: "KeyGroup", what: "key group",
		create: s.svc.CreateKeyGroup, get: s.svc.GetKeyGroup, update: s.svc.UpdateKeyGroup, delete: s.svc.DeleteKeyGroup,
		list:   listWith(s.svc.ListKeyGroups),
		config: func(g *cf.KeyGroup) (any, string) { return g.KeyGroupConfig, cf.Str(g.Id) },
		byPath: by + "KeyGroupId/{Id}", byDist: s.svc.ListDistributionsByKeyGroup,
	})
	handleResource(s, resourceAPI[cf.CloudFrontOriginAccessIdentityConfig, *cf.CloudFrontOriginAccessIdentity]{
		path: APIVersion + "/origin-access-identity/cloudfront", root: "CloudFrontOriginAccessIdentity",
		what: "origin access identity", updatePath: "/config",
		create: s.svc.CreateOAI, get: s.svc.GetOAI, update: s.svc.UpdateOAI, delete: s.svc.DeleteOAI,
		list: listWith(s.svc.ListOAIs),
		config: func(o *cf.CloudFrontOriginAccessIdentity) (any, string) {
			return o.CloudFrontOriginAccessIdentityConfig, cf.Str(o.Id)
		},
	})
}

// oacOf adapts the service's origin access control result.
func oacOf(res *control.OACResult, err error) (*cf.OriginAccessControl, string, error) {
	if err != nil {
		return nil, "", err
	}
	if res == nil || res.OAC == nil {
		return nil, "", fmt.Errorf("api: control returned no origin access control")
	}
	return res.OAC, res.ETag, nil
}

// cdPolicyOf adapts the service's continuous deployment policy result.
func cdPolicyOf(res *control.PolicyResult, err error) (*cf.ContinuousDeploymentPolicy, string, error) {
	if err != nil {
		return nil, "", err
	}
	if res == nil || res.Policy == nil {
		return nil, "", fmt.Errorf("api: control returned no continuous deployment policy")
	}
	return res.Policy, res.ETag, nil
}
