package routing

import (
	"errors"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

func lookupSnapshot() Snapshot {
	return Snapshot{
		Revision: 42,
		Distributions: []DistributionRecord{
			distRec(primaryID, primaryDomain, 3, withAliases("www.example.com", "Shop.Example.com")),
			distRec("EWILDCARD00001", "dwild00000001.cdn.local", 5, withAliases("*.example.com")),
			distRec(stagingID, stagingDomain, 4, asStaging()),
			distRec("EDISABLED00001", "ddisabled0001.cdn.local", 6, disabled(), withAliases("old.example.net")),
		},
	}
}

func TestLookup(t *testing.T) {
	tbl := mustCompile(t, lookupSnapshot())
	if got, want := tbl.Revision, int64(42); got != want {
		t.Errorf("Revision = %d; want %d", got, want)
	}
	tests := []struct {
		host       string
		wantID     string
		wantStatus Status
	}{
		{"dprimary00001.cdn.local", primaryID, StatusOK},
		{"DPrimary00001.CDN.Local", primaryID, StatusOK},
		{"dprimary00001.cdn.local:8443", primaryID, StatusOK},
		{"dprimary00001.cdn.local.", primaryID, StatusOK},
		{"www.example.com", primaryID, StatusOK},
		{"WWW.EXAMPLE.COM:80", primaryID, StatusOK},
		{"shop.example.com", primaryID, StatusOK},
		{"img.example.com", "EWILDCARD00001", StatusOK},
		{"IMG.Example.COM:443", "EWILDCARD00001", StatusOK},
		{"a.b.example.com", "", StatusNotFound}, // one label only
		{"example.com", "", StatusNotFound},     // the wildcard needs a label
		{".example.com", "", StatusNotFound},    // empty label
		{"dstaging00001.cdn.local", stagingID, StatusStaging},
		{"ddisabled0001.cdn.local", "EDISABLED00001", StatusDisabled},
		{"old.example.net", "EDISABLED00001", StatusDisabled},
		{"unknown.example.org", "", StatusNotFound},
		{"", "", StatusNotFound},
		{"[::1]:8080", "", StatusNotFound},
		{"127.0.0.1:8080", "", StatusNotFound},
	}
	for _, tt := range tests {
		d, status := tbl.Lookup(tt.host)
		gotID := ""
		if d != nil {
			gotID = d.ID
		}
		if gotID != tt.wantID || status != tt.wantStatus {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.host, gotID, status, tt.wantID, tt.wantStatus)
		}
	}
	var nilTable *Table
	if d, status := nilTable.Lookup("www.example.com"); d != nil || status != StatusNotFound {
		t.Errorf("nil Table Lookup = %v, %v; want nil, not-found", d, status)
	}
}

func TestCompiledDist(t *testing.T) {
	d := mustCompile(t, lookupSnapshot()).Dist(primaryID)
	s3, api := d.Origins["s3"], d.Origins["api"]
	if s3 == nil || api == nil {
		t.Fatalf("Origins = %v; want s3 and api", d.Origins)
	}
	wantS3 := Origin{ID: "s3", DomainName: "bucket.s3.amazonaws.com", OriginPath: "/1.0.0", S3: true,
		OriginAccessControlID: "EOAC00000001", ProtocolPolicy: "https-only", HTTPPort: 80, HTTPSPort: 443,
		ReadTimeout: 30 * time.Second, KeepaliveTimeout: 5 * time.Second, ConnectionAttempts: 3, ConnectionTimeout: 10 * time.Second}
	if got := *s3; !equalOrigin(got, wantS3) {
		t.Errorf("s3 origin = %+v; want %+v", got, wantS3)
	}
	if got, want := api.ProtocolPolicy, "https-only"; got != want {
		t.Errorf("api ProtocolPolicy = %q; want %q", got, want)
	}
	if api.HTTPPort != 8080 || api.HTTPSPort != 8443 || api.ReadTimeout != 20*time.Second ||
		api.ConnectionAttempts != 2 || api.ConnectionTimeout != 5*time.Second {
		t.Errorf("api origin = %+v; want ports 8080/8443, read 20s, 2 attempts, 5s connect", *api)
	}
	if len(api.Headers) != 1 || api.Headers[0] != (Header{"X-Origin-Secret", "s3cr3t"}) {
		t.Errorf("api Headers = %v; want [{X-Origin-Secret s3cr3t}]", api.Headers)
	}
	b := d.Default
	if b.Origin != s3 || b.ViewerProtocolPolicy != "redirect-to-https" || b.Pattern.String() != "*" {
		t.Errorf("Default = origin %v, %q, pattern %q; want s3, redirect-to-https, *", b.Origin.ID, b.ViewerProtocolPolicy, b.Pattern.String())
	}
	if want := (TTLs{Min: time.Second, Default: 86400 * time.Second, Max: 31536000 * time.Second}); b.TTL != want {
		t.Errorf("Default TTL = %+v; want %+v", b.TTL, want)
	}
	if !b.CacheKey.Gzip || !b.CacheKey.Brotli || b.CacheKey.QueryStrings != SelectNone || b.CacheKey.Cookies != SelectNone {
		t.Errorf("Default CacheKey = %+v; want gzip+br, no query strings, no cookies", b.CacheKey)
	}
	if !b.AllowedMethods.Has("GET") || !b.AllowedMethods.Has("HEAD") || b.AllowedMethods.Has("POST") {
		t.Errorf("AllowedMethods = %b; want GET, HEAD", b.AllowedMethods)
	}
}

