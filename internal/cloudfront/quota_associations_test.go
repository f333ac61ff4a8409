package cloudfront_test

import (
	"errors"
	"slices"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestAssociations: the custom resources a config names, each once;
// managed policies are left out, key groups count enabled or not.
func TestAssociations(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.DefaultCacheBehavior.CachePolicyId = cf.String("custom-cp")
	c.DefaultCacheBehavior.OriginRequestPolicyId = cf.String("216adef6-5c7f-47e4-b989-5492eafa07d3") // Managed-AllViewer
	c.DefaultCacheBehavior.ResponseHeadersPolicyId = cf.String("custom-rhp")
	c.DefaultCacheBehavior.TrustedKeyGroups = &cf.TrustedKeyGroups{Enabled: cf.Bool(false), Quantity: cf.Int32(1), Items: []string{"kg-1"}}
	b := c.CacheBehaviors.Items[0]
	b.CachePolicyId = cf.String("custom-cp") // the same policy in a second behavior counts once
	b.OriginRequestPolicyId = cf.String("custom-orp")
	b.TrustedKeyGroups = &cf.TrustedKeyGroups{Enabled: cf.Bool(true), Quantity: cf.Int32(2), Items: []string{"kg-2", "kg-1"}}
	c.CacheBehaviors.Items[0] = b
	c.Origins.Items[0].OriginAccessControlId = cf.String("EOAC")
	got := cf.Associations(c)
	want := []cf.Association{
		{Kind: cf.AssocCachePolicy, ID: "custom-cp"},
		{Kind: cf.AssocOriginRequestPolicy, ID: "custom-orp"},
		{Kind: cf.AssocResponseHeadersPolicy, ID: "custom-rhp"},
		{Kind: cf.AssocKeyGroup, ID: "kg-1"},
		{Kind: cf.AssocKeyGroup, ID: "kg-2"},
		{Kind: cf.AssocOriginAccessControl, ID: "EOAC"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Associations =\n %v\nwant\n %v", got, want)
	}
	if got := cf.Associations(validConfig()); len(got) != 0 {
		t.Errorf("a config naming only managed policies: Associations = %v; want none", got)
	}
}

// TestCheckAssociations: at the quota passes, one past is refused with
// the kind's code; a raised quota (--quota) lets it through.
func TestCheckAssociations(t *testing.T) {
	t.Parallel()
	q := cf.DefaultQuotas()
	for _, tc := range []struct {
		kind cf.AssociationKind
		code string
	}{
		{cf.AssocCachePolicy, "TooManyDistributionsAssociatedToCachePolicy"},
		{cf.AssocOriginRequestPolicy, "TooManyDistributionsAssociatedToOriginRequestPolicy"},
		{cf.AssocResponseHeadersPolicy, "TooManyDistributionsAssociatedToResponseHeadersPolicy"},
		{cf.AssocKeyGroup, "TooManyDistributionsAssociatedToKeyGroup"},
		{cf.AssocOriginAccessControl, "TooManyDistributionsAssociatedToOriginAccessControl"},
	} {
		a := cf.Association{Kind: tc.kind, ID: "x"}
		mine := []cf.Association{{Kind: tc.kind, ID: "other"}, a}
		if err := q.CheckAssociations(mine, map[cf.Association]int{a: 99}); err != nil {
			t.Errorf("%s: the 100th distribution refused: %v", tc.code, err)
		}
		err := q.CheckAssociations(mine, map[cf.Association]int{a: 100})
		var apiErr *cf.Error
		if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Status != 400 {
			t.Errorf("the 101st distribution: %v; want %s 400", err, tc.code)
		}
	}
	raised, err := cf.ParseQuotas([]string{"distributions-per-key-group=500"})
	if err != nil {
		t.Fatal(err)
	}
	a := cf.Association{Kind: cf.AssocKeyGroup, ID: "x"}
	if err := raised.CheckAssociations([]cf.Association{a}, map[cf.Association]int{a: 100}); err != nil {
		t.Errorf("with the key group quota raised to 500, the 101st distribution: %v", err)
	}
}
