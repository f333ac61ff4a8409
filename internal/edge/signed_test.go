package edge_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"golang.org/x/sys/unix"

	"github.com/stagefront/stagefront/internal/edge/signed"
)

var (
	signingKeysOnce sync.Once
	signingKeys     [2]*rsa.PrivateKey
)

func signingKey(tb testing.TB, i int) *rsa.PrivateKey {
	signingKeysOnce.Do(func() {
		for j := range signingKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			signingKeys[j] = k
		}
	})
	return signingKeys[i]
}

// privateDist is a distribution whose default behavior trusts one key
// group holding one public key.
type privateDist struct {
	dist
	keyID   string
	groupID string
}

// newPrivateDist creates, through the SDK, a public key from key 0, a key
// group, and a distribution on origin host that trusts the group, with
// CachingOptimized and the AllViewer origin request policy (every query
// parameter and cookie reaches the origin, so the test sees what is
// stripped).
func newPrivateDist(h *harness, ref, host string) privateDist {
	h.t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&signingKey(h.t, 0).PublicKey)
	if err != nil {
		h.t.Fatal(err)
	}
	pk := must[*cfsdk.CreatePublicKeyOutput](h.t)(h.cf.CreatePublicKey(h.ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
		CallerReference: aws.String(ref), Name: aws.String(ref),
		EncodedKey: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
	}}))
	kg := must[*cfsdk.CreateKeyGroupOutput](h.t)(h.cf.CreateKeyGroup(h.ctx, &cfsdk.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{
		Name: aws.String(ref), Items: []string{aws.ToString(pk.PublicKey.Id)},
	}}))
	cfg := withOriginRequestPolicy(customOriginConfig(ref, host, "", cachingOptimized), orpAllViewer)
	cfg.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1),
		Items: []string{aws.ToString(kg.KeyGroup.Id)}}
	d := h.createDistribution(cfg)
	return privateDist{dist: d, keyID: aws.ToString(pk.PublicKey.Id), groupID: aws.ToString(kg.KeyGroup.Id)}
}

func rsaSign(tb testing.TB, k *rsa.PrivateKey, statement string) string {
	d := sha1.Sum([]byte(statement))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA1, d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return signed.EncodeBase64(sig)
}

// cannedQuery signs resource (an absolute URL) with a canned policy and
// returns the query to append.
func cannedQuery(tb testing.TB, k *rsa.PrivateKey, keyID, resource string, expires int64) string {
	return fmt.Sprintf("Expires=%d&Signature=%s&Key-Pair-Id=%s", expires, rsaSign(tb, k, signed.CannedPolicy(resource, expires)), keyID)
}