func equalOrigin(a, b Origin) bool {
	return a.ID == b.ID && a.DomainName == b.DomainName && a.OriginPath == b.OriginPath && a.S3 == b.S3 &&
		a.OriginAccessControlID == b.OriginAccessControlID && a.ProtocolPolicy == b.ProtocolPolicy &&
		a.HTTPPort == b.HTTPPort && a.HTTPSPort == b.HTTPSPort && a.ReadTimeout == b.ReadTimeout &&
		a.KeepaliveTimeout == b.KeepaliveTimeout && a.ConnectionAttempts == b.ConnectionAttempts &&
		a.ConnectionTimeout == b.ConnectionTimeout && len(a.Headers) == len(b.Headers)
}

func TestCacheKeyAndTTLs(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		wantTTL TTLs
		wantQS  Selection
		wantHdr int
	}{
		{"CachingOptimized", cachingOptimized, TTLs{time.Second, 86400 * time.Second, 31536000 * time.Second}, SelectNone, 0},
		{"CachingDisabled", cachingDisabled, TTLs{}, SelectNone, 0},
		{"Amplify", amplify, TTLs{2 * time.Second, 2 * time.Second, 600 * time.Second}, SelectAll, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Snapshot{Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1)}}
			snap.Distributions[0].Distribution.Config.DefaultCacheBehavior.CachePolicyId = &tt.policy
			b := mustCompile(t, snap).Dist(primaryID).Default
			if b.TTL != tt.wantTTL || b.CacheKey.QueryStrings != tt.wantQS || len(b.CacheKey.HeaderNames) != tt.wantHdr {
				t.Errorf("TTL %+v, query strings %v, headers %v; want %+v, %v, %d headers",
					b.TTL, b.CacheKey.QueryStrings, b.CacheKey.HeaderNames, tt.wantTTL, tt.wantQS, tt.wantHdr)
			}
		})
	}
}

