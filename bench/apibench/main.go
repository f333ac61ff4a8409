// Command apibench measures CloudFront API throughput over HTTP:
// GetDistribution and UpdateDistribution requests/s against a stagefront
// endpoint, and GetDistribution against moto_server, reporting the ratio.
// Every request carries a SigV4 Authorization header (moto picks the service
// from its credential scope; stagefront verifies it). Loopback only, bounded
// by -duration.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

func main() {
	stagefront := flag.String("stagefront", "", "stagefront API endpoint, e.g. http://127.0.0.1:7654")
	moto := flag.String("moto", "", "moto_server endpoint, e.g. http://127.0.0.1:5000 (optional)")
	duration := flag.Duration("duration", 5*time.Second, "how long each measurement runs")
	workers := flag.Int("concurrency", 16, "concurrent clients")
	flag.Parse()
	if *stagefront == "" {
		log.Fatal("-stagefront is required")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	ctx := context.Background()

	sfID := createDistribution(ctx, *stagefront, key, secret, "bench-get")
	sfGet := measure(*duration, *workers, func(c *http.Client, _ int) bool {
		return do(c, signedGet(*stagefront, sfID, key, secret), http.StatusOK)
	})
	fmt.Printf("stagefront GetDistribution:    %8.0f req/s (%d workers, %s)\n", sfGet, *workers, *duration)

	// Each update worker owns one distribution and follows its ETag.
	ids := make([]string, *workers)
	etags := make([]string, *workers)
	bodies := make([][]byte, *workers)
	for i := range ids {
		ids[i] = createDistribution(ctx, *stagefront, key, secret, fmt.Sprintf("bench-upd-%d-%d", i, time.Now().UnixNano()))
		etags[i], bodies[i] = currentConfig(*stagefront, ids[i], key, secret)
	}
	sfUpd := measure(*duration, *workers, func(c *http.Client, w int) bool {
		req := signedPut(*stagefront, ids[w], key, secret, bodies[w])
		req.Header.Set("If-Match", etags[w])
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		etags[w] = resp.Header.Get("ETag")
		return resp.StatusCode == http.StatusOK
	})
	fmt.Printf("stagefront UpdateDistribution: %8.0f req/s\n", sfUpd)

	if *moto != "" {
		motoID := createDistribution(ctx, *moto, "testing", "testing", "bench-moto")
		motoGet := measure(*duration, *workers, func(c *http.Client, _ int) bool {
			return do(c, signedGet(*moto, motoID, "testing", "testing"), http.StatusOK)
		})
		fmt.Printf("moto_server GetDistribution:   %8.0f req/s\n", motoGet)
		if motoGet > 0 {
			fmt.Printf("ratio GetDistribution stagefront/moto: %.1fx (goal >= 50x)\n", sfGet/motoGet)
		}
	}
}

func client(endpoint, key, secret string) *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{
		BaseEndpoint: aws.String(endpoint), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

func createDistribution(ctx context.Context, endpoint, key, secret, ref string) string {
	out, err := client(endpoint, key, secret).CreateDistribution(ctx, &cloudfront.CreateDistributionInput{
		DistributionConfig: &types.DistributionConfig{
			CallerReference: aws.String(ref), Comment: aws.String("bench"), Enabled: aws.Bool(true),
			Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
				Id: aws.String("web"), DomainName: aws.String("origin.example.com"),
				CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
			}}},
			DefaultCacheBehavior: &types.DefaultCacheBehavior{
				TargetOriginId: aws.String("web"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
				CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
			},
		},
	})
	if err != nil {
		log.Fatalf("create distribution at %s: %v", endpoint, err)
	}
	return *out.Distribution.Id
}

func currentConfig(endpoint, id, key, secret string) (etag string, body []byte) {
	req := sign(mustRequest(http.MethodGet, endpoint+"/2020-05-31/distribution/"+id+"/config", nil), key, secret, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.Header.Get("ETag"), body
}

func mustRequest(method, url string, body []byte) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	return req
}

// sign adds a SigV4 Authorization with the SDK signer.
func sign(req *http.Request, key, secret string, body []byte) *http.Request {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hash, "cloudfront", "us-east-1", time.Now())
	if err != nil {
		log.Fatal(err)
	}
	return req
}

func signedGet(endpoint, id, key, secret string) *http.Request {
	return sign(mustRequest(http.MethodGet, endpoint+"/2020-05-31/distribution/"+id, nil), key, secret, nil)
}

func signedPut(endpoint, id, key, secret string, body []byte) *http.Request {
	return sign(mustRequest(http.MethodPut, endpoint+"/2020-05-31/distribution/"+id+"/config", body), key, secret, body)
}

func do(c *http.Client, req *http.Request, want int) bool {
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == want
}

// measure runs fn from n workers for d and returns successful requests/s.
// It stops on the first failure count above 1% to avoid measuring errors.
func measure(d time.Duration, n int, fn func(c *http.Client, worker int) bool) float64 {
	var ok, failed atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 10 * time.Second}
			for time.Now().Before(deadline) {
				if fn(c, w) {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "warning: %d failed requests (%d ok)\n", f, ok.Load())
	}
	return float64(ok.Load()) / elapsed
}
