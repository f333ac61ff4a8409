package signed

import (
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
)

// ECDSA public keys. CloudFront verifies signed URLs and cookies made with
// an ECDSA P-256 key as well as with an RSA 2048 key ("CloudFront supports
// signed URLs and signed cookies with RSA 2048 or ECDSA 256 key
// signatures", PublicKey in the CloudFront API reference). The statement
// is hashed as for RSA, SHA-1 unless the request says Hash-Algorithm=SHA256,
// and the signature is the ASN.1 DER encoding of (r, s) that OpenSSL, Java's
// SHA1withECDSA, Node's crypto.sign and Python's cryptography produce,
// then CloudFront's URL-safe base64.

// verifyECDSA reports whether sig is pub's signature of statement with the
// request's hash ("" or SHA1, or SHA256).
func verifyECDSA(pub *ecdsa.PublicKey, hash string, statement string, sig []byte) bool {
	if hash == "SHA256" {
		digest := sha256.Sum256([]byte(statement))
		return ecdsa.VerifyASN1(pub, digest[:], sig)
	}
	digest := sha1.Sum([]byte(statement))
	return ecdsa.VerifyASN1(pub, digest[:], sig)
}