// TestSignedURLsAndCookiesAtTheEdge: a behavior that trusts a key group
// serves only valid signed URLs and cookies, answers the rest with
// CloudFront's 403, and keeps the signature out of the cache key and the
// origin request.
func TestSignedURLsAndCookiesAtTheEdge(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			clock := newFakeClock()
			clock.ns.Store(1_800_000_000 * int64(time.Second))
			h := newHarness(t, harnessOptions{engine: engine, clock: clock.Now})
			log := loggingOrigin(h, "private.origin.test", "max-age=3600")
			p := newPrivateDist(h, "private-"+engine, "private.origin.test")
			h.waitServed()
			res := "http://" + p.domain + "/video.mp4?lang=en"
			k0, k1 := signingKey(t, 0), signingKey(t, 1)

			r := h.get(p.domain, "/video.mp4?lang=en", nil)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "<Code>MissingKey</Code>") ||
				!strings.Contains(r.body, "Missing Key-Pair-Id query parameter or cookie value") {
				t.Fatalf("unsigned: %d %s", r.status, r.body)
			}
			if log.count() != 0 {
				t.Fatalf("an unsigned request reached the origin")
			}
			for _, tc := range []struct {
				name, query, code string
			}{
				{"expired", cannedQuery(t, k0, p.keyID, res, 1_799_999_000), "AccessDenied"},
				{"wrong key", cannedQuery(t, k1, p.keyID, res, 1_800_000_600), "AccessDenied"},
				{"unknown key id", cannedQuery(t, k0, "KUNKNOWN000000", res, 1_800_000_600), "InvalidKey"},
				{"tampered", strings.Replace(cannedQuery(t, k0, p.keyID, res, 1_800_000_600), "Expires=1800000600", "Expires=1900000600", 1), "AccessDenied"},
			} {
				r := h.get(p.domain, "/video.mp4?lang=en&"+tc.query, nil)
				if r.status != http.StatusForbidden || !strings.Contains(r.body, "<Code>"+tc.code+"</Code>") {
					t.Errorf("%s: %d %s; want 403 %s", tc.name, r.status, r.body, tc.code)
				}
			}

			// Valid: served, the origin gets lang=en and no signature, and a
			// second URL signed differently for the same object is a hit.
			r = h.get(p.domain, "/video.mp4?lang=en&"+cannedQuery(t, k0, p.keyID, res, 1_800_000_600), nil)
			if r.status != http.StatusOK {
				t.Fatalf("valid signed URL: %d %s", r.status, r.body)
			}
			if got := log.last(t); got.query != "lang=en" {
				t.Errorf("origin got query %q; want lang=en without the signature", got.query)
			}
			r = h.get(p.domain, "/video.mp4?lang=en&"+cannedQuery(t, k0, p.keyID, res, 1_800_000_900), nil)
			if r.status != http.StatusOK || r.header.Get("X-Cache") != "Hit from stagefront" {
				t.Errorf("a second signed URL for the same object: %d %s; want a hit (the signature is not in the cache key)", r.status, r.header.Get("X-Cache"))
			}
			if log.count() != 1 {
				t.Errorf("origin requests = %d, want 1", log.count())
			}

			// Signed cookies (custom policy over a wildcard): served, and the
			// signing cookies never reach the origin.
			policy := `{"Statement":[{"Resource":"http://` + p.domain + `/img/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600}}}]}`
			jar := fmt.Sprintf("session=s1; CloudFront-Policy=%s; CloudFront-Signature=%s; CloudFront-Key-Pair-Id=%s",
				signed.EncodeBase64([]byte(policy)), rsaSign(t, k0, policy), p.keyID)
			r = h.get(p.domain, "/img/a.png", http.Header{"Cookie": {jar}})
			if r.status != http.StatusOK {
				t.Fatalf("signed cookies: %d %s", r.status, r.body)
			}
			if got := log.last(t).header.Get("Cookie"); got != "session=s1" {
				t.Errorf("origin got Cookie %q; want session=s1 only", got)
			}
			r = h.get(p.domain, "/video.mp4", http.Header{"Cookie": {jar}})
			if r.status != http.StatusForbidden {
				t.Errorf("signed cookies for /img/* on /video.mp4: %d; want 403", r.status)
			}
			// The cookie's policy expires with the clock.
			clock.Advance(20 * time.Minute)
			if r = h.get(p.domain, "/img/a.png", http.Header{"Cookie": {jar}}); r.status != http.StatusForbidden {
				t.Errorf("expired signed cookies: %d; want 403", r.status)
			}

			got := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(p.id)}))
			if a := got.Distribution.ActiveTrustedKeyGroups; !aws.ToBool(a.Enabled) || len(a.Items) != 1 || aws.ToString(a.Items[0].KeyGroupId) != p.groupID ||
				len(a.Items[0].KeyPairIds.Items) != 1 || a.Items[0].KeyPairIds.Items[0] != p.keyID {
				t.Errorf("ActiveTrustedKeyGroups = %+v", a)
			}
		})
	}
}

// TestKeyGroupUpdateReachesEdge: replacing the key of a trusted key group
// takes effect at the edge: URLs signed with the old key stop working.
func TestKeyGroupUpdateReachesEdge(t *testing.T) {
	clock := newFakeClock()
	clock.ns.Store(1_800_000_000 * int64(time.Second))
	h := newHarness(t, harnessOptions{clock: clock.Now})
	loggingOrigin(h, "rotate.origin.test", "max-age=3600")
	p := newPrivateDist(h, "rotate", "rotate.origin.test")
	h.waitServed()
	res := "http://" + p.domain + "/a"
	if r := h.get(p.domain, "/a?"+cannedQuery(t, signingKey(t, 0), p.keyID, res, 1_800_000_600), nil); r.status != http.StatusOK {
		t.Fatalf("before rotation: %d %s", r.status, r.body)
	}
	der, _ := x509.MarshalPKIXPublicKey(&signingKey(t, 1).PublicKey)
	pk2 := must[*cfsdk.CreatePublicKeyOutput](t)(h.cf.CreatePublicKey(h.ctx, &cfsdk.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
		CallerReference: aws.String("rotate-2"), Name: aws.String("rotate-2"),
		EncodedKey: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
	}}))
	cur := must[*cfsdk.GetKeyGroupOutput](t)(h.cf.GetKeyGroup(h.ctx, &cfsdk.GetKeyGroupInput{Id: aws.String(p.groupID)}))
	must[*cfsdk.UpdateKeyGroupOutput](t)(h.cf.UpdateKeyGroup(h.ctx, &cfsdk.UpdateKeyGroupInput{Id: aws.String(p.groupID), IfMatch: cur.ETag,
		KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("rotate"), Items: []string{aws.ToString(pk2.PublicKey.Id)}}}))
	h.waitServed()
	if r := h.get(p.domain, "/a?"+cannedQuery(t, signingKey(t, 0), p.keyID, res, 1_800_000_600), nil); r.status != http.StatusForbidden {
		t.Errorf("old key after rotation: %d; want 403", r.status)
	}
	if r := h.get(p.domain, "/a?"+cannedQuery(t, signingKey(t, 1), aws.ToString(pk2.PublicKey.Id), res, 1_800_000_600), nil); r.status != http.StatusOK {
		t.Errorf("new key after rotation: %d %s", r.status, r.body)
	}
	got := must[*cfsdk.GetDistributionOutput](t)(h.cf.GetDistribution(h.ctx, &cfsdk.GetDistributionInput{Id: aws.String(p.id)}))
	if s := aws.ToString(got.Distribution.Status); s != "Deployed" {
		t.Errorf("status after the key group update is served: %s", s)
	}
}

