package model

import (
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// Key prefixes of custom policies, public keys, key groups and origin
// access identities, and of their name indexes (names are unique per kind).
const (
	CachePolicyPrefix           = "cf/cachepolicies/"
	OriginRequestPolicyPrefix   = "cf/originrequestpolicies/"
	ResponseHeadersPolicyPrefix = "cf/responseheaderspolicies/"
	PublicKeyPrefix             = "cf/publickeys/"
	KeyGroupPrefix              = "cf/keygroups/"
	OAIPrefix                   = "cf/oai/"

	CachePolicyNamePrefix           = "cf/idx/cachepolicyname/"
	OriginRequestPolicyNamePrefix   = "cf/idx/originrequestpolicyname/"
	ResponseHeadersPolicyNamePrefix = "cf/idx/responseheaderspolicyname/"
	PublicKeyRefPrefix              = "cf/idx/publickeyref/"
	KeyGroupNamePrefix              = "cf/idx/keygroupname/"
	OAIRefPrefix                    = "cf/idx/oairef/"
)

// NameKey is the index key of a name (or caller reference) under prefix.
func NameKey(prefix, name string) string { return prefix + name }

// CustomPolicy is the stored record of a custom cache, origin request or
// response headers policy (C is its config shape).
type CustomPolicy[C any] struct {
	ID           string    `json:"id"`
	LastModified time.Time `json:"lastModified"`
	Config       *C        `json:"config"`
}

// The three kinds of custom policy records.
type (
	CachePolicy           = CustomPolicy[cloudfront.CachePolicyConfig]
	OriginRequestPolicy   = CustomPolicy[cloudfront.OriginRequestPolicyConfig]
	ResponseHeadersPolicy = CustomPolicy[cloudfront.ResponseHeadersPolicyConfig]
)

// PublicKey is the stored record of a public key. Config.EncodedKey is
// kept byte for byte as the caller sent it.
type PublicKey struct {
	ID      string                      `json:"id"`
	Created time.Time                   `json:"created"`
	Config  *cloudfront.PublicKeyConfig `json:"config"`
}

// KeyGroup is the stored record of a key group.
type KeyGroup struct {
	ID           string                     `json:"id"`
	LastModified time.Time                  `json:"lastModified"`
	Config       *cloudfront.KeyGroupConfig `json:"config"`
}

// OAI is the stored record of a CloudFront origin access identity.
type OAI struct {
	ID                string                                           `json:"id"`
	S3CanonicalUserID string                                           `json:"s3CanonicalUserId"`
	Config            *cloudfront.CloudFrontOriginAccessIdentityConfig `json:"config"`
}
