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
	// Detail is what the server logs beside a fixed message: which id or
	// value was wrong. It is never sent.
	Detail string
	fixed  bool
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Code + ": " + e.Message + " (" + e.Detail + ")"
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is(err, ErrXxx) match on the code, whatever the message.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// WithMessage returns a copy of e with a specific message. On a fixed row
// the message CloudFront sends stays and the text becomes the Detail.
func (e *Error) WithMessage(format string, args ...any) *Error {
	out := *e
	if e.fixed {
		out.Detail = fmt.Sprintf(format, args...)
	} else {
		out.Message = fmt.Sprintf(format, args...)
	}
	return &out
}

// Fixed reports whether CloudFront always sends this code with the same
// message.
func (e *Error) Fixed() bool { return e.fixed }

type messageKind bool

const (
	fixed    messageKind = true
	variable messageKind = false
)

func row(code string, status int, kind messageKind, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg, fixed: bool(kind)}
}

// DistributionAlreadyExists is CloudFront's answer to a CreateDistribution
// (or CopyDistribution) whose CallerReference another distribution has:
// tools parse the existing distribution's id out of the message to adopt it.
func DistributionAlreadyExists(existingID string) *Error {
	out := *ErrDistributionAlreadyExists
	out.Message = "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: " + existingID
	return &out
}

