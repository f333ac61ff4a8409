package edge_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/edge/origin/mototest"
)

// s3Put stores an object (or creates a bucket with a nil body) with a plain,
// unsigned PUT, which moto accepts.
func s3Put(t *testing.T, endpoint *url.URL, path string, body []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(http.MethodPut, endpoint.String()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/html")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: status %d", path, resp.StatusCode)
	}
}

func seedPage(version string) string {
	return fmt.Sprintf("<!DOCTYPE html><html lang=\"ja\"><body><h1>%s App</h1></body></html>\n", version)
}

// versionOf names the page a body is ("v1", "v2", "v3"), or "?".
func versionOf(body string) string {
	for _, v := range []string{"v1", "v2", "v3"} {
		if body == seedPage(v) {
			return v
		}
	}
	return "?"
}

// TestSeedArticleS3 replays the mamezou article "Executing Continuous
// Deployment of CloudFront from a Pipeline" (S3 folders 1.0.0, 2.0.0 and
// 3.0.0 behind one primary distribution with an OAC) end to end: header
// routing, promotion, weighted routing with sticky sessions. The bucket is
// served by moto_server; the edge signs with SigV4 because of the OAC
// (moto refuses unsigned GETs of private objects).
func TestSeedArticleS3(t *testing.T) {
	moto := mototest.Start(t)
	s3Put(t, moto, "/website", nil)
	for i, v := range []string{"v1", "v2", "v3"} {
		s3Put(t, moto, fmt.Sprintf("/website/%d.0.0/index.html", i+1), []byte(seedPage(v)))
	}
	draw := seededDraw(20240128)
	h := newHarness(t, harnessOptions{s3Endpoint: moto, draw: draw})

	oac := must[*cfsdk.CreateOriginAccessControlOutput](t)(h.cf.CreateOriginAccessControl(h.ctx, &cfsdk.CreateOriginAccessControlInput{
		OriginAccessControlConfig: &types.OriginAccessControlConfig{
			Name:                          aws.String("website-oac"),
			OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
			SigningBehavior:               types.OriginAccessControlSigningBehaviorsAlways,
			SigningProtocol:               types.OriginAccessControlSigningProtocolsSigv4,
		},
	}))
	primary := h.createDistribution(&types.DistributionConfig{
		CallerReference:   aws.String("seed-primary"),
		Comment:           aws.String("seed article primary"),
		Enabled:           aws.Bool(true),
		HttpVersion:       types.HttpVersionHttp2,
		DefaultRootObject: aws.String("index.html"),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id:                    aws.String("website-resources"),
			DomainName:            aws.String("website.s3.us-east-1.amazonaws.com"),
			OriginPath:            aws.String("/1.0.0"),
			OriginAccessControlId: oac.OriginAccessControl.Id,
			S3OriginConfig:        &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId:       aws.String("website-resources"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId:        aws.String(cachingDisabled),
		},
	})
	h.waitServed()

	version := func(domain, path string, header http.Header) string {
		t.Helper()
		r := h.get(domain, path, header)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s%s: status %d: %s", domain, path, r.status, r.body)
		}
		return versionOf(r.body)
	}
	staging := http.Header{"Aws-Cf-Cd-Env": {"staging"}}

	// The primary serves v1 from 1.0.0, for "/" (DefaultRootObject) and by name.
	for _, path := range []string{"/", "/index.html"} {
		if got := version(primary.domain, path, nil); got != "v1" {
			t.Fatalf("primary %s = %s, want v1", path, got)
		}
	}

	// Header-based routing (v1 → v2).
	stg := h.copyStaging(primary.id, "seed-staging")
	h.setOriginPath(stg.id, "/2.0.0")
	policyID := h.createPolicy(headerPolicy(stg.domain, "staging"))
	h.attach(primary.id, policyID)
	h.waitServed()
	for i := range 5 {
		if got := version(primary.domain, "/index.html", staging); got != "v2" {
			t.Fatalf("request %d with %s: staging: got %s, want v2", i, cdHeader, got)
		}
		if got := version(primary.domain, "/index.html", nil); got != "v1" {
			t.Fatalf("request %d without the header: got %s, want v1", i, got)
		}
	}
	if got := version(primary.domain, "/index.html", http.Header{"Aws-Cf-Cd-Env": {"Staging"}}); got != "v1" {
		t.Errorf("header value is case-sensitive: got %s, want v1", got)
	}
	if r := h.get(stg.domain, "/index.html", nil); r.status != http.StatusForbidden || r.header.Get("X-Cache") != "Error from stagefront" {
		t.Errorf("staging domain directly: status %d X-Cache %q, want 403 Error", r.status, r.header.Get("X-Cache"))
	}

	// Promote: all traffic gets v2.
	h.promote(primary.id, stg.id)
	h.waitServed()
	for i := range 5 {
		for _, hdr := range []http.Header{nil, staging} {
			if got := version(primary.domain, "/", hdr); got != "v2" {
				t.Fatalf("after promotion, request %d (header %v): got %s, want v2", i, hdr, got)
			}
		}
	}

	// Weight-based routing (v2 → v3): 15% with sticky sessions.
	h.setOriginPath(stg.id, "/3.0.0")
	h.updatePolicy(policyID, weightPolicy(stg.domain, 0.15, 300, 600))
	h.waitServed()
	// Every request makes exactly one draw, so the share on v3 is fixed by
	// the seed whatever order the concurrent requests take their draws in.
	const n = 3000
	var v3 atomic.Int64
	parallel(t, 4, n, func(i int) error {
		r, err := h.do(http.MethodGet, primary.domain, "/index.html", nil)
		if err != nil {
			return err
		}
		switch got := versionOf(r.body); {
		case r.status != http.StatusOK:
			return fmt.Errorf("weighted request %d: status %d", i, r.status)
		case got == "v3":
			v3.Add(1)
		case got != "v2":
			return fmt.Errorf("weighted request %d: got %q", i, r.body)
		}
		return nil
	})
	share := float64(v3.Load()) / n
	t.Logf("weighted: %d of %d requests (%.2f%%) on v3", v3.Load(), n, 100*share)
	if share < 0.13 || share > 0.17 {
		t.Errorf("staging share = %.4f, want 0.15 ± 0.02", share)
	}

	// Clients that keep their cookie stay on one version for 100 requests.
	var onV3 atomic.Int64
	const clients = 12
	parallel(t, 4, clients, func(c int) error {
		var cookie, first string
		for i := range 100 {
			var hdr http.Header
			if cookie != "" {
				hdr = http.Header{"Cookie": {cookie}}
			}
			r, err := h.do(http.MethodGet, primary.domain, "/index.html", hdr)
			if err != nil {
				return err
			}
			if r.status != http.StatusOK {
				return fmt.Errorf("client %d request %d: status %d", c, i, r.status)
			}
			got := versionOf(r.body)
			if first == "" {
				first = got
			} else if got != first {
				return fmt.Errorf("client %d request %d: got %s, its session started on %s", c, i, got, first)
			}
			sc := r.header.Get("Set-Cookie")
			if sc == "" {
				return fmt.Errorf("client %d request %d: no Set-Cookie", c, i)
			}
			cookie, _, _ = strings.Cut(sc, ";")
		}
		if first == "v3" {
			onV3.Add(1)
		}
		return nil
	})
	t.Logf("sticky clients on v3: %d of %d", onV3.Load(), clients)
}
