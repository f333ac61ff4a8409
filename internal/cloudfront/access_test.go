package cloudfront_test

import (
	"errors"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// validConfig is a small config that passes validation, with defaults
// applied, for tests that change one member.
func validConfig() *cf.DistributionConfig {
	c := &cf.DistributionConfig{
		CallerReference: cf.String("ref"), Comment: cf.String(""), Enabled: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.example.com"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{
			TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"),
			CachePolicyId: cf.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
		},
		CacheBehaviors: &cf.CacheBehaviors{Quantity: cf.Int32(1), Items: []cf.CacheBehavior{{
			PathPattern: cf.String("/api/*"), TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("https-only"),
			CachePolicyId: cf.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
		}}},
	}
	cf.ApplyDistributionDefaults(c)
	return c
}

// wantCode asserts err is a *cloudfront.Error with code and status and
// that its message contains each of parts.
func wantCode(t *testing.T, err error, code string, status int, parts ...string) {
	t.Helper()
	var e *cf.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("got %s %d (%s), want %s %d", e.Code, e.Status, e.Message, code, status)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not mention %q", e.Message, p)
		}
	}
}

// TestAccessControlsFailClosed: every access control the edge does not
// enforce is refused, naming the field, rather than accepted and ignored.
func TestAccessControlsFailClosed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(c *cf.DistributionConfig)
		code   string
		status int
		field  string
	}{
		{"trusted signers on the default behavior", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedSigners = &cf.TrustedSigners{Enabled: cf.Bool(true), Quantity: cf.Int32(1), Items: []string{"self"}}
		}, "InvalidArgument", 400, "DefaultCacheBehavior.TrustedSigners"},
		{"trusted signers on a cache behavior", func(c *cf.DistributionConfig) {
			c.CacheBehaviors.Items[0].TrustedSigners = &cf.TrustedSigners{Enabled: cf.Bool(true), Quantity: cf.Int32(1), Items: []string{"123456789012"}}
		}, "InvalidArgument", 400, "CacheBehavior /api/*: TrustedSigners"},
		{"made-up key group", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.TrustedKeyGroups = &cf.TrustedKeyGroups{Enabled: cf.Bool(true), Quantity: cf.Int32(1), Items: []string{"made-up"}}
		}, "TrustedKeyGroupDoesNotExist", 400, ""},
		{"key groups enabled", func(c *cf.DistributionConfig) {
			c.CacheBehaviors.Items[0].TrustedKeyGroups = &cf.TrustedKeyGroups{Enabled: cf.Bool(true), Quantity: cf.Int32(0)}
		}, "InvalidArgument", 400, "TrustedKeyGroups"},
		{"geo allow list", func(c *cf.DistributionConfig) {
			c.Restrictions.GeoRestriction = &cf.GeoRestriction{RestrictionType: cf.String("whitelist"), Quantity: cf.Int32(1), Items: []string{"US"}}
		}, "InvalidArgument", 400, "Restrictions.GeoRestriction"},
		{"geo deny list", func(c *cf.DistributionConfig) {
			c.Restrictions.GeoRestriction = &cf.GeoRestriction{RestrictionType: cf.String("blacklist"), Quantity: cf.Int32(1), Items: []string{"FR"}}
		}, "InvalidArgument", 400, "Restrictions.GeoRestriction"},
		{"viewer-request function", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.FunctionAssociations = &cf.FunctionAssociations{Quantity: cf.Int32(1), Items: []cf.FunctionAssociation{{
				FunctionARN: cf.String("arn:aws:cloudfront::123456789012:function/auth"), EventType: cf.String("viewer-request")}}}
		}, "InvalidArgument", 400, "DefaultCacheBehavior.FunctionAssociations"},
		{"viewer-response function on a cache behavior", func(c *cf.DistributionConfig) {
			c.CacheBehaviors.Items[0].FunctionAssociations = &cf.FunctionAssociations{Quantity: cf.Int32(1), Items: []cf.FunctionAssociation{{
				FunctionARN: cf.String("arn:aws:cloudfront::123456789012:function/hdr"), EventType: cf.String("viewer-response")}}}
		}, "InvalidArgument", 400, "FunctionAssociations"},
		{"Lambda@Edge", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.LambdaFunctionAssociations = &cf.LambdaFunctionAssociations{Quantity: cf.Int32(1), Items: []cf.LambdaFunctionAssociation{{
				LambdaFunctionARN: cf.String("arn:aws:lambda:us-east-1:123456789012:function:f:1"), EventType: cf.String("origin-request")}}}
		}, "InvalidArgument", 400, "DefaultCacheBehavior.LambdaFunctionAssociations"},
		{"web ACL", func(c *cf.DistributionConfig) {
			c.WebACLId = cf.String("arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/473e64fd-f30b-4765-81a0-62ad96dd167a")
		}, "InvalidWebACLId", 400, "WebACLId"},
		{"field-level encryption", func(c *cf.DistributionConfig) {
			c.DefaultCacheBehavior.FieldLevelEncryptionId = cf.String("C3A5GMH2Z8B2BU")
		}, "NoSuchFieldLevelEncryptionConfig", 404, ""},
		{"real-time log config", func(c *cf.DistributionConfig) {
			c.CacheBehaviors.Items[0].RealtimeLogConfigArn = cf.String("arn:aws:cloudfront::123456789012:realtime-log-config/x")
		}, "NoSuchRealtimeLogConfig", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			if err := cf.ValidateDistributionConfig(c, cf.Lookups{}); err != nil {
				t.Fatalf("base config: %v", err)
			}
			tc.change(c)
			err := cf.ValidateDistributionConfig(c, cf.Lookups{})
			parts := []string{}
			if tc.field != "" {
				parts = append(parts, tc.field)
			}
			wantCode(t, err, tc.code, tc.status, parts...)
		})
	}
}

// TestAccessControlsInertValuesPass: the disabled forms that every client
// sends (and ApplyDistributionDefaults fills in) stay accepted.
func TestAccessControlsInertValuesPass(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.DefaultCacheBehavior.TrustedSigners = &cf.TrustedSigners{Enabled: cf.Bool(false), Quantity: cf.Int32(1), Items: []string{"123456789012"}}
	c.Restrictions.GeoRestriction = &cf.GeoRestriction{RestrictionType: cf.String("none"), Quantity: cf.Int32(0)}
	c.WebACLId = cf.String("")
	c.DefaultCacheBehavior.FieldLevelEncryptionId = cf.String("")
	c.DefaultCacheBehavior.RealtimeLogConfigArn = cf.String("")
	if err := cf.ValidateDistributionConfig(c, cf.Lookups{}); err != nil {
		t.Fatalf("inert access controls refused: %v", err)
	}
}
