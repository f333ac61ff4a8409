package api_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/api"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/testutil"
)

// filler sets every member of a generated shape to a valid, non-default
// value: enums from cloudfront.Enums, numbers inside CloudFront's bounds,
// one item per list (Quantity matching). Members the validation rules of
// internal/cloudfront tie together are fixed up by fullDistributionConfig.
type filler struct {
	strings map[string]string // member name → value
	ints    map[string]int64
	bools   map[string]bool
	lists   map[string][]string // "Shape.Member" → items
}

func newFiller(oacID string) *filler {
	return &filler{
		strings: map[string]string{
			"CallerReference": "every-member", "Comment": "every member is set", "DefaultRootObject": "index.html",
			"OriginPath": "/v1", "DomainName": "origin.example.com", "TargetOriginId": "o1", "OriginId": "o1",
			"PathPattern": "/api/*", "CachePolicyId": cachingOptimized, "OriginRequestPolicyId": allViewerExceptHostHeader,
			"ResponseHeadersPolicyId": "60669652-455b-4ae9-85a4-c4c02393f86c", // SimpleCORS
			"ResponsePagePath":        "/error.html",
			"ResponseCode":            "200", "ContinuousDeploymentPolicyId": "", "OriginAccessControlId": oacID,
			"RestrictionType": "whitelist", "Bucket": "logs.s3.amazonaws.com", "PriceClass": "PriceClass_100", "HttpVersion": "http1.1",
			"Forward": "whitelist", "ViewerProtocolPolicy": "redirect-to-https", "OriginProtocolPolicy": "https-only",
			"SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021", "CertificateSource": "acm",
		},
		ints: map[string]int64{
			"HTTPPort": 8080, "HTTPSPort": 8443, "OriginReadTimeout": 60, "OriginKeepaliveTimeout": 15,
			"ConnectionAttempts": 2, "ConnectionTimeout": 7, "ErrorCode": 404, "MinTTL": 1, "DefaultTTL": 100,
			"MaxTTL": 1000, "ErrorCachingMinTTL": 30,
		},
		bools: map[string]bool{"Staging": false, "IsIPV6Enabled": false},
		lists: map[string][]string{
			"AllowedMethods.Items": {"GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "DELETE"},
			"CachedMethods.Items":  {"GET", "HEAD", "OPTIONS"},
			"Aliases.Items":        {"www.example.com", "*.static.example.com"},
			"GeoRestriction.Items": {"US", "DE"},
		},
	}
}

func (f *filler) fill(v reflect.Value, shape, member string) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), shape, member)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			fld := t.Field(i)
			if fld.Name == "Unknown" || !fld.IsExported() {
				continue
			}
			f.fill(v.Field(i), t.Name(), fld.Name)
			if enum := fld.Tag.Get("enum"); enum != "" && v.Field(i).Kind() == reflect.Pointer {
				if _, fixed := f.strings[fld.Name]; !fixed {
					values := cf.Enums[enum]
					v.Field(i).Elem().SetString(values[len(values)-1])
				}
			}
			if enum := fld.Tag.Get("enum"); enum != "" && v.Field(i).Kind() == reflect.Slice {
				if _, fixed := f.lists[t.Name()+"."+fld.Name]; !fixed {
					v.Field(i).Index(0).SetString(cf.Enums[enum][0])
				}
			}
		}
		if q, items := v.FieldByName("Quantity"), v.FieldByName("Items"); q.IsValid() && items.IsValid() {
			q.Elem().SetInt(int64(items.Len()))
		}
	case reflect.Slice:
		if items, ok := f.lists[shape+"."+member]; ok {
			v.Set(reflect.ValueOf(items))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		if v.Type().Elem().Kind() == reflect.Int32 {
			v.Index(0).SetInt(502)
			return
		}
		f.fill(v.Index(0), shape, member)
	case reflect.String:
		if s, ok := f.strings[member]; ok {
			v.SetString(s)
		} else {
			v.SetString(fmt.Sprintf("%s-%s-value", shape, member))
		}
	case reflect.Bool:
		b, ok := f.bools[member]
		v.SetBool(!ok || b)
	case reflect.Int32, reflect.Int64:
		n, ok := f.ints[member]
		if !ok {
			n = 7
		}
		v.SetInt(n)
	default:
		panic(fmt.Sprintf("filler: %s.%s has unhandled kind %s", shape, member, v.Kind()))
	}
}

