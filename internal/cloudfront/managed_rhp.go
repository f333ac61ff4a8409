package cloudfront

import "time"

// managedResponseHeadersPolicy describes one AWS managed response headers
// policy by the two parts the managed ones are built from: a CORS part
// (simple requests only, or preflight too) and the security headers part.
type managedResponseHeadersPolicy struct {
	ID, Name string
	CORS     bool // allow CORS requests from any origin
	// Preflight marks the -With-Preflight policies. What they add to a
	// preflight response beyond Access-Control-Allow-Origin is not known
	// here (see managedResponseHeadersPolicies), so it changes nothing in
	// the shape yet; it keeps the table's meaning explicit.
	Preflight bool
	Security  bool // the SecurityHeadersPolicy headers
}

// managedResponseHeadersPolicies are AWS's managed response headers
// policies with their real IDs (AWS "Use managed response headers
// policies"). Only the settings that page states in words or tables are
// filled in; a setting guessed here would make the edge add headers that
// CloudFront does not, so the rest is left out until confirmed:
//
//   - SimpleCORS: Access-Control-Allow-Origin: * on simple CORS requests,
//     not overriding the origin's own (the page's table). That it adds no
//     other header implies AccessControlAllowCredentials false.
//   - CORS-With-Preflight: "CORS requests from any origin", the origin's
//     headers win. The page names three headers for preflight responses
//     but their values (allowed methods and headers) are not confirmed, so
//     AccessControlAllowMethods and AccessControlAllowHeaders, required by
//     the model, are left out: only Access-Control-Allow-Origin is added.
//   - SecurityHeadersPolicy: X-Content-Type-Options: nosniff overriding the
//     origin's (stated in words). Its other headers (which the origin's
//     win over) are not confirmed by name and value and are left out.
//   - The two combined policies are the union of their parts, as the page
//     says. Comments are left out (the model makes them optional).
func managedResponseHeadersPolicies() []managedResponseHeadersPolicy {
	return []managedResponseHeadersPolicy{
		{ID: "e61eb60c-9c35-4d20-a928-2b84e02af89c", Name: "Managed-CORS-and-SecurityHeadersPolicy", CORS: true, Security: true},
		{ID: "5cc3b908-e619-4b99-88e5-2cf7f45965bd", Name: "Managed-CORS-With-Preflight", CORS: true, Preflight: true},
		{ID: "eaab4381-ed33-4a86-88ca-d9558dc6cd63", Name: "Managed-CORS-with-preflight-and-SecurityHeadersPolicy", CORS: true, Preflight: true, Security: true},
		{ID: "67f7725c-6f97-4210-82d7-5512b31e9d03", Name: "Managed-SecurityHeadersPolicy", Security: true},
		{ID: "60669652-455b-4ae9-85a4-c4c02393f86c", Name: "Managed-SimpleCORS", CORS: true},
	}
}

// IsManagedResponseHeadersPolicy reports whether id is a managed response
// headers policy.
func IsManagedResponseHeadersPolicy(id string) bool {
	for _, p := range managedResponseHeadersPolicies() {
		if p.ID == id {
			return true
		}
	}
	return false
}

// ManagedResponseHeadersPolicies returns the managed response headers
// policies as API shapes. lastModified is the fixed time reported for them.
func ManagedResponseHeadersPolicies(lastModified time.Time) []ResponseHeadersPolicy {
	policies := managedResponseHeadersPolicies()
	out := make([]ResponseHeadersPolicy, 0, len(policies))
	for _, p := range policies {
		out = append(out, p.shape(lastModified))
	}
	return out
}

func (p managedResponseHeadersPolicy) shape(lastModified time.Time) ResponseHeadersPolicy {
	c := &ResponseHeadersPolicyConfig{Name: String(p.Name)}
	if p.CORS {
		c.CorsConfig = &ResponseHeadersPolicyCorsConfig{
			AccessControlAllowOrigins:     &ResponseHeadersPolicyAccessControlAllowOrigins{Quantity: Int32(1), Items: []string{"*"}},
			AccessControlAllowCredentials: Bool(false),
			OriginOverride:                Bool(false),
		}
	}
	if p.Security {
		c.SecurityHeadersConfig = &ResponseHeadersPolicySecurityHeadersConfig{
			ContentTypeOptions: &ResponseHeadersPolicyContentTypeOptions{Override: Bool(true)},
		}
	}
	return ResponseHeadersPolicy{
		Id:                          String(p.ID),
		LastModifiedTime:            NewTime(lastModified),
		ResponseHeadersPolicyConfig: c,
	}
}
