package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store"
)

const ns = `xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"`

// cliCreateBody is what `aws cloudfront create-distribution
// --origin-domain-name` sends (captured from botocore): no XML declaration,
// self-closing empty strings, legacy ForwardedValues.
const cliCreateBody = `<DistributionConfig ` + ns + `><CallerReference>cli-example</CallerReference>` +
	`<Origins><Quantity>1</Quantity><Items><Origin><Id>127.0.0.1-1</Id><DomainName>127.0.0.1</DomainName><OriginPath />` +
	`<CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>` +
	`</Origin></Items></Origins><DefaultRootObject>index.html</DefaultRootObject>` +
	`<DefaultCacheBehavior><TargetOriginId>127.0.0.1-1</TargetOriginId>` +
	`<ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues>` +
	`<TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>` +
	`<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><MinTTL>0</MinTTL></DefaultCacheBehavior>` +
	`<Comment /><Enabled>true</Enabled></DistributionConfig>`

func TestWireFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.rawRequest("POST", "/2020-05-31/distribution", nil, []byte(cliCreateBody), false)
	if resp.status != 201 {
		t.Fatalf("status = %d, body %s", resp.status, resp.body)
	}
	id := between(resp.body, "<Id>", "</Id>")
	for name, want := range map[string]string{
		"Content-Type": "text/xml",
		"Location":     e.url + "/2020-05-31/distribution/" + id,
	} {
		if got := resp.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if etag := resp.header.Get("ETag"); !etagRE.MatchString(etag) {
		t.Errorf("ETag = %q, want unquoted E + 13", etag)
	}
	if rid := resp.header.Get("X-Amzn-Requestid"); !uuidRE.MatchString(rid) {
		t.Errorf("x-amzn-RequestId = %q, want a UUID", rid)
	}
	wantIn := []string{
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Distribution ` + ns + `><Id>`,
		`<Aliases><Quantity>0</Quantity></Aliases>`,
		`<OriginPath></OriginPath>`,
		`<Comment></Comment>`,
		`<MinTTL>0</MinTTL><DefaultTTL>86400</DefaultTTL><MaxTTL>31536000</MaxTTL>`,
		`<ContinuousDeploymentPolicyId></ContinuousDeploymentPolicyId><Staging>false</Staging></DistributionConfig></Distribution>`,
		`<CacheBehaviors><Quantity>0</Quantity></CacheBehaviors>`,
	}
	for _, want := range wantIn {
		if !strings.Contains(resp.body, want) {
			t.Errorf("response lacks %q:\n%s", want, resp.body)
		}
	}
	if strings.Contains(resp.body, "<Items></Items>") {
		t.Errorf("response has an empty <Items> wrapper:\n%s", resp.body)
	}

	got := e.rawRequest("GET", "/2020-05-31/distribution/"+id+"/config", nil, nil, false)
	if got.status != 200 || !strings.HasPrefix(got.body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<DistributionConfig `+ns+`><CallerReference>cli-example</CallerReference>`) {
		t.Errorf("get config: %d %s", got.status, got.body)
	}
	if got.header.Get("ETag") != resp.header.Get("ETag") {
		t.Errorf("get config ETag %q, create ETag %q", got.header.Get("ETag"), resp.header.Get("ETag"))
	}
	list := e.rawRequest("GET", "/2020-05-31/distribution", nil, nil, false)
	if list.header.Get("ETag") != "" || !strings.Contains(list.body, "<DistributionList "+ns+"><Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>1</Quantity>") {
		t.Errorf("list: ETag %q, body %s", list.header.Get("ETag"), list.body)
	}

	// A quoted If-Match (generic HTTP tooling) is accepted.
	put := e.rawRequest("PUT", "/2020-05-31/distribution/"+id+"/config",
		http.Header{"If-Match": {`"` + got.header.Get("ETag") + `"`}}, []byte(strings.Replace(cliCreateBody, "<Comment />", "<Comment>changed</Comment>", 1)), false)
	if put.status != 200 {
		t.Errorf("update with quoted If-Match: %d %s", put.status, put.body)
	}
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.rawRequest("POST", "/2020-05-31/distribution", nil, []byte(cliCreateBody), false)
	id := between(created.body, "<Id>", "</Id>")
	etagHdr := http.Header{"If-Match": {created.header.Get("ETag")}}
	cases := []struct {
		name, method, path string
		header             http.Header
		body               string
		code               string
		status             int
	}{
		{"empty create", "POST", "/2020-05-31/distribution", nil, "", "MissingBody", 400},
		{"whitespace create", "POST", "/2020-05-31/distribution", nil, " \n\t", "MissingBody", 400},
		{"empty update", "PUT", "/2020-05-31/distribution/" + id + "/config", etagHdr, "", "MissingBody", 400},
		{"empty copy", "POST", "/2020-05-31/distribution/" + id + "/copy", etagHdr, "", "MissingBody", 400},
		{"empty policy", "POST", "/2020-05-31/continuous-deployment-policy", nil, "", "MissingBody", 400},
		{"empty invalidation", "POST", "/2020-05-31/distribution/" + id + "/invalidation", nil, "", "MissingBody", 400},
		{"empty OAC", "POST", "/2020-05-31/origin-access-control", nil, "", "MissingBody", 400},
		{"empty tags", "POST", "/2020-05-31/tagging?Operation=Tag&Resource=arn:aws:cloudfront::123456789012:distribution/" + id, nil, "", "MissingBody", 400},
		{"not XML", "POST", "/2020-05-31/distribution", nil, "{\"CallerReference\":\"x\"}", "MalformedInput", 400},
		{"unclosed", "POST", "/2020-05-31/distribution", nil, "<DistributionConfig " + ns + "><Comment>x</Comment>", "MalformedInput", 400},
		{"wrong root", "POST", "/2020-05-31/distribution", nil, "<Distribution " + ns + "/>", "MalformedInput", 400},
		{"foreign namespace", "POST", "/2020-05-31/distribution", nil, `<DistributionConfig xmlns="urn:other"/>`, "MalformedInput", 400},
		{"two roots", "POST", "/2020-05-31/distribution", nil, "<DistributionConfig/><DistributionConfig/>", "MalformedInput", 400},
		{"text after root", "POST", "/2020-05-31/distribution", nil, "<DistributionConfig/>trailing", "MalformedInput", 400},
		{"bad integer", "POST", "/2020-05-31/distribution", nil, strings.Replace(cliCreateBody, "<HTTPPort>80", "<HTTPPort>eighty", 1), "MalformedInput", 400},
		{"bad boolean", "POST", "/2020-05-31/distribution", nil, strings.Replace(cliCreateBody, "<Enabled>true</Enabled></Dist", "<Enabled>yes</Enabled></Dist", 1), "MalformedInput", 400},
		{"undeclared entity", "POST", "/2020-05-31/distribution", nil, strings.Replace(cliCreateBody, "<Comment />", "<Comment>&nbsp;</Comment>", 1), "MalformedInput", 400},
		{"declared charset", "POST", "/2020-05-31/distribution", nil, `<?xml version="1.0" encoding="ISO-8859-1"?>` + cliCreateBody, "MalformedInput", 400},
		{"missing required member", "POST", "/2020-05-31/distribution", nil,
			strings.NewReplacer("<Enabled>true</Enabled></Dist", "</Dist", "cli-example", "cli-no-enabled").Replace(cliCreateBody), "InvalidArgument", 400},
		{"WithTags without config", "POST", "/2020-05-31/distribution?WithTags", nil, "<DistributionConfigWithTags " + ns + "><Tags/></DistributionConfigWithTags>", "InvalidArgument", 400},
		{"WithTags with a plain config", "POST", "/2020-05-31/distribution?WithTags", nil, cliCreateBody, "MalformedInput", 400},
		{"too large", "POST", "/2020-05-31/distribution", nil, "<DistributionConfig " + ns + "><Comment>" + strings.Repeat("x", 2<<20) + "</Comment></DistributionConfig>", "RequestEntityTooLarge", 413},
		{"MaxItems not a number", "GET", "/2020-05-31/distribution?MaxItems=abc", nil, "", "InvalidArgument", 400},
		{"MaxItems zero", "GET", "/2020-05-31/continuous-deployment-policy?MaxItems=0", nil, "", "InvalidArgument", 400},
		{"MaxItems too big", "GET", "/2020-05-31/origin-access-control?MaxItems=1001", nil, "", "InvalidArgument", 400},
		{"cache policy Type", "GET", "/2020-05-31/cache-policy?Type=mine", nil, "", "InvalidArgument", 400},
		{"tagging without Operation", "POST", "/2020-05-31/tagging?Resource=arn:aws:cloudfront::123456789012:distribution/" + id, nil, "<Tags " + ns + "/>", "InvalidArgument", 400},
		{"tagging without Resource", "GET", "/2020-05-31/tagging", nil, "", "InvalidArgument", 400},
		{"promote without staging id", "PUT", "/2020-05-31/distribution/" + id + "/promote-staging-config", http.Header{"If-Match": {"A,B"}}, "", "InvalidArgument", 400},
		{"unknown path", "GET", "/2020-05-31/nothing-here", nil, "", "NotFound", 404},
		{"unknown sub-resource", "GET", "/2020-05-31/distribution/" + id + "/nothing", nil, "", "NotFound", 404},
		{"other API version", "GET", "/2019-03-26/distribution", nil, "", "NotFound", 404},
		{"wrong method", "PATCH", "/2020-05-31/distribution/" + id, nil, "", "MethodNotAllowed", 405},
		{"POST on a config", "POST", "/2020-05-31/distribution/" + id + "/config", nil, "", "MethodNotAllowed", 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.rawRequest(tc.method, tc.path, tc.header, []byte(tc.body), false)
			wantRawError(t, resp, tc.code, tc.status)
			if tc.status == 405 && resp.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	allow := e.rawRequest("PATCH", "/2020-05-31/distribution/"+id, nil, nil, false).header.Get("Allow")
	if allow != "GET, DELETE" {
		t.Errorf("Allow = %q, want \"GET, DELETE\"", allow)
	}
	if got := e.rawRequest("GET", "/2020-05-31/distribution?MaxItems=", nil, nil, false); got.status != 200 {
		t.Errorf("empty MaxItems: %d %s", got.status, got.body)
	}
}

// brokenStore fails every read with an error that must not reach clients.
type brokenStore struct{ store.Store }

var errDisk = errors.New("bolt: read /var/lib/stagefront/secret.db: input/output error")

func (brokenStore) Get(context.Context, string) (store.KV, error) { return store.KV{}, errDisk }
func (brokenStore) List(context.Context, string) ([]store.KV, int64, error) {
	return nil, 0, errDisk
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	log := &errorLog{}
	h := api.New(control.New(brokenStore{}, control.Options{}), api.Options{Verifier: auth.None(), Logger: slog.New(log)})
	for _, path := range []string{"/2020-05-31/distribution/E123", "/2020-05-31/distribution"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		header := http.Header{}
		for k, vs := range rec.Result().Header { // as a client sees them: canonical names
			for _, v := range vs {
				header.Add(k, v)
			}
		}
		resp := rawResponse{status: rec.Code, header: header, body: rec.Body.String()}
		wantRawError(t, resp, "InternalError", 500)
		if strings.Contains(resp.body, "secret.db") || strings.Contains(resp.body, "bolt") {
			t.Errorf("the 500 body leaks the cause: %s", resp.body)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.records) != 2 || !strings.Contains(log.records[0], "secret.db") {
		t.Errorf("internal errors were not logged with their cause: %q", log.records)
	}
}
