package delivery_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
	"github.com/stagefront/stagefront/internal/edge/accesslog/delivery"
	"github.com/stagefront/stagefront/internal/edge/origin/mototest"
	"github.com/stagefront/stagefront/internal/testutil"
)

func s3Client(endpoint *url.URL) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint.String()), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOGDELIVERY01", "log-delivery-secret", ""),
	})
}

func record(i int, at time.Time) *accesslog.Record {
	return &accesslog.Record{
		Time: at, DistributionID: "E2QWRUHEXAMPLE", Prefix: "cf-logs/",
		ClientIP: "192.0.2.10", ClientPort: "54321", Method: "GET",
		Host: "d111111abcdef8.cloudfront.net", HostHeader: "www.example.com",
		URIStem: "/img/" + string(rune('a'+i%26)) + ".png", Status: 200, ResultType: "Hit",
		RequestID: accesslog.NewRequestID(), Protocol: "http", ProtocolVersion: "HTTP/1.1",
		ContentType: "image/png", ContentLen: 1024,
	}
}

// bucketOf is the table the edge gives the Uploader: the one distribution
// logs to the bucket's domain name, as CloudFront configs name it.
func bucketOf(domain string) func(string) (string, bool) {
	return func(stem string) (string, bool) {
		if stem == "cf-logs/E2QWRUHEXAMPLE" {
			return domain, true
		}
		return "", false
	}
}

// writeLogs writes n lines of one distribution through a real access log
// Writer, whose finished files are handed to notify.
func writeLogs(t *testing.T, dir string, n int, notify func(string)) {
	t.Helper()
	w, err := accesslog.New(accesslog.Config{Dir: dir, Finished: notify})
	testutil.Must(t, err)
	at := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	for i := range n {
		w.Log(record(i, at.Add(time.Duration(i)*time.Minute)))
	}
	testutil.Must(t, w.Close())
}

func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files
}

func startUploader(t *testing.T, cfg delivery.Config) *delivery.Uploader {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax, cfg.Rescan = 20*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond
	}
	u, err := delivery.New(cfg)
	testutil.Must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = u.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return u
}

func bucketObjects(t *testing.T, client *s3.Client, bucket string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	list, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return nil
	}
	for _, o := range list.Contents {
		obj, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		testutil.Must(t, err)
		zr, err := gzip.NewReader(obj.Body)
		testutil.Must(t, err)
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			out[aws.ToString(o.Key)] = append(out[aws.ToString(o.Key)], sc.Text())
		}
		obj.Body.Close()
	}
	return out
}

// TestDeliveryToBucket: log files go to the distribution's bucket on an
// S3 server (moto) under CloudFront's key names, and leave the directory
// only once delivered; while the bucket cannot take them (it does not
// exist yet) they stay on disk and are retried.
func TestDeliveryToBucket(t *testing.T) {
	t.Parallel()
	endpoint := mototest.Start(t)
	client := s3Client(endpoint)
	dir := t.TempDir()

	u := startUploader(t, delivery.Config{Dir: dir, Client: client, Bucket: bucketOf("cf-access-logs.s3.amazonaws.com")})
	writeLogs(t, dir, 90, u.Notify) // 13:00–14:29: two hourly files
	files := logFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("log files %v; want 2", files)
	}
	// The bucket does not exist: uploads fail, the files stay.
	time.Sleep(300 * time.Millisecond)
	if got := logFiles(t, dir); len(got) != 2 {
		t.Fatalf("after failed uploads the directory holds %v; want both files kept", got)
	}
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("cf-access-logs")})
	testutil.Must(t, err)
	testutil.Eventually(t, 15*time.Second, "the files delivered and removed", func() bool {
		return len(logFiles(t, dir)) == 0
	})
	objects := bucketObjects(t, client, "cf-access-logs")
	lines := 0
	for _, f := range files {
		got, ok := objects[f]
		if !ok {
			t.Errorf("object %s missing from the bucket (has %d objects)", f, len(objects))
			continue
		}
		if !strings.HasPrefix(f, "cf-logs/E2QWRUHEXAMPLE.2026-12-05-1") || !strings.HasSuffix(f, ".gz") {
			t.Errorf("object key %s is not <prefix><distribution-id>.YYYY-MM-DD-HH.<unique>.gz", f)
		}
		if len(got) < 2 || got[0] != "#Version: 1.0" || !strings.HasPrefix(got[1], "#Fields: date time x-edge-location") {
			t.Errorf("object %s does not start with the log header: %q", f, got[:min(2, len(got))])
		}
		lines += len(got) - 2
	}
	if lines != 90 {
		t.Errorf("%d log lines delivered; want 90", lines)
	}
}

