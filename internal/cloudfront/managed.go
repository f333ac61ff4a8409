package cloudfront

import "time"

// ManagedCachePolicyTTL are the TTL bounds of a managed cache policy.
type ManagedCachePolicyTTL struct {
	Min, Default, Max int64
}

// managedCachePolicy describes one AWS managed cache policy.
type managedCachePolicy struct {
	ID, Name, Comment  string
	Min, Default, Max  int64
	Gzip, Brotli       bool
	QueryStrings       string // none | all
	Headers            []string
	Cookies            string // none | all
	QueryStringsInList []string
}

// managedCachePolicies are AWS's managed cache policies with their real IDs
// (AWS Developer Guide, "Use managed cache policies").
func managedCachePolicies() []managedCachePolicy {
	return []managedCachePolicy{
		{ID: "658327ea-f89d-4fab-a63d-7e88639e58f6", Name: "Managed-CachingOptimized", Comment: "Policy with caching enabled. Supports Gzip and Brotli compression.", Min: 1, Default: 86400, Max: 31536000, Gzip: true, Brotli: true, QueryStrings: "none", Cookies: "none"},
		{ID: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", Name: "Managed-CachingDisabled", Comment: "Policy with caching disabled", Min: 0, Default: 0, Max: 0, QueryStrings: "none", Cookies: "none"},
		{ID: "b2884449-e4de-46a7-ac36-70bc7f1ddd6d", Name: "Managed-CachingOptimizedForUncompressedObjects", Comment: "Default policy when compression is disabled", Min: 1, Default: 86400, Max: 31536000, QueryStrings: "none", Cookies: "none"},
		{ID: "2e54312d-136d-493c-8eb9-b001f22f67d2", Name: "Managed-Amplify", Comment: "Policy for Amplify Origin", Min: 2, Default: 2, Max: 600, Gzip: true, Brotli: true, QueryStrings: "all", Headers: []string{"Authorization", "CloudFront-Viewer-Country", "Host"}, Cookies: "all"},
		{ID: "83da9c7e-98b4-4e11-a168-04f0df8e2c65", Name: "UseOriginCacheControlHeaders", Comment: "Policy for origins that return Cache-Control headers. Query strings are not included in the cache key.", Min: 0, Default: 0, Max: 31536000, Gzip: true, Brotli: true, QueryStrings: "none", Headers: []string{"host", "origin", "x-http-method-override", "x-http-method", "x-method-override"}, Cookies: "all"},
		{ID: "4cc15a8a-d715-48a4-82b8-cc0b614638fe", Name: "UseOriginCacheControlHeaders-QueryStrings", Comment: "Policy for origins that return Cache-Control headers and serve different content based on query strings.", Min: 0, Default: 0, Max: 31536000, Gzip: true, Brotli: true, QueryStrings: "all", Headers: []string{"host", "origin", "x-http-method-override", "x-http-method", "x-method-override"}, Cookies: "all"},
		{ID: "08627262-05a9-4f76-9ded-b50ca2e3a84f", Name: "Managed-Elemental-MediaPackage", Comment: "Policy for Elemental MediaPackage Origin", Min: 0, Default: 86400, Max: 31536000, Gzip: true, QueryStrings: "whitelist", QueryStringsInList: []string{"aws.manifestfilter", "start", "end", "m"}, Headers: []string{"origin"}, Cookies: "none"},
	}
}

// ManagedCachePolicyTTLs returns the TTL bounds of a managed cache policy by id.
func ManagedCachePolicyTTLs(id string) (ManagedCachePolicyTTL, bool) {
	for _, p := range managedCachePolicies() {
		if p.ID == id {
			return ManagedCachePolicyTTL{p.Min, p.Default, p.Max}, true
		}
	}
	return ManagedCachePolicyTTL{}, false
}

// ManagedCachePolicies returns the managed cache policies as API shapes.
// lastModified is the fixed time reported for them.
func ManagedCachePolicies(lastModified time.Time) []CachePolicy {
	var out []CachePolicy
	for _, p := range managedCachePolicies() {
		out = append(out, p.shape(lastModified))
	}
	return out
}

func (p managedCachePolicy) shape(lastModified time.Time) CachePolicy {
	headers := &CachePolicyHeadersConfig{HeaderBehavior: String("none")}
	if len(p.Headers) > 0 {
		headers = &CachePolicyHeadersConfig{HeaderBehavior: String("whitelist"),
			Headers: &Headers{Quantity: Int32(int32(len(p.Headers))), Items: p.Headers}}
	}
	qs := &CachePolicyQueryStringsConfig{QueryStringBehavior: String(p.QueryStrings)}
	if len(p.QueryStringsInList) > 0 {
		qs.QueryStrings = &QueryStringNames{Quantity: Int32(int32(len(p.QueryStringsInList))), Items: p.QueryStringsInList}
	}
	return CachePolicy{
		Id:               String(p.ID),
		LastModifiedTime: NewTime(lastModified),
		CachePolicyConfig: &CachePolicyConfig{
			Comment:    String(p.Comment),
			Name:       String(p.Name),
			DefaultTTL: Int64(p.Default),
			MaxTTL:     Int64(p.Max),
			MinTTL:     Int64(p.Min),
			ParametersInCacheKeyAndForwardedToOrigin: &ParametersInCacheKeyAndForwardedToOrigin{
				EnableAcceptEncodingGzip:   Bool(p.Gzip),
				EnableAcceptEncodingBrotli: Bool(p.Brotli),
				HeadersConfig:              headers,
				CookiesConfig:              &CachePolicyCookiesConfig{CookieBehavior: String(p.Cookies)},
				QueryStringsConfig:         qs,
			},
		},
	}
}
