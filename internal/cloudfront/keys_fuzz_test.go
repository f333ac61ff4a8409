package cloudfront_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// FuzzParsePublicKey feeds arbitrary EncodedKey values (what a
// CreatePublicKey caller sends) to the parser: it never panics, and what
// it accepts is an RSA 2048 key or an ECDSA P-256 key.
func FuzzParsePublicKey(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})))
	f.Add("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")
	f.Add("hello")
	f.Fuzz(func(t *testing.T, encoded string) {
		key, err := cf.ParsePublicKey(encoded)
		if err != nil {
			return
		}
		switch k := key.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() != 2048 {
				t.Fatalf("accepted a %d-bit RSA key", k.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				t.Fatalf("accepted an ECDSA key on %s", k.Curve.Params().Name)
			}
		default:
			t.Fatalf("accepted a %T", key)
		}
	})
}
