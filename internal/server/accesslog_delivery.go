package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/accesslog/delivery"
)

// newUploader builds the delivery of access log files to the buckets of
// --access-log-s3-endpoint. viewer returns the edge once it exists; a file
// finished before is found again by the uploader's rescans.
func newUploader(ctx context.Context, f Config, reg prometheus.Registerer, log *slog.Logger, viewer func() *edge.Server) (*delivery.Uploader, error) {
	if f.AccessLogDir == "" {
		return nil, errors.New("--access-log-s3-endpoint needs --access-log-dir (the files wait there until delivered)")
	}
	u, err := url.Parse(f.AccessLogS3Endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--access-log-s3-endpoint %q is not a URL", f.AccessLogS3Endpoint)
	}
	client, err := delivery.NewS3Client(ctx, u)
	if err != nil {
		return nil, err
	}
	return delivery.New(delivery.Config{
		Dir: f.AccessLogDir, Client: client, Logger: log, Registry: reg,
		Ready: func() bool { v := viewer(); return v != nil && v.Table() != nil },
		Bucket: func(stem string) (string, bool) {
			v := viewer()
			if v == nil {
				return "", false
			}
			return logBucket(v, stem)
		},
	})
}

// logBucket returns the Logging.Bucket of the distribution that writes
// files named stem (<prefix><distribution-id>): the distribution whose id
// ends the stem and whose prefix is the rest. A distribution that still
// logs under another prefix than the file's takes it too, so a prefix
// change does not strand the files written before it.
func logBucket(v *edge.Server, stem string) (string, bool) {
	t := v.Table()
	fallback, found := "", false
	for i := range len(stem) {
		d := t.Dist(stem[i:])
		if d == nil || d.Logging == nil {
			continue
		}
		if d.Logging.Prefix == stem[:i] {
			return d.Logging.Bucket, true
		}
		if !found {
			fallback, found = d.Logging.Bucket, true
		}
	}
	return fallback, found
}