// TestUndeliveredFilesKept: with the endpoint down, or no distribution
// logging to a bucket for a file, files are never removed; a new Uploader
// (a restarted edge) finds the files left in the directory and delivers
// them once it can.
func TestUndeliveredFilesKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	down := &url.URL{Scheme: "http", Host: testutil.FreeAddr(t)}
	writeLogs(t, dir, 10, nil)
	stray := filepath.Join(dir, "other/E3NOTLOGGING00.2026-12-05-13.0badf00d.gz")
	testutil.Must(t, os.MkdirAll(filepath.Dir(stray), 0o755))
	testutil.Must(t, os.WriteFile(stray, []byte("not delivered"), 0o644))

	func() {
		ctx, cancel := context.WithCancel(context.Background())
		u, err := delivery.New(delivery.Config{Dir: dir, Client: s3Client(down), Bucket: bucketOf("cf-access-logs.s3.amazonaws.com"),
			RetryMin: 10 * time.Millisecond, Rescan: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		testutil.Must(t, err)
		done := make(chan error, 1)
		go func() { done <- u.Run(ctx) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}()
	if got := logFiles(t, dir); len(got) != 2 {
		t.Fatalf("with the endpoint down the directory holds %v; want both files kept", got)
	}

	endpoint := mototest.Start(t)
	client := s3Client(endpoint)
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("cf-access-logs")})
	testutil.Must(t, err)
	startUploader(t, delivery.Config{Dir: dir, Client: client, Bucket: bucketOf("cf-access-logs.s3.amazonaws.com")})
	testutil.Eventually(t, 15*time.Second, "the left file delivered", func() bool {
		return len(logFiles(t, dir)) == 1
	})
	time.Sleep(200 * time.Millisecond)
	if got := logFiles(t, dir); len(got) != 1 || got[0] != "other/E3NOTLOGGING00.2026-12-05-13.0badf00d.gz" {
		t.Errorf("the directory holds %v; want only the file no distribution logs to", got)
	}
	if objs := bucketObjects(t, client, "cf-access-logs"); len(objs) != 1 {
		t.Errorf("bucket holds %d objects; want 1", len(objs))
	}
}

func TestStemAndBucketName(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"E2QWRUHEXAMPLE.2026-12-05-13.0a1b2c3d.gz":            "E2QWRUHEXAMPLE",
		"logs/site.E2QWRUHEXAMPLE.2026-12-05-13.0a1b2c3d.gz":  "logs/site.E2QWRUHEXAMPLE",
		"a/b/prefix-E2QWRUHEXAMPLE.2026-12-05-13.ffffffff.gz": "a/b/prefix-E2QWRUHEXAMPLE",
		"E2QWRUHEXAMPLE.2026-12-05.0a1b2c3d.gz":               "",
		"E2QWRUHEXAMPLE.2026-12-05-13.0a1b2c3d":               "",
		".2026-12-05-13.0a1b2c3d.gz":                          "",
	} {
		got, ok := delivery.Stem(key)
		if got != want || ok != (want != "") {
			t.Errorf("Stem(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for domain, want := range map[string]string{
		"mybucket.s3.amazonaws.com":           "mybucket",
		"my.dotted.bucket.s3.amazonaws.com":   "my.dotted.bucket",
		"mybucket.s3.us-west-2.amazonaws.com": "mybucket",
		"mybucket.s3-us-west-2.amazonaws.com": "mybucket",
		"mybucket":                            "mybucket",
	} {
		if got := delivery.BucketName(domain); got != want {
			t.Errorf("BucketName(%q) = %q; want %q", domain, got, want)
		}
	}
}

// TestWaitsUntilReady: nothing is uploaded, and no failure counted, while
// Ready says the edge cannot name buckets yet.
func TestWaitsUntilReady(t *testing.T) {
	t.Parallel()
	endpoint := mototest.Start(t)
	client := s3Client(endpoint)
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("cf-access-logs")})
	testutil.Must(t, err)
	dir := t.TempDir()
	writeLogs(t, dir, 3, nil)
	var ready atomic.Bool
	startUploader(t, delivery.Config{Dir: dir, Client: client, Bucket: bucketOf("cf-access-logs.s3.amazonaws.com"), Ready: ready.Load})
	time.Sleep(300 * time.Millisecond)
	if got := logFiles(t, dir); len(got) != 1 {
		t.Fatalf("before Ready the directory holds %v; want the file kept", got)
	}
	if objs := bucketObjects(t, client, "cf-access-logs"); len(objs) != 0 {
		t.Fatalf("%d objects uploaded before Ready; want none", len(objs))
	}
	ready.Store(true)
	testutil.Eventually(t, 10*time.Second, "the upload once ready", func() bool { return len(logFiles(t, dir)) == 0 })
	if objs := bucketObjects(t, client, "cf-access-logs"); len(objs) != 1 {
		t.Errorf("%d objects in the bucket; want 1", len(objs))
	}
}
