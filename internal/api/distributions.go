package api

import (
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// distributionReply answers with a Distribution document, its ETag and,
// for creations, its Location.
func (s *server) distributionReply(r *http.Request, status int, res *control.DistributionResult, withLocation bool) (*reply, error) {
	if res == nil || res.Distribution == nil {
		return nil, fmt.Errorf("api: control returned no distribution")
	}
	rep := &reply{status: status, root: "Distribution", body: res.Distribution, etag: res.ETag}
	if withLocation {
		rep.location = s.location(r, "/distribution/"+cf.Str(res.Distribution.Id))
	}
	return rep, nil
}

// createDistribution is CreateDistribution, or CreateDistributionWithTags
// when the WithTags query key is present (same method and path).
func (s *server) createDistribution(r *http.Request) (*reply, error) {
	var cfg *cf.DistributionConfig
	var tags *cf.Tags
	if r.URL.Query().Has("WithTags") {
		var doc cf.DistributionConfigWithTags
		if err := s.document(r, "DistributionConfigWithTags", &doc); err != nil {
			return nil, err
		}
		if doc.DistributionConfig == nil {
			return nil, cf.ErrInvalidArgument.WithMessage("DistributionConfigWithTags.DistributionConfig is required.")
		}
		cfg, tags = doc.DistributionConfig, doc.Tags
	} else {
		cfg = new(cf.DistributionConfig)
		if err := s.document(r, "DistributionConfig", cfg); err != nil {
			return nil, err
		}
	}
	res, err := s.svc.CreateDistribution(r.Context(), cfg, tags)
	if err != nil {
		return nil, fmt.Errorf("create distribution: %w", err)
	}
	return s.distributionReply(r, http.StatusCreated, res, true)
}

func (s *server) getDistribution(r *http.Request) (*reply, error) {
	res, err := s.svc.GetDistribution(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get distribution: %w", err)
	}
	return s.distributionReply(r, http.StatusOK, res, false)
}

func (s *server) getDistributionConfig(r *http.Request) (*reply, error) {
	res, err := s.svc.GetDistribution(r.Context(), r.PathValue("Id"))
	if err != nil {
		return nil, fmt.Errorf("get distribution config: %w", err)
	}
	if res.Distribution == nil || res.Distribution.DistributionConfig == nil {
		return nil, fmt.Errorf("api: distribution %s has no config", r.PathValue("Id"))
	}
	return &reply{status: http.StatusOK, root: "DistributionConfig", body: res.Distribution.DistributionConfig, etag: res.ETag}, nil
}

func (s *server) updateDistribution(r *http.Request) (*reply, error) {
	cfg := new(cf.DistributionConfig)
	if err := s.document(r, "DistributionConfig", cfg); err != nil {
		return nil, err
	}
	res, err := s.svc.UpdateDistribution(r.Context(), r.PathValue("Id"), ifMatch(r), cfg)
	if err != nil {
		return nil, fmt.Errorf("update distribution: %w", err)
	}
	return s.distributionReply(r, http.StatusOK, res, false)
}

func (s *server) deleteDistribution(r *http.Request) (*reply, error) {
	if err := s.svc.DeleteDistribution(r.Context(), r.PathValue("Id"), ifMatch(r)); err != nil {
		return nil, fmt.Errorf("delete distribution: %w", err)
	}
	return &reply{status: http.StatusNoContent}, nil
}

func (s *server) listDistributions(r *http.Request) (*reply, error) {
	marker, maxItems, err := listParams(r)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListDistributions(r.Context(), marker, maxItems)
	if err != nil {
		return nil, fmt.Errorf("list distributions: %w", err)
	}
	return &reply{status: http.StatusOK, root: "DistributionList", body: list}, nil
}

// copyDistribution is CopyDistribution: the Staging and If-Match headers
// are passed as sent; control decides what they mean.
func (s *server) copyDistribution(r *http.Request) (*reply, error) {
	var req cf.CopyDistributionRequest
	if err := s.document(r, "CopyDistributionRequest", &req); err != nil {
		return nil, err
	}
	res, err := s.svc.CopyDistribution(r.Context(), r.PathValue("Id"), r.Header.Get("Staging"), ifMatch(r), &req)
	if err != nil {
		return nil, fmt.Errorf("copy distribution: %w", err)
	}
	return s.distributionReply(r, http.StatusCreated, res, true)
}

// promoteStaging is UpdateDistributionWithStagingConfig. It has no body;
// If-Match holds "<primary ETag>,<staging ETag>", parsed by control.
func (s *server) promoteStaging(r *http.Request) (*reply, error) {
	stagingID, err := requiredQuery(r, "StagingDistributionId")
	if err != nil {
		return nil, err
	}
	res, err := s.svc.PromoteStaging(r.Context(), r.PathValue("Id"), stagingID, r.Header.Get("If-Match"))
	if err != nil {
		return nil, fmt.Errorf("promote staging: %w", err)
	}
	return s.distributionReply(r, http.StatusOK, res, false)
}
