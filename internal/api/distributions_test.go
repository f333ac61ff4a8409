package api_test

import (
	"context"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stagefront/stagefront/internal/testutil"
)

var (
	distIDRE = regexp.MustCompile(`^E[A-Z0-9]{13}$`)
	etagRE   = regexp.MustCompile(`^E[A-Z0-9]{13}$`)
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// httpStatus is the status of the response behind an SDK output.
func httpStatus(t *testing.T, md middleware.Metadata) int {
	t.Helper()
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw HTTP response in the result metadata")
	}
	return resp.StatusCode
}

func TestCreateDistribution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	out := e.createDistribution(distConfig("create-1"))

	if got := httpStatus(t, out.ResultMetadata); got != http.StatusCreated {
		t.Errorf("status = %d, want 201", got)
	}
	d := out.Distribution
	id := aws.ToString(d.Id)
	if !distIDRE.MatchString(id) {
		t.Errorf("Id = %q, want E + 13 uppercase alphanumerics", id)
	}
	if !etagRE.MatchString(aws.ToString(out.ETag)) {
		t.Errorf("ETag = %q, want an unquoted CloudFront ETag", aws.ToString(out.ETag))
	}
	if got, want := aws.ToString(out.Location), e.url+"/2020-05-31/distribution/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if !strings.HasPrefix(aws.ToString(d.DomainName), "d") || !strings.HasSuffix(aws.ToString(d.DomainName), ".cdn.test") {
		t.Errorf("DomainName = %q", aws.ToString(d.DomainName))
	}
	if got := aws.ToString(d.ARN); got != "arn:aws:cloudfront::123456789012:distribution/"+id {
		t.Errorf("ARN = %q", got)
	}
	if s := aws.ToString(d.Status); s != "Deployed" && s != "InProgress" {
		t.Errorf("Status = %q", s)
	}
	c := d.DistributionConfig
	checks := []struct {
		name      string
		got, want any
	}{
		{"Staging", aws.ToBool(c.Staging), false},
		{"Staging present", c.Staging != nil, true},
		{"ContinuousDeploymentPolicyId", c.ContinuousDeploymentPolicyId != nil && *c.ContinuousDeploymentPolicyId == "", true},
		{"PriceClass", c.PriceClass, types.PriceClassPriceClassAll},
		{"HttpVersion", c.HttpVersion, types.HttpVersionHttp2},
		{"IsIPV6Enabled", aws.ToBool(c.IsIPV6Enabled), true},
		{"Aliases.Quantity", aws.ToInt32(c.Aliases.Quantity), int32(0)},
		{"DefaultRootObject", c.DefaultRootObject != nil, true},
		{"Logging.Enabled", c.Logging != nil && c.Logging.Enabled != nil && !*c.Logging.Enabled, true},
		{"ViewerCertificate.CloudFrontDefaultCertificate", aws.ToBool(c.ViewerCertificate.CloudFrontDefaultCertificate), true},
		{"Restrictions", c.Restrictions.GeoRestriction.RestrictionType, types.GeoRestrictionTypeNone},
		{"AllowedMethods.Quantity", aws.ToInt32(c.DefaultCacheBehavior.AllowedMethods.Quantity), int32(2)},
		{"OriginReadTimeout", aws.ToInt32(c.Origins.Items[0].CustomOriginConfig.OriginReadTimeout), int32(30)},
		{"ConnectionAttempts", aws.ToInt32(c.Origins.Items[0].ConnectionAttempts), int32(3)},
		{"CacheBehaviors.Quantity", aws.ToInt32(c.CacheBehaviors.Quantity), int32(0)},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("default %s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}

	t.Run("duplicate CallerReference", func(t *testing.T) {
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: distConfig("create-1")})
		wantAPIError(t, err, "DistributionAlreadyExists", 409)
	})
	t.Run("policy id at create", func(t *testing.T) {
		cfg := distConfig("create-2")
		cfg.ContinuousDeploymentPolicyId = aws.String("3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b")
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
	t.Run("validation", func(t *testing.T) {
		cases := []struct {
			name   string
			mutate func(*types.DistributionConfig)
			code   string
			status int
		}{
			{"unknown target origin", func(c *types.DistributionConfig) { c.DefaultCacheBehavior.TargetOriginId = aws.String("nope") }, "NoSuchOrigin", 404},
			{"unknown cache policy", func(c *types.DistributionConfig) {
				c.DefaultCacheBehavior.CachePolicyId = aws.String("00000000-0000-0000-0000-000000000000")
			}, "NoSuchCachePolicy", 404},
			{"quantity mismatch", func(c *types.DistributionConfig) { c.Origins.Quantity = aws.Int32(2) }, "InconsistentQuantities", 400},
			{"comment too long", func(c *types.DistributionConfig) { c.Comment = aws.String(strings.Repeat("x", 129)) }, "InvalidArgument", 400},
			{"staging with aliases", func(c *types.DistributionConfig) {
				c.Staging = aws.Bool(true)
				c.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"stg.example.com"}}
			}, "InvalidArgument", 400},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				cfg := distConfig("invalid-" + string(rune('a'+i)))
				tc.mutate(cfg)
				_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg})
				wantAPIError(t, err, tc.code, tc.status)
			})
		}
	})
	t.Run("alias clash", func(t *testing.T) {
		cfg := distConfig("alias-1")
		cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.com"}}
		e.createDistribution(cfg)
		cfg2 := distConfig("alias-2")
		cfg2.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"WWW.example.com"}}
		_, err := e.cf.CreateDistribution(ctx, &cfsdk.CreateDistributionInput{DistributionConfig: cfg2})
		wantAPIError(t, err, "CNAMEAlreadyExists", 409)
	})
	t.Run("get and get config share the ETag", func(t *testing.T) {
		got := testutil.MustGet(e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String(id)}))(t)
		cfgOut := e.getConfig(id)
		if aws.ToString(got.ETag) != aws.ToString(out.ETag) || aws.ToString(cfgOut.ETag) != aws.ToString(out.ETag) {
			t.Errorf("ETags: create %s, get %s, get config %s; want all equal",
				aws.ToString(out.ETag), aws.ToString(got.ETag), aws.ToString(cfgOut.ETag))
		}
		if !reflect.DeepEqual(got.Distribution.DistributionConfig, cfgOut.DistributionConfig) {
			t.Error("GetDistribution and GetDistributionConfig return different configs")
		}
		if aws.ToInt32(got.Distribution.InProgressInvalidationBatches) != 0 {
			t.Errorf("InProgressInvalidationBatches = %d", aws.ToInt32(got.Distribution.InProgressInvalidationBatches))
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String("E000000000000")})
		wantAPIError(t, err, "NoSuchDistribution", 404)
		_, err = e.cf.GetDistributionConfig(ctx, &cfsdk.GetDistributionConfigInput{Id: aws.String("E000000000000")})
		wantAPIError(t, err, "NoSuchDistribution", 404)
	})
	t.Run("with tags", func(t *testing.T) {
		res := testutil.MustGet(e.cf.CreateDistributionWithTags(ctx, &cfsdk.CreateDistributionWithTagsInput{
			DistributionConfigWithTags: &types.DistributionConfigWithTags{
				DistributionConfig: distConfig("tags-1"),
				Tags:               &types.Tags{Items: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}}},
			},
		}))(t)
		if httpStatus(t, res.ResultMetadata) != 201 || aws.ToString(res.ETag) == "" || aws.ToString(res.Location) == "" {
			t.Errorf("CreateDistributionWithTags: status %d, ETag %q, Location %q",
				httpStatus(t, res.ResultMetadata), aws.ToString(res.ETag), aws.ToString(res.Location))
		}
		tags := testutil.MustGet(e.cf.ListTagsForResource(ctx, &cfsdk.ListTagsForResourceInput{Resource: res.Distribution.ARN}))(t)
		if len(tags.Tags.Items) != 1 || aws.ToString(tags.Tags.Items[0].Key) != "team" || aws.ToString(tags.Tags.Items[0].Value) != "edge" {
			t.Errorf("tags = %+v", tags.Tags.Items)
		}
		_, err := e.cf.CreateDistributionWithTags(ctx, &cfsdk.CreateDistributionWithTagsInput{
			DistributionConfigWithTags: &types.DistributionConfigWithTags{
				DistributionConfig: distConfig("tags-2"),
				Tags:               &types.Tags{Items: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}},
			},
		})
		wantAPIError(t, err, "InvalidTagging", 400)
	})
}

