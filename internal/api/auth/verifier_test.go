package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

const (
	testKeyID  = "AKSFTESTTESTTESTTEST"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testName   = "ci-bot"
)

var testNow = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

// staticCreds is a Credentials for tests: access key ID → {secret, name}.
type staticCreds map[string][2]string

func (s staticCreds) Lookup(id string) (secret, name string, ok bool) {
	c, ok := s[id]
	return c[0], c[1], ok
}

func testVerifier(now time.Time) *Verifier {
	return NewVerifier(staticCreds{testKeyID: {testSecret, testName}}, func() time.Time { return now }, 0)
}

type captured struct {
	r    *http.Request
	body []byte
}

// capturingServer returns the URL of a server that hands every request it
// receives (as the server side parsed it) to the returned channel, so tests
// verify exactly what net/http gives a handler.
func capturingServer(t *testing.T) (string, <-chan captured) {
	t.Helper()
	ch := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		ch <- captured{r: r.Clone(context.Background()), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// send sends req and returns the request as the server saw it.
func send(t *testing.T, req *http.Request, ch <-chan captured) captured {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("sending %s %s: %v", req.Method, req.URL, err)
	}
	resp.Body.Close()
	return <-ch
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestVerifySDKSigned(t *testing.T) {
	base, ch := capturingServer(t)
	xmlBody := `<Tags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Tag><Key>team</Key><Value>edge</Value></Tag></Items></Tags>`
	tests := []struct {
		name      string
		method    string
		target    string // path and query, as the client sends them
		body      string
		header    map[string]string
		keyID     string
		secret    string
		region    string
		service   string
		signAt    time.Time
		presign   time.Duration // > 0: presigned URL valid this long
		afterSign func(r *http.Request)
		wantErr   *cloudfront.Error
		wantMsg   string
	}{
		{name: "list distributions", method: "GET", target: "/2020-05-31/distribution"},
		{name: "get distribution", method: "GET", target: "/2020-05-31/distribution/E2QWRUHEXAMPLE/config"},
		{name: "query without value", method: "GET", target: "/2020-05-31/distribution/E123?WithTags"},
		{name: "promote", method: "PUT", target: "/2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
			header: map[string]string{"If-Match": "E2QWRUHEXAMPLE"}},
		{name: "tag resource with body", method: "POST",
			target: "/2020-05-31/tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
			body:   xmlBody, header: map[string]string{"Content-Type": "application/xml"}},
		{name: "escaped path", method: "GET", target: "/2020-05-31/function/my%20func%2Bv2/describe?Stage=LIVE"},
		{name: "repeated query keys", method: "GET", target: "/2020-05-31/distribution?b=2&a=1&a=0&Marker="},
		{name: "any region", method: "GET", target: "/2020-05-31/distribution", region: "eu-west-3"},
		{name: "content sha256 header", method: "POST", target: "/2020-05-31/distribution", body: xmlBody,
			header: map[string]string{"X-Amz-Content-Sha256": hashHex([]byte(xmlBody))}},
		{name: "skew within limit past", method: "GET", target: "/2020-05-31/distribution", signAt: testNow.Add(-DefaultSkew)},
		{name: "skew within limit future", method: "GET", target: "/2020-05-31/distribution", signAt: testNow.Add(DefaultSkew)},
		{name: "presigned", method: "GET", target: "/2020-05-31/distribution/E123", presign: time.Hour, signAt: testNow.Add(-30 * time.Minute)},

		{name: "wrong secret", method: "GET", target: "/2020-05-31/distribution", secret: "not-the-secret",
			wantErr: cloudfront.ErrSignatureDoesNotMatch},
		{name: "unknown key", method: "GET", target: "/2020-05-31/distribution", keyID: "AKSFUNKNOWNUNKNOWN00",
			wantErr: cloudfront.ErrInvalidClientTokenID},
		{name: "wrong service", method: "GET", target: "/2020-05-31/distribution", service: "s3",
			wantErr: cloudfront.ErrSignatureDoesNotMatch, wantMsg: "correct service"},
		{name: "skewed past", method: "GET", target: "/2020-05-31/distribution", signAt: testNow.Add(-DefaultSkew - time.Second),
			wantErr: ErrRequestTimeTooSkewed, wantMsg: "Signature expired: 20260102T114459Z is now earlier than 20260102T114500Z (20260102T120000Z - 15 min.)"},
		{name: "skewed future", method: "GET", target: "/2020-05-31/distribution", signAt: testNow.Add(DefaultSkew + time.Second),
			wantErr: ErrRequestTimeTooSkewed, wantMsg: "Signature not yet current"},
		{name: "tampered body", method: "POST", target: "/2020-05-31/tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FE123",
			body: xmlBody, afterSign: func(r *http.Request) {
				evil := strings.Replace(xmlBody, "edge", "evil", 1)
				r.Body = io.NopCloser(strings.NewReader(evil))
			},
			wantErr: cloudfront.ErrSignatureDoesNotMatch},
		{name: "tampered body with content sha256", method: "POST", target: "/2020-05-31/distribution", body: xmlBody,
			header: map[string]string{"X-Amz-Content-Sha256": hashHex([]byte(xmlBody))},
			afterSign: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(xmlBody, "edge", "evil", 1)))
			},
			wantErr: cloudfront.ErrSignatureDoesNotMatch, wantMsg: "x-amz-content-sha256"},
		{name: "tampered query", method: "PUT", target: "/2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
			afterSign: func(r *http.Request) { r.URL.RawQuery = "StagingDistributionId=E999" },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "added query parameter", method: "GET", target: "/2020-05-31/distribution",
			afterSign: func(r *http.Request) { r.URL.RawQuery = "MaxItems=1" },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "tampered path", method: "GET", target: "/2020-05-31/distribution/E123",
			afterSign: func(r *http.Request) { r.URL.Path = "/2020-05-31/distribution/E124" },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "tampered method", method: "GET", target: "/2020-05-31/distribution/E123",
			afterSign: func(r *http.Request) { r.Method = "DELETE" },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "tampered signed header", method: "PUT", target: "/2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
			header:    map[string]string{"If-Match": "E2QWRUHEXAMPLE"},
			afterSign: func(r *http.Request) { r.Header.Set("If-Match", "EOTHER") },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "dropped signed header", method: "PUT", target: "/2020-05-31/distribution/E123/promote-staging-config?StagingDistributionId=E456",
			header:    map[string]string{"If-Match": "E2QWRUHEXAMPLE"},
			afterSign: func(r *http.Request) { r.Header.Del("If-Match") },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch, wantMsg: "'if-match' is not in the request"},
		{name: "missing authorization", method: "GET", target: "/2020-05-31/distribution",
			afterSign: func(r *http.Request) { r.Header.Del("Authorization") },
			wantErr:   cloudfront.ErrMissingAuthenticationToken},
		{name: "missing x-amz-date", method: "GET", target: "/2020-05-31/distribution",
			afterSign: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			wantErr:   cloudfront.ErrIncompleteSignature, wantMsg: "X-Amz-Date"},
		{name: "presigned expired", method: "GET", target: "/2020-05-31/distribution/E123", presign: time.Hour, signAt: testNow.Add(-61 * time.Minute),
			wantErr: cloudfront.ErrRequestExpired},
		{name: "presigned from the future", method: "GET", target: "/2020-05-31/distribution/E123", presign: time.Hour, signAt: testNow.Add(20 * time.Minute),
			wantErr: ErrRequestTimeTooSkewed},
		{name: "presigned tampered query", method: "GET", target: "/2020-05-31/distribution/E123?WithTags", presign: time.Hour,
			afterSign: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "WithTags=", "WithTags=x", 1) },
			wantErr:   cloudfront.ErrSignatureDoesNotMatch},
		{name: "presigned and header", method: "GET", target: "/2020-05-31/distribution/E123", presign: time.Hour,
			afterSign: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 x") },
			wantErr:   cloudfront.ErrIncompleteSignature, wantMsg: "Only one auth mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyID, secret, region, service, signAt := testKeyID, testSecret, "us-east-1", Service, testNow
			if tt.keyID != "" {
				keyID = tt.keyID
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.region != "" {
				region = tt.region
			}
			if tt.service != "" {
				service = tt.service
			}
			if !tt.signAt.IsZero() {
				signAt = tt.signAt
			}
			req, err := http.NewRequest(tt.method, base+tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
			signer := v4.NewSigner()
			if tt.presign > 0 {
				q := req.URL.Query()
				q.Set("X-Amz-Expires", "3600")
				req.URL.RawQuery = q.Encode()
				signed, _, err := signer.PresignHTTP(context.Background(), creds, req, hashHex([]byte(tt.body)), service, region, signAt)
				if err != nil {
					t.Fatal(err)
				}
				if req, err = http.NewRequest(tt.method, signed, strings.NewReader(tt.body)); err != nil {
					t.Fatal(err)
				}
			} else if err := signer.SignHTTP(context.Background(), creds, req, hashHex([]byte(tt.body)), service, region, signAt); err != nil {
				t.Fatal(err)
			}
			if tt.afterSign != nil {
				tt.afterSign(req)
			}
			got := send(t, req, ch)

			principal, err := testVerifier(testNow).Verify(got.r, got.body)
			checkVerify(t, principal, err, tt.wantErr, tt.wantMsg)
		})
	}
}

