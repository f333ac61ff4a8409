package control_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
)

// TestDistributionsPerResourceQuotas: with each quota on how many
// distributions may name one custom policy, key group or origin access
// control lowered to 2, two distributions may name the resource and a
// third is refused with CloudFront's code, whether it is created, copied
// or updated to name it; a distribution already naming it may still be
// updated, and one letting go of it frees a place.
func TestDistributionsPerResourceQuotas(t *testing.T) {
	t.Parallel()
	q := cf.DefaultQuotas()
	q.DistributionsPerCachePolicy, q.DistributionsPerOriginRequestPolicy, q.DistributionsPerResponseHeadersPolicy = 2, 2, 2
	q.DistributionsPerKeyGroup, q.DistributionsPerOriginAccessControl = 2, 2
	e := newCDEnvWith(t, control.Options{Quotas: &q})

	cp, _, err := e.svc.CreateCachePolicy(e.ctx, cachePolicy("quota-cp"))
	if err != nil {
		t.Fatalf("CreateCachePolicy: %v", err)
	}
	orp, _, err := e.svc.CreateOriginRequestPolicy(e.ctx, &cf.OriginRequestPolicyConfig{
		Name:               cf.String("quota-orp"),
		HeadersConfig:      &cf.OriginRequestPolicyHeadersConfig{HeaderBehavior: cf.String("none")},
		CookiesConfig:      &cf.OriginRequestPolicyCookiesConfig{CookieBehavior: cf.String("none")},
		QueryStringsConfig: &cf.OriginRequestPolicyQueryStringsConfig{QueryStringBehavior: cf.String("all")},
	})
	if err != nil {
		t.Fatalf("CreateOriginRequestPolicy: %v", err)
	}
	rhp, _, err := e.svc.CreateResponseHeadersPolicy(e.ctx, &cf.ResponseHeadersPolicyConfig{
		Name: cf.String("quota-rhp"),
		CustomHeadersConfig: &cf.ResponseHeadersPolicyCustomHeadersConfig{Quantity: cf.Int32(1), Items: []cf.ResponseHeadersPolicyCustomHeader{
			{Header: cf.String("x-quota"), Value: cf.String("1"), Override: cf.Bool(true)}}},
	})
	if err != nil {
		t.Fatalf("CreateResponseHeadersPolicy: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pk, _, err := e.svc.CreatePublicKey(e.ctx, &cf.PublicKeyConfig{CallerReference: cf.String("quota-key"), Name: cf.String("quota-key"),
		EncodedKey: cf.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))})
	if err != nil {
		t.Fatalf("CreatePublicKey: %v", err)
	}
	kg, _, err := e.svc.CreateKeyGroup(e.ctx, &cf.KeyGroupConfig{Name: cf.String("quota-group"), Items: []string{cf.Str(pk.Id)}})
	if err != nil {
		t.Fatalf("CreateKeyGroup: %v", err)
	}
	oac, err := e.svc.CreateOAC(e.ctx, oacConfig("quota-oac"))
	if err != nil {
		t.Fatalf("CreateOAC: %v", err)
	}

	for _, tc := range []struct {
		code string
		use  func(*cf.DistributionConfig)
	}{
		{"TooManyDistributionsAssociatedToCachePolicy", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.CachePolicyId = cp.Id
		}},
		{"TooManyDistributionsAssociatedToOriginRequestPolicy", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.OriginRequestPolicyId = orp.Id
		}},
		{"TooManyDistributionsAssociatedToResponseHeadersPolicy", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.ResponseHeadersPolicyId = rhp.Id
		}},
		{"TooManyDistributionsAssociatedToKeyGroup", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedKeyGroups = &cf.TrustedKeyGroups{Enabled: cf.Bool(true), Quantity: cf.Int32(1), Items: []string{cf.Str(kg.Id)}}
		}},
		{"TooManyDistributionsAssociatedToOriginAccessControl", func(c *cf.DistributionConfig) {
			o := &c.Origins.Items[0]
			o.DomainName, o.CustomOriginConfig = cf.String("bucket.s3.amazonaws.com"), nil
			o.S3OriginConfig = &cf.S3OriginConfig{OriginAccessIdentity: cf.String("")}
			o.OriginAccessControlId = oac.OAC.Id
		}},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := *e
			e.t = t
			config := func(ref string) *cf.DistributionConfig {
				c := distConfig(tc.code+ref, false)
				tc.use(c)
				return c
			}
			first := e.create(config("-1"))
			e.create(config("-2"))
			_, err := e.svc.CreateDistribution(e.ctx, config("-3"), nil)
			wantErr(t, err, tc.code, 400, "")
			// A copy names the same resources.
			_, err = e.svc.CopyDistribution(e.ctx, cf.Str(first.Distribution.Id), "True", first.ETag, &cf.CopyDistributionRequest{CallerReference: cf.String(tc.code + "-copy")})
			wantErr(t, err, tc.code, 400, "")
			// An unrelated distribution cannot start naming it…
			other := e.create(distConfig(tc.code+"-other", false))
			_, err = e.update(cf.Str(other.Distribution.Id), tc.use)
			wantErr(t, err, tc.code, 400, "")
			// …while one already naming it may change.
			e.mustUpdate(cf.Str(first.Distribution.Id), func(c *cf.DistributionConfig) { c.Comment = cf.String("still within the quota") })
			// Letting go of it frees a place.
			e.mustUpdate(cf.Str(first.Distribution.Id), func(c *cf.DistributionConfig) {
				fresh := distConfig("", false)
				c.Origins, c.DefaultCacheBehavior = fresh.Origins, fresh.DefaultCacheBehavior
			})
			e.mustUpdate(cf.Str(other.Distribution.Id), tc.use)
		})
	}
}

// TestDistributionsPerResourceQuotaSkipsManaged: the quotas are about an
// account's own resources; managed policies, which every account shares,
// are not bounded.
func TestDistributionsPerResourceQuotaSkipsManaged(t *testing.T) {
	t.Parallel()
	q := cf.DefaultQuotas()
	q.DistributionsPerCachePolicy = 1
	e := newCDEnvWith(t, control.Options{Quotas: &q})
	for i := range 3 {
		e.create(distConfig(fmt.Sprintf("managed-%d", i), false)) // CachingDisabled, a managed policy
	}
}
