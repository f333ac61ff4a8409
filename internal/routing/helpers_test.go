package routing

import (
	"testing"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

const (
	cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	cachingDisabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	amplify          = "2e54312d-136d-493c-8eb9-b001f22f67d2"

	primaryID     = "EPRIMARY000001"
	primaryDomain = "dprimary00001.cdn.local"
	stagingID     = "ESTAGING000001"
	stagingDomain = "dstaging00001.cdn.local"
	policyID      = "11111111-2222-4333-8444-555555555555"
)

const testKey = "0123456789abcdef0123456789abcdef"

type distOpt func(*cloudfront.DistributionConfig)

func withAliases(aliases ...string) distOpt {
	return func(c *cloudfront.DistributionConfig) {
		c.Aliases = &cloudfront.Aliases{Quantity: cloudfront.Int32(int32(len(aliases))), Items: aliases}
	}
}

func asStaging() distOpt {
	return func(c *cloudfront.DistributionConfig) { c.Staging = cloudfront.Bool(true) }
}

func disabled() distOpt {
	return func(c *cloudfront.DistributionConfig) { c.Enabled = cloudfront.Bool(false) }
}

func withPolicy(id string) distOpt {
	return func(c *cloudfront.DistributionConfig) { c.ContinuousDeploymentPolicyId = cloudfront.String(id) }
}

func withOriginPath(p string) distOpt {
	return func(c *cloudfront.DistributionConfig) { c.Origins.Items[0].OriginPath = cloudfront.String(p) }
}

// withBehavior appends a cache behavior for pattern that targets origin.
func withBehavior(pattern, origin string) distOpt {
	return func(c *cloudfront.DistributionConfig) {
		if c.CacheBehaviors == nil {
			c.CacheBehaviors = &cloudfront.CacheBehaviors{Quantity: cloudfront.Int32(0)}
		}
		c.CacheBehaviors.Items = append(c.CacheBehaviors.Items, cloudfront.CacheBehavior{
			PathPattern:          cloudfront.String(pattern),
			TargetOriginId:       cloudfront.String(origin),
			ViewerProtocolPolicy: cloudfront.String("allow-all"),
			CachePolicyId:        cloudfront.String(cachingDisabled),
		})
		*c.CacheBehaviors.Quantity = int32(len(c.CacheBehaviors.Items))
	}
}

func distConfig(opts ...distOpt) *cloudfront.DistributionConfig {
	c := &cloudfront.DistributionConfig{
		CallerReference: cloudfront.String("ref"),
		Comment:         cloudfront.String(""),
		Enabled:         cloudfront.Bool(true),
		Origins: &cloudfront.Origins{Quantity: cloudfront.Int32(2), Items: []cloudfront.Origin{
			{
				Id:                    cloudfront.String("s3"),
				DomainName:            cloudfront.String("bucket.s3.amazonaws.com"),
				OriginPath:            cloudfront.String("/1.0.0"),
				S3OriginConfig:        &cloudfront.S3OriginConfig{OriginAccessIdentity: cloudfront.String("")},
				OriginAccessControlId: cloudfront.String("EOAC00000001"),
			},
			{
				Id:         cloudfront.String("api"),
				DomainName: cloudfront.String("api.example.org"),
				CustomOriginConfig: &cloudfront.CustomOriginConfig{
					HTTPPort: cloudfront.Int32(8080), HTTPSPort: cloudfront.Int32(8443),
					OriginProtocolPolicy: cloudfront.String("https-only"),
					OriginReadTimeout:    cloudfront.Int32(20),
				},
				CustomHeaders: &cloudfront.CustomHeaders{Quantity: cloudfront.Int32(1), Items: []cloudfront.OriginCustomHeader{
					{HeaderName: cloudfront.String("X-Origin-Secret"), HeaderValue: cloudfront.String("s3cr3t")},
				}},
				ConnectionAttempts: cloudfront.Int32(2),
				ConnectionTimeout:  cloudfront.Int32(5),
			},
		}},
		DefaultCacheBehavior: &cloudfront.DefaultCacheBehavior{
			TargetOriginId:       cloudfront.String("s3"),
			ViewerProtocolPolicy: cloudfront.String("redirect-to-https"),
			CachePolicyId:        cloudfront.String(cachingOptimized),
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func distRec(id, domain string, rev int64, opts ...distOpt) DistributionRecord {
	return DistributionRecord{
		Distribution: &model.Distribution{ID: id, DomainName: domain, Config: distConfig(opts...)},
		ModRevision:  rev,
	}
}

func policyRec(gen int64, enabled bool, tc *cloudfront.TrafficConfig) PolicyRecord {
	return PolicyRecord{Policy: &model.Policy{
		ID: policyID,
		Config: &cloudfront.ContinuousDeploymentPolicyConfig{
			StagingDistributionDnsNames: &cloudfront.StagingDistributionDnsNames{Quantity: cloudfront.Int32(1), Items: []string{stagingDomain}},
			Enabled:                     cloudfront.Bool(enabled),
			TrafficConfig:               tc,
		},
		Generation: gen,
	}, ModRevision: 7}
}

func headerTraffic(header, value string) *cloudfront.TrafficConfig {
	return &cloudfront.TrafficConfig{
		Type:               cloudfront.String(cloudfront.TrafficTypeHeader),
		SingleHeaderConfig: &cloudfront.ContinuousDeploymentSingleHeaderConfig{Header: cloudfront.String(header), Value: cloudfront.String(value)},
	}
}

// weightTraffic builds a SingleWeight config; idle == 0 means no stickiness.
func weightTraffic(weight float64, idle, maxTTL int32) *cloudfront.TrafficConfig {
	tc := &cloudfront.TrafficConfig{
		Type:               cloudfront.String(cloudfront.TrafficTypeWeight),
		SingleWeightConfig: &cloudfront.ContinuousDeploymentSingleWeightConfig{Weight: cloudfront.Float64(weight)},
	}
	if idle > 0 {
		tc.SingleWeightConfig.SessionStickinessConfig = &cloudfront.SessionStickinessConfig{
			IdleTTL: cloudfront.Int32(idle), MaximumTTL: cloudfront.Int32(maxTTL),
		}
	}
	return tc
}

// cdSnapshot is a primary, its staging distribution and one policy.
func cdSnapshot(pol PolicyRecord, stagingOpts ...distOpt) Snapshot {
	return Snapshot{
		Revision: 10,
		Distributions: []DistributionRecord{
			distRec(primaryID, primaryDomain, 3, withAliases("www.example.com"), withPolicy(policyID)),
			distRec(stagingID, stagingDomain, 4, append([]distOpt{asStaging(), withPolicy(policyID), withOriginPath("/2.0.0")}, stagingOpts...)...),
		},
		Policies:  []PolicyRecord{pol},
		StickyKey: []byte(testKey),
	}
}

// mustCompile compiles snap from scratch and fails on any compile error.
func mustCompile(t testing.TB, snap Snapshot) *Table {
	t.Helper()
	tbl, errs := Compile(nil, snap)
	if len(errs) > 0 {
		t.Fatalf("Compile: %v", errs)
	}
	return tbl
}

// primaryOf compiles snap and returns the primary distribution.
func primaryOf(t testing.TB, snap Snapshot) *Dist {
	t.Helper()
	d := mustCompile(t, snap).Dist(primaryID)
	if d == nil {
		t.Fatal("primary missing from table")
	}
	return d
}
