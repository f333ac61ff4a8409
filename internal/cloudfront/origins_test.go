package cloudfront_test

import (
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

func s3Origin(domain string) *cf.DistributionConfig {
	c := validConfig()
	o := &c.Origins.Items[0]
	o.CustomOriginConfig = nil
	o.S3OriginConfig = &cf.S3OriginConfig{OriginAccessIdentity: cf.String("")}
	o.DomainName = cf.String(domain)
	return c
}

// TestOriginDomainNames: an S3 origin names an S3 bucket endpoint; any
// origin's DomainName is a bare host, never a URL with scheme, port or path.
func TestOriginDomainNames(t *testing.T) {
	t.Parallel()
	for _, domain := range []string{"bucket.s3.amazonaws.com", "my.bucket.s3.us-east-1.amazonaws.com",
		"bucket.s3-eu-west-1.amazonaws.com", "bucket.s3.dualstack.eu-west-1.amazonaws.com", "bucket.s3.cn-north-1.amazonaws.com.cn"} {
		if err := cf.ValidateDistributionConfig(s3Origin(domain), cf.Lookups{}); err != nil {
			t.Errorf("S3 origin %q refused: %v", domain, err)
		}
	}
	for _, domain := range []string{"origin.example.com", "bucket.s3-website-us-east-1.amazonaws.com", "s3.amazonaws.com",
		"bucket.s3.amazonaws.com.evil.example", "Bucket_Upper.s3.amazonaws.com", "127.0.0.1"} {
		wantCode(t, cf.ValidateDistributionConfig(s3Origin(domain), cf.Lookups{}), "InvalidArgument", 400,
			"The parameter Origin DomainName does not refer to a valid S3 bucket.")
	}
	for _, domain := range []string{"origin.example.com", "127.0.0.1", "::1", "[::1]", "origin-1.internal", "bucket.s3-website-us-east-1.amazonaws.com"} {
		c := validConfig()
		c.Origins.Items[0].DomainName = cf.String(domain)
		if err := cf.ValidateDistributionConfig(c, cf.Lookups{}); err != nil {
			t.Errorf("custom origin %q refused: %v", domain, err)
		}
	}
	for _, domain := range []string{"https://origin.example.com", "origin.example.com:8080", "origin.example.com/v1",
		"127.0.0.1:8080", "origin.example.com?x=1", "user@origin.example.com", "origin .example.com", "-origin.example.com"} {
		c := validConfig()
		c.Origins.Items[0].DomainName = cf.String(domain)
		wantCode(t, cf.ValidateDistributionConfig(c, cf.Lookups{}), "InvalidArgument", 400, "The parameter origin name must be a domain name.")
	}
}

// TestLoggingBucket: standard logs go to <bucket>.s3.amazonaws.com.
func TestLoggingBucket(t *testing.T) {
	t.Parallel()
	logging := func(enabled bool, bucket string) *cf.DistributionConfig {
		c := validConfig()
		c.Logging = &cf.LoggingConfig{Enabled: cf.Bool(enabled), IncludeCookies: cf.Bool(false), Bucket: cf.String(bucket), Prefix: cf.String("cf/")}
		return c
	}
	for _, ok := range []*cf.DistributionConfig{logging(true, "logs.s3.amazonaws.com"), logging(true, "my.logs.s3.amazonaws.com"), logging(false, "")} {
		if err := cf.ValidateDistributionConfig(ok, cf.Lookups{}); err != nil {
			t.Errorf("logging %s refused: %v", cf.Str(ok.Logging.Bucket), err)
		}
	}
	for _, bucket := range []string{"logs", "logs.s3.us-east-1.amazonaws.com", "https://logs.s3.amazonaws.com", "logs.example.com", ""} {
		wantCode(t, cf.ValidateDistributionConfig(logging(true, bucket), cf.Lookups{}), "InvalidArgument", 400,
			"The S3 bucket that you specified for CloudFront logs does not exist")
	}
}
