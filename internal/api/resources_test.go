package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

func TestInvalidations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	distID := aws.ToString(e.createDistribution(distConfig("inv")).Distribution.Id)
	create := func(ref string, paths ...string) (*cfsdk.CreateInvalidationOutput, error) {
		return e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{
			DistributionId: aws.String(distID),
			InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String(ref),
				Paths: &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}},
		})
	}
	first := testutil.MustGet(create("cli-1", "/*", "/img/a.png"))(t)
	invID := aws.ToString(first.Invalidation.Id)
	if httpStatus(t, first.ResultMetadata) != 201 || !strings.HasPrefix(invID, "I") || len(invID) != 14 {
		t.Errorf("create: status %d, Id %q", httpStatus(t, first.ResultMetadata), invID)
	}
	if got, want := aws.ToString(first.Location), e.url+"/2020-05-31/distribution/"+distID+"/invalidation/"+invID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if aws.ToString(first.Invalidation.Status) != "InProgress" {
		t.Errorf("create answered Status = %q, want InProgress (every write does)", aws.ToString(first.Invalidation.Status))
	}
	again := testutil.MustGet(create("cli-1", "/img/a.png", "/*"))(t)
	if aws.ToString(again.Invalidation.Id) != invID {
		t.Errorf("same reference and paths made a new invalidation %s", aws.ToString(again.Invalidation.Id))
	}
	second := testutil.MustGet(create("cli-2", "/index.html"))(t)

	got := testutil.MustGet(e.cf.GetInvalidation(ctx, &cfsdk.GetInvalidationInput{DistributionId: aws.String(distID), Id: aws.String(invID)}))(t)
	if b := got.Invalidation.InvalidationBatch; aws.ToString(b.CallerReference) != "cli-1" || aws.ToInt32(b.Paths.Quantity) != 2 || got.Invalidation.CreateTime == nil {
		t.Errorf("get: %+v", got.Invalidation)
	}
	if s := aws.ToString(got.Invalidation.Status); s != "Completed" {
		t.Errorf("get after create: Status = %q, want Completed (no edge to wait for)", s)
	}

	l := testutil.MustGet(e.cf.ListInvalidations(ctx, &cfsdk.ListInvalidationsInput{DistributionId: aws.String(distID), MaxItems: aws.Int32(1)}))(t).InvalidationList
	if len(l.Items) != 1 || aws.ToString(l.Items[0].Id) != aws.ToString(second.Invalidation.Id) || !aws.ToBool(l.IsTruncated) || l.NextMarker == nil {
		t.Fatalf("first page (newest first): %+v", l)
	}
	l2 := testutil.MustGet(e.cf.ListInvalidations(ctx, &cfsdk.ListInvalidationsInput{DistributionId: aws.String(distID), MaxItems: aws.Int32(1), Marker: l.NextMarker}))(t).InvalidationList
	if len(l2.Items) != 1 || aws.ToString(l2.Items[0].Id) != invID || aws.ToBool(l2.IsTruncated) || l2.NextMarker != nil ||
		aws.ToString(l2.Items[0].Status) != "Completed" {
		t.Errorf("second page: %+v", l2)
	}

	cases := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"unknown invalidation", func() error {
			_, err := e.cf.GetInvalidation(ctx, &cfsdk.GetInvalidationInput{DistributionId: aws.String(distID), Id: aws.String("I0000000000000")})
			return err
		}(), "NoSuchInvalidation", 404},
		{"unknown distribution", func() error {
			_, err := e.cf.GetInvalidation(ctx, &cfsdk.GetInvalidationInput{DistributionId: aws.String("E000000000000"), Id: aws.String(invID)})
			return err
		}(), "NoSuchDistribution", 404},
		{"list for unknown distribution", func() error {
			_, err := e.cf.ListInvalidations(ctx, &cfsdk.ListInvalidationsInput{DistributionId: aws.String("E000000000000")})
			return err
		}(), "NoSuchDistribution", 404},
		{"relative path", func() error { _, err := create("cli-3", "index.html"); return err }(), "InvalidArgument", 400},
		{"quantity mismatch", func() error {
			_, err := e.cf.CreateInvalidation(ctx, &cfsdk.CreateInvalidationInput{DistributionId: aws.String(distID),
				InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String("cli-4"), Paths: &types.Paths{Quantity: aws.Int32(3), Items: []string{"/a"}}}})
			return err
		}(), "InconsistentQuantities", 400},
		{"bad MaxItems", func() error {
			_, err := e.cf.ListInvalidations(ctx, &cfsdk.ListInvalidationsInput{DistributionId: aws.String(distID), MaxItems: aws.Int32(0)})
			return err
		}(), "InvalidArgument", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.err, tc.code, tc.status) })
	}
}

