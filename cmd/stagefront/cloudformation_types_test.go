package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/testutil"
)

// policiesTemplate uses every CloudFront type besides the seed's: the
// distribution names the cache, origin request and response headers
// policies, the origin access identity and the key group by Ref, so the
// stack must create them first and delete them last.
func policiesTemplate(t *testing.T, encodedKey string) string {
	t.Helper()
	indented := "          " + strings.ReplaceAll(strings.TrimSpace(encodedKey), "\n", "\n          ")
	body := `Parameters:
  Label:
    Type: String
Resources:
  Cache:
    Type: AWS::CloudFront::CachePolicy
    Properties:
      CachePolicyConfig:
        Name: !Sub "${AWS::StackName}-cache"
        Comment: !Ref Label
        DefaultTTL: 86400
        MaxTTL: 31536000
        MinTTL: 1
        ParametersInCacheKeyAndForwardedToOrigin:
          EnableAcceptEncodingGzip: true
          EnableAcceptEncodingBrotli: true
          CookiesConfig: {CookieBehavior: none}
          HeadersConfig: {HeaderBehavior: whitelist, Headers: [X-Variant]}
          QueryStringsConfig: {QueryStringBehavior: whitelist, QueryStrings: [v]}
  OriginRequest:
    Type: AWS::CloudFront::OriginRequestPolicy
    Properties:
      OriginRequestPolicyConfig:
        Name: !Sub "${AWS::StackName}-origin"
        Comment: !Ref Label
        CookiesConfig: {CookieBehavior: none}
        HeadersConfig: {HeaderBehavior: whitelist, Headers: [X-Trace]}
        QueryStringsConfig: {QueryStringBehavior: all}
  ResponseHeaders:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig:
        Name: !Sub "${AWS::StackName}-headers"
        Comment: !Ref Label
        CustomHeadersConfig:
          Items:
            - {Header: X-Stack-Label, Value: !Ref Label, Override: true}
        SecurityHeadersConfig:
          ContentTypeOptions: {Override: true}
  Identity:
    Type: AWS::CloudFront::CloudFrontOriginAccessIdentity
    Properties:
      CloudFrontOriginAccessIdentityConfig: {Comment: !Ref Label}
  Key:
    Type: AWS::CloudFront::PublicKey
    Properties:
      PublicKeyConfig:
        CallerReference: !Sub "${AWS::StackName}-key"
        Name: !Sub "${AWS::StackName}-key"
        Comment: !Ref Label
        EncodedKey: |
` + indented + `
  Group:
    Type: AWS::CloudFront::KeyGroup
    Properties:
      KeyGroupConfig: {Name: !Sub "${AWS::StackName}-group", Comment: !Ref Label, Items: [!Ref Key]}
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Comment: !Ref Label
        Origins:
          - Id: bucket
            DomainName: site.s3.us-east-1.amazonaws.com
            OriginPath: /1.0.0
            S3OriginConfig:
              OriginAccessIdentity: !Sub "origin-access-identity/cloudfront/${Identity}"
        DefaultCacheBehavior:
          TargetOriginId: bucket
          ViewerProtocolPolicy: allow-all
          CachePolicyId: !Ref Cache
          OriginRequestPolicyId: !GetAtt OriginRequest.Id
          ResponseHeadersPolicyId: !Ref ResponseHeaders
        CacheBehaviors:
          - PathPattern: /private/*
            TargetOriginId: bucket
            ViewerProtocolPolicy: allow-all
            CachePolicyId: !Ref Cache
            TrustedKeyGroups: [!Ref Group]
Outputs:
  CacheId: {Value: !Ref Cache}
  CacheModified: {Value: !GetAtt Cache.LastModifiedTime}
  OriginRequestId: {Value: !Ref OriginRequest}
  OriginRequestModified: {Value: !GetAtt OriginRequest.LastModifiedTime}
  ResponseHeadersId: {Value: !GetAtt ResponseHeaders.Id}
  ResponseHeadersModified: {Value: !GetAtt ResponseHeaders.LastModifiedTime}
  IdentityId: {Value: !Ref Identity}
  IdentityCanonicalUser: {Value: !GetAtt Identity.S3CanonicalUserId}
  KeyId: {Value: !GetAtt Key.Id}
  KeyCreated: {Value: !GetAtt Key.CreatedTime}
  GroupId: {Value: !Ref Group}
  GroupModified: {Value: !GetAtt Group.LastModifiedTime}
  SiteDomain: {Value: !GetAtt Site.DomainName}
`
	path := filepath.Join(t.TempDir(), "policies.yml")
	testutil.Must(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	testutil.Must(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	testutil.Must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestCloudFormationPolicyTypesWithTheCLI deploys the cache, origin
// request and response headers policies, an origin access identity, a
// public key and a key group with `aws cloudformation deploy`, with a
// distribution that names them by Ref; updates them all in place; sees an
// update CloudFront refuses (a public key's EncodedKey) roll back; and
// deletes the stack, leaving none of them behind.
func TestCloudFormationPolicyTypesWithTheCLI(t *testing.T) {
	t.Parallel()
	bin := cfnBinary(t)
	srv := startCFNServer(t, bin, t.TempDir(), s3Origin(t))
	key := publicKeyPEM(t)
	template := policiesTemplate(t, key)
	deploy := func(template, label string) (int, string) {
		return srv.aws("cloudformation", "deploy", "--template-file", template, "--stack-name", "policies", "--parameter-overrides", "Label="+label)
	}
	if code, out := deploy(template, "one"); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, out)
	}
	first := srv.outputs("policies")
	for _, k := range []string{"CacheId", "CacheModified", "OriginRequestId", "OriginRequestModified", "ResponseHeadersId", "ResponseHeadersModified",
		"IdentityId", "IdentityCanonicalUser", "KeyId", "KeyCreated", "GroupId", "GroupModified", "SiteDomain"} {
		if first[k] == "" {
			t.Errorf("output %s is empty: %v", k, first)
		}
	}
	for _, k := range []string{"CacheModified", "OriginRequestModified", "ResponseHeadersModified", "KeyCreated", "GroupModified"} {
		if _, err := time.Parse(time.RFC3339, first[k]); err != nil {
			t.Errorf("output %s = %q, want a timestamp", k, first[k])
		}
	}

	// The distribution names each resource by the id CloudFront gave it.
	cf := srv.cloudFront()
	ctx := t.Context()
	dists, err := cf.ListDistributions(ctx, &cloudfront.ListDistributionsInput{})
	testutil.Must(t, err)
	dist, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: dists.DistributionList.Items[0].Id})
	testutil.Must(t, err)
	b := dist.DistributionConfig.DefaultCacheBehavior
	if aws.ToString(b.CachePolicyId) != first["CacheId"] || aws.ToString(b.OriginRequestPolicyId) != first["OriginRequestId"] || aws.ToString(b.ResponseHeadersPolicyId) != first["ResponseHeadersId"] {
		t.Errorf("default behavior names %s %s %s, want the stack's policies %v", aws.ToString(b.CachePolicyId), aws.ToString(b.OriginRequestPolicyId), aws.ToString(b.ResponseHeadersPolicyId), first)
	}
	if got := aws.ToString(dist.DistributionConfig.Origins.Items[0].S3OriginConfig.OriginAccessIdentity); got != "origin-access-identity/cloudfront/"+first["IdentityId"] {
		t.Errorf("origin identity = %q", got)
	}
	if got := dist.DistributionConfig.CacheBehaviors.Items[0].TrustedKeyGroups.Items; len(got) != 1 || got[0] != first["GroupId"] {
		t.Errorf("trusted key groups = %v, want [%s]", got, first["GroupId"])
	}
	// The edge applies the response headers policy and the key group.
	label := func(want string) {
		t.Helper()
		testutil.Eventually(t, 10*time.Second, "the edge to send X-Stack-Label "+want, func() bool {
			req, _ := http.NewRequest(http.MethodGet, "http://"+srv.edge+"/index.html", nil)
			req.Host = first["SiteDomain"]
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Stack-Label") == want
		})
	}
	label("one")
	if code, _ := srv.get(first["SiteDomain"]); code != http.StatusOK {
		t.Errorf("GET /index.html: %d", code)
	}

	// A new label changes every resource in place: the same ids.
	if code, out := deploy(template, "two"); code != 0 {
		t.Fatalf("update: exit %d\n%s", code, out)
	}
	second := srv.outputs("policies")
	for _, k := range []string{"CacheId", "OriginRequestId", "ResponseHeadersId", "IdentityId", "KeyId", "GroupId", "SiteDomain"} {
		if second[k] != first[k] {
			t.Errorf("%s replaced: %s → %s", k, first[k], second[k])
		}
	}
	comments := func() []string {
		cp, err1 := cf.GetCachePolicyConfig(ctx, &cloudfront.GetCachePolicyConfigInput{Id: aws.String(first["CacheId"])})
		orp, err2 := cf.GetOriginRequestPolicyConfig(ctx, &cloudfront.GetOriginRequestPolicyConfigInput{Id: aws.String(first["OriginRequestId"])})
		rhp, err3 := cf.GetResponseHeadersPolicyConfig(ctx, &cloudfront.GetResponseHeadersPolicyConfigInput{Id: aws.String(first["ResponseHeadersId"])})
		oai, err4 := cf.GetCloudFrontOriginAccessIdentityConfig(ctx, &cloudfront.GetCloudFrontOriginAccessIdentityConfigInput{Id: aws.String(first["IdentityId"])})
		key, err5 := cf.GetPublicKeyConfig(ctx, &cloudfront.GetPublicKeyConfigInput{Id: aws.String(first["KeyId"])})
		group, err6 := cf.GetKeyGroupConfig(ctx, &cloudfront.GetKeyGroupConfigInput{Id: aws.String(first["GroupId"])})
		testutil.Must(t, errors.Join(err1, err2, err3, err4, err5, err6))
		return []string{aws.ToString(cp.CachePolicyConfig.Comment), aws.ToString(orp.OriginRequestPolicyConfig.Comment), aws.ToString(rhp.ResponseHeadersPolicyConfig.Comment),
			aws.ToString(oai.CloudFrontOriginAccessIdentityConfig.Comment), aws.ToString(key.PublicKeyConfig.Comment), aws.ToString(group.KeyGroupConfig.Comment)}
	}
	if got := strings.Join(comments(), " "); got != "two two two two two two" {
		t.Errorf("comments after the update = %s, want two for cache, origin request, headers, identity, key, group", got)
	}
	label("two")

	// CloudFront lets only a public key's Comment change: a new EncodedKey
	// fails the update, and the stack rolls back to label two.
	if code, out := deploy(policiesTemplate(t, publicKeyPEM(t)), "three"); code == 0 {
		t.Errorf("deploy with a new EncodedKey succeeded\n%s", out)
	}
	events := srv.mustAWS("cloudformation", "describe-stack-events", "--stack-name", "policies", "--query", "StackEvents[].[LogicalResourceId,ResourceStatus,ResourceStatusReason]", "--output", "text")
	if !strings.Contains(events, "Key\tUPDATE_FAILED\tResource handler returned message: \"CannotChangeImmutablePublicKeyFields") || !strings.Contains(events, "policies\tUPDATE_ROLLBACK_COMPLETE") {
		t.Errorf("events lack the refused key update and the rollback:\n%s", events)
	}
	if got := strings.Join(comments(), " "); got != "two two two two two two" {
		t.Errorf("comments after the rollback = %s, want two everywhere", got)
	}

	srv.mustAWS("cloudformation", "delete-stack", "--stack-name", "policies")
	srv.mustAWS("cloudformation", "wait", "stack-delete-complete", "--stack-name", "policies")
	d, err1 := cf.ListDistributions(ctx, &cloudfront.ListDistributionsInput{})
	cp, err2 := cf.ListCachePolicies(ctx, &cloudfront.ListCachePoliciesInput{Type: types.CachePolicyTypeCustom})
	orp, err3 := cf.ListOriginRequestPolicies(ctx, &cloudfront.ListOriginRequestPoliciesInput{Type: types.OriginRequestPolicyTypeCustom})
	rhp, err4 := cf.ListResponseHeadersPolicies(ctx, &cloudfront.ListResponseHeadersPoliciesInput{Type: types.ResponseHeadersPolicyTypeCustom})
	oai, err5 := cf.ListCloudFrontOriginAccessIdentities(ctx, &cloudfront.ListCloudFrontOriginAccessIdentitiesInput{})
	keys, err6 := cf.ListPublicKeys(ctx, &cloudfront.ListPublicKeysInput{})
	groups, err7 := cf.ListKeyGroups(ctx, &cloudfront.ListKeyGroupsInput{})
	testutil.Must(t, errors.Join(err1, err2, err3, err4, err5, err6, err7))
	counts := []int{len(d.DistributionList.Items), len(cp.CachePolicyList.Items), len(orp.OriginRequestPolicyList.Items), len(rhp.ResponseHeadersPolicyList.Items),
		len(oai.CloudFrontOriginAccessIdentityList.Items), len(keys.PublicKeyList.Items), len(groups.KeyGroupList.Items)}
	if fmt.Sprint(counts) != "[0 0 0 0 0 0 0]" {
		t.Errorf("after delete-stack: %v distributions, cache, origin request, headers policies, identities, keys, groups left", counts)
	}
}
