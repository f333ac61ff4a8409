package cloudfront

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// Quotas on public keys and key groups ("Quotas on key groups" in the
// CloudFront Developer Guide).
const (
	MaxPublicKeys             = 10 // per account
	MaxKeyGroups              = 10 // per account
	MaxPublicKeysPerKeyGroup  = 5
	MaxKeyGroupsPerBehavior   = 4
	publicKeyRSABits          = 2048
	maxCallerReferenceLength  = 128
	maxPublicKeyCommentLength = 128
)

// ParsePublicKey reads a public key as CloudFront takes it for signed URLs
// and cookies: one PEM block "PUBLIC KEY" (SubjectPublicKeyInfo), with
// nothing but white space around it, holding a 2048-bit RSA key or an
// ECDSA key on the P-256 curve ("CloudFront supports signed URLs and
// signed cookies with RSA 2048 or ECDSA 256 key signatures", PublicKey in
// the API reference). It returns an *rsa.PublicKey or an
// *ecdsa.PublicKey.
func ParsePublicKey(encoded string) (crypto.PublicKey, error) {
	block, rest := pem.Decode([]byte(encoded))
	if block == nil || block.Type != "PUBLIC KEY" || strings.TrimSpace(string(rest)) != "" {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: it must be one PEM-encoded public key (-----BEGIN PUBLIC KEY-----).")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: %v.", err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n != publicKeyRSABits {
			return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: the RSA key has %d bits; CloudFront takes %d-bit keys.", n, publicKeyRSABits)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: the ECDSA key is on curve %s; CloudFront takes P-256 (prime256v1) keys.", k.Curve.Params().Name)
		}
		return k, nil
	}
	return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: CloudFront takes RSA 2048 or ECDSA P-256 public keys, not %s.", keyTypeName(key))
}

func keyTypeName(key any) string {
	switch key.(type) {
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdh.PublicKey:
		return "X25519"
	}
	return fmt.Sprintf("%T", key)
}

// ValidatePublicKeyConfig applies CloudFront's rules to a public key config.
func ValidatePublicKeyConfig(c *PublicKeyConfig) error {
	if c == nil {
		return ErrMissingBody
	}
	if err := CheckShape("PublicKeyConfig", c); err != nil {
		return err
	}
	if n := len(Str(c.CallerReference)); n == 0 || n > maxCallerReferenceLength {
		return ErrInvalidArgument.WithMessage("The CallerReference must be 1 to %d characters.", maxCallerReferenceLength)
	}
	if err := validatePolicyName("public key", Str(c.Name), nil); err != nil {
		return err
	}
	if len(Str(c.Comment)) > maxPublicKeyCommentLength {
		return ErrInvalidArgument.WithMessage("The public key comment is too long (maximum %d characters).", maxPublicKeyCommentLength)
	}
	_, err := ParsePublicKey(Str(c.EncodedKey))
	return err
}

// ValidateKeyGroupConfig applies CloudFront's rules to a key group config;
// keyExists answers whether a public key id exists.
func ValidateKeyGroupConfig(c *KeyGroupConfig, keyExists func(id string) bool) error {
	if c == nil {
		return ErrMissingBody
	}
	if err := CheckShape("KeyGroupConfig", c); err != nil {
		return err
	}
	if err := validatePolicyName("key group", Str(c.Name), c.Comment); err != nil {
		return err
	}
	if len(c.Items) == 0 {
		return ErrInvalidArgument.WithMessage("A key group needs at least one public key.")
	}
	if len(c.Items) > MaxPublicKeysPerKeyGroup {
		return ErrTooManyPublicKeysInKeyGroup.WithMessage("%s The maximum is %d; %d given.", ErrTooManyPublicKeysInKeyGroup.Message, MaxPublicKeysPerKeyGroup, len(c.Items))
	}
	seen := map[string]bool{}
	for _, id := range c.Items {
		if seen[id] {
			return ErrInvalidArgument.WithMessage("The public key %s is listed twice.", id)
		}
		seen[id] = true
		if !keyExists(id) {
			return ErrInvalidArgument.WithMessage("The public key %s does not exist.", id)
		}
	}
	return nil
}