func oacConfig(name string) *types.OriginAccessControlConfig {
	return &types.OriginAccessControlConfig{
		Name:                          aws.String(name),
		Description:                   aws.String("bucket access"),
		OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
		SigningBehavior:               types.OriginAccessControlSigningBehaviorsAlways,
		SigningProtocol:               types.OriginAccessControlSigningProtocolsSigv4,
	}
}

func TestOriginAccessControls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created := testutil.MustGet(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("site")}))(t)
	id := aws.ToString(created.OriginAccessControl.Id)
	if httpStatus(t, created.ResultMetadata) != 201 || !etagRE.MatchString(aws.ToString(created.ETag)) {
		t.Errorf("create: status %d, ETag %q", httpStatus(t, created.ResultMetadata), aws.ToString(created.ETag))
	}
	if got, want := aws.ToString(created.Location), e.url+"/2020-05-31/origin-access-control/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	_, err := e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("site")})
	wantAPIError(t, err, "OriginAccessControlAlreadyExists", 409)

	got := testutil.MustGet(e.cf.GetOriginAccessControl(ctx, &cfsdk.GetOriginAccessControlInput{Id: aws.String(id)}))(t)
	gotCfg := testutil.MustGet(e.cf.GetOriginAccessControlConfig(ctx, &cfsdk.GetOriginAccessControlConfigInput{Id: aws.String(id)}))(t)
	if aws.ToString(got.ETag) != aws.ToString(created.ETag) || aws.ToString(gotCfg.ETag) != aws.ToString(created.ETag) ||
		aws.ToString(gotCfg.OriginAccessControlConfig.Name) != "site" || got.OriginAccessControl.OriginAccessControlConfig.SigningBehavior != types.OriginAccessControlSigningBehaviorsAlways {
		t.Errorf("get: %+v / %+v", got.OriginAccessControl, gotCfg.OriginAccessControlConfig)
	}

	upd := oacConfig("site-renamed")
	upd.SigningBehavior = types.OriginAccessControlSigningBehaviorsNoOverride
	_, err = e.cf.UpdateOriginAccessControl(ctx, &cfsdk.UpdateOriginAccessControlInput{Id: aws.String(id), OriginAccessControlConfig: upd})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	updated := testutil.MustGet(e.cf.UpdateOriginAccessControl(ctx, &cfsdk.UpdateOriginAccessControlInput{Id: aws.String(id), IfMatch: created.ETag, OriginAccessControlConfig: upd}))(t)
	if aws.ToString(updated.ETag) == aws.ToString(created.ETag) || aws.ToString(updated.OriginAccessControl.OriginAccessControlConfig.Name) != "site-renamed" {
		t.Errorf("update: ETag %q, %+v", aws.ToString(updated.ETag), updated.OriginAccessControl.OriginAccessControlConfig)
	}
	_, err = e.cf.UpdateOriginAccessControl(ctx, &cfsdk.UpdateOriginAccessControlInput{Id: aws.String(id), IfMatch: created.ETag, OriginAccessControlConfig: upd})
	wantAPIError(t, err, "PreconditionFailed", 412)

	other := testutil.MustGet(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("other")}))(t)
	l := testutil.MustGet(e.cf.ListOriginAccessControls(ctx, &cfsdk.ListOriginAccessControlsInput{MaxItems: aws.Int32(1)}))(t).OriginAccessControlList
	if len(l.Items) != 1 || !aws.ToBool(l.IsTruncated) || l.NextMarker == nil {
		t.Fatalf("first page: %+v", l)
	}
	l2 := testutil.MustGet(e.cf.ListOriginAccessControls(ctx, &cfsdk.ListOriginAccessControlsInput{MaxItems: aws.Int32(1), Marker: l.NextMarker}))(t).OriginAccessControlList
	if len(l2.Items) != 1 || aws.ToBool(l2.IsTruncated) || aws.ToString(l2.Items[0].Id) == aws.ToString(l.Items[0].Id) {
		t.Errorf("second page: %+v", l2)
	}

	// A distribution using the OAC keeps it from being deleted.
	cfg := distConfig("oac-user")
	cfg.Origins.Items[0].CustomOriginConfig = nil
	cfg.Origins.Items[0].DomainName = aws.String("bucket.s3.us-east-1.amazonaws.com")
	cfg.Origins.Items[0].S3OriginConfig = &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}
	cfg.Origins.Items[0].OriginAccessControlId = aws.String(id)
	dist := e.createDistribution(cfg)
	_, err = e.cf.DeleteOriginAccessControl(ctx, &cfsdk.DeleteOriginAccessControlInput{Id: aws.String(id), IfMatch: updated.ETag})
	wantAPIError(t, err, "OriginAccessControlInUse", 409)
	cfg.CallerReference = aws.String("oac-missing")
	cfg.Origins.Items[0].OriginAccessControlId = aws.String("E000000000000")
	_, err = e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
	wantAPIError(t, err, "InvalidOriginAccessControl", 400)

	dc := e.getConfig(aws.ToString(dist.Distribution.Id))
	dc.DistributionConfig.Origins.Items[0].OriginAccessControlId = aws.String("")
	testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: dist.Distribution.Id, IfMatch: dc.ETag, DistributionConfig: dc.DistributionConfig}))(t)
	del := testutil.MustGet(e.cf.DeleteOriginAccessControl(ctx, &cfsdk.DeleteOriginAccessControlInput{Id: aws.String(id), IfMatch: updated.ETag}))(t)
	if httpStatus(t, del.ResultMetadata) != 204 {
		t.Errorf("delete status = %d", httpStatus(t, del.ResultMetadata))
	}
	_, err = e.cf.GetOriginAccessControl(ctx, &cfsdk.GetOriginAccessControlInput{Id: aws.String(id)})
	wantAPIError(t, err, "NoSuchOriginAccessControl", 404)
	_, err = e.cf.DeleteOriginAccessControl(ctx, &cfsdk.DeleteOriginAccessControlInput{Id: other.OriginAccessControl.Id})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)
}

func TestCachePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id, name       string
		minTTL, maxTTL int64
	}{
		{cachingOptimized, "Managed-CachingOptimized", 1, 31536000},
		{cachingDisabled, "Managed-CachingDisabled", 0, 0},
	} {
		got := testutil.MustGet(e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String(tc.id)}))(t)
		c := got.CachePolicy.CachePolicyConfig
		if aws.ToString(got.CachePolicy.Id) != tc.id || aws.ToString(c.Name) != tc.name ||
			aws.ToInt64(c.MinTTL) != tc.minTTL || aws.ToInt64(c.MaxTTL) != tc.maxTTL || aws.ToString(got.ETag) == "" {
			t.Errorf("GetCachePolicy(%s) = %+v, ETag %q", tc.id, c, aws.ToString(got.ETag))
		}
		gotCfg := testutil.MustGet(e.cf.GetCachePolicyConfig(ctx, &cfsdk.GetCachePolicyConfigInput{Id: aws.String(tc.id)}))(t)
		if aws.ToString(gotCfg.CachePolicyConfig.Name) != tc.name || aws.ToString(gotCfg.ETag) != aws.ToString(got.ETag) {
			t.Errorf("GetCachePolicyConfig(%s) = %+v", tc.id, gotCfg.CachePolicyConfig)
		}
	}
	_, err := e.cf.GetCachePolicy(ctx, &cfsdk.GetCachePolicyInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)
	_, err = e.cf.GetCachePolicyConfig(ctx, &cfsdk.GetCachePolicyConfigInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "NoSuchCachePolicy", 404)

	l := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{Type: types.CachePolicyTypeManaged}))(t).CachePolicyList
	ids := map[string]bool{}
	for _, s := range l.Items {
		ids[aws.ToString(s.CachePolicy.Id)] = true
		if s.Type != types.CachePolicyTypeManaged {
			t.Errorf("summary type = %s", s.Type)
		}
	}
	if !ids[cachingOptimized] || !ids[cachingDisabled] || int(aws.ToInt32(l.Quantity)) != len(l.Items) {
		t.Errorf("managed list: %d items, Quantity %d", len(l.Items), aws.ToInt32(l.Quantity))
	}
	page := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{MaxItems: aws.Int32(1)}))(t).CachePolicyList
	if len(page.Items) != 1 || page.NextMarker == nil {
		t.Fatalf("MaxItems=1: %d items, NextMarker %v", len(page.Items), page.NextMarker)
	}
	next := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{MaxItems: aws.Int32(1), Marker: page.NextMarker}))(t).CachePolicyList
	if len(next.Items) != 1 || aws.ToString(next.Items[0].CachePolicy.Id) == aws.ToString(page.Items[0].CachePolicy.Id) {
		t.Errorf("second page: %+v", next.Items)
	}
	custom := testutil.MustGet(e.cf.ListCachePolicies(ctx, &cfsdk.ListCachePoliciesInput{Type: types.CachePolicyTypeCustom}))(t).CachePolicyList
	if len(custom.Items) != 0 || aws.ToInt32(custom.Quantity) != 0 {
		t.Errorf("custom list: %+v", custom)
	}
}