func TestUpdateDistribution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := aws.ToString(e.createDistribution(distConfig("upd-1")).Distribution.Id)
	cur := e.getConfig(id)
	cfg := cur.DistributionConfig
	cfg.Origins.Items[0].OriginPath = aws.String("/v2")

	t.Run("without If-Match", func(t *testing.T) {
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg})
		wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	})
	upd := testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cfg}))(t)
	if httpStatus(t, upd.ResultMetadata) != 200 {
		t.Errorf("status = %d, want 200", httpStatus(t, upd.ResultMetadata))
	}
	if aws.ToString(upd.ETag) == aws.ToString(cur.ETag) || !etagRE.MatchString(aws.ToString(upd.ETag)) {
		t.Errorf("ETag after update = %q (before %q), want a new one", aws.ToString(upd.ETag), aws.ToString(cur.ETag))
	}
	if got := aws.ToString(e.getConfig(id).DistributionConfig.Origins.Items[0].OriginPath); got != "/v2" {
		t.Errorf("OriginPath = %q, want /v2", got)
	}
	t.Run("stale If-Match", func(t *testing.T) {
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cfg})
		wantAPIError(t, err, "PreconditionFailed", 412)
	})
	t.Run("CallerReference is immutable", func(t *testing.T) {
		c := e.getConfig(id)
		c.DistributionConfig.CallerReference = aws.String("other")
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "IllegalUpdate", 400)
	})
	t.Run("Staging is immutable", func(t *testing.T) {
		c := e.getConfig(id)
		c.DistributionConfig.Staging = aws.Bool(true)
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig})
		wantAPIError(t, err, "IllegalUpdate", 400)
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String("E000000000000"), IfMatch: cur.ETag, DistributionConfig: cfg})
		wantAPIError(t, err, "NoSuchDistribution", 404)
	})
	t.Run("full replacement fills defaults", func(t *testing.T) {
		c := e.getConfig(id)
		c.DistributionConfig.PriceClass = types.PriceClassPriceClass100
		c.DistributionConfig.Logging = nil
		testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: c.ETag, DistributionConfig: c.DistributionConfig}))(t)
		got := e.getConfig(id).DistributionConfig
		if got.PriceClass != types.PriceClassPriceClass100 || got.Logging == nil || aws.ToBool(got.Logging.Enabled) {
			t.Errorf("after update: PriceClass %s, Logging %+v", got.PriceClass, got.Logging)
		}
	})
}

