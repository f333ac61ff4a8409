package cloudfront

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a CloudFront API error: the code, HTTP status and message that the
// API layer writes into an <ErrorResponse>. Internal code returns it (wrapped
// or not); the HTTP layer finds it with errors.As.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, ErrXxx) match on the code, whatever the message.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// WithMessage returns a copy of e with a specific message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	return &Error{Code: e.Code, Status: e.Status, Message: fmt.Sprintf(format, args...)}
}

func newErr(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// The error codes stagefront returns, with CloudFront's default messages
// (observed messages preferred where the spec quotes one).
var (
	ErrAccessDenied                     = newErr("AccessDenied", http.StatusForbidden, "Access denied.")
	ErrInvalidClientTokenID             = newErr("InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
	ErrSignatureDoesNotMatch            = newErr("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	ErrMissingAuthenticationToken       = newErr("MissingAuthenticationToken", http.StatusForbidden, "Request is missing Authentication Token")
	ErrIncompleteSignature              = newErr("IncompleteSignature", http.StatusForbidden, "The request signature does not conform to AWS standards.")
	ErrRequestExpired                   = newErr("RequestExpired", http.StatusForbidden, "Request has expired.")
	ErrInvalidArgument                  = newErr("InvalidArgument", http.StatusBadRequest, "The argument is invalid.")
	ErrMissingBody                      = newErr("MissingBody", http.StatusBadRequest, "This operation requires a body. Ensure that the body is present and the Content-Type header is set.")
	ErrMalformedInput                   = newErr("MalformedInput", http.StatusBadRequest, "The XML document you provided was not well-formed or did not validate.")
	ErrInconsistentQuantities           = newErr("InconsistentQuantities", http.StatusBadRequest, "The value of Quantity and the size of Items don't match.")
	ErrIllegalUpdate                    = newErr("IllegalUpdate", http.StatusBadRequest, "The update contains modifications that are not allowed.")
	ErrInvalidIfMatchVersion            = newErr("InvalidIfMatchVersion", http.StatusBadRequest, "The If-Match version is missing or not valid for the resource.")
	ErrPreconditionFailed               = newErr("PreconditionFailed", http.StatusPreconditionFailed, "The request failed because it didn't meet the preconditions in one or more request-header fields.")
	ErrNoSuchDistribution               = newErr("NoSuchDistribution", http.StatusNotFound, "The specified distribution does not exist.")
	ErrNoSuchOrigin                     = newErr("NoSuchOrigin", http.StatusNotFound, "No origin exists with the specified Origin Id.")
	ErrNoSuchCachePolicy                = newErr("NoSuchCachePolicy", http.StatusNotFound, "The cache policy does not exist.")
	ErrNoSuchOriginRequestPolicy        = newErr("NoSuchOriginRequestPolicy", http.StatusNotFound, "The origin request policy does not exist.")
	ErrNoSuchResponseHeadersPolicy      = newErr("NoSuchResponseHeadersPolicy", http.StatusNotFound, "The response headers policy does not exist.")
	ErrNoSuchCDPolicy                   = newErr("NoSuchContinuousDeploymentPolicy", http.StatusNotFound, "The continuous deployment policy doesn't exist.")
	ErrNoSuchInvalidation               = newErr("NoSuchInvalidation", http.StatusNotFound, "The specified invalidation does not exist.")
	ErrNoSuchOriginAccessControl        = newErr("NoSuchOriginAccessControl", http.StatusNotFound, "The origin access control does not exist.")
	ErrNoSuchResource                   = newErr("NoSuchResource", http.StatusNotFound, "A resource that was specified is not valid.")
	ErrInvalidOriginAccessControl       = newErr("InvalidOriginAccessControl", http.StatusBadRequest, "The origin access control is not valid.")
	ErrCNAMEAlreadyExists               = newErr("CNAMEAlreadyExists", http.StatusConflict, "One or more of the CNAMEs you provided are already associated with a different resource.")
	ErrDistributionAlreadyExists        = newErr("DistributionAlreadyExists", http.StatusConflict, "The caller reference you attempted to create the distribution with is associated with another distribution.")
	ErrDistributionNotDisabled          = newErr("DistributionNotDisabled", http.StatusConflict, "The specified CloudFront distribution is not disabled. You must disable the distribution before you can delete it.")
	ErrResourceInUse                    = newErr("ResourceInUse", http.StatusConflict, "Cannot delete this resource because it is in use.")
	ErrStagingDistributionInUse         = newErr("StagingDistributionInUse", http.StatusConflict, "A continuous deployment policy for this staging distribution already exists.")
	ErrCDPolicyInUse                    = newErr("ContinuousDeploymentPolicyInUse", http.StatusConflict, "You cannot delete a continuous deployment policy that is associated with a primary distribution.")
	ErrCDPolicyAlreadyExists            = newErr("ContinuousDeploymentPolicyAlreadyExists", http.StatusConflict, "A continuous deployment policy with this configuration already exists.")
	ErrOriginAccessControlAlreadyExists = newErr("OriginAccessControlAlreadyExists", http.StatusConflict, "An origin access control with the specified parameters already exists.")
	ErrOriginAccessControlInUse         = newErr("OriginAccessControlInUse", http.StatusConflict, "Cannot delete the origin access control because it's in use by one or more distributions.")
	ErrTooManyDistributions             = newErr("TooManyDistributions", http.StatusBadRequest, "Processing your request would cause you to exceed the maximum number of distributions allowed.")
	ErrTooManyCDPolicies                = newErr("TooManyContinuousDeploymentPolicies", http.StatusBadRequest, "You have reached the maximum number of continuous deployment policies for this Amazon Web Services account.")
	ErrInvalidationBatchAlreadyExists   = newErr("InvalidationBatchAlreadyExists", http.StatusConflict, "The invalidation batch specified already exists.")
	ErrBatchTooLarge                    = newErr("BatchTooLarge", http.StatusRequestEntityTooLarge, "Invalidation batch specified is too large.")
	ErrInvalidTagging                   = newErr("InvalidTagging", http.StatusBadRequest, "The tagging specified is not valid.")
	ErrInvalidTTLOrder                  = newErr("InvalidTTLOrder", http.StatusBadRequest, "The TTL order specified is not valid.")
	ErrInvalidOriginReadTimeout         = newErr("InvalidOriginReadTimeout", http.StatusBadRequest, "The read timeout specified for the origin is not valid.")
	ErrInvalidOriginKeepaliveTimeout    = newErr("InvalidOriginKeepaliveTimeout", http.StatusBadRequest, "The keep alive timeout specified for the origin is not valid.")
	ErrInvalidDefaultRootObject         = newErr("InvalidDefaultRootObject", http.StatusBadRequest, "The default root object you specified is not valid.")
	ErrInvalidErrorCode                 = newErr("InvalidErrorCode", http.StatusBadRequest, "An invalid error code was specified.")
	ErrInvalidResponseCode              = newErr("InvalidResponseCode", http.StatusBadRequest, "A response code is not valid.")
	ErrInvalidRelativePath              = newErr("InvalidRelativePath", http.StatusBadRequest, "The relative path is too big, is not URL-encoded, or does not begin with a slash (/).")
	ErrInvalidLocationCode              = newErr("InvalidLocationCode", http.StatusBadRequest, "The location code specified is not valid.")
	ErrInvalidGeoRestrictionParameter   = newErr("InvalidGeoRestrictionParameter", http.StatusBadRequest, "The specified geo restriction parameter is not valid.")
	ErrTrustedKeyGroupDoesNotExist      = newErr("TrustedKeyGroupDoesNotExist", http.StatusBadRequest, "The specified key group does not exist.")
	ErrNoSuchFieldLevelEncryptionConfig = newErr("NoSuchFieldLevelEncryptionConfig", http.StatusNotFound, "The specified configuration for field-level encryption doesn't exist.")
	ErrNoSuchRealtimeLogConfig          = newErr("NoSuchRealtimeLogConfig", http.StatusNotFound, "The real-time log configuration does not exist.")
	ErrInvalidWebACLId                  = newErr("InvalidWebACLId", http.StatusBadRequest, "A web ACL ID specified is not valid.")
	ErrServiceUnavailable               = newErr("ServiceUnavailable", http.StatusServiceUnavailable, "The service is temporarily unavailable. Try again later.")
	ErrInternalError                    = newErr("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	ErrNotFound                         = newErr("NotFound", http.StatusNotFound, "The requested resource does not exist.")
	ErrMethodNotAllowed                 = newErr("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
)

// ErrorType is CloudFront's <Type>: Sender for 4xx, Receiver for 5xx.
func (e *Error) ErrorType() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}
