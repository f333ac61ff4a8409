package accesslog

import (
	"net/netip"
	"testing"
	"time"
)

// TestCaptureRoundTrip: a record captured into a batch and read back is
// written as the record itself would be, whatever its fields hold.
func TestCaptureRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 5, 13, 4, 5, 678_000_000, time.FixedZone("x", 3600))
	full := Record{
		Time: at, DistributionID: "E1", Prefix: "p/", IncludeCookies: true,
		ClientIP: "192.0.2.1", ClientPort: "5000", Method: "GET", Host: "d1.cloudfront.net",
		HostHeader: "www.example.com", URIStem: "/a b", URIQuery: "q=1", Status: 206,
		Referer: "https://r/", UserAgent: "UA 1\t2", Cookie: "a=1; b=2", ResultType: "Hit",
		RequestID: NewRequestID(), Protocol: "https", ProtocolVersion: "HTTP/1.1",
		CSBytes: 1, SCBytes: 1 << 40, TimeTaken: 1234567 * time.Microsecond, TTFB: 3 * time.Millisecond,
		XForwardedFor: "198.51.100.1", SSLProtocol: "TLSv1.3", SSLCipher: "TLS_AES_128_GCM_SHA256",
		ContentType: "text/plain", ContentLen: 1024, RangeStart: "0", RangeEnd: "99",
	}
	v4, v6, zoned, empty := full, full, full, Record{Time: at, ContentLen: -1}
	v4.ClientIP, v4.ClientPort, v4.ClientAddr = "", "", netip.MustParseAddrPort("203.0.113.9:443")
	v6.ClientIP, v6.ClientPort, v6.ClientAddr = "", "", netip.MustParseAddrPort("[2001:db8::1]:8443")
	zoned.ClientIP, zoned.ClientPort, zoned.ClientAddr = "", "", netip.MustParseAddrPort("[fe80::1%eth0]:80")
	recs := []Record{full, v4, v6, zoned, empty}
	var buf []byte
	for i := range recs {
		buf = appendCaptured(buf, &recs[i])
	}
	var r Record
	for i := range recs {
		buf = readCaptured(buf, &r)
		want := string(AppendLine(nil, &recs[i], "SF1-P1"))
		if got := string(AppendLine(nil, &r, "SF1-P1")); got != want {
			t.Errorf("record %d:\ngot  %q\nwant %q", i, got, want)
		}
	}
	if len(buf) != 0 {
		t.Errorf("%d bytes left after the last record", len(buf))
	}
}
