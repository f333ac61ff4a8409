package origin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Protocol policies of a custom origin (CustomOriginConfig.OriginProtocolPolicy).
const (
	HTTPOnly    = "http-only"
	HTTPSOnly   = "https-only"
	MatchViewer = "match-viewer"
)

// defaultS3Region is the signing region of the legacy global endpoint
// <bucket>.s3.amazonaws.com.
const defaultS3Region = "us-east-1"

// target is where one fetch goes: the URL (path already joined and escaped)
// and the Host header.
type target struct {
	url  url.URL
	host string
	// region is the SigV4 region; set for S3 origins only.
	region string
}

// ParseS3Domain reports whether domain is an S3 REST endpoint for a bucket
// and returns the bucket and region:
//
//	<bucket>.s3.amazonaws.com            → bucket, "us-east-1"
//	<bucket>.s3.<region>.amazonaws.com   → bucket, region
//	<bucket>.s3-<region>.amazonaws.com   → bucket, region
//	<bucket>.s3.dualstack.<region>.amazonaws.com → bucket, region
//
// (also under amazonaws.com.cn). Website endpoints
// (<bucket>.s3-website[.-]<region>.amazonaws.com) are custom origins in
// CloudFront and are not S3 domains here. Bucket names may contain dots.
func ParseS3Domain(domain string) (bucket, region string, ok bool) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	rest, found := strings.CutSuffix(domain, ".amazonaws.com")
	if !found {
		if rest, found = strings.CutSuffix(domain, ".amazonaws.com.cn"); !found {
			return "", "", false
		}
	}
	cut := strings.LastIndexByte(rest, '.')
	if cut <= 0 {
		return "", "", false
	}
	last := rest[cut+1:]
	switch {
	case last == "s3":
		return rest[:cut], defaultS3Region, true
	case strings.HasPrefix(last, "s3-"):
		region = last[len("s3-"):]
		if region == "external-1" {
			region = defaultS3Region
		}
		bucket = rest[:cut]
	default:
		region = last
		rest = rest[:cut]
		rest = strings.TrimSuffix(rest, ".dualstack")
		var label string
		if cut = strings.LastIndexByte(rest, '.'); cut > 0 {
			label = rest[cut+1:]
		}
		if label != "s3" {
			return "", "", false
		}
		bucket = rest[:cut]
	}
	if !validRegion(region) || bucket == "" {
		return "", "", false
	}
	return bucket, region, true
}

// validRegion accepts names shaped like us-east-1 or us-gov-west-1 and
// rejects "website-…" and other endpoint labels.
func validRegion(region string) bool {
	if strings.HasPrefix(region, "website") || strings.Count(region, "-") < 2 {
		return false
	}
	for _, c := range region {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	last := region[strings.LastIndexByte(region, '-')+1:]
	_, err := strconv.Atoi(last)
	return err == nil
}

// errBadSpec marks configuration the fetcher cannot use; routing should have
// rejected it. It maps to 502.
var errBadSpec = errors.New("unusable origin spec")

// customTarget builds the URL of a custom HTTP(S) origin.
func customTarget(spec *Spec, req *Request) (target, error) {
	policy := spec.ProtocolPolicy
	if policy == "" {
		policy = MatchViewer
	}
	var scheme string
	switch policy {
	case HTTPOnly:
		scheme = "http"
	case HTTPSOnly:
		scheme = "https"
	case MatchViewer:
		scheme = "http"
		if strings.EqualFold(req.ViewerScheme, "https") {
			scheme = "https"
		}
	default:
		return target{}, fmt.Errorf("%w: protocol policy %q", errBadSpec, spec.ProtocolPolicy)
	}
	port, defaultPort := spec.HTTPPort, 80
	if scheme == "https" {
		port, defaultPort = spec.HTTPSPort, 443
	}
	if port == 0 {
		port = defaultPort
	}
	t := target{host: spec.DomainName}
	if port != defaultPort {
		t.host = net.JoinHostPort(spec.DomainName, strconv.Itoa(port))
	}
	t.url.Scheme = scheme
	t.url.Host = t.host
	if err := setPath(&t.url, spec.OriginPath+req.Path, false); err != nil {
		return target{}, err
	}
	t.url.RawQuery = req.RawQuery
	return t, nil
}

// s3Target builds the URL of an S3 origin: path-style on the configured
// S3-compatible endpoint, or virtual-hosted on the real domain over HTTPS.
func (f *Fetcher) s3Target(spec *Spec, req *Request) (target, error) {
	bucket, region, ok := ParseS3Domain(spec.DomainName)
	if !ok {
		return target{}, fmt.Errorf("%w: %q is not an S3 bucket domain", errBadSpec, spec.DomainName)
	}
	var t target
	path := spec.OriginPath + req.Path
	if f.s3Endpoint != nil {
		if f.region != "" {
			region = f.region // an S3-compatible server has one region
		}
		t.url.Scheme = f.s3Endpoint.Scheme
		t.host = f.s3Endpoint.Host
		path = strings.TrimSuffix(f.s3Endpoint.Path, "/") + "/" + bucket + path
	} else {
		t.url.Scheme = "https"
		t.host = spec.DomainName
	}
	t.url.Host = t.host
	t.region = region
	if err := setPath(&t.url, path, true); err != nil {
		return target{}, err
	}
	t.url.RawQuery = req.RawQuery
	return t, nil
}

// setPath sets u's path from the escaped path raw. Custom origins get the
// viewer's escaping unchanged. S3 origins get S3's canonical escaping (every
// byte but unreserved characters and "/" percent-encoded), so that the key
// is unambiguous ("+" is not a space) and the SigV4 canonical URI, which is
// taken from it verbatim, matches what S3 computes.
func setPath(u *url.URL, raw string, s3 bool) error {
	if raw == "" || raw[0] != '/' {
		raw = "/" + raw
	}
	if !strings.Contains(raw, "%") && (!s3 || s3Clean(raw)) {
		u.Path, u.RawPath = raw, ""
		return nil
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return fmt.Errorf("request path: %w", err)
	}
	u.Path = decoded
	if s3 {
		u.RawPath = s3Escape(decoded)
	} else {
		u.RawPath = raw
	}
	return nil
}

// s3Clean reports whether s needs no escaping in S3's canonical form.
func s3Clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if !s3Unreserved(s[i]) && s[i] != '/' {
			return false
		}
	}
	return true
}

func s3Unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// s3Escape percent-encodes every byte of a decoded key path except
// unreserved characters and "/" (AWS's UriEncode with slashes kept).
func s3Escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if s3Unreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
