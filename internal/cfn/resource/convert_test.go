package resource

import (
	"encoding/json"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

func TestDistributionConfigConversion(t *testing.T) {
	t.Parallel()
	props := map[string]any{"DistributionConfig": map[string]any{
		"Enabled": "true", "IPV6Enabled": "True", "CNAMEs": []any{"www.example.com"},
		"Logging":      map[string]any{"Bucket": "logs.s3.amazonaws.com", "Prefix": "cf/"},
		"Restrictions": map[string]any{"GeoRestriction": map[string]any{"RestrictionType": "whitelist", "Locations": []any{"JP", "FR"}}},
		"ViewerCertificate": map[string]any{"AcmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "SslSupportMethod": "sni-only",
			"MinimumProtocolVersion": "TLSv1.2_2021"},
		"CustomErrorResponses": []any{map[string]any{"ErrorCode": "404", "ResponseCode": "200", "ResponsePagePath": "/index.html"}},
		"DefaultCacheBehavior": map[string]any{"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
			"AllowedMethods": []any{"GET", "HEAD", "OPTIONS"}, "CachedMethods": []any{"GET", "HEAD"},
			"TrustedKeyGroups": []any{"kg1"}, "ForwardedValues": map[string]any{"QueryString": "false",
				"Cookies": map[string]any{"Forward": "whitelist", "WhitelistedNames": []any{"session"}}}},
		"Origins": []any{map[string]any{"Id": "web", "DomainName": "origin.example.com",
			"OriginCustomHeaders": []any{map[string]any{"HeaderName": "x-a", "HeaderValue": "1"}},
			"CustomOriginConfig":  map[string]any{"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": []any{"TLSv1.2"}}}},
	}}
	cfg, _, warnings, err := distributionConfig(&Env{}, &Request{LogicalID: "D", Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %v", warnings)
	}
	b, _ := json.Marshal(cfg)
	got := string(b)
	for _, want := range []string{
		`"IsIPV6Enabled":true`, `"Aliases":{"Quantity":1,"Items":["www.example.com"]}`,
		`"Logging":{"Enabled":true,"Bucket":"logs.s3.amazonaws.com","Prefix":"cf/"}`,
		`"GeoRestriction":{"RestrictionType":"whitelist","Quantity":2,"Items":["JP","FR"]}`,
		`"ACMCertificateArn":"arn:aws:acm:us-east-1:1:certificate/x"`, `"SSLSupportMethod":"sni-only"`,
		`"CustomErrorResponses":{"Quantity":1,"Items":[{"ErrorCode":404,"ResponsePagePath":"/index.html","ResponseCode":"200"}]}`,
		`"AllowedMethods":{"Quantity":3,"Items":["GET","HEAD","OPTIONS"],"CachedMethods":{"Quantity":2,"Items":["GET","HEAD"]}}`,
		`"TrustedKeyGroups":{"Enabled":true,"Quantity":1,"Items":["kg1"]}`,
		`"WhitelistedNames":{"Quantity":1,"Items":["session"]}`,
		`"CustomHeaders":{"Quantity":1,"Items":[{"HeaderName":"x-a","HeaderValue":"1"}]}`,
		`"HTTPPort":80,"HTTPSPort":443`, `"OriginSslProtocols":{"Quantity":1,"Items":["TLSv1.2"]}`,
		`"Comment":""`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("converted config lacks %s\n%s", want, got)
		}
	}
	// Back to the CloudFormation shape (drift detection's view).
	back, err := toCFN(map[string]any{"DistributionConfig": cfg})
	if err != nil {
		t.Fatal(err)
	}
	dc := back["DistributionConfig"].(map[string]any)
	dcb := dc["DefaultCacheBehavior"].(map[string]any)
	if j, _ := json.Marshal(dcb["AllowedMethods"]); string(j) != `["GET","HEAD","OPTIONS"]` {
		t.Errorf("AllowedMethods back = %s", j)
	}
	if j, _ := json.Marshal(dcb["CachedMethods"]); string(j) != `["GET","HEAD"]` {
		t.Errorf("CachedMethods back = %s", j)
	}
	if dc["IPV6Enabled"] != "true" || dc["Aliases"] == nil {
		t.Errorf("renames back: IPV6Enabled=%v Aliases=%v", dc["IPV6Enabled"], dc["Aliases"])
	}
}

func TestPropertyValidation(t *testing.T) {
	t.Parallel()
	origin := func(extra map[string]any) map[string]any {
		o := map[string]any{"Id": "web", "DomainName": "bucket.s3.us-east-1.amazonaws.com"}
		for k, v := range extra {
			o[k] = v
		}
		return map[string]any{"DistributionConfig": map[string]any{"Enabled": "true", "Origins": []any{o},
			"DefaultCacheBehavior": map[string]any{"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all"}}}
	}
	cases := []struct {
		name   string
		strict bool
		props  map[string]any
		want   string // error; "" = success
		warn   string
	}{
		{"typo repaired", false, origin(map[string]any{"S3OriginConfig,": map[string]any{}}), "", `property "S3OriginConfig," read as "S3OriginConfig"`},
		{"typo strict", true, origin(map[string]any{"S3OriginConfig,": map[string]any{}}),
			"Properties validation failed for resource D with message: #/DistributionConfig/Origins/0: extraneous key [S3OriginConfig,] is not permitted", ""},
		{"typo beside the real key", false, origin(map[string]any{"S3OriginConfig,": map[string]any{}, "S3OriginConfig": map[string]any{}}),
			"extraneous key [S3OriginConfig,] is not permitted", ""},
		{"unknown key", false, origin(map[string]any{"Foo": "x"}), "#/DistributionConfig/Origins/0: extraneous key [Foo] is not permitted", ""},
		{"S3 inferred", false, origin(nil), "", "read as an S3 origin"},
		{"S3 not inferred when strict", true, origin(nil), "Exactly one of CustomOriginConfig and S3OriginConfig must be specified", ""},
		{"bad boolean", false, map[string]any{"DistributionConfig": map[string]any{"Enabled": "maybe"}},
			"#/DistributionConfig/Enabled: expected type: Boolean, found: String", ""},
		{"unknown top-level", false, map[string]any{"DistributionConfig": map[string]any{}, "Nope": "1"}, "#: extraneous key [Nope] is not permitted", ""},
		{"missing config", false, map[string]any{}, "#: required key [DistributionConfig] not found", ""},
	}
	for _, c := range cases {
		warnings, err := distribution().Check(&Env{Strict: c.strict}, &Request{LogicalID: "D", Properties: c.props})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		case c.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], c.warn)):
			t.Errorf("%s: warnings %v, want %q", c.name, warnings, c.warn)
		}
	}
}

func TestLegacyPolicyShape(t *testing.T) {
	t.Parallel()
	cfg, err := decode[cf.ContinuousDeploymentPolicyConfig](&converter{}, map[string]any{
		"Enabled": "true", "StagingDistributionDnsNames": []any{"d1.cdn.localhost"},
		"Type": "SingleWeight", "SingleWeightPolicyConfig": map[string]any{"Weight": "0.15"},
	}, "/ContinuousDeploymentPolicyConfig")
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.TrafficConfig
	if tc == nil || cf.Str(tc.Type) != "SingleWeight" || tc.SingleWeightConfig == nil || *tc.SingleWeightConfig.Weight != 0.15 {
		t.Errorf("traffic = %+v", tc)
	}
}
