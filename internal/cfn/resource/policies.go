package resource

import (
	"context"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// The policy, identity and key types. Each has one configuration property
// in the API's shape, with CloudFormation's plain lists where the API has
// {Quantity, Items} (see convert.go). None has a create-only property, so
// every change updates in place (AWS CloudFormation: "Update requires: No
// interruption"); what CloudFront itself refuses to change (a public key's
// EncodedKey or Name) fails the update with CloudFront's error and rolls
// the stack back.

// byName finds a resource by its unique name, for the types CloudFront
// keeps names unique for: a crashed create is found by the name the
// template gives.
func byName[T any](list func(svc *control.Service, ctx context.Context, marker string) ([]T, string, error), name func(T) (id, name string)) func(context.Context, *control.Service, string, string) (string, error) {
	return func(ctx context.Context, svc *control.Service, _ string, want string) (string, error) {
		return findPaged(ctx, func(ctx context.Context, marker string) ([]T, string, error) { return list(svc, ctx, marker) },
			func(it T) (string, bool) {
				id, n := name(it)
				return id, n == want
			})
	}
}

func cachePolicy() *Handler {
	find := byName(func(svc *control.Service, ctx context.Context, marker string) ([]cf.CachePolicySummary, string, error) {
		l, err := svc.ListCachePolicies(ctx, "custom", marker, listPage)
		if err != nil {
			return nil, "", err
		}
		return l.Items, cf.Str(l.NextMarker), nil
	}, func(s cf.CachePolicySummary) (string, string) {
		return cf.Str(s.CachePolicy.Id), cf.Str(s.CachePolicy.CachePolicyConfig.Name)
	})
	return (&configured[cf.CachePolicyConfig, *cf.CachePolicy]{
		configKey: "CachePolicyConfig", attributes: []string{"Id", "LastModifiedTime"},
		create: (*control.Service).CreateCachePolicy, get: (*control.Service).GetCachePolicy,
		update: (*control.Service).UpdateCachePolicy, remove: (*control.Service).DeleteCachePolicy,
		config: func(p *cf.CachePolicy) *cf.CachePolicyConfig { return p.CachePolicyConfig },
		attrs: func(p *cf.CachePolicy) map[string]string {
			return idModified(p.Id, p.LastModifiedTime)
		},
		find: func(ctx context.Context, svc *control.Service, token string, cfg *cf.CachePolicyConfig) (string, error) {
			return find(ctx, svc, token, cf.Str(cfg.Name))
		},
	}).handler()
}

func originRequestPolicy() *Handler {
	find := byName(func(svc *control.Service, ctx context.Context, marker string) ([]cf.OriginRequestPolicySummary, string, error) {
		l, err := svc.ListOriginRequestPolicies(ctx, "custom", marker, listPage)
		if err != nil {
			return nil, "", err
		}
		return l.Items, cf.Str(l.NextMarker), nil
	}, func(s cf.OriginRequestPolicySummary) (string, string) {
		return cf.Str(s.OriginRequestPolicy.Id), cf.Str(s.OriginRequestPolicy.OriginRequestPolicyConfig.Name)
	})
	return (&configured[cf.OriginRequestPolicyConfig, *cf.OriginRequestPolicy]{
		configKey: "OriginRequestPolicyConfig", attributes: []string{"Id", "LastModifiedTime"},
		create: (*control.Service).CreateOriginRequestPolicy, get: (*control.Service).GetOriginRequestPolicy,
		update: (*control.Service).UpdateOriginRequestPolicy, remove: (*control.Service).DeleteOriginRequestPolicy,
		config: func(p *cf.OriginRequestPolicy) *cf.OriginRequestPolicyConfig { return p.OriginRequestPolicyConfig },
		attrs: func(p *cf.OriginRequestPolicy) map[string]string {
			return idModified(p.Id, p.LastModifiedTime)
		},
		find: func(ctx context.Context, svc *control.Service, token string, cfg *cf.OriginRequestPolicyConfig) (string, error) {
			return find(ctx, svc, token, cf.Str(cfg.Name))
		},
	}).handler()
}

func responseHeadersPolicy() *Handler {
	find := byName(func(svc *control.Service, ctx context.Context, marker string) ([]cf.ResponseHeadersPolicySummary, string, error) {
		l, err := svc.ListResponseHeadersPolicies(ctx, "custom", marker, listPage)
		if err != nil {
			return nil, "", err
		}
		return l.Items, cf.Str(l.NextMarker), nil
	}, func(s cf.ResponseHeadersPolicySummary) (string, string) {
		return cf.Str(s.ResponseHeadersPolicy.Id), cf.Str(s.ResponseHeadersPolicy.ResponseHeadersPolicyConfig.Name)
	})
	return (&configured[cf.ResponseHeadersPolicyConfig, *cf.ResponseHeadersPolicy]{
		configKey: "ResponseHeadersPolicyConfig", attributes: []string{"Id", "LastModifiedTime"},
		create: (*control.Service).CreateResponseHeadersPolicy, get: (*control.Service).GetResponseHeadersPolicy,
		update: (*control.Service).UpdateResponseHeadersPolicy, remove: (*control.Service).DeleteResponseHeadersPolicy,
		config: func(p *cf.ResponseHeadersPolicy) *cf.ResponseHeadersPolicyConfig {
			return p.ResponseHeadersPolicyConfig
		},
		attrs: func(p *cf.ResponseHeadersPolicy) map[string]string {
			return idModified(p.Id, p.LastModifiedTime)
		},
		find: func(ctx context.Context, svc *control.Service, token string, cfg *cf.ResponseHeadersPolicyConfig) (string, error) {
			return find(ctx, svc, token, cf.Str(cfg.Name))
		},
	}).handler()
}

// originAccessIdentity: CloudFormation does not model the CallerReference;
// a create sends the resource's token, an update keeps the live one.
func originAccessIdentity() *Handler {
	return (&configured[cf.CloudFrontOriginAccessIdentityConfig, *cf.CloudFrontOriginAccessIdentity]{
		configKey: "CloudFrontOriginAccessIdentityConfig", attributes: []string{"Id", "S3CanonicalUserId"},
		complete: func(cfg *cf.CloudFrontOriginAccessIdentityConfig, token string, cur *cf.CloudFrontOriginAccessIdentityConfig) {
			cfg.CallerReference = cf.String(token)
			if cur != nil {
				cfg.CallerReference = cur.CallerReference
			}
		},
		create: (*control.Service).CreateOAI, get: (*control.Service).GetOAI,
		update: (*control.Service).UpdateOAI, remove: (*control.Service).DeleteOAI,
		config: func(o *cf.CloudFrontOriginAccessIdentity) *cf.CloudFrontOriginAccessIdentityConfig {
			return o.CloudFrontOriginAccessIdentityConfig
		},
		attrs: func(o *cf.CloudFrontOriginAccessIdentity) map[string]string {
			return map[string]string{"Id": cf.Str(o.Id), "S3CanonicalUserId": cf.Str(o.S3CanonicalUserId)}
		},
		find: func(ctx context.Context, svc *control.Service, token string, _ *cf.CloudFrontOriginAccessIdentityConfig) (string, error) {
			return findPaged(ctx, func(ctx context.Context, marker string) ([]cf.CloudFrontOriginAccessIdentitySummary, string, error) {
				l, err := svc.ListOAIs(ctx, marker, listPage)
				if err != nil {
					return nil, "", err
				}
				return l.Items, nextMarker(l.IsTruncated, l.NextMarker), nil
			}, func(s cf.CloudFrontOriginAccessIdentitySummary) (string, bool) {
				o, _, err := svc.GetOAI(ctx, cf.Str(s.Id))
				return cf.Str(s.Id), err == nil && cf.Str(o.CloudFrontOriginAccessIdentityConfig.CallerReference) == token
			})
		},
	}).handler()
}

// publicKey: the template gives the CallerReference, and a crashed create
// is found by it.
func publicKey() *Handler {
	return (&configured[cf.PublicKeyConfig, *cf.PublicKey]{
		configKey: "PublicKeyConfig", attributes: []string{"Id", "CreatedTime"},
		create: (*control.Service).CreatePublicKey, get: (*control.Service).GetPublicKey,
		update: (*control.Service).UpdatePublicKey, remove: (*control.Service).DeletePublicKey,
		config: func(k *cf.PublicKey) *cf.PublicKeyConfig { return k.PublicKeyConfig },
		attrs: func(k *cf.PublicKey) map[string]string {
			return map[string]string{"Id": cf.Str(k.Id), "CreatedTime": timeAttr(k.CreatedTime)}
		},
		find: func(ctx context.Context, svc *control.Service, _ string, cfg *cf.PublicKeyConfig) (string, error) {
			return findPaged(ctx, func(ctx context.Context, marker string) ([]cf.PublicKeySummary, string, error) {
				l, err := svc.ListPublicKeys(ctx, marker, listPage)
				if err != nil {
					return nil, "", err
				}
				return l.Items, cf.Str(l.NextMarker), nil
			}, func(s cf.PublicKeySummary) (string, bool) {
				k, _, err := svc.GetPublicKey(ctx, cf.Str(s.Id))
				return cf.Str(s.Id), err == nil && cf.Str(k.PublicKeyConfig.CallerReference) == cf.Str(cfg.CallerReference)
			})
		},
	}).handler()
}

func keyGroup() *Handler {
	find := byName(func(svc *control.Service, ctx context.Context, marker string) ([]cf.KeyGroupSummary, string, error) {
		l, err := svc.ListKeyGroups(ctx, marker, listPage)
		if err != nil {
			return nil, "", err
		}
		return l.Items, cf.Str(l.NextMarker), nil
	}, func(s cf.KeyGroupSummary) (string, string) {
		return cf.Str(s.KeyGroup.Id), cf.Str(s.KeyGroup.KeyGroupConfig.Name)
	})
	return (&configured[cf.KeyGroupConfig, *cf.KeyGroup]{
		configKey: "KeyGroupConfig", attributes: []string{"Id", "LastModifiedTime"},
		create: (*control.Service).CreateKeyGroup, get: (*control.Service).GetKeyGroup,
		update: (*control.Service).UpdateKeyGroup, remove: (*control.Service).DeleteKeyGroup,
		config: func(g *cf.KeyGroup) *cf.KeyGroupConfig { return g.KeyGroupConfig },
		attrs: func(g *cf.KeyGroup) map[string]string {
			return idModified(g.Id, g.LastModifiedTime)
		},
		find: func(ctx context.Context, svc *control.Service, token string, cfg *cf.KeyGroupConfig) (string, error) {
			return find(ctx, svc, token, cf.Str(cfg.Name))
		},
	}).handler()
}
