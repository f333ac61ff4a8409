package origin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagefront/stagefront/internal/edge/origin/mototest"
)

// setupActions is how many requests moto_server serves without checking
// signatures (INITIAL_NO_AUTH_ACTION_COUNT): the three IAM calls that create
// a user with a key and an S3 policy. Every later request is verified by
// moto with botocore's S3SigV4Auth, an implementation independent of ours.
const setupActions = 3

// startMoto runs moto_server with signature checks on after the setup calls.
func startMoto(t *testing.T) *url.URL {
	t.Helper()
	return mototest.Start(t, fmt.Sprintf("INITIAL_NO_AUTH_ACTION_COUNT=%d", setupActions))
}

// awsCall sends one SigV4-signed request, as an SDK would.
func awsCall(t *testing.T, client *http.Client, creds aws.Credentials, service, region, method, rawURL, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, service, region, time.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// motoUser creates an IAM user allowed s3:* and returns its access key.
func motoUser(t *testing.T, client *http.Client, moto *url.URL) aws.Credentials {
	t.Helper()
	anyone := aws.Credentials{AccessKeyID: "AKIASETUPSETUPSETUP0", SecretAccessKey: "setup"}
	iam := func(form url.Values) []byte {
		form.Set("Version", "2010-05-08")
		status, body := awsCall(t, client, anyone, "iam", "us-east-1", http.MethodPost, moto.String()+"/",
			"application/x-www-form-urlencoded; charset=utf-8", []byte(form.Encode()))
		if status != http.StatusOK {
			t.Fatalf("IAM %s: got %d %s", form.Get("Action"), status, body)
		}
		return body
	}
	iam(url.Values{"Action": {"CreateUser"}, "UserName": {"edge"}})
	var created struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := xml.Unmarshal(iam(url.Values{"Action": {"CreateAccessKey"}, "UserName": {"edge"}}), &created); err != nil || created.AccessKeyID == "" {
		t.Fatalf("CreateAccessKey: %v %+v", err, created)
	}
	iam(url.Values{"Action": {"PutUserPolicy"}, "UserName": {"edge"}, "PolicyName": {"s3"},
		"PolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}})
	return aws.Credentials{AccessKeyID: created.AccessKeyID, SecretAccessKey: created.SecretAccessKey}
}

// signatureFront stands between the Fetcher and moto and records the
// signature headers of each request. It keeps the Host header, which is
// signed, so moto can still verify the signature.
type signatureFront struct {
	mu            sync.Mutex
	authorization string
	contentSHA256 string
	amzDate       string
	requestURI    string
}

func (s *signatureFront) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorization = r.Header.Get("Authorization")
	s.contentSHA256 = r.Header.Get("X-Amz-Content-Sha256")
	s.amzDate = r.Header.Get("X-Amz-Date")
	s.requestURI = r.RequestURI
}

func (s *signatureFront) last() (authorization, contentSHA256, amzDate, requestURI string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorization, s.contentSHA256, s.amzDate, s.requestURI
}

func TestFetchS3WithOACAgainstMoto(t *testing.T) {
	moto := startMoto(t)
	setupTransport := &http.Transport{}
	defer setupTransport.CloseIdleConnections()
	client := &http.Client{Transport: setupTransport, Timeout: 30 * time.Second}
	creds := motoUser(t, client, moto)

	// The bucket lives in eu-west-1, like the spec's domain says; these
	// requests are already signature-checked by moto.
	const bucket, region = "site-bucket", "eu-west-1"
	put := func(method, path, body string) {
		t.Helper()
		status, out := awsCall(t, client, creds, "s3", region, method, moto.String()+path, "", []byte(body))
		if status != http.StatusOK {
			t.Fatalf("%s %s: got %d %s", method, path, status, out)
		}
	}
	put(http.MethodPut, "/"+bucket, `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	put(http.MethodPut, "/"+bucket+"/1.0.0/index.html", "<h1>v1</h1>")
	put(http.MethodPut, "/"+bucket+"/2.0.0/index.html", "<h1>v2</h1>")
	// A space only: moto checks signatures against a path re-quoted by
	// werkzeug, so keys with "+" or non-ASCII fail there even from boto3
	// (real S3 accepts them; TestS3Target covers their escaping).
	put(http.MethodPut, "/"+bucket+"/1.0.0/read%20me.txt", "odd key")

	front := &signatureFront{}
	proxyTransport := &http.Transport{}
	defer proxyTransport.CloseIdleConnections()
	frontServer := httptest.NewServer(&httputil.ReverseProxy{
		Transport: proxyTransport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			front.record(pr.In)
			pr.SetURL(moto)
			pr.Out.Host = pr.In.Host
		},
	})
	defer frontServer.Close()
	frontURL, _ := url.Parse(frontServer.URL)

	good := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
	wrongSecret := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, "not-the-secret", "")
	fetcher := newTestFetcher(t, Options{S3Endpoint: frontURL, Credentials: good})
	badFetcher := newTestFetcher(t, Options{S3Endpoint: frontURL, Credentials: wrongSecret})

	const viewerAuth = "AWS4-HMAC-SHA256 Credential=AKIAVIEWER/20250101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00"
	tests := []struct {
		name       string
		fetcher    *Fetcher
		originPath string
		oacID      string
		signing    string
		req        Request
		wantStatus int
		wantBody   string // checked when not empty
		wantSigned bool
		wantAuth   string // exact Authorization when not signed by us
		wantURI    string // request URI at the front, when not empty
	}{
		{name: "signed GET under OriginPath /1.0.0", originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/index.html"}, wantStatus: 200, wantBody: "<h1>v1</h1>", wantSigned: true},
		{name: "staging OriginPath /2.0.0", originPath: "/2.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/index.html"}, wantStatus: 200, wantBody: "<h1>v2</h1>", wantSigned: true},
		{name: "signed HEAD", originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Method: http.MethodHead, Path: "/index.html"}, wantStatus: 200, wantSigned: true},
		{name: "key needing S3 escaping", originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/read%20me.txt"}, wantStatus: 200, wantBody: "odd key", wantSigned: true},
		// Plain values: moto also mis-verifies "%2F" in a query (boto3's too).
		{name: "query is signed and sent in canonical order", originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req:        Request{Path: "/index.html", RawQuery: "versionId=null&response-cache-control=no-cache"},
			wantStatus: 200, wantBody: "<h1>v1</h1>", wantSigned: true,
			wantURI: "/site-bucket/1.0.0/index.html?response-cache-control=no-cache&versionId=null"},
		{name: "viewer Authorization replaced when always", originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req:        Request{Path: "/index.html", Header: http.Header{"Authorization": {viewerAuth}}},
			wantStatus: 200, wantBody: "<h1>v1</h1>", wantSigned: true},
		{name: "no-override without viewer Authorization signs", originPath: "/1.0.0", oacID: "E2OAC", signing: SignNoOverride,
			req: Request{Path: "/index.html"}, wantStatus: 200, wantBody: "<h1>v1</h1>", wantSigned: true},
		{name: "no-override forwards the viewer's Authorization", originPath: "/1.0.0", oacID: "E2OAC", signing: SignNoOverride,
			req:        Request{Path: "/index.html", Header: http.Header{"Authorization": {viewerAuth}}},
			wantStatus: 403, wantAuth: viewerAuth},
		{name: "missing key, signed", originPath: "/3.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/index.html"}, wantStatus: 404, wantSigned: true},
		{name: "signed PUT streams an unsigned payload", originPath: "/uploads", oacID: "E2OAC", signing: SignAlways,
			req: Request{Method: http.MethodPut, Path: "/note.txt", Body: strings.NewReader("hello"), ContentLength: 5}, wantStatus: 200, wantSigned: true},
		{name: "read back the PUT", originPath: "/uploads", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/note.txt"}, wantStatus: 200, wantBody: "hello", wantSigned: true},
		{name: "OAC signing never: unsigned, refused by moto", originPath: "/1.0.0", oacID: "E2OAC", signing: SignNever,
			req: Request{Path: "/index.html"}, wantStatus: 403},
		{name: "no OAC: unsigned, refused by moto", originPath: "/1.0.0",
			req: Request{Path: "/index.html"}, wantStatus: 403},
		{name: "wrong secret: SignatureDoesNotMatch", fetcher: badFetcher, originPath: "/1.0.0", oacID: "E2OAC", signing: SignAlways,
			req: Request{Path: "/index.html"}, wantStatus: 403, wantSigned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fetcher
			if f == nil {
				f = fetcher
			}
			spec := &Spec{
				ID: "s3-site", DomainName: bucket + ".s3." + region + ".amazonaws.com", OriginPath: tt.originPath,
				S3: true, OACID: tt.oacID, OACSigning: tt.signing,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := f.Fetch(ctx, spec, &tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body: got %q, want %q", body, tt.wantBody)
			}
			auth, contentSHA256, amzDate, requestURI := front.last()
			if tt.wantURI != "" && requestURI != tt.wantURI {
				t.Errorf("request URI: got %q, want %q", requestURI, tt.wantURI)
			}
			if !tt.wantSigned {
				if auth != tt.wantAuth {
					t.Errorf("Authorization: got %q, want %q", auth, tt.wantAuth)
				}
				return
			}
			if len(amzDate) < 8 {
				t.Fatalf("X-Amz-Date: got %q, want a timestamp", amzDate)
			}
			wantPrefix := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=", creds.AccessKeyID, amzDate[:8], region)
			if !strings.HasPrefix(auth, wantPrefix) {
				t.Errorf("Authorization: got %q, want prefix %q", auth, wantPrefix)
			}
			wantSHA := emptySHA256
			if tt.req.Body != nil {
				wantSHA = unsignedPayload
			}
			if contentSHA256 != wantSHA {
				t.Errorf("X-Amz-Content-Sha256: got %q, want %q", contentSHA256, wantSHA)
			}
			for _, signed := range []string{"host", "x-amz-content-sha256", "x-amz-date"} {
				if !strings.Contains(auth, signed) {
					t.Errorf("Authorization %q: want %s among the signed headers", auth, signed)
				}
			}
		})
	}
}

// TestFetchS3SignsVirtualHosted checks the request sent to a real S3 domain
// without an endpoint: HTTPS, virtual-hosted, signed for the domain's region.
func TestFetchS3SignsVirtualHosted(t *testing.T) {
	var got *http.Request
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dial := &redirectDial{addr: srv.Listener.Addr().String()}
	// The test certificate does not cover amazonaws.com: skip verification
	// but record the server name the fetcher asked for.
	var serverName string
	tlsConfig := &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			mu.Lock()
			serverName = cs.ServerName
			mu.Unlock()
			return nil
		},
	}
	signedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := newTestFetcher(t, Options{
		DialContext:     dial.dial,
		TLSClientConfig: tlsConfig,
		Now:             func() time.Time { return signedAt },
		Credentials:     credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token"),
	})
	spec := &Spec{ID: "s3", DomainName: "assets.s3.ap-northeast-1.amazonaws.com", OriginPath: "/2.0.0", S3: true, OACID: "E1"}
	resp, err := f.Fetch(context.Background(), spec, &Request{Path: "/app.js", ViewerScheme: "http"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	checks := []struct{ what, got, want string }{
		{"dialed", dial.last(), "assets.s3.ap-northeast-1.amazonaws.com:443"},
		{"Host", got.Host, "assets.s3.ap-northeast-1.amazonaws.com"},
		{"TLS server name", serverName, "assets.s3.ap-northeast-1.amazonaws.com"},
		{"path", got.URL.Path, "/2.0.0/app.js"},
		{"X-Amz-Date", got.Header.Get("X-Amz-Date"), "20260301T120000Z"},
		{"X-Amz-Security-Token", got.Header.Get("X-Amz-Security-Token"), "session-token"},
		{"X-Amz-Content-Sha256", got.Header.Get("X-Amz-Content-Sha256"), emptySHA256},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if got.TLS == nil {
		t.Error("S3 without endpoint: got plain HTTP, want HTTPS")
	}
	wantAuth := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260301/ap-northeast-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
	if auth := got.Header.Get("Authorization"); !strings.HasPrefix(auth, wantAuth) {
		t.Errorf("Authorization: got %q, want prefix %q", auth, wantAuth)
	}
}
