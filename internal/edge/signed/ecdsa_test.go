package signed

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func ecdsaKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signECDSA(t testing.TB, k *ecdsa.PrivateKey, hash, statement string) string {
	t.Helper()
	var digest []byte
	if hash == "SHA256" {
		d := sha256.Sum256([]byte(statement))
		digest = d[:]
	} else {
		d := sha1.Sum([]byte(statement))
		digest = d[:]
	}
	sig, err := ecdsa.SignASN1(rand.Reader, k, digest)
	if err != nil {
		t.Fatal(err)
	}
	return EncodeBase64(sig)
}

// TestECDSAKeys: a behavior trusting an ECDSA P-256 key serves URLs and
// cookies signed with its private key (SHA-1 by default, SHA-256 with
// Hash-Algorithm), and refuses a signature by another ECDSA key under the
// same id, an RSA signature, a tampered URL and an expired one; RSA keys
// of the same Verifier keep working.
func TestECDSAKeys(t *testing.T) {
	t.Parallel()
	ec, otherEC := ecdsaKey(t), ecdsaKey(t)
	rsaKey, _ := testKeys(t)
	v := NewVerifier([]Key{{ID: "KEC", ECDSA: &ec.PublicKey}, {ID: "KRSA", Public: &rsaKey.PublicKey}})
	resource := "https://" + host + "/private/a.mp4"
	canned := func(k *ecdsa.PrivateKey, hash, id, res string, exp int64) string {
		u := fmt.Sprintf("%s?Expires=%d&Signature=%s&Key-Pair-Id=%s", res, exp, signECDSA(t, k, hash, CannedPolicy(res, exp)), id)
		if hash != "" {
			u += "&Hash-Algorithm=" + hash
		}
		return u
	}
	sha256URL := canned(ec, "SHA256", "KEC", resource, now.Unix()+60)
	good := canned(ec, "", "KEC", resource, now.Unix()+60)
	statement := fmt.Sprintf(`{"Statement":[{"Resource":"https://%s/private/*","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}`, host, now.Unix()+60)
	for _, tc := range []struct {
		name, url string
		cookies   map[string]string
		want      string
	}{
		{"canned SHA-1", good, nil, ""},
		{"canned SHA-256", sha256URL, nil, ""},
		{"custom policy", fmt.Sprintf("%s?Policy=%s&Signature=%s&Key-Pair-Id=KEC", resource, EncodeBase64([]byte(statement)), signECDSA(t, ec, "", statement)), nil, ""},
		{"cookies", resource, map[string]string{CookiePolicy: EncodeBase64([]byte(statement)), CookieSignature: signECDSA(t, ec, "SHA256", statement),
			CookieKeyPairID: "KEC", CookieHash: "SHA256"}, ""},
		{"SHA-256 signature said to be SHA-1", strings.TrimSuffix(sha256URL, "&Hash-Algorithm=SHA256"), nil, "AccessDenied"},
		{"another ECDSA key", canned(otherEC, "", "KEC", resource, now.Unix()+60), nil, "AccessDenied"},
		{"an RSA signature for the ECDSA key", cannedURL(t, rsaKey, "KEC", resource, now.Unix()+60), nil, "AccessDenied"},
		{"an ECDSA signature for the RSA key", canned(ec, "", "KRSA", resource, now.Unix()+60), nil, "AccessDenied"},
		{"the RSA key still verifies", cannedURL(t, rsaKey, "KRSA", resource, now.Unix()+60), nil, ""},
		{"tampered path", strings.Replace(good, "/a.mp4", "/b.mp4", 1), nil, "AccessDenied"},
		{"expired", canned(ec, "", "KEC", resource, now.Unix()-1), nil, "AccessDenied"},
		{"unknown key id", canned(ec, "", "KNONE", resource, now.Unix()+60), nil, "InvalidKey"},
	} {
		got := ""
		// Twice: the second answer comes from the remembered signatures.
		for range 2 {
			_, d := v.Verify(requestFor(t, tc.url, tc.cookies, ""), now)
			got = ""
			if d != nil {
				got = d.Code
			}
			if got != tc.want {
				t.Errorf("%s: Verify = %q, want %q", tc.name, got, tc.want)
				break
			}
		}
	}
}
