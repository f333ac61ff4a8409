package delivery

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
)

// S3 is the one call of the S3 API the Uploader makes (*s3.Client has it).
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// NewS3Client returns an S3 client for the S3-compatible endpoint, path
// style, with credentials and region from the standard AWS chain (region
// us-east-1 when none is configured).
func NewS3Client(ctx context.Context, endpoint *url.URL) (*s3.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("access log delivery: AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint.String())
		o.UsePathStyle = true
	}), nil
}

// Config configures an Uploader.
type Config struct {
	// Dir is the access log directory (the writer's Config.Dir).
	Dir    string
	Client S3
	// Bucket returns the Logging.Bucket of the distribution whose file
	// stem (the object key without ".YYYY-MM-DD-HH.<unique>.gz", so
	// <prefix><distribution-id>) this is, and false when it has none now.
	Bucket func(stem string) (bucket string, ok bool)
	// Ready, when set, holds uploads back while it returns false (the
	// edge before its first routing table, which Bucket reads).
	Ready func() bool
	// Rescan is how often the directory is searched for files to upload
	// (default 30 s); RetryMin and RetryMax bound the backoff after a
	// failed upload (defaults 5 s and 10 min).
	Rescan, RetryMin, RetryMax time.Duration
	// Timeout bounds one upload (default 2 min).
	Timeout  time.Duration
	Logger   *slog.Logger
	Registry prometheus.Registerer
	Now      func() time.Time
}

// notReadyPoll is how often Run checks Config.Ready while it is false.
const notReadyPoll = 50 * time.Millisecond

// Uploader delivers finished log files to their buckets.
type Uploader struct {
	cfg    Config
	notify chan string
	// pending is owned by Run: files found and not yet delivered.
	pending map[string]*attempt

	uploaded, failed prometheus.Counter
	waiting          prometheus.Gauge
}

type attempt struct {
	next     time.Time
	failures int
}

// New returns an Uploader; Run starts it.
func New(cfg Config) (*Uploader, error) {
	if cfg.Dir == "" || cfg.Client == nil || cfg.Bucket == nil {
		return nil, errors.New("access log delivery: Dir, Client and Bucket are required")
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = 30 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 5 * time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(10*time.Minute, cfg.RetryMin)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &Uploader{
		cfg: cfg, notify: make(chan string, 256), pending: map[string]*attempt{},
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{Name: "stagefront_access_log_uploads_total",
			Help: "Access log files delivered to their Logging bucket."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "stagefront_access_log_upload_errors_total",
			Help: "Failed access log uploads (each is retried; the file stays on disk)."}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "stagefront_access_log_upload_pending",
			Help: "Access log files waiting for delivery to their Logging bucket."}),
	}
	for _, c := range []prometheus.Collector{u.uploaded, u.failed, u.waiting} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("access log delivery metrics: %w", err)
		}
	}
	return u, nil
}

// Notify tells the Uploader of a finished file (the writer's Finished
// hook). It never blocks: when its queue is full, the next rescan finds
// the file.
func (u *Uploader) Notify(path string) {
	select {
	case u.notify <- path:
	default:
	}
}

// Run uploads files until ctx ends. Files not delivered by then stay in
// the directory for the next process.
func (u *Uploader) Run(ctx context.Context) error {
	u.scan()
	rescan := time.NewTicker(u.cfg.Rescan)
	defer rescan.Stop()
	for {
		wait := u.cfg.Rescan
		if u.cfg.Ready == nil || u.cfg.Ready() {
			u.uploadDue(ctx)
			if next, ok := u.nextAttempt(); ok {
				wait = max(min(wait, next.Sub(u.cfg.Now())), time.Millisecond)
			}
		} else {
			wait = min(wait, notReadyPoll)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case path := <-u.notify:
			u.add(path)
		case <-rescan.C:
			u.scan()
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (u *Uploader) add(path string) {
	if _, ok := u.pending[path]; !ok {
		u.pending[path] = &attempt{}
	}
	u.waiting.Set(float64(len(u.pending)))
}

// scan adds every finished log file in the directory (the writer's
// partial files are hidden, named ".…partial").
func (u *Uploader) scan() {
	err := filepath.WalkDir(u.cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".gz") && !strings.HasPrefix(d.Name(), ".") {
			u.add(path)
		}
		return nil
	})
	if err != nil {
		u.cfg.Logger.Warn("access log delivery: scan", "dir", u.cfg.Dir, "err", err)
	}
}

func (u *Uploader) nextAttempt() (time.Time, bool) {
	var next time.Time
	found := false
	for _, a := range u.pending {
		if !found || a.next.Before(next) {
			next, found = a.next, true
		}
	}
	return next, found
}

func (u *Uploader) uploadDue(ctx context.Context) {
	for path, a := range u.pending {
		if ctx.Err() != nil {
			return
		}
		if u.cfg.Now().Before(a.next) {
			continue
		}
		err := u.upload(ctx, path)
		switch {
		case err == nil:
			delete(u.pending, path)
			u.uploaded.Inc()
		case errors.Is(err, fs.ErrNotExist):
			delete(u.pending, path) // delivered or removed by someone else
		case ctx.Err() != nil:
			return
		default:
			a.failures++
			backoff := u.cfg.RetryMin << min(a.failures-1, 20)
			a.next = u.cfg.Now().Add(min(backoff, u.cfg.RetryMax))
			u.failed.Inc()
			u.cfg.Logger.Warn("access log delivery failed; the file stays and is retried",
				"file", path, "failures", a.failures, "retry_in", min(backoff, u.cfg.RetryMax), "err", err)
		}
	}
	u.waiting.Set(float64(len(u.pending)))
}

// upload puts one file in its bucket and then removes it.
func (u *Uploader) upload(ctx context.Context, path string) error {
	rel, err := filepath.Rel(u.cfg.Dir, path)
	if err != nil {
		return err
	}
	key := filepath.ToSlash(rel)
	stem, ok := Stem(key)
	if !ok {
		return fmt.Errorf("%s is not named like an access log file", key)
	}
	domain, ok := u.cfg.Bucket(stem)
	if !ok {
		return fmt.Errorf("no distribution with logging enabled writes %s*", stem)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, u.cfg.Timeout)
	defer cancel()
	if _, err := u.cfg.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(BucketName(domain)), Key: aws.String(key), Body: f,
		ContentType: aws.String("application/x-gzip"),
	}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", BucketName(domain), key, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delivered, but not removed: %w", err)
	}
	return nil
}

// Stem returns the object key of a log file without its
// ".YYYY-MM-DD-HH.<unique>.gz" end: <prefix><distribution-id>.
func Stem(key string) (string, bool) {
	rest, ok := strings.CutSuffix(key, ".gz")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", false
	}
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '.')
	if j <= 0 || len(rest)-j-1 != len("2006-01-02-15") {
		return "", false
	}
	return rest[:j], true
}

// BucketName returns the bucket a Logging.Bucket names: CloudFront takes
// the bucket's domain name (mybucket.s3.amazonaws.com, or a regional
// mybucket.s3.us-west-2.amazonaws.com); a bare name is taken as it is.
func BucketName(domain string) string {
	if i := strings.Index(domain, ".s3."); i > 0 {
		return domain[:i]
	}
	if i := strings.Index(domain, ".s3-"); i > 0 {
		return domain[:i]
	}
	return domain
}
