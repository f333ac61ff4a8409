package resource

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
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

func policyConfig(env *Env, req *Request) (*cf.ContinuousDeploymentPolicyConfig, error) {
	if err := onlyKeys(req.Properties, "ContinuousDeploymentPolicyConfig"); err != nil {
		return nil, err
	}
	if err := required(req.Properties, "ContinuousDeploymentPolicyConfig"); err != nil {
		return nil, err
	}
	c := &converter{strict: env.Strict}
	return decode[cf.ContinuousDeploymentPolicyConfig](c, req.Properties["ContinuousDeploymentPolicyConfig"], "/ContinuousDeploymentPolicyConfig")
}

func policyResult(p *cf.ContinuousDeploymentPolicy) *Result {
	modified := ""
	if p.LastModifiedTime != nil {
		modified = p.LastModifiedTime.UTC().Format(time.RFC3339)
	}
	return &Result{PhysicalID: cf.Str(p.Id), Attributes: map[string]string{"Id": cf.Str(p.Id), "LastModifiedTime": modified}}
}

func cdPolicy() *Handler {
	return &Handler{
		Attributes: []string{"Id", "LastModifiedTime"},
		Check: func(env *Env, req *Request) ([]string, error) {
			_, err := policyConfig(env, req)
			return nil, wrap(req.LogicalID, err)
		},
		Create: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, err := policyConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			res, err := env.Svc.CreatePolicy(ctx, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return policyResult(res.Policy), nil
		},
		Update: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, err := policyConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cur, err := env.Svc.GetPolicy(ctx, req.PhysicalID)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			res, err := env.Svc.UpdatePolicy(ctx, req.PhysicalID, cur.ETag, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return policyResult(res.Policy), nil
		},
		Delete: func(ctx context.Context, env *Env, req *Request) error {
			cur, err := env.Svc.GetPolicy(ctx, req.PhysicalID)
			if errors.Is(err, cf.ErrNoSuchCDPolicy) {
				return nil
			}
			if err != nil {
				return wrap(req.LogicalID, err)
			}
			err = env.Svc.DeletePolicy(ctx, req.PhysicalID, cur.ETag)
			if errors.Is(err, cf.ErrNoSuchCDPolicy) {
				return nil
			}
			return wrap(req.LogicalID, err)
		},
		// A staging distribution has at most one policy: find it by the
		// staging domain the properties name.
		Find: func(ctx context.Context, env *Env, req *Request) (string, error) {
			cfg, err := policyConfig(env, req)
			if err != nil || cfg.StagingDistributionDnsNames == nil || len(cfg.StagingDistributionDnsNames.Items) == 0 {
				return "", nil
			}
			want := cfg.StagingDistributionDnsNames.Items[0]
			marker := ""
			for {
				list, err := env.Svc.ListPolicies(ctx, marker, 100)
				if err != nil {
					return "", err
				}
				for _, s := range list.Items {
					p := s.ContinuousDeploymentPolicy
					if p == nil || p.ContinuousDeploymentPolicyConfig == nil || p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames == nil {
						continue
					}
					for _, n := range p.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items {
						if n == want {
							return cf.Str(p.Id), nil
						}
					}
				}
				if cf.Str(list.NextMarker) == "" {
					return "", nil
				}
				marker = cf.Str(list.NextMarker)
			}
		},
		Read: func(ctx context.Context, env *Env, id string) (*Result, error) {
			p, err := env.Svc.GetPolicy(ctx, id)
			if err != nil {
				return nil, err
			}
			return policyResult(p.Policy), nil
		},
		Expected: func(env *Env, req *Request) (map[string]any, error) {
			cfg, err := policyConfig(env, req)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{"ContinuousDeploymentPolicyConfig": cfg})
		},
		Actual: func(ctx context.Context, env *Env, req *Request) (map[string]any, error) {
			p, err := env.Svc.GetPolicy(ctx, req.PhysicalID)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{"ContinuousDeploymentPolicyConfig": p.Policy.ContinuousDeploymentPolicyConfig})
		},
	}
}

func oacConfig(env *Env, req *Request) (*cf.OriginAccessControlConfig, error) {
	if err := onlyKeys(req.Properties, "OriginAccessControlConfig"); err != nil {
		return nil, err
	}
	if err := required(req.Properties, "OriginAccessControlConfig"); err != nil {
		return nil, err
	}
	c := &converter{strict: env.Strict}
	cfg, err := decode[cf.OriginAccessControlConfig](c, req.Properties["OriginAccessControlConfig"], "/OriginAccessControlConfig")
	if err == nil && cfg.Description == nil {
		cfg.Description = cf.String("")
	}
	return cfg, err
}

func oac() *Handler {
	result := func(o *cf.OriginAccessControl) *Result {
		return &Result{PhysicalID: cf.Str(o.Id), Attributes: map[string]string{"Id": cf.Str(o.Id)}}
	}
	return &Handler{
		Attributes: []string{"Id"},
		Check: func(env *Env, req *Request) ([]string, error) {
			_, err := oacConfig(env, req)
			return nil, wrap(req.LogicalID, err)
		},
		Create: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, err := oacConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			res, err := env.Svc.CreateOAC(ctx, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return result(res.OAC), nil
		},
		Update: func(ctx context.Context, env *Env, req *Request) (*Result, error) {
			cfg, err := oacConfig(env, req)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			cur, err := env.Svc.GetOAC(ctx, req.PhysicalID)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			res, err := env.Svc.UpdateOAC(ctx, req.PhysicalID, cur.ETag, cfg)
			if err != nil {
				return nil, wrap(req.LogicalID, err)
			}
			return result(res.OAC), nil
		},
		Delete: func(ctx context.Context, env *Env, req *Request) error {
			cur, err := env.Svc.GetOAC(ctx, req.PhysicalID)
			if errors.Is(err, cf.ErrNoSuchOriginAccessControl) {
				return nil
			}
			if err != nil {
				return wrap(req.LogicalID, err)
			}
			err = env.Svc.DeleteOAC(ctx, req.PhysicalID, cur.ETag)
			if errors.Is(err, cf.ErrNoSuchOriginAccessControl) {
				return nil
			}
			return wrap(req.LogicalID, err)
		},
		// Origin access control names are unique: find it by name.
		Find: func(ctx context.Context, env *Env, req *Request) (string, error) {
			cfg, err := oacConfig(env, req)
			if err != nil {
				return "", nil
			}
			marker := ""
			for {
				list, err := env.Svc.ListOACs(ctx, marker, 100)
				if err != nil {
					return "", err
				}
				for _, s := range list.Items {
					if cf.Str(s.Name) == cf.Str(cfg.Name) {
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
			o, err := env.Svc.GetOAC(ctx, id)
			if err != nil {
				return nil, err
			}
			return result(o.OAC), nil
		},
		Expected: func(env *Env, req *Request) (map[string]any, error) {
			cfg, err := oacConfig(env, req)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{"OriginAccessControlConfig": cfg})
		},
		Actual: func(ctx context.Context, env *Env, req *Request) (map[string]any, error) {
			o, err := env.Svc.GetOAC(ctx, req.PhysicalID)
			if err != nil {
				return nil, err
			}
			return toCFN(map[string]any{"OriginAccessControlConfig": o.OAC.OriginAccessControlConfig})
		},
	}
}