func TestFailureIsolation(t *testing.T) {
	good := Snapshot{Revision: 1, Distributions: []DistributionRecord{
		distRec("EAAAAAAAAAAAA1", "da.cdn.local", 1, withAliases("a.example.com")),
		distRec("EBBBBBBBBBBBB1", "db.cdn.local", 1, withAliases("b.example.com")),
	}}
	prev := mustCompile(t, good)

	broken := Snapshot{Revision: 2, Distributions: []DistributionRecord{
		// A: a behavior targets an origin that does not exist.
		distRec("EAAAAAAAAAAAA1", "da.cdn.local", 2, withAliases("a2.example.com"), withBehavior("/x/*", "nowhere")),
		// B changes its alias and compiles.
		distRec("EBBBBBBBBBBBB1", "db.cdn.local", 2, withAliases("b2.example.com")),
		// C is new and broken: a path pattern with a space.
		distRec("ECCCCCCCCCCCC1", "dc.cdn.local", 2, withBehavior("/bad pattern", "s3")),
	}}
	next, errs := Compile(prev, broken)

	if len(errs) != 2 {
		t.Fatalf("errors = %v; want 2 (A and C)", errs)
	}
	if e := errs[0]; e.DistributionID != "EAAAAAAAAAAAA1" || e.Revision != 2 || !errors.Is(e, ErrUnknownOrigin) {
		t.Errorf("errs[0] = %+v; want A at revision 2, ErrUnknownOrigin", e)
	}
	if e := errs[1]; e.DistributionID != "ECCCCCCCCCCCC1" || !errors.Is(e, ErrBadPathPattern) {
		t.Errorf("errs[1] = %+v; want C, ErrBadPathPattern", e)
	}
	if got := len(next.Errors()); got != 2 {
		t.Errorf("Table.Errors() has %d; want 2", got)
	}

	a := next.Dist("EAAAAAAAAAAAA1")
	if a == nil || a.Revision != 1 || a.Err == nil {
		t.Fatalf("A = %+v; want the last good entry (revision 1) with Err set", a)
	}
	tests := []struct {
		host   string
		wantID string
	}{
		{"a.example.com", "EAAAAAAAAAAAA1"}, // last good alias still served
		{"a2.example.com", ""},              // the broken config's alias is not
		{"b2.example.com", "EBBBBBBBBBBBB1"},
		{"b.example.com", ""},
		{"dc.cdn.local", ""},
	}
	for _, tt := range tests {
		d, _ := next.Lookup(tt.host)
		gotID := ""
		if d != nil {
			gotID = d.ID
		}
		if gotID != tt.wantID {
			t.Errorf("Lookup(%q) = %q; want %q", tt.host, gotID, tt.wantID)
		}
	}
	if b := next.Dist("EBBBBBBBBBBBB1"); b.Revision != 2 || b.Err != nil {
		t.Errorf("B revision %d, err %v; want 2, nil", b.Revision, b.Err)
	}

	// Fixing A clears the error; an unchanged B is taken over as is.
	fixed := Snapshot{Revision: 3, Distributions: []DistributionRecord{
		distRec("EAAAAAAAAAAAA1", "da.cdn.local", 3, withAliases("a2.example.com")),
		broken.Distributions[1],
	}}
	again, errs := Compile(next, fixed)
	if len(errs) != 0 {
		t.Fatalf("errors = %v; want none", errs)
	}
	if a := again.Dist("EAAAAAAAAAAAA1"); a.Revision != 3 || a.Err != nil {
		t.Errorf("A revision %d, err %v; want 3, nil", a.Revision, a.Err)
	}
	if got, want := again.Dist("EBBBBBBBBBBBB1").Origins["s3"], next.Dist("EBBBBBBBBBBBB1").Origins["s3"]; got != want {
		t.Errorf("unchanged B was recompiled; want its compiled origins shared")
	}
	if again.Dist("ECCCCCCCCCCCC1") != nil {
		t.Errorf("C still in the table after its record went away")
	}
}

func TestCompileCD(t *testing.T) {
	sticky := weightTraffic(0.1, 300, 600)
	tests := []struct {
		name       string
		snap       Snapshot
		wantCD     bool
		wantErr    error
		wantSticky bool
	}{
		{"header policy", cdSnapshot(policyRec(1, true, headerTraffic("aws-cf-cd-env", "staging"))), true, nil, false},
		{"sticky weight policy", cdSnapshot(policyRec(1, true, sticky)), true, nil, true},
		{"policy disabled", cdSnapshot(policyRec(1, false, sticky)), false, nil, false},
		{"no traffic config", cdSnapshot(policyRec(1, true, nil)), false, nil, false},
		{"staging disabled", cdSnapshot(policyRec(1, true, sticky), disabled()), false, nil, false},
		{"unknown policy", func() Snapshot { s := cdSnapshot(policyRec(1, true, sticky)); s.Policies = nil; return s }(), false, ErrUnknownPolicy, false},
		{"no sticky key", func() Snapshot { s := cdSnapshot(policyRec(1, true, sticky)); s.StickyKey = nil; return s }(), true, ErrNoStickyKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, errs := Compile(nil, tt.snap)
			var err error
			if len(errs) > 0 {
				err = errs[0]
			}
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("errors = %v; want %v", errs, tt.wantErr)
			}
			cd := tbl.Dist(primaryID).CD
			if (cd != nil) != tt.wantCD {
				t.Fatalf("CD = %+v; want present: %v", cd, tt.wantCD)
			}
			if cd == nil {
				return
			}
			if cd.Staging != tbl.Dist(stagingID) || cd.PolicyID != policyID || cd.Generation != 1 || cd.Revision != 7 {
				t.Errorf("CD = %+v; want staging %s, policy %s, generation 1, revision 7", cd, stagingID, policyID)
			}
			if cd.Sticky != tt.wantSticky {
				t.Errorf("Sticky = %v; want %v", cd.Sticky, tt.wantSticky)
			}
		})
	}
	// The staging distribution names the policy too (a reverse pointer) but
	// has no CD of its own.
	if cd := mustCompile(t, cdSnapshot(policyRec(1, true, sticky))).Dist(stagingID).CD; cd != nil {
		t.Errorf("staging CD = %+v; want nil", cd)
	}
}

