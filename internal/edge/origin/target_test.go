package origin

import (
	"net/url"
	"testing"
)

func TestParseS3Domain(t *testing.T) {
	tests := []struct {
		domain     string
		wantBucket string
		wantRegion string
		wantOK     bool
	}{
		{"site.s3.amazonaws.com", "site", "us-east-1", true},
		{"site.s3.eu-west-1.amazonaws.com", "site", "eu-west-1", true},
		{"site.s3-eu-west-1.amazonaws.com", "site", "eu-west-1", true},
		{"site.s3-external-1.amazonaws.com", "site", "us-east-1", true},
		{"site.s3.dualstack.ap-southeast-2.amazonaws.com", "site", "ap-southeast-2", true},
		{"my.dotted.bucket.s3.us-gov-west-1.amazonaws.com", "my.dotted.bucket", "us-gov-west-1", true},
		{"site.s3.cn-north-1.amazonaws.com.cn", "site", "cn-north-1", true},
		{"Site.S3.Amazonaws.com.", "site", "us-east-1", true},
		{"site.s3-website-us-east-1.amazonaws.com", "", "", false},
		{"site.s3-website.eu-west-1.amazonaws.com", "", "", false},
		{"s3.amazonaws.com", "", "", false},
		{"s3.eu-west-1.amazonaws.com", "", "", false},
		{"site.execute-api.eu-west-1.amazonaws.com", "", "", false},
		{"origin.example.com", "", "", false},
		{"site.s3.eu-west-1.amazonaws.com.evil.example", "", "", false},
	}
	for _, tt := range tests {
		bucket, region, ok := ParseS3Domain(tt.domain)
		if bucket != tt.wantBucket || region != tt.wantRegion || ok != tt.wantOK {
			t.Errorf("ParseS3Domain(%q): got (%q, %q, %v), want (%q, %q, %v)",
				tt.domain, bucket, region, ok, tt.wantBucket, tt.wantRegion, tt.wantOK)
		}
	}
}

func TestS3Target(t *testing.T) {
	endpoint, _ := url.Parse("http://127.0.0.1:9000/base/")
	tests := []struct {
		name       string
		endpoint   *url.URL
		region     string // Options.Region
		domain     string
		originPath string
		req        Request
		wantURL    string
		wantHost   string
		wantRegion string
	}{
		{
			name: "virtual-hosted on the real domain over HTTPS", domain: "site.s3.eu-west-1.amazonaws.com",
			originPath: "/1.0.0", req: Request{Path: "/index.html", ViewerScheme: "http"},
			wantURL:  "https://site.s3.eu-west-1.amazonaws.com/1.0.0/index.html",
			wantHost: "site.s3.eu-west-1.amazonaws.com", wantRegion: "eu-west-1",
		},
		{
			name: "path-style on the endpoint", endpoint: endpoint, domain: "site.s3-eu-west-1.amazonaws.com",
			originPath: "/1.0.0", req: Request{Path: "/index.html", RawQuery: "versionId=3"},
			wantURL:  "http://127.0.0.1:9000/base/site/1.0.0/index.html?versionId=3",
			wantHost: "127.0.0.1:9000", wantRegion: "eu-west-1",
		},
		{
			name: "endpoint region overrides", endpoint: endpoint, region: "us-east-1", domain: "site.s3.eu-west-1.amazonaws.com",
			req:     Request{Path: "/a"},
			wantURL: "http://127.0.0.1:9000/base/site/a", wantHost: "127.0.0.1:9000", wantRegion: "us-east-1",
		},
		{
			name: "key re-escaped the S3 way", domain: "site.s3.amazonaws.com",
			req:     Request{Path: "/a%20b+c/%C3%A9t%C3%A9(1).txt"},
			wantURL: "https://site.s3.amazonaws.com/a%20b%2Bc/%C3%A9t%C3%A9%281%29.txt", wantHost: "site.s3.amazonaws.com", wantRegion: "us-east-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Fetcher{s3Endpoint: tt.endpoint, region: tt.region}
			got, err := f.s3Target(&Spec{DomainName: tt.domain, OriginPath: tt.originPath, S3: true}, &tt.req)
			if err != nil {
				t.Fatalf("s3Target: %v", err)
			}
			if got.url.String() != tt.wantURL || got.host != tt.wantHost || got.region != tt.wantRegion {
				t.Errorf("got (%s, %s, %s), want (%s, %s, %s)", got.url.String(), got.host, got.region, tt.wantURL, tt.wantHost, tt.wantRegion)
			}
		})
	}
}

func TestStripCDCookie(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a=1"}, "a=1"},
		{[]string{"a=1;b=2"}, "a=1;b=2"}, // untouched when there is nothing to strip
		{[]string{"x-amz-continuous-deployment-state=v"}, ""},
		{[]string{"a=1; x-amz-continuous-deployment-state=v;b=2"}, "a=1; b=2"},
		{[]string{" x-amz-continuous-deployment-state = v ; a=1"}, "a=1"},
		{[]string{"a=1", "x-amz-continuous-deployment-state=v", "b=2"}, "a=1; b=2"},
		{[]string{"my-x-amz-continuous-deployment-state=keep"}, "my-x-amz-continuous-deployment-state=keep"},
	}
	for _, tt := range tests {
		if got := stripCDCookie(tt.in); got != tt.want {
			t.Errorf("stripCDCookie(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
