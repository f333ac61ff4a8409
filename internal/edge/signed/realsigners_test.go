package signed

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The signers the tests below drive: botocore's CloudFrontSigner (what
// boto3 users sign with) and AWS's JavaScript signer
// @aws-sdk/cloudfront-signer, pinned in testdata/js/package-lock.json.
// Each signs canned and custom URLs and cookies with a key the test made,
// an RSA 2048 key and an ECDSA P-256 key;
// the Verifier must accept what they sign and refuse what they sign with
// a key it does not trust.

func privatePEM(t *testing.T) string {
	a, _ := testKeys(t)
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(a)}))
}

// signerCase is one thing to sign; expectations follow from the fields.
type signerCase struct {
	Kind            string `json:"kind"` // url | cookies
	URL             string `json:"url"`
	DateLessThan    int64  `json:"dateLessThan"`
	DateGreaterThan int64  `json:"dateGreaterThan,omitempty"`
	IPAddress       string `json:"ipAddress,omitempty"`
	Algorithm       string `json:"algorithm,omitempty"` // SHA256 (JS signer only)
	// what the test then requests, and from where
	requestURL string
	addr       string
	want       string
}

func signerCases() []signerCase {
	base := "https://" + host + "/private/video.mp4"
	return []signerCase{
		{Kind: "url", URL: base + "?lang=en", DateLessThan: 1800000600, requestURL: "", want: ""},
		{Kind: "url", URL: base, DateLessThan: 1799999999, want: "AccessDenied"},
		{Kind: "url", URL: base, DateLessThan: 1800000600, IPAddress: "192.0.2.0/24", addr: "192.0.2.9"},
		{Kind: "url", URL: base, DateLessThan: 1800000600, IPAddress: "192.0.2.0/24", addr: "203.0.113.9", want: "AccessDenied"},
		{Kind: "url", URL: base, DateLessThan: 1800000600, DateGreaterThan: 1800000300, want: "AccessDenied"},
		{Kind: "url", URL: "https://" + host + "/private/*", DateLessThan: 1800000600, DateGreaterThan: 1700000000, requestURL: base},
		{Kind: "cookies", URL: base, DateLessThan: 1800000600},
		{Kind: "url", URL: base, DateLessThan: 1800000600, Algorithm: "SHA256"},
		{Kind: "cookies", URL: "https://" + host + "/private/*", DateLessThan: 1800000600, IPAddress: "192.0.2.0/24", addr: "192.0.2.1", requestURL: base + "?a=b"},
		{Kind: "cookies", URL: "https://" + host + "/private/*", DateLessThan: 1800000600, IPAddress: "192.0.2.0/24", addr: "198.51.100.1", requestURL: base, want: "AccessDenied"},
	}
}

// signerKey is a key pair the real signers sign with: its private key in
// PEM, a Verifier trusting its public key as KTEST and one trusting
// another key of the same type under the same id.
type signerKey struct {
	name            string
	privatePEM      string
	trusting, other *Verifier
}

func signerKeys(t *testing.T) []signerKey {
	a, b := testKeys(t)
	ec, otherEC := ecdsaKey(t), ecdsaKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	return []signerKey{
		{"RSA", privatePEM(t), NewVerifier([]Key{{ID: "KTEST", Public: &a.PublicKey}}), NewVerifier([]Key{{ID: "KTEST", Public: &b.PublicKey}})},
		{"ECDSA P-256", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			NewVerifier([]Key{{ID: "KTEST", ECDSA: &ec.PublicKey}}), NewVerifier([]Key{{ID: "KTEST", ECDSA: &otherEC.PublicKey}})},
	}
}

// checkSigned verifies what a signer produced for each case.
func checkSigned(t *testing.T, signer string, key signerKey, cases []signerCase, signedURLs []string, cookies []map[string]string) {
	t.Helper()
	trusting, other := key.trusting, key.other
	signer += " (" + key.name + ")"
	for i, c := range cases {
		req := c.requestURL
		var jar map[string]string
		if c.Kind == "url" {
			req = signedURLs[i]
			if c.requestURL != "" { // a wildcard policy used on another URL
				req = c.requestURL + signedURLs[i][strings.Index(signedURLs[i], "?"):]
			}
		} else {
			jar = cookies[i]
			if req == "" {
				req = c.URL
			}
		}
		r := requestFor(t, req, jar, c.addr)
		q, d := trusting.Verify(r, now)
		got := ""
		if d != nil {
			got = d.Code
		}
		if got != c.want {
			t.Errorf("%s case %d (%s %s): Verify = %q, want %q (request %s)", signer, i, c.Kind, c.URL, got, c.want, req)
			continue
		}
		if d == nil && (strings.Contains(q, "Signature=") || strings.Contains(q, "Key-Pair-Id=")) {
			t.Errorf("%s case %d: the query to serve still holds the signature: %q", signer, i, q)
		}
		if _, d := other.Verify(r, now); d == nil || d.Code != "AccessDenied" {
			t.Errorf("%s case %d: a verifier trusting another key under the same id answered %v, want AccessDenied", signer, i, d)
		}
	}
}

