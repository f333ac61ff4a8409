// Package resource converts CloudFormation resources of the
// AWS::CloudFront::* types into CloudFront API shapes and creates, updates
// and deletes them through the control service: the same calls, validation
// and store transactions the REST API uses.
//
// Each type is one entry of the Types table. A type whose CloudFront API
// stagefront does not implement yet has an entry with Unsupported set, so
// templates using it fail validation instead of deploying half.
package resource

import (
	"context"
	"errors"
	"fmt"
	"sort"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// Env is what a handler needs.
type Env struct {
	Svc *control.Service
	// Strict turns off the key repair and S3 inference (see docs/cloudformation.md).
	Strict bool
}

// Result is a created or updated resource: its physical id (Ref) and the
// attributes Fn::GetAtt can read.
type Result struct {
	PhysicalID string
	Attributes map[string]string
	// Warnings go into the resource's *_IN_PROGRESS event.
	Warnings []string
}

// Request is one operation on one resource.
type Request struct {
	LogicalID string
	// Properties are the resolved template properties (CloudFormation shape).
	Properties map[string]any
	// OldProperties are the previous template's (updates only).
	OldProperties map[string]any
	// PhysicalID is the resource's id (updates, deletes).
	PhysicalID string
	// Token identifies a create across a crash (the CallerReference, or a
	// key the handler can find the resource by).
	Token string
}

// Handler implements one resource type.
type Handler struct {
	// Unsupported, when set, says why templates may not use the type.
	Unsupported string
	// Attributes lists what Fn::GetAtt accepts.
	Attributes []string
	// Check converts the properties without calling anything, so a bad
	// property fails before the first CloudFront call.
	Check  func(env *Env, req *Request) ([]string, error)
	Create func(ctx context.Context, env *Env, req *Request) (*Result, error)
	Update func(ctx context.Context, env *Env, req *Request) (*Result, error)
	// Delete treats an already-missing resource as deleted.
	Delete func(ctx context.Context, env *Env, req *Request) error
	// Find looks for a resource a crashed create may have made (by
	// req.Token / the properties); "" when there is none.
	Find func(ctx context.Context, env *Env, req *Request) (string, error)
	// Expected renders the properties as CloudFormation shape after the
	// conversion (key repair and defaults applied), for drift.
	Expected func(env *Env, req *Request) (map[string]any, error)
	// Actual reads the live resource in CloudFormation shape (drift).
	Actual func(ctx context.Context, env *Env, req *Request) (map[string]any, error)
	// Read returns the attributes of an existing resource.
	Read func(ctx context.Context, env *Env, physicalID string) (*Result, error)
}

// Types is the table of resource types. Enable a type by giving it
// handlers in place of Unsupported.
func Types() map[string]*Handler {
	notYet := func(t string) *Handler {
		return &Handler{Unsupported: "stagefront does not implement the CloudFront API of " + t + " yet", Attributes: []string{"Id"}}
	}
	return map[string]*Handler{
		"AWS::CloudFront::Distribution":                   distribution(),
		"AWS::CloudFront::ContinuousDeploymentPolicy":     cdPolicy(),
		"AWS::CloudFront::OriginAccessControl":            oac(),
		"AWS::CloudFront::CachePolicy":                    cachePolicy(),
		"AWS::CloudFront::OriginRequestPolicy":            originRequestPolicy(),
		"AWS::CloudFront::ResponseHeadersPolicy":          responseHeadersPolicy(),
		"AWS::CloudFront::CloudFrontOriginAccessIdentity": originAccessIdentity(),
		"AWS::CloudFront::KeyGroup":                       keyGroup(),
		"AWS::CloudFront::PublicKey":                      publicKey(),
		"AWS::CloudFront::Function":                       notYet("AWS::CloudFront::Function"),
		"AWS::CloudFormation::WaitConditionHandle":        waitConditionHandle(),
	}
}

// HandlerError is a failed resource operation: CloudFormation's
// "Resource handler returned message" wrapping of the CloudFront error, or
// a property validation failure.
type HandlerError struct {
	Message string
	Err     error
}

func (e *HandlerError) Error() string { return e.Message }
func (e *HandlerError) Unwrap() error { return e.Err }

// wrap turns a control error into the resource's failure reason.
func wrap(logicalID string, err error) error {
	if err == nil {
		return nil
	}
	var pe *propertyError
	if errors.As(err, &pe) {
		return &HandlerError{Message: fmt.Sprintf("Properties validation failed for resource %s with message: %s", logicalID, pe.msg), Err: err}
	}
	var ce *cf.Error
	if !errors.As(err, &ce) && control.IsUnavailable(err) {
		ce = cf.ErrServiceUnavailable
	}
	if ce != nil {
		code := "InvalidRequest"
		switch {
		case ce.Status == 404:
			code = "NotFound"
		case ce.Status == 409:
			code = "ResourceConflict"
		case ce.Status == 412:
			code = "ResourceConflict"
		case ce.Status >= 500:
			code = "ServiceInternalError"
		}
		return &HandlerError{Message: fmt.Sprintf("Resource handler returned message: \"%s: %s\" (HandlerErrorCode: %s)", ce.Code, ce.Message, code), Err: err}
	}
	return &HandlerError{Message: fmt.Sprintf("Resource handler returned message: \"%v\" (HandlerErrorCode: InternalFailure)", err), Err: err}
}

// onlyKeys fails on a top-level property the type does not have.
func onlyKeys(props map[string]any, allowed ...string) error {
	var keys []string
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return &propertyError{msg: fmt.Sprintf("#: extraneous key [%s] is not permitted", k)}
		}
	}
	return nil
}

func required(props map[string]any, key string) error {
	if _, ok := props[key]; !ok {
		return &propertyError{msg: fmt.Sprintf("#: required key [%s] not found", key)}
	}
	return nil
}

func waitConditionHandle() *Handler {
	return &Handler{
		Check: func(*Env, *Request) ([]string, error) { return nil, nil },
		Create: func(_ context.Context, _ *Env, req *Request) (*Result, error) {
			return &Result{PhysicalID: "https://stagefront.invalid/waitcondition/" + req.Token}, nil
		},
		Update: func(_ context.Context, _ *Env, req *Request) (*Result, error) {
			return &Result{PhysicalID: req.PhysicalID}, nil
		},
		Delete: func(context.Context, *Env, *Request) error { return nil },
		Find:   func(context.Context, *Env, *Request) (string, error) { return "", nil },
		Read: func(_ context.Context, _ *Env, id string) (*Result, error) {
			return &Result{PhysicalID: id}, nil
		},
	}
}
