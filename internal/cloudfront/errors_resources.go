package cloudfront

import "net/http"

// The error codes of custom policies, public keys, key groups and origin
// access identities, with the messages of CloudFront's model.
var (
	ErrCachePolicyAlreadyExists           = newErr("CachePolicyAlreadyExists", http.StatusConflict, "A cache policy with this name already exists.")
	ErrCachePolicyInUse                   = newErr("CachePolicyInUse", http.StatusConflict, "Cannot delete the cache policy because it is attached to one or more cache behaviors.")
	ErrTooManyCachePolicies               = newErr("TooManyCachePolicies", http.StatusBadRequest, "You have reached the maximum number of cache policies for this Amazon Web Services account.")
	ErrTooManyHeadersInCachePolicy        = newErr("TooManyHeadersInCachePolicy", http.StatusBadRequest, "The number of headers in the cache policy exceeds the maximum.")
	ErrTooManyCookiesInCachePolicy        = newErr("TooManyCookiesInCachePolicy", http.StatusBadRequest, "The number of cookies in the cache policy exceeds the maximum.")
	ErrTooManyQueryStringsInCachePolicy   = newErr("TooManyQueryStringsInCachePolicy", http.StatusBadRequest, "The number of query strings in the cache policy exceeds the maximum.")
	ErrTooManyDistributionsToCachePolicy  = newErr("TooManyDistributionsAssociatedToCachePolicy", http.StatusBadRequest, "The maximum number of distributions have been associated with the specified cache policy.")
	ErrOriginRequestPolicyAlreadyExists   = newErr("OriginRequestPolicyAlreadyExists", http.StatusConflict, "An origin request policy with this name already exists.")
	ErrOriginRequestPolicyInUse           = newErr("OriginRequestPolicyInUse", http.StatusConflict, "Cannot delete the origin request policy because it is attached to one or more cache behaviors.")
	ErrTooManyOriginRequestPolicies       = newErr("TooManyOriginRequestPolicies", http.StatusBadRequest, "You have reached the maximum number of origin request policies for this Amazon Web Services account.")
	ErrTooManyHeadersInORP                = newErr("TooManyHeadersInOriginRequestPolicy", http.StatusBadRequest, "The number of headers in the origin request policy exceeds the maximum.")
	ErrTooManyCookiesInORP                = newErr("TooManyCookiesInOriginRequestPolicy", http.StatusBadRequest, "The number of cookies in the origin request policy exceeds the maximum.")
	ErrTooManyQueryStringsInORP           = newErr("TooManyQueryStringsInOriginRequestPolicy", http.StatusBadRequest, "The number of query strings in the origin request policy exceeds the maximum.")
	ErrResponseHeadersPolicyAlreadyExists = newErr("ResponseHeadersPolicyAlreadyExists", http.StatusConflict, "A response headers policy with this name already exists.")
	ErrResponseHeadersPolicyInUse         = newErr("ResponseHeadersPolicyInUse", http.StatusConflict, "Cannot delete the response headers policy because it is attached to one or more cache behaviors in a CloudFront distribution.")
	ErrTooManyResponseHeadersPolicies     = newErr("TooManyResponseHeadersPolicies", http.StatusBadRequest, "You have reached the maximum number of response headers policies for this Amazon Web Services account.")
	ErrTooManyCustomHeadersInRHP          = newErr("TooManyCustomHeadersInResponseHeadersPolicy", http.StatusBadRequest, "The number of custom headers in the response headers policy exceeds the maximum.")
	ErrTooManyRemoveHeadersInRHP          = newErr("TooManyRemoveHeadersInResponseHeadersPolicy", http.StatusBadRequest, "The number of headers in RemoveHeadersConfig in the response headers policy exceeds the maximum.")
	ErrTooLongCSPInRHP                    = newErr("TooLongCSPInResponseHeadersPolicy", http.StatusBadRequest, "The length of the Content-Security-Policy header value in the response headers policy exceeds the maximum.")
	ErrIllegalDelete                      = newErr("IllegalDelete", http.StatusBadRequest, "Deletion is not allowed for this entity.")

	ErrNoSuchPublicKey                      = newErr("NoSuchPublicKey", http.StatusNotFound, "The specified public key doesn't exist.")
	ErrPublicKeyAlreadyExists               = newErr("PublicKeyAlreadyExists", http.StatusConflict, "The specified public key already exists.")
	ErrPublicKeyInUse                       = newErr("PublicKeyInUse", http.StatusConflict, "The specified public key is in use.")
	ErrTooManyPublicKeys                    = newErr("TooManyPublicKeys", http.StatusBadRequest, "The maximum number of public keys for field-level encryption have been created.")
	ErrCannotChangeImmutablePublicKeyFields = newErr("CannotChangeImmutablePublicKeyFields", http.StatusBadRequest, "You can't change the value of a public key.")
	ErrKeyGroupAlreadyExists                = newErr("KeyGroupAlreadyExists", http.StatusConflict, "A key group with this name already exists.")
	ErrTooManyKeyGroups                     = newErr("TooManyKeyGroups", http.StatusBadRequest, "You have reached the maximum number of key groups for this Amazon Web Services account.")
	ErrTooManyPublicKeysInKeyGroup          = newErr("TooManyPublicKeysInKeyGroup", http.StatusBadRequest, "The number of public keys in this key group is more than the maximum allowed.")
	ErrTooManyKeyGroupsAssociatedToDist     = newErr("TooManyKeyGroupsAssociatedToDistribution", http.StatusBadRequest, "The number of key groups referenced by this distribution is more than the maximum allowed.")
	ErrTrustedSignerDoesNotExist            = newErr("TrustedSignerDoesNotExist", http.StatusBadRequest, "One or more of your trusted signers don't exist.")

	ErrNoSuchOAI              = newErr("NoSuchCloudFrontOriginAccessIdentity", http.StatusNotFound, "The specified origin access identity does not exist.")
	ErrOAIAlreadyExists       = newErr("CloudFrontOriginAccessIdentityAlreadyExists", http.StatusConflict, "If the CallerReference is a value you already sent in a previous request to create an identity but the content of the CloudFrontOriginAccessIdentityConfig is different from the original request, CloudFront returns a CloudFrontOriginAccessIdentityAlreadyExists error.")
	ErrOAIInUse               = newErr("CloudFrontOriginAccessIdentityInUse", http.StatusConflict, "The Origin Access Identity specified is already in use.")
	ErrTooManyOAIs            = newErr("TooManyCloudFrontOriginAccessIdentities", http.StatusBadRequest, "Processing your request would cause you to exceed the maximum number of origin access identities allowed.")
	ErrInvalidOAI             = newErr("InvalidOriginAccessIdentity", http.StatusBadRequest, "The origin access identity is not valid or doesn't exist.")
	ErrIllegalOriginAccessCfg = newErr("IllegalOriginAccessConfiguration", http.StatusBadRequest, "An origin cannot contain both an origin access control (OAC) and an origin access identity (OAI).")
)
