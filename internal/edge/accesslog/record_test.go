package accesslog

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzRecordRoundTrip: records encoded into a batch, each against the
// one before, and read back make the same log lines, whatever their
// strings and numbers; and reading arbitrary bytes as records never
// panics.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("GET", "/a b.png", "v=1", "Mozilla/5.0", "session=1", "192.0.2.1", int64(1536), int64(-1), 200, uint16(443), true, []byte{})
	f.Add("", "", "", "", "", "::1", int64(0), int64(1<<40), 0, uint16(0), false, []byte{9, 0, 0, 0, 1})
	f.Add("PURGE", "/\x00\xff", "%", "\t\n", "c", "fe80::1%eth0", int64(-5), int64(7), 999, uint16(1), true, []byte("garbage"))
	f.Fuzz(func(t *testing.T, method, stem, query, ua, cookie, ip string, sc, cl int64, status int, port uint16, cookies bool, junk []byte) {
		r := Record{
			Time: time.Unix(1765000000, int64(port)*1e6), DistributionID: "E1", Prefix: "p/", IncludeCookies: cookies,
			Method: method, URIStem: stem, URIQuery: query, UserAgent: ua, Cookie: cookie, Status: status,
			SCBytes: sc, ContentLen: cl, CSBytes: sc / 3, TimeTaken: time.Duration(cl), TTFB: time.Duration(sc),
			RequestID: NewRequestID(), Host: "d.cloudfront.net", HostHeader: stem, ResultType: "Hit", Protocol: "http",
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			r.ClientAddr = netip.AddrPortFrom(a, port)
		} else {
			r.ClientIP, r.ClientPort = ip, query
		}
		// The record, a like one (a new id, a later time, another
		// port, the rest the same), one with other strings, the first
		// again.
		like := r
		like.RequestID, like.Time, like.ClientAddr = NewRequestID(), r.Time.Add(time.Duration(sc)), netip.AddrPortFrom(r.ClientAddr.Addr(), port+1)
		other := r
		other.Method, other.UserAgent, other.RequestID, other.URIStem = ua, method, "not-a-tailed-id", query
		recs := []Record{r, like, other, r, r}
		var enc recordEncoder
		b := []byte("prefix")
		for i := range recs {
			b = enc.appendRecord(b, &recs[i])
		}
		b = b[len("prefix"):]
		var dec recordDecoder
		for i := range recs {
			var got Record
			var err error
			if b, err = dec.readRecord(b, &got); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if want, line := AppendLine(nil, &recs[i], "SF1"), AppendLine(nil, &got, "SF1"); string(line) != string(want) {
				t.Fatalf("record %d: line\n%q\nwant\n%q", i, line, want)
			}
		}
		if len(b) != 0 {
			t.Fatalf("%d bytes left", len(b))
		}
		var junkDec recordDecoder
		for rest := junk; len(rest) > 0; {
			var got Record
			var err error
			if rest, err = junkDec.readRecord(rest, &got); err != nil {
				break
			}
			_ = AppendLine(nil, &got, "SF1")
		}
	})
}

// TestRecordIsSmall: a batch holds a cached hit's record, as the edge
// logs it, in a fraction of its line, once a record before it is alike.
func TestRecordIsSmall(t *testing.T) {
	recs := benchRecords(2)
	var enc recordEncoder
	first := enc.appendRecord(nil, &recs[0])
	second := enc.appendRecord(nil, &recs[1])
	line := AppendLine(nil, &recs[1], "SF1-P1")
	if len(first) > len(line) || len(second) > len(line)/4 {
		t.Fatalf("records of %d and %d bytes for lines of %d", len(first), len(second), len(line))
	}
}

func TestParsePressure(t *testing.T) {
	for text, want := range map[string]uint64{
		"some avg10=2.25 avg60=40.79 avg300=46.71 total=11294289203\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n": 11294289203,
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=7\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=42":              42,
	} {
		if got, err := parsePressure([]byte(text)); err != nil || got != want {
			t.Errorf("parsePressure(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	for _, bad := range []string{"", "full total=1", "some avg10=1.00", "some total=x"} {
		if got, err := parsePressure([]byte(bad)); err == nil {
			t.Errorf("parsePressure(%q) = %d, want an error", bad, got)
		}
	}
}

// TestCPUPressureReadsTheKernel: where the kernel reports CPU pressure,
// the Writer uses it; where it does not, the Writer never defers.
func TestCPUPressureReadsTheKernel(t *testing.T) {
	_, err := readPressure("/proc/pressure/cpu")
	p := newCPUPressure()
	if (err == nil) != (p != nil) {
		t.Fatalf("/proc/pressure/cpu: %v, newCPUPressure %v", err, p)
	}
	if p != nil {
		p.at = p.at.Add(-time.Second) // a reading a second old
		_ = p.Busy()
		if time.Since(p.at) > time.Second {
			t.Fatal("Busy did not read again after its window")
		}
	}
}
