package cloudfront

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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

// ParseRSAPublicKey reads a public key as CloudFront takes it: one PEM
// block "PUBLIC KEY" (SubjectPublicKeyInfo) holding a 2048-bit RSA key,
// with nothing but white space around it.
func ParseRSAPublicKey(encoded string) (*rsa.PublicKey, error) {
	block, rest := pem.Decode([]byte(encoded))
	if block == nil || block.Type != "PUBLIC KEY" || strings.TrimSpace(string(rest)) != "" {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: it must be one PEM-encoded public key (-----BEGIN PUBLIC KEY-----).")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: %v.", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: CloudFront takes RSA public keys, not %T.", key)
	}
	if n := rsaKey.N.BitLen(); n != publicKeyRSABits {
		return nil, ErrInvalidArgument.WithMessage("The EncodedKey is not valid: the RSA key has %d bits; CloudFront takes %d-bit keys.", n, publicKeyRSABits)
	}
	return rsaKey, nil
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
	_, err := ParseRSAPublicKey(Str(c.EncodedKey))
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