// checkVerify compares a Verify result with the expected error (nil: the
// request verifies as testName).
func checkVerify(t *testing.T, principal string, err error, wantErr *cloudfront.Error, wantMsg string) {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("Verify error: %v", err)
		}
		if principal != testName {
			t.Errorf("Verify principal = %q, want %q", principal, testName)
		}
		return
	}
	var cfErr *cloudfront.Error
	if !errors.As(err, &cfErr) {
		t.Fatalf("Verify = (%q, %v), want a *cloudfront.Error with code %s", principal, err, wantErr.Code)
	}
	if cfErr.Code != wantErr.Code || cfErr.Status != http.StatusForbidden {
		t.Errorf("Verify error code = %s (%d), want %s (403); error: %v", cfErr.Code, cfErr.Status, wantErr.Code, err)
	}
	if !strings.Contains(cfErr.Message, wantMsg) {
		t.Errorf("Verify error message = %q, want it to contain %q", cfErr.Message, wantMsg)
	}
	if principal != "" {
		t.Errorf("Verify principal = %q on error, want empty", principal)
	}
}

// Header lists the SDK signer cannot reproduce are reported as such, not as
// a wrong secret.
func TestVerifyUnverifiableSignedHeaders(t *testing.T) {
	tests := []struct {
		name          string
		signedHeaders string
		header        map[string]string
		body          string
		wantMsg       string
	}{
		{name: "x-amz-date not signed", signedHeaders: "host", wantMsg: "'x-amz-date' must be signed"},
		{name: "host not signed", signedHeaders: "x-amz-date", wantMsg: "'host' must be signed"},
		{name: "user-agent signed", signedHeaders: "host;user-agent;x-amz-date", header: map[string]string{"User-Agent": "cli/1"},
			wantMsg: "'user-agent' must not be signed"},
		{name: "zero content-length signed", signedHeaders: "content-length;host;x-amz-date", header: map[string]string{"Content-Length": "0"},
			wantMsg: "content-length of 0"},
		{name: "unsorted", signedHeaders: "x-amz-date;host", wantMsg: "sorted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://cdn.example/2020-05-31/distribution", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Date", testNow.Format(amzDateLayout))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			auth := Authorization{AccessKeyID: testKeyID, Date: "20260102", Region: "us-east-1", Service: Service,
				SignedHeaders: strings.Split(tt.signedHeaders, ";"), Signature: strings.Repeat("0", 64)}
			req.Header.Set("Authorization", auth.String())

			principal, err := testVerifier(testNow).Verify(req, []byte(tt.body))
			checkVerify(t, principal, err, cloudfront.ErrSignatureDoesNotMatch, tt.wantMsg)
		})
	}
}