func TestCopyDistribution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cfg := distConfig("copy-primary")
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.com"}}
	primary := e.createDistribution(cfg).Distribution
	primaryID := aws.ToString(primary.Id)
	primaryETag := e.etag(primaryID)

	out := testutil.MustGet(e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{
		PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String("stg-1"),
		IfMatch: aws.String(primaryETag), Staging: aws.Bool(true),
	}))(t)
	stg := out.Distribution
	stgID := aws.ToString(stg.Id)
	if httpStatus(t, out.ResultMetadata) != 201 {
		t.Errorf("status = %d, want 201", httpStatus(t, out.ResultMetadata))
	}
	if stgID == primaryID || !distIDRE.MatchString(stgID) {
		t.Errorf("staging Id = %q (primary %q)", stgID, primaryID)
	}
	if got, want := aws.ToString(out.Location), e.url+"/2020-05-31/distribution/"+stgID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if aws.ToString(out.ETag) != e.etag(stgID) {
		t.Errorf("ETag = %q, want the staging distribution's %q", aws.ToString(out.ETag), e.etag(stgID))
	}
	sc := stg.DistributionConfig
	if !aws.ToBool(sc.Staging) || aws.ToInt32(sc.Aliases.Quantity) != 0 || len(sc.Aliases.Items) != 0 ||
		aws.ToString(sc.ContinuousDeploymentPolicyId) != "" || aws.ToString(sc.CallerReference) != "stg-1" || !aws.ToBool(sc.Enabled) {
		t.Errorf("staging config: Staging %v, Aliases %+v, policy %q, ref %q, Enabled %v",
			aws.ToBool(sc.Staging), sc.Aliases, aws.ToString(sc.ContinuousDeploymentPolicyId), aws.ToString(sc.CallerReference), aws.ToBool(sc.Enabled))
	}
	if !reflect.DeepEqual(sc.Origins, primary.DistributionConfig.Origins) {
		t.Errorf("staging origins differ from the primary's")
	}
	if aws.ToString(sc.Origins.Items[0].OriginPath) != "/v1" {
		t.Errorf("OriginPath = %q", aws.ToString(sc.Origins.Items[0].OriginPath))
	}
	if e.etag(primaryID) != primaryETag {
		t.Error("copying changed the primary's ETag")
	}

	copyErr := func(id, ref, etag string, staging *bool) error {
		_, err := e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{
			PrimaryDistributionId: aws.String(id), CallerReference: aws.String(ref), IfMatch: aws.String(etag), Staging: staging,
		})
		return err
	}
	t.Run("duplicate reference", func(t *testing.T) {
		wantAPIError(t, copyErr(primaryID, "stg-1", primaryETag, aws.Bool(true)), "DistributionAlreadyExists", 409)
	})
	t.Run("wrong ETag", func(t *testing.T) {
		wantAPIError(t, copyErr(primaryID, "stg-2", "EAAAAAAAAAAAAA", aws.Bool(true)), "PreconditionFailed", 412)
	})
	t.Run("missing If-Match", func(t *testing.T) {
		_, err := e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{
			PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String("stg-2"), Staging: aws.Bool(true),
		})
		wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	})
	t.Run("unknown primary", func(t *testing.T) {
		wantAPIError(t, copyErr("E000000000000", "stg-3", "X", aws.Bool(true)), "NoSuchDistribution", 404)
	})
	t.Run("Staging header false or missing", func(t *testing.T) {
		wantAPIError(t, copyErr(primaryID, "stg-5", primaryETag, aws.Bool(false)), "InvalidArgument", 400)
		wantAPIError(t, copyErr(primaryID, "stg-5", primaryETag, nil), "InvalidArgument", 400)
	})
	t.Run("copy of a staging distribution", func(t *testing.T) {
		wantAPIError(t, copyErr(stgID, "stg-6", e.etag(stgID), aws.Bool(true)), "InvalidArgument", 400)
	})
	t.Run("disabled copy", func(t *testing.T) {
		res := testutil.MustGet(e.cf.CopyDistribution(ctx, &cfsdk.CopyDistributionInput{
			PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String("stg-4"),
			IfMatch: aws.String(primaryETag), Staging: aws.Bool(true), Enabled: aws.Bool(false),
		}))(t)
		if aws.ToBool(res.Distribution.DistributionConfig.Enabled) {
			t.Error("Enabled = true, want false")
		}
		testutil.MustGet(e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: res.Distribution.Id, IfMatch: res.ETag}))(t)
	})
}