// BenchmarkSignedHit: cached hits through a behavior that trusts a key
// group (a valid canned signed URL, its verified signature remembered)
// and, in "ratio", the same number of unprotected hits right after in the
// same run: signed/unsigned-throughput is the ratio of their hits/s.
func BenchmarkSignedHit(b *testing.B) {
	// Key groups and public keys are created through the API: store-backed.
	h, o, _ := benchOriginWith(b, harnessOptions{})
	p := newPrivateDist(h, "bench-signed", o.host)
	// The same behavior without the restriction.
	plain := h.createDistribution(withOriginRequestPolicy(customOriginConfig("bench-unsigned", o.host, "", cachingOptimized), orpAllViewer))
	h.waitServed()
	expires := time.Now().Add(time.Hour).Unix()
	resource := "http://" + p.domain + "/obj.html"
	signedReq := httptest.NewRequest(http.MethodGet, resource+"?"+cannedQuery(b, signingKey(b, 0), p.keyID, resource, expires), nil)
	plainReq := httptest.NewRequest(http.MethodGet, "http://"+plain.domain+"/obj.html", nil)
	w := &discardWriter{h: http.Header{}}
	for _, req := range []*http.Request{plainReq, signedReq} {
		req.RemoteAddr = "127.0.0.1:40000"
		for range 2 {
			clear(w.h)
			h.edge.ServeHTTP(w, req)
		}
		if w.status != http.StatusOK || w.h.Get("X-Cache") != "Hit from stagefront" {
			b.Fatalf("warm-up %s: status %d, X-Cache %q", req.Host, w.status, w.h.Get("X-Cache"))
		}
	}
	serve := func(req *http.Request) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.edge.ServeHTTP(w, req)
			}
		}
	}
	b.Run("unsigned", serve(plainReq))
	b.Run("signed", serve(signedReq))
	// Batches of each in turn, timed in CPU time of the benchmark's thread
	// (a shared machine's load would otherwise decide the figure).
	b.Run("ratio", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		const batch = 500
		var signedCPU, plainCPU time.Duration
		for b.Loop() {
			t0 := threadCPU(b)
			for range batch {
				clear(w.h)
				h.edge.ServeHTTP(w, signedReq)
			}
			t1 := threadCPU(b)
			for range batch {
				clear(w.h)
				h.edge.ServeHTTP(w, plainReq)
			}
			signedCPU += t1 - t0
			plainCPU += threadCPU(b) - t1
		}
		b.ReportMetric(float64(plainCPU)/float64(signedCPU), "signed/unsigned-throughput")
		b.ReportMetric(float64(signedCPU.Nanoseconds())/float64(b.N*batch), "signed-cpu-ns/hit")
		b.ReportMetric(float64(plainCPU.Nanoseconds())/float64(b.N*batch), "unsigned-cpu-ns/hit")
	})
}

// threadCPU is the CPU time the calling OS thread has used, from
// CLOCK_THREAD_CPUTIME_ID: precise to the nanosecond, where getrusage's
// RUSAGE_THREAD split into user and system time moves in scheduler ticks
// (4 ms), longer than a batch of hits.
func threadCPU(tb testing.TB) time.Duration { return cpuClock(tb, unix.CLOCK_THREAD_CPUTIME_ID) }

// processCPU is the CPU time the process has used (all threads).
func processCPU(tb testing.TB) time.Duration { return cpuClock(tb, unix.CLOCK_PROCESS_CPUTIME_ID) }

func cpuClock(tb testing.TB, clock int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		tb.Fatalf("clock_gettime: %v", err)
	}
	return time.Duration(ts.Nano())
}
