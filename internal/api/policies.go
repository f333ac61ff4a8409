package api

import (
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

func (s *server) policyReply(r *http.Request, status int, res *control.PolicyResult, withLocation bool) (*reply, error) {
	if res == nil || res.Policy == nil {
		return nil, fmt.Errorf("api: control returned no continuous deployment policy")
	}
	rep := &reply{status: status, root: "ContinuousDeploymentPolicy", body: res.Policy, etag: res.ETag}
	if withLocation {
		rep.location = s.location(r, "/continuous-deployment-policy/"+cf.Str(res.Policy.Id))
	}
	return rep, nil
}

func (s *server) createPolicy(r *http.Request) (*reply, error) {
	cfg := new(cf.ContinuousDeploymentPolicyConfig)
	if err := s.document(r, "ContinuousDeploymentPolicyConfig", cfg); err != nil {
		return nil, err
	}
	res, err := s.svc.CreatePolicy(r.Context(), cfg)
	if err != nil {
		return nil, fmt.Errorf("create continuous deployment policy: %w", err)
	}
	return s.policyReply(r, http.StatusCreated, res, true)
}

func (s *server) getPolicy(r *http.Request) (*reply, error) {
	res, err := s.svc.GetPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get continuous deployment policy: %w", err)
	}
	return s.policyReply(r, http.StatusOK, res, false)
}

func (s *server) getPolicyConfig(r *http.Request) (*reply, error) {
	res, err := s.svc.GetPolicy(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get continuous deployment policy config: %w", err)
	}
	if res.Policy == nil || res.Policy.ContinuousDeploymentPolicyConfig == nil {
		return nil, fmt.Errorf("api: continuous deployment policy %s has no config", r.PathValue("Id"))
	}
	return &reply{status: http.StatusOK, root: "ContinuousDeploymentPolicyConfig",
		body: res.Policy.ContinuousDeploymentPolicyConfig, etag: res.ETag}, nil
}

func (s *server) updatePolicy(r *http.Request) (*reply, error) {
	cfg := new(cf.ContinuousDeploymentPolicyConfig)
	if err := s.document(r, "ContinuousDeploymentPolicyConfig", cfg); err != nil {
		return nil, err
	}
	res, err := s.svc.UpdatePolicy(r.Context(), r.PathValue("Id"), ifMatch(r), cfg)
	if err != nil {
		return nil, fmt.Errorf("update continuous deployment policy: %w", err)
	}
	return s.policyReply(r, http.StatusOK, res, false)
}

func (s *server) deletePolicy(r *http.Request) (*reply, error) {
	if err := s.svc.DeletePolicy(r.Context(), r.PathValue("Id"), ifMatch(r)); err != nil {
		return nil, fmt.Errorf("delete continuous deployment policy: %w", err)
	}
	return &reply{status: http.StatusNoContent}, nil
}

func (s *server) listPolicies(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListPolicies(r.Context(), marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list continuous deployment policies: %w", err)
	}
	return &reply{status: http.StatusOK, root: "ContinuousDeploymentPolicyList", body: list}, nil
}