func TestVerifyScopeDate(t *testing.T) {
	req := httptest.NewRequest("GET", "http://cdn.example/2020-05-31/distribution", nil)
	signAt := testNow
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hashHex(nil), Service, "us-east-1", signAt); err != nil {
		t.Fatal(err)
	}
	// Same instant, but the scope claims the day before.
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20260102/", "/20260101/", 1))
	principal, err := testVerifier(testNow).Verify(req, nil)
	checkVerify(t, principal, err, cloudfront.ErrSignatureDoesNotMatch, "Date in Credential scope")
}

func TestNoneAcceptsEverything(t *testing.T) {
	req := httptest.NewRequest("DELETE", "http://cdn.example/2020-05-31/distribution/E123", nil)
	got, err := None().Verify(req, nil)
	if err != nil || got != Anonymous {
		t.Errorf("None().Verify = (%q, %v), want (%q, nil)", got, err, Anonymous)
	}
}

// TestForServiceRequiresItsScope: the same keys verify a request signed
// for another service only through ForService, and each verifier refuses
// the other's scope with the service it wants.
func TestForServiceRequiresItsScope(t *testing.T) {
	sign := func(service string) *http.Request {
		req := httptest.NewRequest("POST", "http://cdn.example/", strings.NewReader("Action=ListStacks"))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
			req, hashHex([]byte("Action=ListStacks")), service, "us-east-1", testNow); err != nil {
			t.Fatal(err)
		}
		return req
	}
	cfn := testVerifier(testNow).ForService("cloudformation")
	if got, err := cfn.Verify(sign("cloudformation"), []byte("Action=ListStacks")); err != nil || got != testName {
		t.Errorf("cloudformation-scoped request: (%q, %v)", got, err)
	}
	_, err := cfn.Verify(sign("cloudfront"), []byte("Action=ListStacks"))
	checkVerify(t, "", err, cloudfront.ErrSignatureDoesNotMatch, "Credential should be scoped to correct service: 'cloudformation'.")
	_, err = testVerifier(testNow).Verify(sign("cloudformation"), []byte("Action=ListStacks"))
	checkVerify(t, "", err, cloudfront.ErrSignatureDoesNotMatch, "Credential should be scoped to correct service: 'cloudfront'.")
}