func TestDeleteDistribution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := aws.ToString(e.createDistribution(distConfig("del-1")).Distribution.Id)
	etag := e.etag(id)

	_, err := e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag)})
	wantAPIError(t, err, "DistributionNotDisabled", 409)
	_, err = e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id)})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)

	cur := e.getConfig(id)
	cur.DistributionConfig.Enabled = aws.Bool(false)
	upd := testutil.MustGet(e.cf.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig}))(t)

	_, err = e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag)})
	wantAPIError(t, err, "PreconditionFailed", 412)
	del := testutil.MustGet(e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: upd.ETag}))(t)
	if httpStatus(t, del.ResultMetadata) != 204 {
		t.Errorf("status = %d, want 204", httpStatus(t, del.ResultMetadata))
	}
	_, err = e.cf.GetDistribution(ctx, &cfsdk.GetDistributionInput{Id: aws.String(id)})
	wantAPIError(t, err, "NoSuchDistribution", 404)
	_, err = e.cf.DeleteDistribution(ctx, &cfsdk.DeleteDistributionInput{Id: aws.String(id), IfMatch: upd.ETag})
	wantAPIError(t, err, "NoSuchDistribution", 404)
	// The caller reference is free again.
	e.createDistribution(distConfig("del-1"))
}

