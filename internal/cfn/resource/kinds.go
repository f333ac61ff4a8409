package resource

import (
	"context"
	"errors"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// configured is a type whose CloudFormation properties are one
// configuration element (CachePolicyConfig, KeyGroupConfig, …) and whose
// CloudFront API is the usual set: create, get with an ETag, a full
// update with If-Match, and a delete with If-Match. C is the API's config
// shape and R the resource the API returns.
type configured[C, R any] struct {
	// configKey is the one property, also the element's name in drift paths.
	configKey  string
	attributes []string
	// complete fills what the template leaves out: defaults and, for an
	// update, the members CloudFormation does not model (cur is nil on a
	// create, when token is the create's CallerReference).
	complete func(cfg *C, token string, cur *C)
	// The API calls, in the control service's method-expression form
	// ((*control.Service).CreateCachePolicy, …); each returns the ETag.
	create func(svc *control.Service, ctx context.Context, cfg *C) (R, string, error)
	get    func(svc *control.Service, ctx context.Context, id string) (R, string, error)
	update func(svc *control.Service, ctx context.Context, id, ifMatch string, cfg *C) (R, string, error)
	remove func(svc *control.Service, ctx context.Context, id, ifMatch string) error
	// config reads the configuration of a resource.
	config func(R) *C
	// attrs are the resource's Fn::GetAtt values; "Id" is its Ref.
	attrs func(R) map[string]string
	// find returns the id of a resource a crashed create may have made.
	find func(ctx context.Context, svc *control.Service, token string, cfg *C) (string, error)
}

// timeAttr renders a CloudFront timestamp as a GetAtt value.
func timeAttr(t *cf.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// idModified are the attributes of the types whose GetAtt offers Id and
// LastModifiedTime.
func idModified(id *string, modified *cf.Time) map[string]string {
	return map[string]string{"Id": cf.Str(id), "LastModifiedTime": timeAttr(modified)}
}

// nextMarker is a list's next page marker, "" on the last page.
func nextMarker(truncated *bool, marker *string) string {
	if !cf.IsTrue(truncated) {
		return ""
	}
	return cf.Str(marker)
}

// gone reports a CloudFront "no such …" answer.
func gone(err error) bool {
	var ce *cf.Error
	return errors.As(err, &ce) && ce.Status == 404
}

func (k *configured[C, R]) decode(env *Env, req *Request) (*C, []string, error) {
	if err := onlyKeys(req.Properties, k.configKey); err != nil {
		return nil, nil, err
	}
	if err := required(req.Properties, k.configKey); err != nil {
		return nil, nil, err
	}
	c := &converter{strict: env.Strict}
	cfg, err := decode[C](c, req.Properties[k.configKey], "/"+k.configKey)
	return cfg, c.warnings, err
}

func (k *configured[C, R]) result(r R, warnings []string) *Result {
	attrs := k.attrs(r)
	return &Result{PhysicalID: attrs["Id"], Attributes: attrs, Warnings: warnings}
}

func (k *configured[C, R]) handler() *Handler {
	return &Handler{
		Attributes: k.attributes,
		Check: func(env *Env, req *Request) ([]string, error) {
			_, w, err := k.decode(env, req)
			return w, wrap(req.LogicalID, err)
		},
		Create: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, w, err := k.decode(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			if k.complete != nil {
				k.complete(cfg, req.Token, nil)
			}
			r, _, err := k.create(env.Svc, ctx, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return k.result(r, w), nil
		},
		Update: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, w, err := k.decode(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cur, etag, err := k.get(env.Svc, ctx, req.PhysicalID)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			if k.complete != nil {
				k.complete(cfg, "", k.config(cur))
			}
			r, _, err := k.update(env.Svc, ctx, req.PhysicalID, etag, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return k.result(r, w), nil
		},
		Delete: func(ctx context.Context, env *Env, req *Request) error {
			_, etag, err := k.get(env.Svc, ctx, req.PhysicalID)
			if gone(err) {
				return nil
			}
			if err != nil {
				return wrap(req.LogicalID, err)
			}
			if err := k.remove(env.Svc, ctx, req.PhysicalID, etag); err != nil && !gone(err) {
				return wrap(req.LogicalID, err)
			}
			return nil
		},
		Find: func(ctx context.Context, env *Env, req *Request) (string, error) {
			cfg, _, err := k.decode(env, req)
			if err != nil {
				return "", nil
			}
			return k.find(ctx, env.Svc, req.Token, cfg)
		},
		Read: func(ctx context.Context, env *Env, id string) (*Result, error) {
			r, _, err := k.get(env.Svc, ctx, id)
			if err != nil {
				return nil, err
			}
			return k.result(r, nil), nil
		},
		Expected: func(env *Env, req *Request) (map[string]any, error) {
			cfg, _, err := k.decode(env, req)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{k.configKey: cfg})
		},
		Actual: func(ctx context.Context, env *Env, req *Request) (map[string]any, error) {
			r, _, err := k.get(env.Svc, ctx, req.PhysicalID)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{k.configKey: k.config(r)})
		},
	}
}

// findPaged walks a paginated list until match names an id.
func findPaged[T any](ctx context.Context, list func(ctx context.Context, marker string) ([]T, string, error), match func(T) (string, bool)) (string, error) {
	marker := ""
	for {
		items, next, err := list(ctx, marker)
		if err != nil {
			return "", err
		}
		for _, it := range items {
			if id, ok := match(it); ok {
				return id, nil
			}
		}
		if next == "" {
			return "", nil
		}
		marker = next
	}
}

// listPage is the page size of the crash-recovery lookups.
const listPage = 100
