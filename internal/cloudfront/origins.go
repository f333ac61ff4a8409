package cloudfront

import (
	"net/netip"
	"regexp"
	"strings"
)

var (
	// originHostRE is a DNS name: labels of letters, digits and inner
	// hyphens, without a wildcard.
	originHostRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	// bucketRE is an S3 bucket name as CloudFront accepts it for an S3
	// origin: 3 to 63 lowercase letters, digits, dots and hyphens.
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

const maxDomainNameLen = 253

// validateOriginDomain checks an origin's DomainName: a bare host name (or,
// as stagefront's origins are often on a private network, an IP address),
// never a URL with a scheme, port, path or user; and for an S3 origin the
// REST endpoint of a bucket.
func validateOriginDomain(o *Origin) error {
	domain := Str(o.DomainName)
	if o.S3OriginConfig != nil {
		if _, ok := s3BucketOfEndpoint(domain); !ok || !validOriginHost(domain) {
			return ErrInvalidArgument.WithMessage("The parameter Origin DomainName does not refer to a valid S3 bucket.")
		}
		return nil
	}
	if !validOriginHost(domain) {
		return ErrInvalidArgument.WithMessage("The parameter origin name must be a domain name.")
	}
	return nil
}

func validOriginHost(domain string) bool {
	if len(domain) == 0 || len(domain) > maxDomainNameLen {
		return false
	}
	if originHostRE.MatchString(domain) {
		return true
	}
	if inner, ok := strings.CutPrefix(domain, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		addr, err := netip.ParseAddr(inner)
		return ok && err == nil && addr.Is6() && addr.Zone() == ""
	}
	addr, err := netip.ParseAddr(domain)
	return err == nil && addr.Zone() == ""
}

// s3BucketOfEndpoint returns the bucket of an S3 REST endpoint:
//
//	<bucket>.s3.amazonaws.com
//	<bucket>.s3.<region>.amazonaws.com
//	<bucket>.s3-<region>.amazonaws.com
//	<bucket>.s3.dualstack.<region>.amazonaws.com
//
// (and the same under amazonaws.com.cn). A website endpoint
// (s3-website…) is a custom origin for CloudFront, not an S3 origin.
func s3BucketOfEndpoint(domain string) (string, bool) {
	rest, ok := strings.CutSuffix(domain, ".amazonaws.com")
	if !ok {
		if rest, ok = strings.CutSuffix(domain, ".amazonaws.com.cn"); !ok {
			return "", false
		}
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	var bucket []string
	switch {
	case n >= 2 && labels[n-1] == "s3":
		bucket = labels[:n-1]
	case n >= 2 && strings.HasPrefix(labels[n-1], "s3-") && !strings.HasPrefix(labels[n-1], "s3-website") &&
		(regionRE.MatchString(labels[n-1][3:]) || labels[n-1] == "s3-external-1"):
		bucket = labels[:n-1]
	case n >= 3 && labels[n-2] == "s3" && regionRE.MatchString(labels[n-1]):
		bucket = labels[:n-2]
	case n >= 4 && labels[n-3] == "s3" && labels[n-2] == "dualstack" && regionRE.MatchString(labels[n-1]):
		bucket = labels[:n-3]
	default:
		return "", false
	}
	name := strings.Join(bucket, ".")
	if !bucketRE.MatchString(name) || strings.Contains(name, "..") {
		return "", false
	}
	return name, true
}

// validateLogging checks standard logging: its bucket is named the way
// CloudFront wants it, <bucket>.s3.amazonaws.com.
func validateLogging(l *LoggingConfig) error {
	if l == nil || !IsTrue(l.Enabled) {
		return nil
	}
	bucket := Str(l.Bucket)
	name, ok := strings.CutSuffix(bucket, ".s3.amazonaws.com")
	if !ok || !bucketRE.MatchString(name) || strings.Contains(name, "..") {
		return ErrInvalidArgument.WithMessage("The S3 bucket that you specified for CloudFront logs does not exist: %s", bucket)
	}
	return nil
}