func TestTagging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created := e.createDistribution(distConfig("tagged"))
	arn := created.Distribution.ARN
	list := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, tag := range testutil.MustGet(e.cf.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: arn}))(t).Tags.Items {
			out[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return out
	}
	if got := list(); len(got) != 0 {
		t.Errorf("new distribution has tags %v", got)
	}
	tag := testutil.MustGet(e.cf.TagResource(ctx, &cfsdk.TagResourceInput{Resource: arn, Tags: &types.Tags{Items: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("edge")}}}}))(t)
	if httpStatus(t, tag.ResultMetadata) != 204 {
		t.Errorf("TagResource status = %d, want 204", httpStatus(t, tag.ResultMetadata))
	}
	testutil.MustGet(e.cf.TagResource(ctx, &cfsdk.TagResourceInput{Resource: arn, Tags: &types.Tags{Items: []types.Tag{{Key: aws.String("env"), Value: aws.String("staging")}}}}))(t)
	if got := list(); len(got) != 2 || got["env"] != "staging" || got["team"] != "edge" {
		t.Errorf("after tagging: %v", got)
	}
	untag := testutil.MustGet(e.cf.UntagResource(ctx, &cfsdk.UntagResourceInput{Resource: arn, TagKeys: &types.TagKeys{Items: []string{"env"}}}))(t)
	if httpStatus(t, untag.ResultMetadata) != 204 {
		t.Errorf("UntagResource status = %d, want 204", httpStatus(t, untag.ResultMetadata))
	}
	if got := list(); len(got) != 1 || got["team"] != "edge" {
		t.Errorf("after untagging: %v", got)
	}
	// Tags are not part of the config: tagging keeps the ETag, so a
	// client's If-Match stays valid.
	if got := testutil.MustGet(e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: created.Distribution.Id}))(t).ETag; aws.ToString(got) != aws.ToString(created.ETag) {
		t.Errorf("ETag after tagging = %s, want the unchanged %s", aws.ToString(got), aws.ToString(created.ETag))
	}
	withTags := testutil.MustGet(e.cf.CreateDistributionWithTags(ctx, &cfsdk.CreateDistributionWithTagsInput{DistributionConfigWithTags: &types.DistributionConfigWithTags{
		DistributionConfig: distConfig("born-tagged"), Tags: &types.Tags{Items: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}}))(t)
	if got := testutil.MustGet(e.cf.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: withTags.Distribution.ARN}))(t).Tags.Items; len(got) != 1 || aws.ToString(got[0].Key) != "k" {
		t.Errorf("tags of a distribution created with tags: %+v", got)
	}

	_, err := e.cf.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: aws.String("arn:aws:cloudfront::123456789012:distribution/E000000000000")})
	wantAPIError(t, err, "NoSuchDistribution", 404)
	_, err = e.cf.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: aws.String("arn:aws:s3:::bucket")})
	wantAPIError(t, err, "InvalidArgument", 400)
	_, err = e.cf.TagResource(ctx, &cfsdk.TagResourceInput{Resource: arn, Tags: &types.Tags{Items: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}})
	wantAPIError(t, err, "InvalidTagging", 400)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := testutil.CloudFront(e.url, testKeyID, "wrong-secret").ListDistributions(ctx, &cfsdk.ListDistributionsInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403)
	_, err = testutil.CloudFront(e.url, "AKIDUNKNOWN000000000", testSecret).ListDistributions(ctx, &cfsdk.ListDistributionsInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	// A mutation signed with the wrong secret changes nothing.
	_, err = testutil.CloudFront(e.url, testKeyID, "wrong-secret").CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: distConfig("forged")})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403)
	if l := testutil.MustGet(e.cf.ListDistributions(ctx, &cfsdk.ListDistributionsInput{}))(t).DistributionList; aws.ToInt32(l.Quantity) != 0 {
		t.Errorf("a forged request created %d distributions", aws.ToInt32(l.Quantity))
	}
	resp := e.rawRequest("GET", "/2020-05-31/distribution", nil, nil, true)
	if resp.status != 403 || !strings.Contains(resp.body, "<ErrorResponse") {
		t.Errorf("unsigned request: %d %s", resp.status, resp.body)
	}
	// Unknown paths are not revealed to unauthenticated callers.
	resp = e.rawRequest("GET", "/nope", nil, nil, true)
	if resp.status != 403 {
		t.Errorf("unsigned request to an unknown path: %d, want 403", resp.status)
	}
}
