package control_test

import (
	"fmt"
	"slices"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestDistributionIfMatch walks CloudFront's If-Match rules for
// UpdateDistribution and DeleteDistribution at the service level.
func TestDistributionIfMatch(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	d := e.create(distConfig("ifmatch", false))
	id := cf.Str(d.Distribution.Id)
	cfg := roundTrip(t, d.Distribution.DistributionConfig)

	for _, tc := range []struct {
		name, ifMatch, code string
		status              int
	}{
		{"missing", "", "InvalidIfMatchVersion", 400},
		{"blank", "  ", "InvalidIfMatchVersion", 400},
		{"wrong", "E2QWRUHAPOMQZL", "PreconditionFailed", 412},
	} {
		_, err := e.svc.UpdateDistribution(e.ctx, id, tc.ifMatch, cfg)
		wantErr(t, err, tc.code, tc.status, "")
		err = e.svc.DeleteDistribution(e.ctx, id, tc.ifMatch)
		wantErr(t, err, tc.code, tc.status, "")
	}

	cfg.Comment = cf.String("changed")
	up, err := e.svc.UpdateDistribution(e.ctx, id, d.ETag, cfg)
	if err != nil {
		t.Fatalf("UpdateDistribution with the current ETag: %v", err)
	}
	if up.ETag == d.ETag {
		t.Errorf("ETag unchanged after an update: %s", up.ETag)
	}
	if got := cf.Str(e.get(id).Distribution.DistributionConfig.Comment); got != "changed" {
		t.Errorf("Comment after update = %q; want %q", got, "changed")
	}
	// The ETag read before the update is stale now.
	_, err = e.svc.UpdateDistribution(e.ctx, id, d.ETag, cfg)
	wantErr(t, err, "PreconditionFailed", 412, "")

	// An enabled distribution cannot be deleted, even with the right ETag.
	wantErr(t, e.svc.DeleteDistribution(e.ctx, id, up.ETag), "DistributionNotDisabled", 409, "")
	off := e.mustUpdate(id, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	if err := e.svc.DeleteDistribution(e.ctx, id, off.ETag); err != nil {
		t.Fatalf("DeleteDistribution of a disabled distribution: %v", err)
	}
	_, err = e.svc.GetDistribution(e.ctx, id)
	wantErr(t, err, "NoSuchDistribution", 404, "")
	// Its caller reference is free again.
	e.create(distConfig("ifmatch", false))
}

// TestCreateDistributionCallerReference: a reused caller reference names
// the distribution that has it.
func TestCreateDistributionCallerReference(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	first := e.create(distConfig("dup", false))
	other := distConfig("dup", false)
	other.Comment = cf.String("different")
	_, err := e.svc.CreateDistribution(e.ctx, other, nil)
	wantErr(t, err, "DistributionAlreadyExists", 409, "")
	if got := e.get(cf.Str(first.Distribution.Id)); cf.Str(got.Distribution.DistributionConfig.Comment) != "dup" {
		t.Errorf("the first distribution changed: %+v", got.Distribution.DistributionConfig.Comment)
	}
}

// TestCopyDistribution: a copy is a new staging distribution with the
// primary's config, its own caller reference, no aliases and no tags.
func TestCopyDistribution(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tags := &cf.Tags{Items: []cf.Tag{{Key: cf.String("team"), Value: cf.String("web")}}}
	p, err := e.svc.CreateDistribution(e.ctx, distConfig("primary", false), tags)
	if err != nil {
		t.Fatalf("CreateDistribution: %v", err)
	}
	pid := cf.Str(p.Distribution.Id)
	req := &cf.CopyDistributionRequest{CallerReference: cf.String("copy-1")}

	for _, tc := range []struct {
		name, staging, ifMatch, code string
		req                          *cf.CopyDistributionRequest
		status                       int
	}{
		{"no body", "true", p.ETag, "MissingBody", nil, 400},
		{"staging header missing", "", p.ETag, "InvalidArgument", req, 400},
		{"no If-Match", "true", "", "InvalidIfMatchVersion", req, 400},
		{"stale If-Match", "true", "EXXXXXXXXXXXX", "PreconditionFailed", req, 412},
		{"no caller reference", "true", p.ETag, "InvalidArgument", &cf.CopyDistributionRequest{}, 400},
	} {
		_, err := e.svc.CopyDistribution(e.ctx, pid, tc.staging, tc.ifMatch, tc.req)
		if err == nil {
			t.Fatalf("%s: CopyDistribution succeeded", tc.name)
		}
		wantErr(t, err, tc.code, tc.status, "")
	}

	c, err := e.svc.CopyDistribution(e.ctx, pid, "True", p.ETag, req)
	if err != nil {
		t.Fatalf("CopyDistribution: %v", err)
	}
	cc := c.Distribution.DistributionConfig
	if !cf.IsTrue(cc.Staging) || !cf.IsTrue(cc.Enabled) || cf.Str(cc.CallerReference) != "copy-1" {
		t.Errorf("copy config: Staging=%v Enabled=%v CallerReference=%q; want true, true, copy-1", cf.IsTrue(cc.Staging), cf.IsTrue(cc.Enabled), cf.Str(cc.CallerReference))
	}
	if got, want := cf.Str(cc.Origins.Items[0].OriginPath), "/v1"; got != want {
		t.Errorf("copy OriginPath = %q; want the primary's %q", got, want)
	}
	if cf.Str(c.Distribution.Id) == pid || cf.Str(c.Distribution.DomainName) == cf.Str(p.Distribution.DomainName) {
		t.Errorf("copy shares the primary's id or domain: %s %s", cf.Str(c.Distribution.Id), cf.Str(c.Distribution.DomainName))
	}
	ct, err := e.svc.ListTags(e.ctx, cf.Str(c.Distribution.ARN))
	if err != nil {
		t.Fatalf("ListTags of the copy: %v", err)
	}
	if len(ct.Items) != 0 {
		t.Errorf("copy tags = %+v; want none (tags are not copied)", ct.Items)
	}
	// A staging distribution is not itself copied.
	_, err = e.svc.CopyDistribution(e.ctx, cf.Str(c.Distribution.Id), "true", c.ETag, &cf.CopyDistributionRequest{CallerReference: cf.String("copy-2")})
	wantErr(t, err, "InvalidArgument", 400, "")
	// The same caller reference again is a conflict.
	_, err = e.svc.CopyDistribution(e.ctx, pid, "true", p.ETag, req)
	wantErr(t, err, "DistributionAlreadyExists", 409, "")
}

// TestTags: tag, retag (replace a value), untag, list; the distribution's
// ARN is the handle and an unknown one is NoSuchResource.
func TestTags(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	d := e.create(distConfig("tagged", false))
	arn := cf.Str(d.Distribution.ARN)
	tag := func(k, v string) cf.Tag { return cf.Tag{Key: cf.String(k), Value: cf.String(v)} }
	list := func() []string {
		t.Helper()
		got, err := e.svc.ListTags(e.ctx, arn)
		if err != nil {
			t.Fatalf("ListTags: %v", err)
		}
		var out []string
		for _, tg := range got.Items {
			out = append(out, cf.Str(tg.Key)+"="+cf.Str(tg.Value))
		}
		slices.Sort(out)
		return out
	}
	if err := e.svc.TagResource(e.ctx, arn, &cf.Tags{Items: []cf.Tag{tag("a", "1"), tag("b", "2")}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if err := e.svc.TagResource(e.ctx, arn, &cf.Tags{Items: []cf.Tag{tag("b", "3"), tag("c", "4")}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got, want := list(), []string{"a=1", "b=3", "c=4"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v; want %v", got, want)
	}
	if err := e.svc.UntagResource(e.ctx, arn, &cf.TagKeys{Items: []string{"a", "missing"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got, want := list(), []string{"b=3", "c=4"}; !slices.Equal(got, want) {
		t.Errorf("tags after untag = %v; want %v", got, want)
	}
	wantErr(t, e.svc.TagResource(e.ctx, arn, nil), "MissingBody", 400, "")
	_, err := e.svc.ListTags(e.ctx, "arn:aws:cloudfront::123456789012:distribution/ENOSUCHDIST")
	if err == nil {
		t.Fatal("ListTags of an unknown ARN succeeded")
	}
}

// TestInvalidations: create, the same batch again (idempotent), a
// different batch under the same reference, bad paths, get and list.
func TestInvalidations(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	d := e.create(distConfig("inv", false))
	id := cf.Str(d.Distribution.Id)
	batch := func(ref string, paths ...string) *cf.InvalidationBatch {
		return &cf.InvalidationBatch{CallerReference: cf.String(ref), Paths: &cf.Paths{Quantity: cf.Int32(int32(len(paths))), Items: paths}}
	}
	inv, err := e.svc.CreateInvalidation(e.ctx, id, batch("r1", "/a", "/b/*"))
	if err != nil {
		t.Fatalf("CreateInvalidation: %v", err)
	}
	again, err := e.svc.CreateInvalidation(e.ctx, id, batch("r1", "/b/*", "/a"))
	if err != nil {
		t.Fatalf("CreateInvalidation, same batch again: %v", err)
	}
	if cf.Str(again.Id) != cf.Str(inv.Id) {
		t.Errorf("the same batch again made %s; want the first invalidation %s", cf.Str(again.Id), cf.Str(inv.Id))
	}
	for _, tc := range []struct {
		name, dist string
		batch      *cf.InvalidationBatch
		code       string
		status     int
	}{
		{"reused reference", id, batch("r1", "/other"), "InvalidationBatchAlreadyExists", 409},
		{"no body", id, nil, "MissingBody", 400},
		{"no paths", id, batch("r2"), "InvalidArgument", 400},
		{"relative path", id, batch("r3", "a"), "InvalidArgument", 400},
		{"inner wildcard", id, batch("r4", "/a*/b"), "InvalidArgument", 400},
		{"unknown distribution", "ENOSUCHDIST", batch("r5", "/a"), "NoSuchDistribution", 404},
	} {
		_, err := e.svc.CreateInvalidation(e.ctx, tc.dist, tc.batch)
		if err == nil {
			t.Fatalf("%s: CreateInvalidation succeeded", tc.name)
		}
		wantErr(t, err, tc.code, tc.status, "")
	}
	got, err := e.svc.GetInvalidation(e.ctx, id, cf.Str(inv.Id))
	if err != nil {
		t.Fatalf("GetInvalidation: %v", err)
	}
	if paths := got.InvalidationBatch.Paths.Items; !slices.Equal(paths, []string{"/a", "/b/*"}) {
		t.Errorf("GetInvalidation paths = %v", paths)
	}
	if _, err := e.svc.CreateInvalidation(e.ctx, id, batch("r6", "/c")); err != nil {
		t.Fatalf("CreateInvalidation r6: %v", err)
	}
	all, err := e.svc.ListInvalidations(e.ctx, id, "", 100)
	if err != nil {
		t.Fatalf("ListInvalidations: %v", err)
	}
	if q := cf.I32(all.Quantity); q != 2 {
		t.Errorf("ListInvalidations Quantity = %d; want 2", q)
	}
}

// TestOACLifecycle: create, a taken name, update under If-Match, delete.
func TestOACLifecycle(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	o, err := e.svc.CreateOAC(e.ctx, oacConfig("site"))
	if err != nil {
		t.Fatalf("CreateOAC: %v", err)
	}
	id := cf.Str(o.OAC.Id)
	_, err = e.svc.CreateOAC(e.ctx, oacConfig("site"))
	wantErr(t, err, "OriginAccessControlAlreadyExists", 409, `An origin access control named "site" already exists.`)

	changed := oacConfig("site")
	changed.Description = cf.String("now described")
	_, err = e.svc.UpdateOAC(e.ctx, id, "", changed)
	wantErr(t, err, "InvalidIfMatchVersion", 400, "")
	_, err = e.svc.UpdateOAC(e.ctx, id, "EXXXXXXXXXXXX", changed)
	wantErr(t, err, "PreconditionFailed", 412, "")
	up, err := e.svc.UpdateOAC(e.ctx, id, o.ETag, changed)
	if err != nil {
		t.Fatalf("UpdateOAC: %v", err)
	}
	if up.ETag == o.ETag || cf.Str(up.OAC.OriginAccessControlConfig.Description) != "now described" {
		t.Errorf("UpdateOAC = %s %q; want a new ETag and the new description", up.ETag, cf.Str(up.OAC.OriginAccessControlConfig.Description))
	}
	wantErr(t, e.svc.DeleteOAC(e.ctx, id, o.ETag), "PreconditionFailed", 412, "")
	if err := e.svc.DeleteOAC(e.ctx, id, up.ETag); err != nil {
		t.Fatalf("DeleteOAC: %v", err)
	}
	_, err = e.svc.GetOAC(e.ctx, id)
	if err == nil {
		t.Fatal("GetOAC after delete succeeded")
	}
	// The name is free again.
	if _, err := e.svc.CreateOAC(e.ctx, oacConfig("site")); err != nil {
		t.Fatalf("CreateOAC with a freed name: %v", err)
	}
}

// TestListPoliciesPaging: pages of MaxItems follow NextMarker to the end,
// each policy once; Quantity is the account's total on every page.
func TestListPoliciesPaging(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	var want []string
	for i := range 5 {
		stg := e.create(distConfig(fmt.Sprintf("stg-%d", i), true))
		p, err := e.svc.CreatePolicy(e.ctx, headerPolicy(cf.Str(stg.Distribution.DomainName)))
		if err != nil {
			t.Fatalf("CreatePolicy %d: %v", i, err)
		}
		want = append(want, cf.Str(p.Policy.Id))
	}
	slices.Sort(want)
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatalf("paging does not end; got %v so far", got)
		}
		list, err := e.svc.ListPolicies(e.ctx, marker, 2)
		if err != nil {
			t.Fatalf("ListPolicies(%q): %v", marker, err)
		}
		if q := cf.I32(list.Quantity); q != 5 {
			t.Errorf("page %d Quantity = %d; want 5", pages, q)
		}
		if len(list.Items) > 2 {
			t.Errorf("page %d has %d items; want at most 2", pages, len(list.Items))
		}
		for _, it := range list.Items {
			got = append(got, cf.Str(it.ContinuousDeploymentPolicy.Id))
		}
		if list.NextMarker == nil {
			break
		}
		marker = cf.Str(list.NextMarker)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v; want %v", got, want)
	}
	_, err := e.svc.ListPolicies(e.ctx, "no-such-marker", 2)
	wantErr(t, err, "NoSuchContinuousDeploymentPolicy", 404, "")
}

// TestOAILifecycle: a reused caller reference, the immutable caller
// reference, If-Match on update and delete.
func TestOAILifecycle(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	oaiCfg := func(ref, comment string) *cf.CloudFrontOriginAccessIdentityConfig {
		return &cf.CloudFrontOriginAccessIdentityConfig{CallerReference: cf.String(ref), Comment: cf.String(comment)}
	}
	o, etag, err := e.svc.CreateOAI(e.ctx, oaiCfg("r1", "first"))
	if err != nil {
		t.Fatalf("CreateOAI: %v", err)
	}
	id := cf.Str(o.Id)
	_, _, err = e.svc.CreateOAI(e.ctx, oaiCfg("r1", "other"))
	wantErr(t, err, "CloudFrontOriginAccessIdentityAlreadyExists", 409, "")

	_, _, err = e.svc.UpdateOAI(e.ctx, id, "", oaiCfg("r1", "second"))
	wantErr(t, err, "InvalidIfMatchVersion", 400, "")
	_, _, err = e.svc.UpdateOAI(e.ctx, id, etag, oaiCfg("r2", "second"))
	wantErr(t, err, "IllegalUpdate", 400, "The CallerReference of an origin access identity cannot be changed.")
	up, upTag, err := e.svc.UpdateOAI(e.ctx, id, etag, oaiCfg("r1", "second"))
	if err != nil {
		t.Fatalf("UpdateOAI: %v", err)
	}
	if upTag == etag || cf.Str(up.CloudFrontOriginAccessIdentityConfig.Comment) != "second" {
		t.Errorf("UpdateOAI = %s %q; want a new ETag and the new comment", upTag, cf.Str(up.CloudFrontOriginAccessIdentityConfig.Comment))
	}
	wantErr(t, e.svc.DeleteOAI(e.ctx, id, etag), "PreconditionFailed", 412, "")
	if err := e.svc.DeleteOAI(e.ctx, id, upTag); err != nil {
		t.Fatalf("DeleteOAI: %v", err)
	}
	_, _, err = e.svc.GetOAI(e.ctx, id)
	wantErr(t, err, "NoSuchCloudFrontOriginAccessIdentity", 404, "")
}

func cachePolicy(name string) *cf.CachePolicyConfig {
	return &cf.CachePolicyConfig{
		Name: cf.String(name), Comment: cf.String("c"), MinTTL: cf.Int64(1),
		ParametersInCacheKeyAndForwardedToOrigin: &cf.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: cf.Bool(true),
			HeadersConfig:            &cf.CachePolicyHeadersConfig{HeaderBehavior: cf.String("none")},
			CookiesConfig:            &cf.CachePolicyCookiesConfig{CookieBehavior: cf.String("none")},
			QueryStringsConfig:       &cf.CachePolicyQueryStringsConfig{QueryStringBehavior: cf.String("all")},
		},
	}
}

// TestCachePolicyLifecycle: names are unique (also on rename), a managed
// policy cannot change, If-Match guards updates, a used policy stays.
func TestCachePolicyLifecycle(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	a, aTag, err := e.svc.CreateCachePolicy(e.ctx, cachePolicy("a"))
	if err != nil {
		t.Fatalf("CreateCachePolicy a: %v", err)
	}
	if _, _, err := e.svc.CreateCachePolicy(e.ctx, cachePolicy("b")); err != nil {
		t.Fatalf("CreateCachePolicy b: %v", err)
	}
	aID := cf.Str(a.Id)
	_, _, err = e.svc.CreateCachePolicy(e.ctx, cachePolicy("a"))
	wantErr(t, err, "CachePolicyAlreadyExists", 409, "")
	_, _, err = e.svc.UpdateCachePolicy(e.ctx, aID, aTag, cachePolicy("b"))
	wantErr(t, err, "CachePolicyAlreadyExists", 409, "")
	_, _, err = e.svc.UpdateCachePolicy(e.ctx, cachingDisabled, "E1", cachePolicy("mine"))
	wantErr(t, err, "IllegalUpdate", 400, "")
	_, _, err = e.svc.UpdateCachePolicy(e.ctx, aID, "", cachePolicy("a2"))
	wantErr(t, err, "InvalidIfMatchVersion", 400, "")
	renamed, rTag, err := e.svc.UpdateCachePolicy(e.ctx, aID, aTag, cachePolicy("a2"))
	if err != nil {
		t.Fatalf("UpdateCachePolicy rename: %v", err)
	}
	if cf.Str(renamed.CachePolicyConfig.Name) != "a2" || rTag == aTag {
		t.Errorf("rename = %q %s; want a2 and a new ETag", cf.Str(renamed.CachePolicyConfig.Name), rTag)
	}
	// The old name is free again, the new one taken.
	if _, _, err := e.svc.CreateCachePolicy(e.ctx, cachePolicy("a")); err != nil {
		t.Fatalf("CreateCachePolicy with the freed name: %v", err)
	}
	_, _, err = e.svc.CreateCachePolicy(e.ctx, cachePolicy("a2"))
	wantErr(t, err, "CachePolicyAlreadyExists", 409, "")

	// A distribution using the policy keeps it alive.
	cfg := distConfig("uses-a2", false)
	cfg.DefaultCacheBehavior.CachePolicyId = cf.String(aID)
	e.create(cfg)
	wantErr(t, e.svc.DeleteCachePolicy(e.ctx, aID, rTag), "CachePolicyInUse", 409, "")
	ids, err := e.svc.ListDistributionsByCachePolicy(e.ctx, aID, "", 10)
	if err != nil {
		t.Fatalf("ListDistributionsByCachePolicy: %v", err)
	}
	if cf.I32(ids.Quantity) != 1 {
		t.Errorf("ListDistributionsByCachePolicy Quantity = %d; want 1", cf.I32(ids.Quantity))
	}
}