func fillNew[T any](f *filler, shape, member string) *T {
	v := new(T)
	f.fill(reflect.ValueOf(v).Elem(), shape, member)
	return v
}

// fullDistributionConfig sets every member of DistributionConfig at least
// once. Members that exclude each other are spread over several items:
// three origins (custom, S3, VPC), and behaviors with a cache policy or
// with the legacy ForwardedValues and TTLs; legacyDefault says which kind
// the default behavior is.
func fullDistributionConfig(oacID string, legacyDefault bool) *cf.DistributionConfig {
	f := newFiller(oacID)
	c := fillNew[cf.DistributionConfig](f, "", "")

	origins := make([]cf.Origin, 3)
	for i := range origins {
		o := fillNew[cf.Origin](f, "Origins", "Items")
		o.Id = cf.String(fmt.Sprintf("o%d", i+1))
		switch i {
		case 0:
			o.S3OriginConfig, o.VpcOriginConfig = nil, nil
		case 1:
			o.CustomOriginConfig, o.VpcOriginConfig = nil, nil
			o.DomainName = cf.String("bucket.s3.us-east-1.amazonaws.com")
		case 2:
			o.CustomOriginConfig, o.S3OriginConfig = nil, nil
			o.OriginAccessControlId = cf.String("")
		}
		origins[i] = *o
	}
	origins[0].Unknown = []cf.RawXML{{XMLName: xml.Name{Local: "FutureOriginField"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "mode"}, Value: "fast & safe"}}, Inner: "<Nested><Deep>1</Deep></Nested>"}}
	c.Origins = &cf.Origins{Quantity: cf.Int32(3), Items: origins}
	c.OriginGroups.Items[0].Id = cf.String("group1")
	c.OriginGroups.Items[0].Members = &cf.OriginGroupMembers{Quantity: cf.Int32(2), Items: []cf.OriginGroupMember{
		{OriginId: cf.String("o1")}, {OriginId: cf.String("o2")}}}

	withPolicy := fillNew[cf.CacheBehavior](f, "CacheBehaviors", "Items")
	withPolicy.ForwardedValues, withPolicy.MinTTL, withPolicy.DefaultTTL, withPolicy.MaxTTL = nil, nil, nil, nil
	legacy := fillNew[cf.CacheBehavior](f, "CacheBehaviors", "Items")
	legacy.CachePolicyId, legacy.OriginRequestPolicyId = nil, nil // an origin request policy needs a cache policy
	legacy.PathPattern = cf.String("/legacy/*")
	legacy.TargetOriginId = cf.String("group1")
	c.CacheBehaviors = &cf.CacheBehaviors{Quantity: cf.Int32(2), Items: []cf.CacheBehavior{*withPolicy, *legacy}}
	if legacyDefault {
		c.DefaultCacheBehavior.CachePolicyId, c.DefaultCacheBehavior.OriginRequestPolicyId = nil, nil
	} else {
		c.DefaultCacheBehavior.ForwardedValues = nil
		c.DefaultCacheBehavior.MinTTL, c.DefaultCacheBehavior.DefaultTTL, c.DefaultCacheBehavior.MaxTTL = nil, nil, nil
	}
	c.Unknown = []cf.RawXML{{XMLName: xml.Name{Local: "FutureField"}, Inner: "x"}}
	disableUnenforced(c)
	return c
}

