package accesslog_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/edge/accesslog"
)

func sample(i int, at time.Time) *accesslog.Record {
	return &accesslog.Record{
		Time: at, DistributionID: "E2QWRUHEXAMPLE", Prefix: "logs/",
		ClientIP: "192.0.2.10", ClientPort: "54321", Method: "GET",
		Host: "d111111abcdef8.cloudfront.net", HostHeader: "www.example.com",
		URIStem: "/img/a b.png", URIQuery: "v=" + string(rune('0'+i%10)), Status: 200,
		Referer: "https://example.com/", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		Cookie: "session=1", ResultType: []string{"Hit", "Miss", "RefreshHit", "Error"}[i%4],
		RequestID: accesslog.NewRequestID(), Protocol: "https", ProtocolVersion: "HTTP/1.1",
		CSBytes: 120, SCBytes: 1536, TimeTaken: 1500 * time.Microsecond, TTFB: time.Millisecond,
		SSLProtocol: "TLSv1.3", SSLCipher: "TLS_AES_128_GCM_SHA256",
		ContentType: "image/png", ContentLen: 1024,
	}
}

// readLog returns the files under dir, each as its lines.
func readLog(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(zr)
		rel, _ := filepath.Rel(dir, p)
		for sc.Scan() {
			out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], sc.Text())
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, dir string, recs ...*accesslog.Record) {
	t.Helper()
	w, err := accesslog.New(accesslog.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		w.Log(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d := w.Dropped(); d != 0 {
		t.Fatalf("%d lines dropped", d)
	}
}

func TestFileNamesAndFieldOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h1 := time.Date(2026, 12, 5, 8, 59, 59, 0, time.UTC)
	h2 := h1.Add(2 * time.Second)
	write(t, dir, sample(0, h1), sample(1, h1), sample(2, h2))
	files := readLog(t, dir)
	if len(files) != 2 {
		t.Fatalf("files %v, want one per hour", files)
	}
	name := regexp.MustCompile(`^logs/E2QWRUHEXAMPLE\.2026-12-05-(08|09)\.[0-9a-f]{8}\.gz$`)
	for n, lines := range files {
		if !name.MatchString(n) {
			t.Errorf("file name %q is not <prefix><distribution-id>.YYYY-MM-DD-HH.<unique>.gz", n)
		}
		if lines[0] != "#Version: 1.0" || !strings.HasPrefix(lines[1], "#Fields: ") {
			t.Fatalf("%s header %q", n, lines[:2])
		}
		fields := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
		if len(fields) != 33 {
			t.Fatalf("%d fields, CloudFront has 33", len(fields))
		}
		for _, l := range lines[2:] {
			vals := strings.Split(l, "\t")
			if len(vals) != len(fields) {
				t.Fatalf("line has %d values, header %d fields: %q", len(vals), len(fields), l)
			}
			got := map[string]string{}
			for i, f := range fields {
				got[f] = vals[i]
			}
			want := map[string]string{
				"date": "2026-12-05", "x-edge-location": "SF1-P1", "sc-bytes": "1536", "c-ip": "192.0.2.10",
				"cs-method": "GET", "cs(Host)": "d111111abcdef8.cloudfront.net", "cs-uri-stem": "/img/a%20b.png",
				"sc-status": "200", "cs(Referer)": "https://example.com/",
				"cs(User-Agent)": "Mozilla/5.0%20(X11;%20Linux%20x86_64)", "cs(Cookie)": "-",
				"x-host-header": "www.example.com", "cs-protocol": "https", "cs-bytes": "120",
				"time-taken": "0.002", "x-forwarded-for": "-", "ssl-protocol": "TLSv1.3",
				"cs-protocol-version": "HTTP/1.1", "fle-status": "-", "c-port": "54321",
				"time-to-first-byte": "0.001", "sc-content-type": "image/png", "sc-content-len": "1024",
				"sc-range-start": "-", "sc-range-end": "-",
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if len(got["x-edge-request-id"]) != 56 {
				t.Errorf("request id %q is not 56 characters", got["x-edge-request-id"])
			}
			switch got["x-edge-result-type"] {
			case "Hit", "Miss", "RefreshHit", "Error":
			default:
				t.Errorf("x-edge-result-type %q", got["x-edge-result-type"])
			}
		}
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A backlog of one byte: the writer takes no batch while it holds
	// one, so the one-batch queue overflows.
	w, err := accesslog.New(accesslog.Config{Dir: dir, Queue: 1, BatchBytes: 1, Backlog: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	const n = 20000
	for i := range n {
		w.Log(sample(i, at))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	written := 0
	for _, lines := range readLog(t, dir) {
		written += len(lines) - 2
	}
	if w.Dropped() == 0 {
		t.Fatal("a one-line queue under 20000 lines dropped nothing")
	}
	if int64(written)+w.Dropped() != n {
		t.Fatalf("written %d + dropped %d != %d", written, w.Dropped(), n)
	}
}

// TestGoAccessParses feeds a generated file to GoAccess with its
// CloudFront log format and checks it counts every request as valid.
func TestGoAccessParses(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("goaccess")
	if err != nil {
		t.Fatal("goaccess is not installed (Debian package goaccess): ", err)
	}
	dir := t.TempDir()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var recs []*accesslog.Record
	for i := range 37 {
		recs = append(recs, sample(i, at.Add(time.Duration(i)*time.Second)))
	}
	write(t, dir, recs...)
	files := readLog(t, dir)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	plain := filepath.Join(t.TempDir(), "access.log")
	for _, lines := range files {
		if err := os.WriteFile(plain, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.CommandContext(t.Context(), bin, plain, "--log-format=CLOUDFRONT", "-o", "json", "--no-global-config").Output()
	if err != nil {
		t.Fatalf("goaccess: %v", err)
	}
	var report struct {
		General struct {
			Total  int `json:"total_requests"`
			Valid  int `json:"valid_requests"`
			Failed int `json:"failed_requests"`
		} `json:"general"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("goaccess json: %v\n%.400s", err, out)
	}
	if report.General.Valid != 37 || report.General.Failed != 0 {
		t.Fatalf("goaccess counted %+v, want 37 valid and 0 failed", report.General)
	}
}

// TestLineFromAddrPortAndClock: a record giving the viewer's address as
// a netip.AddrPort is written as one giving it as strings, and the date,
// time and durations are formatted as time.Format and three decimals of
// seconds would.
func TestLineFromAddrPortAndClock(t *testing.T) {
	for i, at := range []time.Time{
		time.Date(2026, 12, 5, 9, 7, 3, 0, time.UTC),
		time.Date(1999, 1, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 6, 1, 0, 0, 0, 0, time.FixedZone("x", 5*3600)),
	} {
		strs := sample(i, at)
		strs.ClientIP, strs.ClientPort = "2001:db8::7", "443"
		addr := *strs
		addr.ClientIP, addr.ClientPort = "", ""
		addr.ClientAddr = netip.MustParseAddrPort("[2001:db8::7]:443")
		a := string(accesslog.AppendLine(nil, strs, "SF1-P1"))
		b := string(accesslog.AppendLine(nil, &addr, "SF1-P1"))
		if a != b {
			t.Errorf("from strings:\n%q\nfrom AddrPort:\n%q", a, b)
		}
		if want := at.UTC().Format("2006-01-02\t15:04:05") + "\t"; !strings.HasPrefix(a, want) {
			t.Errorf("line %q does not start with %q", a, want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "0.000", 499 * time.Microsecond: "0.000", 500 * time.Microsecond: "0.001",
		1234 * time.Millisecond: "1.234", 61*time.Second + 5*time.Millisecond: "61.005", -time.Second: "0.000",
	} {
		r := sample(0, time.Unix(0, 0))
		r.TimeTaken = d
		fields := strings.Split(strings.TrimSuffix(string(accesslog.AppendLine(nil, r, "SF1-P1")), "\n"), "\t")
		if got := fields[slices.Index(accesslog.Fields, "time-taken")]; got != want {
			t.Errorf("time-taken of %v = %q, want %q", d, got, want)
		}
	}
	id := string(accesslog.AppendRequestID([]byte("x")))
	if len(id) != 1+accesslog.RequestIDLen || !regexp.MustCompile(`^x[A-Za-z0-9_=-]{56}$`).MatchString(id) {
		t.Errorf("AppendRequestID = %q", id)
	}
}