const botocoreSigner = `
import json, sys, datetime
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

key = serialization.load_pem_private_key(sys.argv[1].encode(), password=None)
if isinstance(key, ec.EllipticCurvePrivateKey):
    signer = CloudFrontSigner('KTEST', lambda m: key.sign(m, ec.ECDSA(hashes.SHA1())))
else:
    signer = CloudFrontSigner('KTEST', lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
out = []
for c in json.load(sys.stdin):
    lt = datetime.datetime.fromtimestamp(c['dateLessThan'], datetime.timezone.utc)
    custom = c.get('ipAddress') or c.get('dateGreaterThan') or '*' in c['url']
    if c['kind'] == 'url':
        if custom:
            gt = datetime.datetime.fromtimestamp(c['dateGreaterThan'], datetime.timezone.utc) if c.get('dateGreaterThan') else None
            policy = signer.build_policy(c['url'], lt, date_greater_than=gt, ip_address=c.get('ipAddress'))
            out.append(signer.generate_presigned_url(c['url'], policy=policy))
        else:
            out.append(signer.generate_presigned_url(c['url'], date_less_than=lt))
    else:
        # botocore signs URLs only; cookies carry the same policy and
        # signature under CloudFront's cookie names.
        gt = datetime.datetime.fromtimestamp(c['dateGreaterThan'], datetime.timezone.utc) if c.get('dateGreaterThan') else None
        if custom:
            policy = signer.build_policy(c['url'], lt, date_greater_than=gt, ip_address=c.get('ipAddress'))
            sig = signer._url_b64encode(signer.rsa_signer(policy.encode('utf8'))).decode('utf8')
            out.append({'CloudFront-Policy': signer._url_b64encode(policy.encode('utf8')).decode('utf8'),
                        'CloudFront-Signature': sig, 'CloudFront-Key-Pair-Id': 'KTEST'})
        else:
            policy = signer.build_policy(c['url'], lt)
            sig = signer._url_b64encode(signer.rsa_signer(policy.encode('utf8'))).decode('utf8')
            out.append({'CloudFront-Expires': str(c['dateLessThan']), 'CloudFront-Signature': sig, 'CloudFront-Key-Pair-Id': 'KTEST'})
print(json.dumps(out))
`

func TestBotocoreCloudFrontSigner(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	t.Parallel()
	cases := signerCases()
	in, _ := json.Marshal(cases)
	for _, key := range signerKeys(t) {
		cmd := exec.Command(python, "-c", botocoreSigner, key.privatePEM)
		cmd.Stdin = strings.NewReader(string(in))
		out, err := cmd.Output()
		if err != nil && strings.Contains(stderrOf(err), "ModuleNotFoundError") {
			t.Skipf("botocore or cryptography not installed: %s", stderrOf(err))
		}
		if err != nil {
			t.Fatalf("botocore signer (%s): %v %s", key.name, err, stderrOf(err))
		}
		var raw []json.RawMessage
		if err := json.Unmarshal(out, &raw); err != nil {
			t.Fatalf("botocore output %s: %v", out, err)
		}
		urls, cookies := splitSigned(t, cases, raw)
		checkSigned(t, "botocore", key, cases, urls, cookies)
	}
}

func TestJSCloudFrontSigner(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	t.Parallel()
	dir := filepath.Join("testdata", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "cloudfront-signer")); err != nil {
		t.Fatalf("@aws-sdk/cloudfront-signer is not installed: run `npm ci` in %s (.ci/run does)", dir)
	}
	cases := signerCases()
	type jsCase struct {
		signerCase
		KeyPairID  string `json:"keyPairId"`
		PrivateKey string `json:"privateKey"`
	}
	// The JS signer signs with node's crypto, which takes the algorithm
	// from the key: an ECDSA key gives an ECDSA signature.
	for _, key := range signerKeys(t) {
		var in []jsCase
		for _, c := range cases {
			in = append(in, jsCase{signerCase: c, KeyPairID: "KTEST", PrivateKey: key.privatePEM})
		}
		b, _ := json.Marshal(in)
		cmd := exec.Command(node, "sign.js")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(string(b))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("JS signer (%s): %v %s", key.name, err, stderrOf(err))
		}
		var raw []json.RawMessage
		if err := json.Unmarshal(out, &raw); err != nil {
			t.Fatalf("JS output %s: %v", out, err)
		}
		urls, cookies := splitSigned(t, cases, raw)
		checkSigned(t, "@aws-sdk/cloudfront-signer", key, cases, urls, cookies)
	}
}

func splitSigned(t *testing.T, cases []signerCase, raw []json.RawMessage) ([]string, []map[string]string) {
	t.Helper()
	if len(raw) != len(cases) {
		t.Fatalf("signer returned %d results for %d cases", len(raw), len(cases))
	}
	urls := make([]string, len(cases))
	cookies := make([]map[string]string, len(cases))
	for i, c := range cases {
		var err error
		if c.Kind == "url" {
			err = json.Unmarshal(raw[i], &urls[i])
		} else {
			// The JS signer gives CloudFront-Expires as a number.
			var jar map[string]json.RawMessage
			err = json.Unmarshal(raw[i], &jar)
			cookies[i] = map[string]string{}
			for k, v := range jar {
				cookies[i][k] = strings.Trim(string(v), `"`)
			}
		}
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
	}
	return urls, cookies
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