// unenforcedLists are the lists the API refuses to see filled while the
// edge does not enforce what they ask for (see internal/cloudfront/access.go):
// the round trip leaves them empty, and the member checks skip what is
// below them.
var unenforcedLists = []string{".TrustedKeyGroups.Items", ".FunctionAssociations.Items",
	".LambdaFunctionAssociations.Items", ".GeoRestriction.Items"}

func unenforcedMember(path string) bool {
	for _, l := range unenforcedLists {
		if strings.Contains(path, l) {
			return true
		}
	}
	return false
}

// disableUnenforced turns off, in the filled config, every access control
// the API refuses: each member stays set, to its inert value.
func disableUnenforced(c *cf.DistributionConfig) {
	each := func(ts *cf.TrustedSigners, tkg *cf.TrustedKeyGroups, fa *cf.FunctionAssociations, lfa *cf.LambdaFunctionAssociations, fle, rtl *string) {
		ts.Enabled = cf.Bool(false)
		tkg.Enabled, tkg.Quantity, tkg.Items = cf.Bool(false), cf.Int32(0), nil
		fa.Quantity, fa.Items = cf.Int32(0), nil
		lfa.Quantity, lfa.Items = cf.Int32(0), nil
		*fle, *rtl = "", ""
	}
	d := c.DefaultCacheBehavior
	each(d.TrustedSigners, d.TrustedKeyGroups, d.FunctionAssociations, d.LambdaFunctionAssociations, d.FieldLevelEncryptionId, d.RealtimeLogConfigArn)
	for i := range c.CacheBehaviors.Items {
		b := &c.CacheBehaviors.Items[i]
		each(b.TrustedSigners, b.TrustedKeyGroups, b.FunctionAssociations, b.LambdaFunctionAssociations, b.FieldLevelEncryptionId, b.RealtimeLogConfigArn)
	}
	c.Restrictions.GeoRestriction = &cf.GeoRestriction{RestrictionType: cf.String("none"), Quantity: cf.Int32(0)}
	c.WebACLId = cf.String("")
}

// marshalRequest encodes a request document with the standard library's
// encoder, independent of the server's own.
func marshalRequest(t testing.TB, root string, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Local: root}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: cf.Namespace}}}
	if err := enc.EncodeElement(v, start); err != nil {
		t.Fatalf("marshal %s: %v", root, err)
	}
	return buf.Bytes()
}

// members records every member path of v's type reached (all) and those
// holding a value in at least one place (set).
func members(v reflect.Value, path string, all, set map[string]bool) {
	all[path] = true
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			set[path] = true
			members(v.Elem(), path, all, set)
		}
	case reflect.Slice:
		if v.Len() > 0 {
			set[path] = true
		}
		for i := range v.Len() {
			members(v.Index(i), path, all, set)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if name := v.Type().Field(i).Name; name != "Unknown" {
				members(v.Field(i), path+"."+name, all, set)
			}
		}
	default:
		set[path] = true
	}
}

// typePaths lists every member path of the model below t.
func typePaths(t reflect.Type, path string, out map[string]bool) {
	out[path] = true
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Name != "Unknown" && f.IsExported() {
			typePaths(f.Type, path+"."+f.Name, out)
		}
	}
}