func TestListDistributions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := map[string]bool{}
	for _, ref := range []string{"list-1", "list-2", "list-3"} {
		want[aws.ToString(e.createDistribution(distConfig(ref)).Distribution.Id)] = false
	}
	primaryID := func() string {
		for id := range want {
			return id
		}
		return ""
	}()
	stg := e.copyStaging(primaryID, "list-stg")
	want[aws.ToString(stg.Id)] = true

	all := testutil.MustGet(e.cf.ListDistributions(ctx, &cfsdk.ListDistributionsInput{}))(t).DistributionList
	if aws.ToInt32(all.Quantity) != 4 || aws.ToBool(all.IsTruncated) || all.NextMarker != nil || aws.ToInt32(all.MaxItems) != 100 {
		t.Errorf("full list: Quantity %d, IsTruncated %v, NextMarker %v, MaxItems %d",
			aws.ToInt32(all.Quantity), aws.ToBool(all.IsTruncated), all.NextMarker, aws.ToInt32(all.MaxItems))
	}

	seen := map[string]bool{}
	marker := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		in := &cfsdk.ListDistributionsInput{MaxItems: aws.Int32(1)}
		if marker != "" {
			in.Marker = aws.String(marker)
		}
		l := testutil.MustGet(e.cf.ListDistributions(ctx, in))(t).DistributionList
		if aws.ToInt32(l.Quantity) != int32(len(l.Items)) || len(l.Items) != 1 || aws.ToInt32(l.MaxItems) != 1 {
			t.Fatalf("page %d: Quantity %d, %d items, MaxItems %d", page, aws.ToInt32(l.Quantity), len(l.Items), aws.ToInt32(l.MaxItems))
		}
		s := l.Items[0]
		if isStaging, ok := want[aws.ToString(s.Id)]; !ok || aws.ToBool(s.Staging) != isStaging {
			t.Errorf("summary %s: Staging %v, known %v", aws.ToString(s.Id), aws.ToBool(s.Staging), ok)
		}
		if aws.ToString(s.ETag) != e.etag(aws.ToString(s.Id)) {
			t.Errorf("summary ETag = %q, want %q", aws.ToString(s.ETag), e.etag(aws.ToString(s.Id)))
		}
		seen[aws.ToString(s.Id)] = true
		if !aws.ToBool(l.IsTruncated) {
			if l.NextMarker != nil {
				t.Errorf("last page has NextMarker %q", aws.ToString(l.NextMarker))
			}
			break
		}
		marker = aws.ToString(l.NextMarker)
		if marker == "" {
			t.Fatal("IsTruncated without NextMarker")
		}
	}
	if len(seen) != len(want) {
		t.Errorf("paging saw %d distributions, want %d", len(seen), len(want))
	}

	// The SDK's own paginator follows NextMarker too.
	n := 0
	for p := cfsdk.NewListDistributionsPaginator(e.cf, &cfsdk.ListDistributionsInput{MaxItems: aws.Int32(3)}); p.HasMorePages(); {
		n += len(testutil.MustGet(p.NextPage(ctx))(t).DistributionList.Items)
	}
	if n != 4 {
		t.Errorf("paginator saw %d distributions, want 4", n)
	}

	for _, bad := range []int32{0, -1, 1001} {
		_, err := e.cf.ListDistributions(ctx, &cfsdk.ListDistributionsInput{MaxItems: aws.Int32(bad)})
		wantAPIError(t, err, "InvalidArgument", 400)
	}
}
