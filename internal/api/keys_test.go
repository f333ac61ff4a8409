package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// pemPublicKey returns a public key as `openssl rsa -pubout` writes it.
func pemPublicKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func rsaPublicKeyPEM(t *testing.T, bits int) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return pemPublicKey(t, &k.PublicKey)
}

func publicKeyConfig(ref, name, encoded string) *types.PublicKeyConfig {
	return &types.PublicKeyConfig{CallerReference: aws.String(ref), Name: aws.String(name), EncodedKey: aws.String(encoded), Comment: aws.String("for signed URLs")}
}

// TestPublicKeysAndKeyGroups drives the public key and key group
// operations through the real SDK client, with CloudFront's errors.
func TestPublicKeysAndKeyGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	encoded := rsaPublicKeyPEM(t, 2048)
	// CRLF line ends and a trailing blank line, as a key pasted from
	// another system may have: kept byte for byte.
	encoded = strings.ReplaceAll(encoded, "\n", "\r\n") + "\r\n"
	pk := must(e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("ref-1", "signer-1", encoded)}))(t)
	keyID := aws.ToString(pk.PublicKey.Id)
	if !strings.HasPrefix(keyID, "K") || len(keyID) != 14 || pk.PublicKey.CreatedTime == nil {
		t.Errorf("public key id %q, CreatedTime %v", keyID, pk.PublicKey.CreatedTime)
	}
	got := must(e.cf.GetPublicKey(ctx, &cfsdk.GetPublicKeyInput{Id: aws.String(keyID)}))(t)
	if k := aws.ToString(got.PublicKey.PublicKeyConfig.EncodedKey); k != encoded {
		t.Errorf("EncodedKey did not round-trip byte for byte:\n got %q\nwant %q", k, encoded)
	}
	gc := must(e.cf.GetPublicKeyConfig(ctx, &cfsdk.GetPublicKeyConfigInput{Id: aws.String(keyID)}))(t)
	if aws.ToString(gc.PublicKeyConfig.EncodedKey) != encoded || aws.ToString(gc.ETag) != aws.ToString(pk.ETag) {
		t.Errorf("GetPublicKeyConfig: key or ETag differ")
	}
	list := must(e.cf.ListPublicKeys(ctx, &cfsdk.ListPublicKeysInput{}))(t)
	if q := aws.ToInt32(list.PublicKeyList.Quantity); q != 1 || aws.ToString(list.PublicKeyList.Items[0].EncodedKey) != encoded {
		t.Errorf("ListPublicKeys: %d keys", q)
	}

	for _, tc := range []struct {
		name, encoded, code string
	}{
		{"not PEM", "hello", "InvalidArgument"},
		{"1024-bit RSA", rsaPublicKeyPEM(t, 1024), "InvalidArgument"},
		{"ECDSA P-384", func() string {
			k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			return pemPublicKey(t, &k.PublicKey)
		}(), "InvalidArgument"},
		{"Ed25519", func() string {
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			return pemPublicKey(t, pub)
		}(), "InvalidArgument"},
		{"two keys", encoded + encoded, "InvalidArgument"},
	} {
		_, err := e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("ref-"+tc.name, "bad", tc.encoded)})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		wantAPIError(t, err, tc.code, 400)
	}
	_, err := e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("ref-1", "signer-again", encoded)})
	wantAPIError(t, err, "PublicKeyAlreadyExists", 409)

	// Only the comment changes.
	changed := publicKeyConfig("ref-1", "signer-1", rsaPublicKeyPEM(t, 2048))
	_, err = e.cf.UpdatePublicKey(ctx, &cfsdk.UpdatePublicKeyInput{Id: aws.String(keyID), IfMatch: pk.ETag, PublicKeyConfig: changed})
	wantAPIError(t, err, "CannotChangeImmutablePublicKeyFields", 400)
	renamed := publicKeyConfig("ref-1", "other-name", encoded)
	_, err = e.cf.UpdatePublicKey(ctx, &cfsdk.UpdatePublicKeyInput{Id: aws.String(keyID), IfMatch: pk.ETag, PublicKeyConfig: renamed})
	wantAPIError(t, err, "IllegalUpdate", 400)
	comment := publicKeyConfig("ref-1", "signer-1", encoded)
	comment.Comment = aws.String("rotated 2026")
	upd := must(e.cf.UpdatePublicKey(ctx, &cfsdk.UpdatePublicKeyInput{Id: aws.String(keyID), IfMatch: pk.ETag, PublicKeyConfig: comment}))(t)
	if aws.ToString(upd.PublicKey.PublicKeyConfig.Comment) != "rotated 2026" {
		t.Errorf("comment not updated")
	}
	_, err = e.cf.GetPublicKey(ctx, &cfsdk.GetPublicKeyInput{Id: aws.String("KNOTAKEY00000")})
	wantAPIError(t, err, "NoSuchPublicKey", 404)

	// Key groups.
	kg := must(e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{
		Name: aws.String("signers"), Items: []string{keyID}}}))(t)
	groupID := aws.ToString(kg.KeyGroup.Id)
	_, err = e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("signers"), Items: []string{keyID}}})
	wantAPIError(t, err, "KeyGroupAlreadyExists", 409)
	_, err = e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("ghost"), Items: []string{"KNOTAKEY00000"}}})
	wantAPIError(t, err, "InvalidArgument", 400)
	six := []string{keyID}
	for i := range 5 {
		k := must(e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig(fmt.Sprintf("ref-%d", i+2), fmt.Sprintf("k%d", i), rsaPublicKeyPEM(t, 2048))}))(t)
		six = append(six, aws.ToString(k.PublicKey.Id))
	}
	_, err = e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("six"), Items: six}})
	wantAPIError(t, err, "TooManyPublicKeysInKeyGroup", 400)
	_, err = e.cf.GetKeyGroup(ctx, &cfsdk.GetKeyGroupInput{Id: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "NoSuchResource", 404)

	_, err = e.cf.DeletePublicKey(ctx, &cfsdk.DeletePublicKeyInput{Id: aws.String(keyID), IfMatch: upd.ETag})
	wantAPIError(t, err, "PublicKeyInUse", 409)

	kgUpd := must(e.cf.UpdateKeyGroup(ctx, &cfsdk.UpdateKeyGroupInput{Id: aws.String(groupID), IfMatch: kg.ETag,
		KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("signers"), Items: six[:2], Comment: aws.String("two")}}))(t)
	if !slices.Equal(kgUpd.KeyGroup.KeyGroupConfig.Items, six[:2]) {
		t.Errorf("UpdateKeyGroup items %v", kgUpd.KeyGroup.KeyGroupConfig.Items)
	}
	_, err = e.cf.UpdateKeyGroup(ctx, &cfsdk.UpdateKeyGroupInput{Id: aws.String(groupID), IfMatch: kg.ETag,
		KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("signers"), Items: six[:1]}})
	wantAPIError(t, err, "PreconditionFailed", 412)
	groups := must(e.cf.ListKeyGroups(ctx, &cfsdk.ListKeyGroupsInput{}))(t)
	if q := aws.ToInt32(groups.KeyGroupList.Quantity); q != 1 {
		t.Errorf("ListKeyGroups: %d", q)
	}
	byKG := must(e.cf.ListDistributionsByKeyGroup(ctx, &cfsdk.ListDistributionsByKeyGroupInput{KeyGroupId: aws.String(groupID)}))(t)
	if q := aws.ToInt32(byKG.DistributionIdList.Quantity); q != 0 {
		t.Errorf("ListDistributionsByKeyGroup: %d, want 0", q)
	}
	_, err = e.cf.ListDistributionsByKeyGroup(ctx, &cfsdk.ListDistributionsByKeyGroupInput{KeyGroupId: aws.String("nope")})
	wantAPIError(t, err, "NoSuchResource", 404)

	must(e.cf.DeleteKeyGroup(ctx, &cfsdk.DeleteKeyGroupInput{Id: aws.String(groupID), IfMatch: kgUpd.ETag}))(t)
	must(e.cf.DeletePublicKey(ctx, &cfsdk.DeletePublicKeyInput{Id: aws.String(keyID), IfMatch: upd.ETag}))(t)
	_, err = e.cf.GetPublicKey(ctx, &cfsdk.GetPublicKeyInput{Id: aws.String(keyID)})
	wantAPIError(t, err, "NoSuchPublicKey", 404)
}

// TestECDSAPublicKey: CloudFront takes ECDSA P-256 public keys for signed
// URLs and cookies besides RSA 2048 ones; one is kept byte for byte and a
// key group may hold it next to an RSA key.
func TestECDSAPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encoded := pemPublicKey(t, &k.PublicKey) // as `openssl ec -pubout` writes it
	pk := must(e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("ec-1", "ec-signer", encoded)}))(t)
	if got := aws.ToString(pk.PublicKey.PublicKeyConfig.EncodedKey); got != encoded {
		t.Errorf("EncodedKey = %q, want %q", got, encoded)
	}
	rsaKey := must(e.cf.CreatePublicKey(ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: publicKeyConfig("rsa-1", "rsa-signer", rsaPublicKeyPEM(t, 2048))}))(t)
	must(e.cf.CreateKeyGroup(ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{
		Name: aws.String("mixed"), Items: []string{aws.ToString(pk.PublicKey.Id), aws.ToString(rsaKey.PublicKey.Id)}}}))(t)
}
