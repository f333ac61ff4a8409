package api

import (
	"fmt"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
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
