package resource

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// s3RESTHost matches the S3 REST endpoints an S3 origin names.
var s3RESTHost = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$`)

// distributionConfig converts a Distribution's properties.
func distributionConfig(env *Env, req *Request) (*cf.DistributionConfig, *cf.Tags, []string, error) {
	if err := onlyKeys(req.Properties, "DistributionConfig", "Tags"); err != nil {
		return nil, nil, nil, err
	}
	if err := required(req.Properties, "DistributionConfig"); err != nil {
		return nil, nil, nil, err
	}
	c := &converter{strict: env.Strict}
	cfg, err := decode[cf.DistributionConfig](c, req.Properties["DistributionConfig"], "/DistributionConfig")
	if err != nil {
		return nil, nil, nil, err
	}
	var tags *cf.Tags
	if t, ok := req.Properties["Tags"]; ok {
		list, err := decode[[]cf.Tag](c, t, "/Tags")
		if err != nil {
			return nil, nil, nil, err
		}
		tags = &cf.Tags{Items: *list}
	}
	if cfg.Comment == nil {
		cfg.Comment = cf.String("")
	}
	if cfg.Origins != nil {
		for i := range cfg.Origins.Items {
			o := &cfg.Origins.Items[i]
			switch {
			case o.S3OriginConfig != nil:
				if o.S3OriginConfig.OriginAccessIdentity == nil {
					o.S3OriginConfig.OriginAccessIdentity = cf.String("")
				}
			case o.CustomOriginConfig != nil:
				if o.CustomOriginConfig.HTTPPort == nil {
					o.CustomOriginConfig.HTTPPort = cf.Int32(80)
				}
				if o.CustomOriginConfig.HTTPSPort == nil {
					o.CustomOriginConfig.HTTPSPort = cf.Int32(443)
				}
			case o.VpcOriginConfig != nil:
			case !env.Strict && (s3RESTHost.MatchString(cf.Str(o.DomainName)) || cf.Str(o.OriginAccessControlId) != ""):
				o.S3OriginConfig = &cf.S3OriginConfig{OriginAccessIdentity: cf.String("")}
				c.warnings = append(c.warnings, fmt.Sprintf("stagefront: origin %q has neither S3OriginConfig nor CustomOriginConfig; read as an S3 origin (AWS CloudFormation would reject it)", cf.Str(o.Id)))
			default:
				return nil, nil, nil, &propertyError{msg: "Exactly one of CustomOriginConfig and S3OriginConfig must be specified"}
			}
		}
	}
	// CloudFront keeps an attached policy when the element is omitted; a
	// template that stops naming one must detach it explicitly.
	if cfg.ContinuousDeploymentPolicyId == nil && req.OldProperties != nil {
		if old, _ := req.OldProperties["DistributionConfig"].(map[string]any); old != nil {
			if _, had := old["ContinuousDeploymentPolicyId"]; had {
				cfg.ContinuousDeploymentPolicyId = cf.String("")
			}
		}
	}
	return cfg, tags, c.warnings, nil
}

// deployTimeout bounds the wait for a configuration to reach the edges.
const deployTimeout = time.Minute

func waitDeployed(ctx context.Context, env *Env, id string) error {
	ctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := env.Svc.GetDistribution(ctx, id)
		if err != nil {
			return err
		}
		if cf.Str(d.Distribution.Status) == "Deployed" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("distribution %s was not deployed within %v: %w", id, deployTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

func distributionResult(d *cf.Distribution, warnings []string) *Result {
	return &Result{PhysicalID: cf.Str(d.Id), Warnings: warnings,
		Attributes: map[string]string{"Id": cf.Str(d.Id), "DomainName": cf.Str(d.DomainName)}}
}

func distribution() *Handler {
	return &Handler{
		Attributes: []string{"Id", "DomainName"},
		Check: func(env *Env, req *Request) ([]string, error) {
			_, _, w, err := distributionConfig(env, req)
			return w, wrap(req.LogicalID, err)
		},
		Create: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, tags, w, err := distributionConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cfg.CallerReference = cf.String(req.Token)
			res, err := env.Svc.CreateDistribution(ctx, cfg, tags)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return distributionResult(res.Distribution, w), nil
		},
		Update: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, _, w, err := distributionConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cur, err := env.Svc.GetDistribution(ctx, req.PhysicalID)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cfg.CallerReference = cur.Distribution.DistributionConfig.CallerReference
			res, err := env.Svc.UpdateDistribution(ctx, req.PhysicalID, cur.ETag, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return distributionResult(res.Distribution, w), nil
		},
		Delete: func(ctx context.Context, env *Env, req *Request) error {
			cur, err := env.Svc.GetDistribution(ctx, req.PhysicalID)
			if errors.Is(err, cf.ErrNoSuchDistribution) {
				return nil
			}
			if err != nil {
				return wrap(req.LogicalID, err)
			}
			etag := cur.ETag
			if cf.IsTrue(cur.Distribution.DistributionConfig.Enabled) {
				cfg := *cur.Distribution.DistributionConfig
				cfg.Enabled = cf.Bool(false)
				res, err := env.Svc.UpdateDistribution(ctx, req.PhysicalID, etag, &cfg)
				if err != nil {
					return wrap(req.LogicalID, err)
				}
				etag = res.ETag
				// CloudFront deletes a distribution only once the disabled
				// configuration is deployed, as CloudFormation's handler waits.
				if err := waitDeployed(ctx, env, req.PhysicalID); err != nil {
					return wrap(req.LogicalID, err)
				}
			}
			err = env.Svc.DeleteDistribution(ctx, req.PhysicalID, etag)
			if errors.Is(err, cf.ErrNoSuchDistribution) {
				return nil
			}
			return wrap(req.LogicalID, err)
		},
		Find: func(ctx context.Context, env *Env, req *Request) (string, error) {
			marker := ""
			for {
				list, err := env.Svc.ListDistributions(ctx, marker, 100)
				if err != nil {
					return "", err
				}
				for _, s := range list.Items {
					d, err := env.Svc.GetDistribution(ctx, cf.Str(s.Id))
					if err != nil {
						continue
					}
					if cf.Str(d.Distribution.DistributionConfig.CallerReference) == req.Token {
						return cf.Str(s.Id), nil
					}
				}
				if !cf.IsTrue(list.IsTruncated) {
					return "", nil
				}
				marker = cf.Str(list.NextMarker)
			}
		},
		Read: func(ctx context.Context, env *Env, id string) (*Result, error) {
			d, err := env.Svc.GetDistribution(ctx, id)
			if err != nil {
				return nil, err
			}
			return distributionResult(d.Distribution, nil), nil
		},
		Expected: func(env *Env, req *Request) (map[string]any, error) {
			cfg, _, _, err := distributionConfig(env, req)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{"DistributionConfig": cfg})
		},
		Actual: func(ctx context.Context, env *Env, req *Request) (map[string]any, error) {
			d, err := env.Svc.GetDistribution(ctx, req.PhysicalID)
			if err != nil {
				return nil, err
			}
			cfg := *d.Distribution.DistributionConfig
			// The staging's reverse pointer is CloudFront's, not the template's.
			if cf.IsTrue(cfg.Staging) {
				cfg.ContinuousDeploymentPolicyId = nil
			}
			return toCFN(map[string]any{"DistributionConfig": &cfg})
		},
	}
}

// cdPolicy: a staging distribution has at most one policy, so a crashed
// create is found by the staging domain the properties name.
func cdPolicy() *Handler {
	return (&configured[cf.ContinuousDeploymentPolicyConfig, *cf.ContinuousDeploymentPolicy]{
		configKey: "ContinuousDeploymentPolicyConfig", attributes: []string{"Id", "LastModifiedTime"},
		create: func(svc *control.Service, ctx context.Context, cfg *cf.ContinuousDeploymentPolicyConfig) (*cf.ContinuousDeploymentPolicy, string, error) {
			return unpackPolicy(svc.CreatePolicy(ctx, cfg))
		},
		get: func(svc *control.Service, ctx context.Context, id string) (*cf.ContinuousDeploymentPolicy, string, error) {
			return unpackPolicy(svc.GetPolicy(ctx, id))
		},
		update: func(svc *control.Service, ctx context.Context, id, ifMatch string, cfg *cf.ContinuousDeploymentPolicyConfig) (*cf.ContinuousDeploymentPolicy, string, error) {
			return unpackPolicy(svc.UpdatePolicy(ctx, id, ifMatch, cfg))
		},
		remove: (*control.Service).DeletePolicy,
		config: func(p *cf.ContinuousDeploymentPolicy) *cf.ContinuousDeploymentPolicyConfig {
			return p.ContinuousDeploymentPolicyConfig
		},
		attrs: func(p *cf.ContinuousDeploymentPolicy) map[string]string {
			return idModified(p.Id, p.LastModifiedTime)
		},
		find: func(ctx context.Context, svc *control.Service, _ string, cfg *cf.ContinuousDeploymentPolicyConfig) (string, error) {
			if cfg.StagingDistributionDnsNames == nil || len(cfg.StagingDistributionDnsNames.Items) == 0 {
				return "", nil
			}
			want := cfg.StagingDistributionDnsNames.Items[0]
			return findPaged(ctx, func(ctx context.Context, marker string) ([]cf.ContinuousDeploymentPolicySummary, string, error) {
				l, err := svc.ListPolicies(ctx, marker, listPage)
				if err != nil {
					return nil, "", err
				}
				return l.Items, cf.Str(l.NextMarker), nil
			}, func(s cf.ContinuousDeploymentPolicySummary) (string, bool) {
				p := s.ContinuousDeploymentPolicy
				if p == nil || p.ContinuousDeploymentPolicyConfig == nil || p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames == nil {
					return "", false
				}
				return cf.Str(p.Id), slices.Contains(p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items, want)
			})
		},
	}).handler()
}

func unpackPolicy(r *control.PolicyResult, err error) (*cf.ContinuousDeploymentPolicy, string, error) {
	if err != nil {
		return nil, "", err
	}
	return r.Policy, r.ETag, nil
}

// oac: origin access control names are unique, so a crashed create is
// found by name.
func oac() *Handler {
	return (&configured[cf.OriginAccessControlConfig, *cf.OriginAccessControl]{
		configKey: "OriginAccessControlConfig", attributes: []string{"Id"},
		complete: func(cfg *cf.OriginAccessControlConfig, _ string, _ *cf.OriginAccessControlConfig) {
			if cfg.Description == nil {
				cfg.Description = cf.String("")
			}
		},
		create: func(svc *control.Service, ctx context.Context, cfg *cf.OriginAccessControlConfig) (*cf.OriginAccessControl, string, error) {
			return unpackOAC(svc.CreateOAC(ctx, cfg))
		},
		get: func(svc *control.Service, ctx context.Context, id string) (*cf.OriginAccessControl, string, error) {
			return unpackOAC(svc.GetOAC(ctx, id))
		},
		update: func(svc *control.Service, ctx context.Context, id, ifMatch string, cfg *cf.OriginAccessControlConfig) (*cf.OriginAccessControl, string, error) {
			return unpackOAC(svc.UpdateOAC(ctx, id, ifMatch, cfg))
		},
		remove: (*control.Service).DeleteOAC,
		config: func(o *cf.OriginAccessControl) *cf.OriginAccessControlConfig { return o.OriginAccessControlConfig },
		attrs:  func(o *cf.OriginAccessControl) map[string]string { return map[string]string{"Id": cf.Str(o.Id)} },
		find: func(ctx context.Context, svc *control.Service, _ string, cfg *cf.OriginAccessControlConfig) (string, error) {
			return findPaged(ctx, func(ctx context.Context, marker string) ([]cf.OriginAccessControlSummary, string, error) {
				l, err := svc.ListOACs(ctx, marker, listPage)
				if err != nil {
					return nil, "", err
				}
				return l.Items, nextMarker(l.IsTruncated, l.NextMarker), nil
			}, func(s cf.OriginAccessControlSummary) (string, bool) {
				return cf.Str(s.Id), cf.Str(s.Name) == cf.Str(cfg.Name)
			})
		},
	}).handler()
}

func unpackOAC(r *control.OACResult, err error) (*cf.OriginAccessControl, string, error) {
	if err != nil {
		return nil, "", err
	}
	return r.OAC, r.ETag, nil
}
