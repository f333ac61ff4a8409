package edge_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stagefront/stagefront/internal/edge/signed"
)

// TestECDSASignedURLAtTheEdge: a key group holding an ECDSA P-256 public
// key, created through the SDK, protects a behavior: a URL signed with its
// private key is served, one signed by another ECDSA key or tampered with
// gets CloudFront's 403.
func TestECDSASignedURLAtTheEdge(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			clock := newFakeClock()
			clock.ns.Store(1_800_000_000 * int64(time.Second))
			h := newHarness(t, harnessOptions{engine: engine, clock: clock.Now})
			loggingOrigin(h, "ec.origin.test", "max-age=3600")
			key, other := newECDSAKey(t), newECDSAKey(t)
			der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			pk := must[*cfsdk.CreatePublicKeyOutput](t)(h.cf.CreatePublicKey(h.ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
				CallerReference: aws.String("ec-" + engine), Name: aws.String("ec-" + engine),
				EncodedKey: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
			}}))
			keyID := aws.ToString(pk.PublicKey.Id)
			kg := must[*cfsdk.CreateKeyGroupOutput](t)(h.cf.CreateKeyGroup(h.ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{
				Name: aws.String("ec-" + engine), Items: []string{keyID},
			}}))
			cfg := customOriginConfig("ec-"+engine, "ec.origin.test", "", cachingOptimized)
			cfg.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1),
				Items: []string{aws.ToString(kg.KeyGroup.Id)}}
			d := h.createDistribution(cfg)
			h.waitServed()

			res := "http://" + d.domain + "/video.mp4"
			canned := func(k *ecdsa.PrivateKey, expires int64) string {
				digest := sha1.Sum([]byte(signed.CannedPolicy(res, expires)))
				sig, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("Expires=%d&Signature=%s&Key-Pair-Id=%s", expires, signed.EncodeBase64(sig), keyID)
			}
			if r := h.get(d.domain, "/video.mp4?"+canned(key, 1_800_000_600), nil); r.status != http.StatusOK {
				t.Fatalf("URL signed with the ECDSA key: %d %s", r.status, r.body)
			}
			for name, query := range map[string]string{
				"another ECDSA key": canned(other, 1_800_000_600),
				"tampered":          strings.Replace(canned(key, 1_800_000_600), "Expires=1800000600", "Expires=1900000600", 1),
			} {
				if r := h.get(d.domain, "/video.mp4?"+query, nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "<Code>AccessDenied</Code>") {
					t.Errorf("%s: %d %s; want 403 AccessDenied", name, r.status, r.body)
				}
			}
		})
	}
}

func newECDSAKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
