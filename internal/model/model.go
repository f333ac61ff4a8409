// Package model owns what the control plane writes to the store and the edge
// reads back: the stored record of each resource and the key layout. It is
// the contract between control (the only writer) and routing/edge (readers),
// so it is pure data: no I/O, no rules.
package model

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// Key prefixes. Everything stagefront stores lives under Root, so one Watch
// on Root sees every change.
const (
	Root                  = "cf/"
	DistributionPrefix    = "cf/distributions/"
	PolicyPrefix          = "cf/policies/"
	InvalidationPrefix    = "cf/invalidations/"
	OACPrefix             = "cf/oac/"
	CallerRefPrefix       = "cf/idx/callerref/"
	AliasPrefix           = "cf/idx/alias/"
	InvalidationRefPrefix = "cf/idx/invref/"
	OACNamePrefix         = "cf/idx/oacname/"
	StagingPolicyPrefix   = "cf/idx/stagingpolicy/"
	StickyKeyKey          = "cf/meta/sticky-key"
)

// DistributionKey and friends build the key of one resource.
func DistributionKey(id string) string { return DistributionPrefix + id }
func PolicyKey(id string) string       { return PolicyPrefix + id }
func OACKey(id string) string          { return OACPrefix + id }
func InvalidationKey(distID, id string) string {
	return InvalidationPrefix + distID + "/" + id
}
func CallerRefKey(ref string) string { return CallerRefPrefix + ref }
func AliasKey(cname string) string   { return AliasPrefix + strings.ToLower(cname) }
func InvalidationRefKey(distID, ref string) string {
	return InvalidationRefPrefix + distID + "/" + ref
}
func OACNameKey(name string) string { return OACNamePrefix + name }

// TagsKey holds a distribution's tags, apart from its record (and outside
// Root): tagging changes neither what the edge serves nor the ETag.
func TagsKey(distributionID string) string { return "tags/distribution/" + distributionID }

// StagingPolicyKey indexes the one policy that may name a staging domain.
func StagingPolicyKey(domain string) string { return StagingPolicyPrefix + strings.ToLower(domain) }

// Distribution is the stored record of a distribution.
type Distribution struct {
	ID           string                         `json:"id"`
	ARN          string                         `json:"arn"`
	DomainName   string                         `json:"domainName"`
	LastModified time.Time                      `json:"lastModified"`
	Config       *cloudfront.DistributionConfig `json:"config"`
}

// IsStaging reports whether the distribution is a staging distribution.
func (d *Distribution) IsStaging() bool { return cloudfront.IsTrue(d.Config.Staging) }

// PolicyID is the continuous-deployment policy id in the config ("" if none).
func (d *Distribution) PolicyID() string {
	return cloudfront.Str(d.Config.ContinuousDeploymentPolicyId)
}

// Policy is the stored record of a continuous-deployment policy.
type Policy struct {
	ID           string                                       `json:"id"`
	LastModified time.Time                                    `json:"lastModified"`
	Config       *cloudfront.ContinuousDeploymentPolicyConfig `json:"config"`
	// Generation is bumped whenever sticky sessions must reset: the policy
	// is enabled or disabled, stickiness is switched, or a promotion happens.
	Generation int64 `json:"generation"`
}

// StagingDNSName is the staging distribution's domain the policy names.
func (p *Policy) StagingDNSName() string {
	if p.Config.StagingDistributionDnsNames == nil || len(p.Config.StagingDistributionDnsNames.Items) == 0 {
		return ""
	}
	return p.Config.StagingDistributionDnsNames.Items[0]
}

// Invalidation is the stored record of an invalidation batch.
type Invalidation struct {
	ID             string                        `json:"id"`
	DistributionID string                        `json:"distributionId"`
	Created        time.Time                     `json:"created"`
	Batch          *cloudfront.InvalidationBatch `json:"batch"`
	// CreatedBy is the principal that asked for it ("" before it was recorded).
	CreatedBy string `json:"createdBy,omitempty"`
}

// OriginAccessControl is the stored record of an origin access control.
type OriginAccessControl struct {
	ID     string                                `json:"id"`
	Config *cloudfront.OriginAccessControlConfig `json:"config"`
}

// Encode and Decode turn records into store values and back.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

// Decode parses a store value into a record.
func Decode[T any](b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

// ETag derives a resource's version from its id and the store revision that
// last wrote it: every write makes a new one, and any node computes the same
// value. Shape: "E" + 13 uppercase alphanumerics, like CloudFront's.
func ETag(id string, modRevision int64) string {
	sum := sha256.Sum256([]byte(id + "\x00" + strconv.FormatInt(modRevision, 10)))
	return "E" + base32.StdEncoding.EncodeToString(sum[:])[:13]
}
