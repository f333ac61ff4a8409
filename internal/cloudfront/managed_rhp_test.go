package cloudfront_test

import (
	"strings"
	"testing"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestManagedResponseHeadersPolicies checks the table against AWS's
// published list: every ID and name, and the settings the page confirms.
func TestManagedResponseHeadersPolicies(t *testing.T) {
	type want struct {
		name           string
		cors, security bool
	}
	wants := map[string]want{
		"e61eb60c-9c35-4d20-a928-2b84e02af89c": {"Managed-CORS-and-SecurityHeadersPolicy", true, true},
		"5cc3b908-e619-4b99-88e5-2cf7f45965bd": {"Managed-CORS-With-Preflight", true, false},
		"eaab4381-ed33-4a86-88ca-d9558dc6cd63": {"Managed-CORS-with-preflight-and-SecurityHeadersPolicy", true, true},
		"67f7725c-6f97-4210-82d7-5512b31e9d03": {"Managed-SecurityHeadersPolicy", false, true},
		"60669652-455b-4ae9-85a4-c4c02393f86c": {"Managed-SimpleCORS", true, false},
	}
	when := time.Date(2020, 10, 29, 0, 0, 0, 0, time.UTC)
	got := cf.ManagedResponseHeadersPolicies(when)
	if len(got) != len(wants) {
		t.Fatalf("%d managed response headers policies, want %d", len(got), len(wants))
	}
	for _, p := range got {
		id := cf.Str(p.Id)
		w, ok := wants[id]
		c := p.ResponseHeadersPolicyConfig
		if !ok || cf.Str(c.Name) != w.name {
			t.Errorf("policy %s is named %q, want %q", id, cf.Str(c.Name), w.name)
		}
		if !cf.IsManagedResponseHeadersPolicy(id) {
			t.Errorf("IsManagedResponseHeadersPolicy(%s) = false", id)
		}
		if !p.LastModifiedTime.Time.Equal(when) {
			t.Errorf("policy %s: LastModifiedTime %v, want %v", id, p.LastModifiedTime.Time, when)
		}
		if cors := c.CorsConfig; (cors != nil) != w.cors {
			t.Errorf("policy %s: CorsConfig %v, want one: %v", id, cors, w.cors)
		} else if cors != nil {
			o := cors.AccessControlAllowOrigins
			if cf.I32(o.Quantity) != 1 || len(o.Items) != 1 || o.Items[0] != "*" || cf.IsTrue(cors.OriginOverride) ||
				cors.AccessControlAllowCredentials == nil || *cors.AccessControlAllowCredentials {
				t.Errorf("policy %s: CORS origins %v, override %v, credentials %v; want [*], false, false", id, o.Items,
					cf.IsTrue(cors.OriginOverride), cors.AccessControlAllowCredentials)
			}
		}
		if sec := c.SecurityHeadersConfig; (sec != nil) != w.security {
			t.Errorf("policy %s: SecurityHeadersConfig %v, want one: %v", id, sec, w.security)
		} else if sec != nil {
			if sec.ContentTypeOptions == nil || !cf.IsTrue(sec.ContentTypeOptions.Override) {
				t.Errorf("policy %s: X-Content-Type-Options must override the origin's", id)
			}
			// The CORS part lacks the model's required allowed methods and
			// headers (unconfirmed); a security-only policy is complete.
			if c.CorsConfig == nil {
				if err := cf.CheckShape("ResponseHeadersPolicy", &p); err != nil {
					t.Errorf("policy %s: %v", id, err)
				}
			}
		}
	}
	for _, id := range []string{"", "216adef6-5c7f-47e4-b989-5492eafa07d3", strings.ToUpper("60669652-455b-4ae9-85a4-c4c02393f86c")} {
		if cf.IsManagedResponseHeadersPolicy(id) {
			t.Errorf("IsManagedResponseHeadersPolicy(%q) = true", id)
		}
	}
}

// TestValidateResponseHeadersPolicyID: with a ResponseHeadersPolicyExists
// lookup, a behavior naming an unknown response headers policy is
// NoSuchResponseHeadersPolicy; a managed one passes, with a cache policy
// or legacy ForwardedValues alike.
func TestValidateResponseHeadersPolicyID(t *testing.T) {
	config := func(rhp string, legacy bool) *cf.DistributionConfig {
		c := &cf.DistributionConfig{
			CallerReference: cf.String("rhp"), Comment: cf.String(""), Enabled: cf.Bool(true),
			Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
				Id: cf.String("web"), DomainName: cf.String("origin.example.com"),
				CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
			}}},
			DefaultCacheBehavior: &cf.DefaultCacheBehavior{
				TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"),
				CachePolicyId: cf.String("658327ea-f89d-4fab-a63d-7e88639e58f6"), ResponseHeadersPolicyId: cf.String(rhp),
			},
		}
		if legacy {
			c.DefaultCacheBehavior.CachePolicyId = nil
			c.DefaultCacheBehavior.ForwardedValues = &cf.ForwardedValues{QueryString: cf.Bool(false), Cookies: &cf.CookiePreference{Forward: cf.String("none")}}
		}
		cf.ApplyDistributionDefaults(c)
		return c
	}
	look := cf.Lookups{ResponseHeadersPolicyExists: cf.IsManagedResponseHeadersPolicy}
	for _, tc := range []struct {
		rhp     string
		legacy  bool
		wantErr bool
	}{
		{"", false, false},
		{"60669652-455b-4ae9-85a4-c4c02393f86c", false, false},
		{"67f7725c-6f97-4210-82d7-5512b31e9d03", true, false},
		{"00000000-0000-0000-0000-000000000000", false, true},
		{"216adef6-5c7f-47e4-b989-5492eafa07d3", true, true}, // an origin request policy's id
	} {
		err := cf.ValidateDistributionConfig(config(tc.rhp, tc.legacy), look)
		if !tc.wantErr {
			if err != nil {
				t.Errorf("ResponseHeadersPolicyId %q (legacy %v): %v", tc.rhp, tc.legacy, err)
			}
			continue
		}
		e, ok := err.(*cf.Error)
		if !ok || e.Code != "NoSuchResponseHeadersPolicy" || e.Status != 404 {
			t.Errorf("ResponseHeadersPolicyId %q (legacy %v): %v, want NoSuchResponseHeadersPolicy 404", tc.rhp, tc.legacy, err)
		}
	}
}