func TestLegacyBehaviorAndErrorResponses(t *testing.T) {
	snap := Snapshot{Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1, func(c *cloudfront.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = nil
		c.DefaultCacheBehavior.ForwardedValues = &cloudfront.ForwardedValues{
			QueryString:          cloudfront.Bool(true),
			QueryStringCacheKeys: &cloudfront.QueryStringCacheKeys{Quantity: cloudfront.Int32(1), Items: []string{"v"}},
			Cookies:              &cloudfront.CookiePreference{Forward: cloudfront.String("none")},
			Headers:              &cloudfront.Headers{Quantity: cloudfront.Int32(1), Items: []string{"accept-language"}},
		}
		c.DefaultCacheBehavior.MinTTL = cloudfront.Int64(5)
		c.CustomErrorResponses = &cloudfront.CustomErrorResponses{Quantity: cloudfront.Int32(2), Items: []cloudfront.CustomErrorResponse{
			{ErrorCode: cloudfront.Int32(404), ResponsePagePath: cloudfront.String("/404.html"), ResponseCode: cloudfront.String("200"), ErrorCachingMinTTL: cloudfront.Int64(30)},
			{ErrorCode: cloudfront.Int32(403)},
		}}
	})}}
	d := mustCompile(t, snap).Dist(primaryID)
	b := d.Default
	if want := (TTLs{Min: 5 * time.Second, Default: 86400 * time.Second, Max: 31536000 * time.Second}); b.TTL != want {
		t.Errorf("legacy TTL = %+v; want %+v", b.TTL, want)
	}
	k := b.CacheKey
	if k.QueryStrings != SelectAllowList || len(k.QueryStringNames) != 1 || k.QueryStringNames[0] != "v" ||
		k.Headers != SelectAllowList || len(k.HeaderNames) != 1 || k.HeaderNames[0] != "Accept-Language" || k.Cookies != SelectNone {
		t.Errorf("legacy CacheKey = %+v; want query string v, header Accept-Language, no cookies", k)
	}
	tests := []struct {
		code int
		want *ErrorResponse
	}{
		{404, &ErrorResponse{ErrorCode: 404, ResponsePagePath: "/404.html", ResponseCode: 200, CachingMinTTL: 30 * time.Second}},
		{403, &ErrorResponse{ErrorCode: 403, CachingMinTTL: 10 * time.Second}},
		{500, nil},
	}
	for _, tt := range tests {
		got := d.ErrorResponse(tt.code)
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("ErrorResponse(%d) = %+v; want %+v", tt.code, got, tt.want)
		}
	}
}

func TestOACSigning(t *testing.T) {
	snap := Snapshot{Revision: 1, OACs: []*model.OriginAccessControl{
		{ID: "EOACALWAYS", Config: &cloudfront.OriginAccessControlConfig{SigningBehavior: cloudfront.String("always")}},
		{ID: "EOACNEVER", Config: &cloudfront.OriginAccessControlConfig{SigningBehavior: cloudfront.String("never")}},
	}}
	table, _ := Compile(nil, snap)
	for id, want := range map[string]string{"EOACALWAYS": "always", "EOACNEVER": "never", "EUNKNOWN": ""} {
		if got := table.OACSigning(id); got != want {
			t.Errorf("OACSigning(%s) = %q, want %q", id, got, want)
		}
	}
	if got := (*Table)(nil).OACSigning("EOACALWAYS"); got != "" {
		t.Errorf("nil table: %q", got)
	}
}
