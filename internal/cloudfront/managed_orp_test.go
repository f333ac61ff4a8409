package cloudfront_test

import (
	"strings"
	"testing"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestManagedOriginRequestPolicies checks the table against AWS's published
// list: every ID and name, and shapes that pass the model's checks.
func TestManagedOriginRequestPolicies(t *testing.T) {
	want := map[string]string{
		"216adef6-5c7f-47e4-b989-5492eafa07d3": "Managed-AllViewer",
		"33f36d7e-f396-46d9-90e0-52428a34d9dc": "Managed-AllViewerAndCloudFrontHeaders-2022-06",
		"b689b0a8-53d0-40ab-baf2-68738e2966ac": "Managed-AllViewerExceptHostHeader",
		"59781a5b-3903-41f3-afcb-af62929ccde1": "Managed-CORS-CustomOrigin",
		"88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": "Managed-CORS-S3Origin",
		"775133bc-15f2-49f9-abea-afb2e0bf67d2": "Managed-Elemental-MediaTailor-PersonalizedManifests",
		"acba4595-bd28-49b8-b9fe-13317c0390fa": "Managed-UserAgentRefererHeaders",
	}
	when := time.Date(2020, 10, 29, 0, 0, 0, 0, time.UTC)
	got := cf.ManagedOriginRequestPolicies(when)
	if len(got) != len(want) {
		t.Fatalf("%d managed origin request policies, want %d", len(got), len(want))
	}
	for _, p := range got {
		id := cf.Str(p.Id)
		c := p.OriginRequestPolicyConfig
		if name := cf.Str(c.Name); want[id] != name {
			t.Errorf("policy %s is named %q, want %q", id, name, want[id])
		}
		if !cf.IsManagedOriginRequestPolicy(id) {
			t.Errorf("IsManagedOriginRequestPolicy(%s) = false", id)
		}
		if err := cf.CheckShape("OriginRequestPolicy", &p); err != nil {
			t.Errorf("policy %s: %v", id, err)
		}
		if !p.LastModifiedTime.Time.Equal(when) {
			t.Errorf("policy %s: LastModifiedTime %v, want %v", id, p.LastModifiedTime.Time, when)
		}
		if h := c.HeadersConfig.Headers; h != nil && int(cf.I32(h.Quantity)) != len(h.Items) {
			t.Errorf("policy %s: Headers Quantity %d for %d items", id, cf.I32(h.Quantity), len(h.Items))
		}
	}
	for _, id := range []string{"", "658327ea-f89d-4fab-a63d-7e88639e58f6", strings.ToUpper("216adef6-5c7f-47e4-b989-5492eafa07d3")} {
		if cf.IsManagedOriginRequestPolicy(id) {
			t.Errorf("IsManagedOriginRequestPolicy(%q) = true", id)
		}
	}
}
