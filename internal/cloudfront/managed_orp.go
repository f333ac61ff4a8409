package cloudfront

import "time"

// managedOriginRequestPolicy describes one AWS managed origin request
// policy. Header names are spelled as CloudFront returns them.
type managedOriginRequestPolicy struct {
	ID, Name, Comment string
	HeaderBehavior    string // none | whitelist | allViewer | allViewerAndWhitelistCloudFront | allExcept
	Headers           []string
	Cookies           string // none | all
	QueryStrings      string // none | all
}

// managedOriginRequestPolicies are AWS's managed origin request policies
// with their real IDs and settings (AWS "Use managed origin request
// policies"). HostHeaderOnly, added in September 2025, is left out until
// its ID is confirmed from AWS's own documentation: a made-up ID would let
// a config pass here that CloudFront rejects.
func managedOriginRequestPolicies() []managedOriginRequestPolicy {
	return []managedOriginRequestPolicy{
		{ID: "216adef6-5c7f-47e4-b989-5492eafa07d3", Name: "Managed-AllViewer", Comment: "Policy to forward all parameters in viewer requests",
			HeaderBehavior: "allViewer", Cookies: "all", QueryStrings: "all"},
		{ID: "33f36d7e-f396-46d9-90e0-52428a34d9dc", Name: "Managed-AllViewerAndCloudFrontHeaders-2022-06", Comment: "Policy to forward all parameters in viewer requests and all CloudFront headers as of June 2022",
			HeaderBehavior: "allViewerAndWhitelistCloudFront", Headers: []string{
				"CloudFront-Forwarded-Proto", "CloudFront-Is-Android-Viewer", "CloudFront-Is-Desktop-Viewer",
				"CloudFront-Is-IOS-Viewer", "CloudFront-Is-Mobile-Viewer", "CloudFront-Is-SmartTV-Viewer",
				"CloudFront-Is-Tablet-Viewer", "CloudFront-Viewer-Address", "CloudFront-Viewer-ASN",
				"CloudFront-Viewer-City", "CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Name",
				"CloudFront-Viewer-Country-Region", "CloudFront-Viewer-Country-Region-Name",
				"CloudFront-Viewer-Http-Version", "CloudFront-Viewer-Latitude", "CloudFront-Viewer-Longitude",
				"CloudFront-Viewer-Metro-Code", "CloudFront-Viewer-Postal-Code", "CloudFront-Viewer-Time-Zone",
				"CloudFront-Viewer-TLS",
			}, Cookies: "all", QueryStrings: "all"},
		{ID: "b689b0a8-53d0-40ab-baf2-68738e2966ac", Name: "Managed-AllViewerExceptHostHeader", Comment: "Policy to forward all parameters in viewer requests except for the Host header",
			HeaderBehavior: "allExcept", Headers: []string{"host"}, Cookies: "all", QueryStrings: "all"},
		{ID: "59781a5b-3903-41f3-afcb-af62929ccde1", Name: "Managed-CORS-CustomOrigin", Comment: "Policy for custom origin with CORS",
			HeaderBehavior: "whitelist", Headers: []string{"origin"}, Cookies: "none", QueryStrings: "none"},
		{ID: "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", Name: "Managed-CORS-S3Origin", Comment: "Policy for S3 origin with CORS",
			HeaderBehavior: "whitelist", Headers: []string{"origin", "access-control-request-headers", "access-control-request-method"},
			Cookies: "none", QueryStrings: "none"},
		{ID: "775133bc-15f2-49f9-abea-afb2e0bf67d2", Name: "Managed-Elemental-MediaTailor-PersonalizedManifests", Comment: "Policy for Elemental MediaTailor Origin",
			HeaderBehavior: "whitelist", Headers: []string{"origin", "access-control-request-headers", "access-control-request-method", "user-agent", "x-forwarded-for"},
			Cookies: "none", QueryStrings: "all"},
		{ID: "acba4595-bd28-49b8-b9fe-13317c0390fa", Name: "Managed-UserAgentRefererHeaders", Comment: "Policy to forward user-agent and referer headers to origin",
			HeaderBehavior: "whitelist", Headers: []string{"user-agent", "referer"}, Cookies: "none", QueryStrings: "none"},
	}
}

// IsManagedOriginRequestPolicy reports whether id is a managed origin
// request policy.
func IsManagedOriginRequestPolicy(id string) bool {
	for _, p := range managedOriginRequestPolicies() {
		if p.ID == id {
			return true
		}
	}
	return false
}

// ManagedOriginRequestPolicies returns the managed origin request policies
// as API shapes. lastModified is the fixed time reported for them.
func ManagedOriginRequestPolicies(lastModified time.Time) []OriginRequestPolicy {
	policies := managedOriginRequestPolicies()
	out := make([]OriginRequestPolicy, 0, len(policies))
	for _, p := range policies {
		out = append(out, p.shape(lastModified))
	}
	return out
}

func (p managedOriginRequestPolicy) shape(lastModified time.Time) OriginRequestPolicy {
	headers := &OriginRequestPolicyHeadersConfig{HeaderBehavior: String(p.HeaderBehavior)}
	if len(p.Headers) > 0 {
		headers.Headers = &Headers{Quantity: Int32(int32(len(p.Headers))), Items: p.Headers}
	}
	return OriginRequestPolicy{
		Id:               String(p.ID),
		LastModifiedTime: NewTime(lastModified),
		OriginRequestPolicyConfig: &OriginRequestPolicyConfig{
			Comment:            String(p.Comment),
			Name:               String(p.Name),
			HeadersConfig:      headers,
			CookiesConfig:      &OriginRequestPolicyCookiesConfig{CookieBehavior: String(p.Cookies)},
			QueryStringsConfig: &OriginRequestPolicyQueryStringsConfig{QueryStringBehavior: String(p.QueryStrings)},
		},
	}
}