func TestDistributionConfigRoundTripIsLossless(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	oac := testutil.MustGet(e.cf.CreateOriginAccessControl(ctx, &cfsdk.CreateOriginAccessControlInput{OriginAccessControlConfig: oacConfig("rt")}))(t)
	oacID := aws.ToString(oac.OriginAccessControl.Id)
	oai := testutil.MustGet(e.cf.CreateCloudFrontOriginAccessIdentity(ctx, &cfsdk.CreateCloudFrontOriginAccessIdentityInput{
		CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("rt"), Comment: aws.String("")}}))(t)
	oaiPath := "origin-access-identity/cloudfront/" + aws.ToString(oai.CloudFrontOriginAccessIdentity.Id)

	// Every member reached is set somewhere across the two variants.
	all, set := map[string]bool{}, map[string]bool{}
	members(reflect.ValueOf(fullDistributionConfig(oacID, false)), "DistributionConfig", all, set)
	members(reflect.ValueOf(fullDistributionConfig(oacID, true)), "DistributionConfig", all, set)
	for path := range all {
		if !set[path] && !unenforcedMember(path) {
			t.Errorf("member %s is set in neither variant", path)
		}
	}
	model := map[string]bool{}
	typePaths(reflect.TypeFor[cf.DistributionConfig](), "DistributionConfig", model)
	for path := range model {
		if !all[path] && !unenforcedMember(path) {
			t.Errorf("model member %s was never reached by the filler", path)
		}
	}
	t.Logf("%d member paths of DistributionConfig, all set", len(model))

	for _, legacyDefault := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy default behavior %v", legacyDefault), func(t *testing.T) {
			want := fullDistributionConfig(oacID, legacyDefault)
			// The S3 origin uses a legacy origin access identity, which
			// excludes an origin access control on the same origin.
			want.Origins.Items[1].S3OriginConfig.OriginAccessIdentity = cf.String(oaiPath)
			want.Origins.Items[1].OriginAccessControlId = cf.String("")
			want.CallerReference = cf.String(fmt.Sprintf("every-member-%v", legacyDefault))
			if legacyDefault {
				want.Aliases.Items = []string{"www2.example.com", "*.static2.example.com"}
			}
			body := marshalRequest(t, "DistributionConfig", want)
			if !bytes.Contains(body, []byte("<FutureField>x</FutureField>")) {
				t.Fatalf("request lacks the unknown element:\n%s", body)
			}
			created := e.rawRequest("POST", "/2020-05-31/distribution", nil, body, false)
			if created.status != 201 {
				t.Fatalf("create: %d %s", created.status, created.body)
			}
			id := between(created.body, "<Id>", "</Id>")
			check := func(step string) {
				t.Helper()
				got := e.rawRequest("GET", "/2020-05-31/distribution/"+id+"/config", nil, nil, false)
				var cfg cf.DistributionConfig
				if err := api.DecodeXML([]byte(got.body), "DistributionConfig", &cfg); err != nil {
					t.Fatalf("%s: decoding GET config: %v", step, err)
				}
				if !reflect.DeepEqual(&cfg, want) {
					t.Errorf("%s: GET config differs from what was sent\nsent: %s\ngot:  %s", step, body, got.body)
				}
				if !strings.Contains(got.body, "<FutureField>x</FutureField>") ||
					!strings.Contains(got.body, `<FutureOriginField mode="fast &amp; safe"><Nested><Deep>1</Deep></Nested></FutureOriginField>`) {
					t.Errorf("%s: unknown elements lost:\n%s", step, got.body)
				}
				var dist cf.Distribution
				full := e.rawRequest("GET", "/2020-05-31/distribution/"+id, nil, nil, false)
				if err := api.DecodeXML([]byte(full.body), "Distribution", &dist); err != nil {
					t.Fatalf("%s: decoding GET distribution: %v", step, err)
				}
				if !reflect.DeepEqual(dist.DistributionConfig, want) {
					t.Errorf("%s: GetDistribution's config differs from what was sent", step)
				}
			}
			check("after create")

			// The SDK reads the document too (it ignores what it does not know).
			sdkCfg := e.getConfig(id).DistributionConfig
			if len(sdkCfg.Origins.Items) != 3 || aws.ToString(sdkCfg.Origins.Items[0].OriginAccessControlId) != oacID ||
				aws.ToString(sdkCfg.Origins.Items[1].S3OriginConfig.OriginAccessIdentity) != oaiPath {
				t.Errorf("SDK view of the config: %+v", sdkCfg.Origins)
			}

			// A full-replacement update with the same document keeps it all.
			put := e.rawRequest("PUT", "/2020-05-31/distribution/"+id+"/config", http.Header{"If-Match": {created.header.Get("ETag")}}, body, false)
			if put.status != 200 {
				t.Fatalf("update: %d %s", put.status, put.body)
			}
			check("after update")
		})
	}
}