// The error table: every error the API returns, with CloudFront's code,
// HTTP status and message. A fixed row is answered with exactly its
// message (CloudFront's own, which clients match on); WithMessage on it
// only adds a detail for the logs. A variable row's message is CloudFront's
// default, replaced by WithMessage with one that says what was wrong.
// TestErrorContract (internal/api) drives a real client into every row.
var (
	ErrAccessDenied                     = row("AccessDenied", http.StatusForbidden, variable, "Access denied.")
	ErrInvalidClientTokenID             = row("InvalidClientTokenId", http.StatusForbidden, variable, "The security token included in the request is invalid.")
	ErrSignatureDoesNotMatch            = row("SignatureDoesNotMatch", http.StatusForbidden, variable, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	ErrMissingAuthenticationToken       = row("MissingAuthenticationToken", http.StatusForbidden, variable, "Request is missing Authentication Token")
	ErrIncompleteSignature              = row("IncompleteSignature", http.StatusForbidden, variable, "The request signature does not conform to AWS standards.")
	ErrRequestExpired                   = row("RequestExpired", http.StatusForbidden, variable, "Request has expired.")
	ErrInvalidArgument                  = row("InvalidArgument", http.StatusBadRequest, variable, "The argument is invalid.")
	ErrMissingBody                      = row("MissingBody", http.StatusBadRequest, variable, "This operation requires a body. Ensure that the body is present and the Content-Type header is set.")
	ErrMalformedInput                   = row("MalformedInput", http.StatusBadRequest, variable, "The XML document you provided was not well-formed or did not validate.")
	ErrInconsistentQuantities           = row("InconsistentQuantities", http.StatusBadRequest, variable, "The value of Quantity and the size of Items don't match.")
	ErrIllegalUpdate                    = row("IllegalUpdate", http.StatusBadRequest, variable, "The update contains modifications that are not allowed.")
	ErrInvalidIfMatchVersion            = row("InvalidIfMatchVersion", http.StatusBadRequest, variable, "The If-Match version is missing or not valid for the resource.")
	ErrPreconditionFailed               = row("PreconditionFailed", http.StatusPreconditionFailed, variable, "The request failed because it didn't meet the preconditions in one or more request-header fields.")
	ErrNoSuchDistribution               = row("NoSuchDistribution", http.StatusNotFound, fixed, "The specified distribution does not exist.")
	ErrNoSuchOrigin                     = row("NoSuchOrigin", http.StatusNotFound, fixed, "No origin exists with the specified Origin Id.")
	ErrNoSuchCachePolicy                = row("NoSuchCachePolicy", http.StatusNotFound, fixed, "The cache policy does not exist.")
	ErrNoSuchOriginRequestPolicy        = row("NoSuchOriginRequestPolicy", http.StatusNotFound, fixed, "The origin request policy does not exist.")
	ErrNoSuchResponseHeadersPolicy      = row("NoSuchResponseHeadersPolicy", http.StatusNotFound, fixed, "The response headers policy does not exist.")
	ErrNoSuchCDPolicy                   = row("NoSuchContinuousDeploymentPolicy", http.StatusNotFound, fixed, "The continuous deployment policy doesn't exist.")
	ErrNoSuchInvalidation               = row("NoSuchInvalidation", http.StatusNotFound, fixed, "The specified invalidation does not exist.")
	ErrNoSuchOriginAccessControl        = row("NoSuchOriginAccessControl", http.StatusNotFound, fixed, "The origin access control does not exist.")
	ErrNoSuchResource                   = row("NoSuchResource", http.StatusNotFound, fixed, "A resource that was specified is not valid.")
	ErrInvalidOriginAccessControl       = row("InvalidOriginAccessControl", http.StatusBadRequest, variable, "The origin access control is not valid.")
	ErrCNAMEAlreadyExists               = row("CNAMEAlreadyExists", http.StatusConflict, variable, "One or more of the CNAMEs you provided are already associated with a different resource.")
	ErrDistributionAlreadyExists        = row("DistributionAlreadyExists", http.StatusConflict, variable, "The caller reference you attempted to create the distribution with is associated with another distribution.")
	ErrDistributionNotDisabled          = row("DistributionNotDisabled", http.StatusConflict, variable, "The specified CloudFront distribution is not disabled. You must disable the distribution before you can delete it.")
	ErrResourceInUse                    = row("ResourceInUse", http.StatusConflict, variable, "Cannot delete this resource because it is in use.")
	ErrStagingDistributionInUse         = row("StagingDistributionInUse", http.StatusConflict, variable, "A continuous deployment policy for this staging distribution already exists.")
	ErrCDPolicyInUse                    = row("ContinuousDeploymentPolicyInUse", http.StatusConflict, variable, "You cannot delete a continuous deployment policy that is associated with a primary distribution.")
	ErrCDPolicyAlreadyExists            = row("ContinuousDeploymentPolicyAlreadyExists", http.StatusConflict, variable, "A continuous deployment policy with this configuration already exists.")
	ErrOriginAccessControlAlreadyExists = row("OriginAccessControlAlreadyExists", http.StatusConflict, variable, "An origin access control with the specified parameters already exists.")
	ErrOriginAccessControlInUse         = row("OriginAccessControlInUse", http.StatusConflict, variable, "Cannot delete the origin access control because it's in use by one or more distributions.")
	ErrTooManyDistributions             = row("TooManyDistributions", http.StatusBadRequest, variable, "Processing your request would cause you to exceed the maximum number of distributions allowed.")
	ErrTooManyCDPolicies                = row("TooManyContinuousDeploymentPolicies", http.StatusBadRequest, variable, "You have reached the maximum number of continuous deployment policies for this Amazon Web Services account.")
	ErrInvalidationBatchAlreadyExists   = row("InvalidationBatchAlreadyExists", http.StatusConflict, variable, "The invalidation batch specified already exists.")
	ErrBatchTooLarge                    = row("BatchTooLarge", http.StatusRequestEntityTooLarge, variable, "Invalidation batch specified is too large.")
	ErrInvalidTagging                   = row("InvalidTagging", http.StatusBadRequest, variable, "The tagging specified is not valid.")
	ErrInvalidTTLOrder                  = row("InvalidTTLOrder", http.StatusBadRequest, variable, "The TTL order specified is not valid.")
	ErrInvalidOriginReadTimeout         = row("InvalidOriginReadTimeout", http.StatusBadRequest, variable, "The read timeout specified for the origin is not valid.")
	ErrInvalidOriginKeepaliveTimeout    = row("InvalidOriginKeepaliveTimeout", http.StatusBadRequest, variable, "The keep alive timeout specified for the origin is not valid.")
	ErrInvalidDefaultRootObject         = row("InvalidDefaultRootObject", http.StatusBadRequest, variable, "The default root object you specified is not valid.")
	ErrInvalidErrorCode                 = row("InvalidErrorCode", http.StatusBadRequest, variable, "An invalid error code was specified.")
	ErrInvalidResponseCode              = row("InvalidResponseCode", http.StatusBadRequest, variable, "A response code is not valid.")
	ErrInvalidRelativePath              = row("InvalidRelativePath", http.StatusBadRequest, variable, "The relative path is too big, is not URL-encoded, or does not begin with a slash (/).")
	ErrInvalidLocationCode              = row("InvalidLocationCode", http.StatusBadRequest, variable, "The location code specified is not valid.")
	ErrInvalidGeoRestrictionParameter   = row("InvalidGeoRestrictionParameter", http.StatusBadRequest, variable, "The specified geo restriction parameter is not valid.")
	ErrTrustedKeyGroupDoesNotExist      = row("TrustedKeyGroupDoesNotExist", http.StatusBadRequest, fixed, "The specified key group does not exist.")
	ErrNoSuchFieldLevelEncryptionConfig = row("NoSuchFieldLevelEncryptionConfig", http.StatusNotFound, fixed, "The specified configuration for field-level encryption doesn't exist.")
	ErrNoSuchRealtimeLogConfig          = row("NoSuchRealtimeLogConfig", http.StatusNotFound, fixed, "The real-time log configuration does not exist.")
	ErrInvalidWebACLId                  = row("InvalidWebACLId", http.StatusBadRequest, variable, "A web ACL ID specified is not valid.")
	ErrRequestEntityTooLarge            = row("RequestEntityTooLarge", http.StatusRequestEntityTooLarge, variable, "The request body is larger than the maximum allowed size.")
	ErrRequestTimeTooSkewed             = row("RequestTimeTooSkewed", http.StatusForbidden, variable, "The difference between the request time and the current time is too large.")
	ErrTooManyDistributionCNAMEs        = row("TooManyDistributionCNAMEs", http.StatusBadRequest, variable, "Your request contains more CNAMEs than are allowed per distribution.")
	ErrTooManyOrigins                   = row("TooManyOrigins", http.StatusBadRequest, variable, "You cannot create more origins for the distribution.")
	ErrTooManyCacheBehaviors            = row("TooManyCacheBehaviors", http.StatusBadRequest, variable, "You cannot create more cache behaviors for the distribution.")
	ErrTooManyOriginGroups              = row("TooManyOriginGroupsPerDistribution", http.StatusBadRequest, variable, "Processing your request would cause you to exceed the maximum number of origin groups allowed.")
	ErrTooManyCookieNamesInWhiteList    = row("TooManyCookieNamesInWhiteList", http.StatusBadRequest, variable, "Your request contains more cookie names in the whitelist than are allowed per cache behavior.")
	ErrTooManyHeadersInForwardedValues  = row("TooManyHeadersInForwardedValues", http.StatusBadRequest, variable, "Your request contains too many headers in forwarded values.")
	ErrTooManyQueryStringParameters     = row("TooManyQueryStringParameters", http.StatusBadRequest, variable, "Your request contains too many query string parameters.")
	ErrTooManyOriginCustomHeaders       = row("TooManyOriginCustomHeaders", http.StatusBadRequest, variable, "Your request contains too many origin custom headers.")
	ErrInvalidOrigin                    = row("InvalidOrigin", http.StatusBadRequest, variable, "The specified origin server does not exist or is not valid.")
	// Custom policies, public keys, key groups and origin access identities.
	ErrCachePolicyAlreadyExists             = row("CachePolicyAlreadyExists", http.StatusConflict, variable, "A cache policy with this name already exists.")
	ErrCachePolicyInUse                     = row("CachePolicyInUse", http.StatusConflict, variable, "Cannot delete the cache policy because it is attached to one or more cache behaviors.")
	ErrTooManyCachePolicies                 = row("TooManyCachePolicies", http.StatusBadRequest, variable, "You have reached the maximum number of cache policies for this Amazon Web Services account.")
	ErrTooManyHeadersInCachePolicy          = row("TooManyHeadersInCachePolicy", http.StatusBadRequest, variable, "The number of headers in the cache policy exceeds the maximum.")
	ErrTooManyCookiesInCachePolicy          = row("TooManyCookiesInCachePolicy", http.StatusBadRequest, variable, "The number of cookies in the cache policy exceeds the maximum.")
	ErrTooManyQueryStringsInCachePolicy     = row("TooManyQueryStringsInCachePolicy", http.StatusBadRequest, variable, "The number of query strings in the cache policy exceeds the maximum.")
	ErrTooManyDistributionsToCachePolicy    = row("TooManyDistributionsAssociatedToCachePolicy", http.StatusBadRequest, variable, "The maximum number of distributions have been associated with the specified cache policy.")
	ErrTooManyDistributionsToORP            = row("TooManyDistributionsAssociatedToOriginRequestPolicy", http.StatusBadRequest, variable, "The maximum number of distributions have been associated with the specified origin request policy.")
	ErrTooManyDistributionsToRHP            = row("TooManyDistributionsAssociatedToResponseHeadersPolicy", http.StatusBadRequest, variable, "The maximum number of distributions have been associated with the specified response headers policy.")
	ErrTooManyDistributionsToKeyGroup       = row("TooManyDistributionsAssociatedToKeyGroup", http.StatusBadRequest, variable, "The number of distributions that reference this key group is more than the maximum allowed.")
	ErrTooManyDistributionsToOAC            = row("TooManyDistributionsAssociatedToOriginAccessControl", http.StatusBadRequest, variable, "The maximum number of distributions have been associated with the specified origin access control.")
	ErrOriginRequestPolicyAlreadyExists     = row("OriginRequestPolicyAlreadyExists", http.StatusConflict, variable, "An origin request policy with this name already exists.")
	ErrOriginRequestPolicyInUse             = row("OriginRequestPolicyInUse", http.StatusConflict, variable, "Cannot delete the origin request policy because it is attached to one or more cache behaviors.")
	ErrTooManyOriginRequestPolicies         = row("TooManyOriginRequestPolicies", http.StatusBadRequest, variable, "You have reached the maximum number of origin request policies for this Amazon Web Services account.")
	ErrTooManyHeadersInORP                  = row("TooManyHeadersInOriginRequestPolicy", http.StatusBadRequest, variable, "The number of headers in the origin request policy exceeds the maximum.")
	ErrTooManyCookiesInORP                  = row("TooManyCookiesInOriginRequestPolicy", http.StatusBadRequest, variable, "The number of cookies in the origin request policy exceeds the maximum.")
	ErrTooManyQueryStringsInORP             = row("TooManyQueryStringsInOriginRequestPolicy", http.StatusBadRequest, variable, "The number of query strings in the origin request policy exceeds the maximum.")
	ErrResponseHeadersPolicyAlreadyExists   = row("ResponseHeadersPolicyAlreadyExists", http.StatusConflict, variable, "A response headers policy with this name already exists.")
	ErrResponseHeadersPolicyInUse           = row("ResponseHeadersPolicyInUse", http.StatusConflict, variable, "Cannot delete the response headers policy because it is attached to one or more cache behaviors in a CloudFront distribution.")
	ErrTooManyResponseHeadersPolicies       = row("TooManyResponseHeadersPolicies", http.StatusBadRequest, variable, "You have reached the maximum number of response headers policies for this Amazon Web Services account.")
	ErrTooManyCustomHeadersInRHP            = row("TooManyCustomHeadersInResponseHeadersPolicy", http.StatusBadRequest, variable, "The number of custom headers in the response headers policy exceeds the maximum.")
	ErrTooManyRemoveHeadersInRHP            = row("TooManyRemoveHeadersInResponseHeadersPolicy", http.StatusBadRequest, variable, "The number of headers in RemoveHeadersConfig in the response headers policy exceeds the maximum.")
	ErrTooLongCSPInRHP                      = row("TooLongCSPInResponseHeadersPolicy", http.StatusBadRequest, variable, "The length of the Content-Security-Policy header value in the response headers policy exceeds the maximum.")
	ErrIllegalDelete                        = row("IllegalDelete", http.StatusBadRequest, variable, "Deletion is not allowed for this entity.")
	ErrNoSuchPublicKey                      = row("NoSuchPublicKey", http.StatusNotFound, fixed, "The specified public key doesn't exist.")
	ErrPublicKeyAlreadyExists               = row("PublicKeyAlreadyExists", http.StatusConflict, variable, "The specified public key already exists.")
	ErrPublicKeyInUse                       = row("PublicKeyInUse", http.StatusConflict, variable, "The specified public key is in use.")
	ErrTooManyPublicKeys                    = row("TooManyPublicKeys", http.StatusBadRequest, variable, "The maximum number of public keys for field-level encryption have been created.")
	ErrCannotChangeImmutablePublicKeyFields = row("CannotChangeImmutablePublicKeyFields", http.StatusBadRequest, variable, "You can't change the value of a public key.")
	ErrKeyGroupAlreadyExists                = row("KeyGroupAlreadyExists", http.StatusConflict, variable, "A key group with this name already exists.")
	ErrTooManyKeyGroups                     = row("TooManyKeyGroups", http.StatusBadRequest, variable, "You have reached the maximum number of key groups for this Amazon Web Services account.")
	ErrTooManyPublicKeysInKeyGroup          = row("TooManyPublicKeysInKeyGroup", http.StatusBadRequest, variable, "The number of public keys in this key group is more than the maximum allowed.")
	ErrTooManyKeyGroupsAssociatedToDist     = row("TooManyKeyGroupsAssociatedToDistribution", http.StatusBadRequest, variable, "The number of key groups referenced by this distribution is more than the maximum allowed.")
	ErrTrustedSignerDoesNotExist            = row("TrustedSignerDoesNotExist", http.StatusBadRequest, variable, "One or more of your trusted signers don't exist.")
	ErrNoSuchOAI                            = row("NoSuchCloudFrontOriginAccessIdentity", http.StatusNotFound, fixed, "The specified origin access identity does not exist.")
	ErrOAIAlreadyExists                     = row("CloudFrontOriginAccessIdentityAlreadyExists", http.StatusConflict, variable, "If the CallerReference is a value you already sent in a previous request to create an identity but the content of the CloudFrontOriginAccessIdentityConfig is different from the original request, CloudFront returns a CloudFrontOriginAccessIdentityAlreadyExists error.")
	ErrOAIInUse                             = row("CloudFrontOriginAccessIdentityInUse", http.StatusConflict, variable, "The Origin Access Identity specified is already in use.")
	ErrTooManyOAIs                          = row("TooManyCloudFrontOriginAccessIdentities", http.StatusBadRequest, variable, "Processing your request would cause you to exceed the maximum number of origin access identities allowed.")
	ErrInvalidOAI                           = row("InvalidOriginAccessIdentity", http.StatusBadRequest, variable, "The origin access identity is not valid or doesn't exist.")
	ErrIllegalOriginAccessCfg               = row("IllegalOriginAccessConfiguration", http.StatusBadRequest, variable, "An origin cannot contain both an origin access control (OAC) and an origin access identity (OAI).")

	ErrServiceUnavailable = row("ServiceUnavailable", http.StatusServiceUnavailable, variable, "The service is temporarily unavailable. Try again later.")
	ErrInternalError      = row("InternalError", http.StatusInternalServerError, variable, "We encountered an internal error. Please try again.")
	ErrNotFound           = row("NotFound", http.StatusNotFound, variable, "The requested resource does not exist.")
	ErrMethodNotAllowed   = row("MethodNotAllowed", http.StatusMethodNotAllowed, variable, "The specified method is not allowed against this resource.")
)

// Contract returns every row of the error table, in table order.
func Contract() []*Error {
	return []*Error{
		ErrAccessDenied,
		ErrInvalidClientTokenID,
		ErrSignatureDoesNotMatch,
		ErrMissingAuthenticationToken,
		ErrIncompleteSignature,
		ErrRequestExpired,
		ErrInvalidArgument,
		ErrMissingBody,
		ErrMalformedInput,
		ErrInconsistentQuantities,
		ErrIllegalUpdate,
		ErrInvalidIfMatchVersion,
		ErrPreconditionFailed,
		ErrNoSuchDistribution,
		ErrNoSuchOrigin,
		ErrNoSuchCachePolicy,
		ErrNoSuchOriginRequestPolicy,
		ErrNoSuchResponseHeadersPolicy,
		ErrNoSuchCDPolicy,
		ErrNoSuchInvalidation,
		ErrNoSuchOriginAccessControl,
		ErrNoSuchResource,
		ErrInvalidOriginAccessControl,
		ErrCNAMEAlreadyExists,
		ErrDistributionAlreadyExists,
		ErrDistributionNotDisabled,
		ErrResourceInUse,
		ErrStagingDistributionInUse,
		ErrCDPolicyInUse,
		ErrCDPolicyAlreadyExists,
		ErrOriginAccessControlAlreadyExists,
		ErrOriginAccessControlInUse,
		ErrTooManyDistributions,
		ErrTooManyCDPolicies,
		ErrInvalidationBatchAlreadyExists,
		ErrBatchTooLarge,
		ErrInvalidTagging,
		ErrInvalidTTLOrder,
		ErrInvalidOriginReadTimeout,
		ErrInvalidOriginKeepaliveTimeout,
		ErrInvalidDefaultRootObject,
		ErrInvalidErrorCode,
		ErrInvalidResponseCode,
		ErrInvalidRelativePath,
		ErrInvalidLocationCode,
		ErrInvalidGeoRestrictionParameter,
		ErrTrustedKeyGroupDoesNotExist,
		ErrNoSuchFieldLevelEncryptionConfig,
		ErrNoSuchRealtimeLogConfig,
		ErrInvalidWebACLId,
		ErrRequestEntityTooLarge,
		ErrRequestTimeTooSkewed,
		ErrTooManyDistributionCNAMEs,
		ErrTooManyOrigins,
		ErrTooManyCacheBehaviors,
		ErrTooManyOriginGroups,
		ErrTooManyCookieNamesInWhiteList,
		ErrTooManyHeadersInForwardedValues,
		ErrTooManyQueryStringParameters,
		ErrTooManyOriginCustomHeaders,
		ErrInvalidOrigin,
		ErrCachePolicyAlreadyExists,
		ErrCachePolicyInUse,
		ErrTooManyCachePolicies,
		ErrTooManyHeadersInCachePolicy,
		ErrTooManyCookiesInCachePolicy,
		ErrTooManyQueryStringsInCachePolicy,
		ErrTooManyDistributionsToCachePolicy,
		ErrTooManyDistributionsToORP,
		ErrTooManyDistributionsToRHP,
		ErrTooManyDistributionsToKeyGroup,
		ErrTooManyDistributionsToOAC,
		ErrOriginRequestPolicyAlreadyExists,
		ErrOriginRequestPolicyInUse,
		ErrTooManyOriginRequestPolicies,
		ErrTooManyHeadersInORP,
		ErrTooManyCookiesInORP,
		ErrTooManyQueryStringsInORP,
		ErrResponseHeadersPolicyAlreadyExists,
		ErrResponseHeadersPolicyInUse,
		ErrTooManyResponseHeadersPolicies,
		ErrTooManyCustomHeadersInRHP,
		ErrTooManyRemoveHeadersInRHP,
		ErrTooLongCSPInRHP,
		ErrIllegalDelete,
		ErrNoSuchPublicKey,
		ErrPublicKeyAlreadyExists,
		ErrPublicKeyInUse,
		ErrTooManyPublicKeys,
		ErrCannotChangeImmutablePublicKeyFields,
		ErrKeyGroupAlreadyExists,
		ErrTooManyKeyGroups,
		ErrTooManyPublicKeysInKeyGroup,
		ErrTooManyKeyGroupsAssociatedToDist,
		ErrTrustedSignerDoesNotExist,
		ErrNoSuchOAI,
		ErrOAIAlreadyExists,
		ErrOAIInUse,
		ErrTooManyOAIs,
		ErrInvalidOAI,
		ErrIllegalOriginAccessCfg,
		ErrServiceUnavailable,
		ErrInternalError,
		ErrNotFound,
		ErrMethodNotAllowed,
	}
}

// ErrorType is CloudFront's <Type>: Sender for 4xx, Receiver for 5xx.
func (e *Error) ErrorType() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}
