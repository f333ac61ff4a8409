package accesslog

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// variedRecords returns n records of a busier distribution than
// benchRecords': several paths, user agents, clients, results and sizes.
func variedRecords(n int, rng *rand.Rand) []Record {
	uas := []string{"curl/8.5.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Googlebot/2.1 (+http://www.google.com/bot.html)", "okhttp/4.12.0"}
	paths := []string{"/obj.txt", "/index.html", "/static/app.3f9a1c.js", "/static/style.8812.css", "/img/hero%20banner.jpg", "/api/v1/items", "/favicon.ico"}
	types := []string{"text/plain; charset=utf-8", "text/html", "application/javascript", "text/css", "image/jpeg", "application/json", "image/x-icon"}
	refs := []string{"", "https://www.example.com/", "https://www.google.com/"}
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	recs := make([]Record, n)
	for i := range recs {
		p := rng.IntN(len(paths))
		status, result := 200, "Hit"
		if rng.IntN(10) == 0 {
			result = "Miss"
		}
		if rng.IntN(50) == 0 {
			status, result = 404, "Error"
		}
		r := Record{
			Time: at.Add(time.Duration(i) * 137 * time.Microsecond), Method: "GET", Host: "d111111abcdef8.cloudfront.net",
			HostHeader: "www.example.com", URIStem: paths[p], Status: status, UserAgent: uas[rng.IntN(len(uas))],
			Referer: refs[rng.IntN(len(refs))], RequestID: NewRequestID(), Protocol: "https", ProtocolVersion: "HTTP/2.0",
			CSBytes: int64(60 + rng.IntN(400)), SCBytes: int64(300 + rng.IntN(100000)),
			TimeTaken: time.Duration(rng.IntN(50000)) * time.Microsecond, TTFB: time.Duration(rng.IntN(20000)) * time.Microsecond,
			ResultType: result, SSLProtocol: "TLSv1.3", SSLCipher: "TLS_AES_128_GCM_SHA256", ContentType: types[p],
			ContentLen: int64(rng.IntN(100000)),
			ClientAddr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(rng.IntN(223) + 1), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}),
				uint16(1024+rng.IntN(60000))),
		}
		if rng.IntN(4) == 0 {
			r.URIQuery = fmt.Sprintf("v=%d", rng.IntN(100))
		}
		if i > 0 && rng.IntN(3) > 0 { // the same client again
			r.ClientAddr = netip.AddrPortFrom(recs[i-1].ClientAddr.Addr(), recs[i-1].ClientAddr.Port()+1)
			r.UserAgent = recs[i-1].UserAgent
		}
		recs[i] = r
	}
	return recs
}

// oddRecords returns records to trip the encoder up: empty ones, bytes
// to escape, IPv6 and zoned addresses, fields far longer than deflate's
// window and lines that share a long field from further back.
func oddRecords(rng *rand.Rand) []Record {
	var recs []Record
	base := variedRecords(1, rng)[0]
	randStr := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	long := strings.Repeat("x", 40<<10)
	for i := range 3000 {
		r := base
		r.Time = r.Time.Add(time.Duration(i) * time.Millisecond)
		r.RequestID = NewRequestID()
		switch rng.IntN(12) {
		case 0:
			r = Record{Time: r.Time, ContentLen: -1}
		case 1:
			r.UserAgent = randStr(rng.IntN(300))
		case 2:
			r.URIStem = long[:rng.IntN(len(long))]
		case 3:
			r.ClientAddr = netip.MustParseAddrPort("[2001:db8::1]:8443")
		case 4:
			r.ClientAddr = netip.MustParseAddrPort("[fe80::1%eth0]:80")
		case 5:
			r.Referer = strings.Repeat("ab", rng.IntN(200))
		case 6:
			r.UserAgent = recs[rng.IntN(len(recs)+1)/2].UserAgent
		case 7:
			r.Cookie, r.IncludeCookies = randStr(20), true
		case 8:
			r.UserAgent = long // and again
		}
		recs = append(recs, r)
	}
	return recs
}

// choppyRecords returns records whose every field is short and changes
// from line to line: many tokens a line, so that blocks fill up with
// tokens before the history does.
func choppyRecords(n int, rng *rand.Rand) []Record {
	str := func() string {
		b := make([]byte, rng.IntN(6))
		for i := range b {
			b[i] = "abcd"[rng.IntN(4)]
		}
		return string(b)
	}
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Time: time.Unix(int64(i), 0), ClientIP: str(), ClientPort: str(), Method: str(), Host: str(), HostHeader: str(),
			URIStem: str(), URIQuery: str(), Status: rng.IntN(1000), Referer: str(), UserAgent: str(), ResultType: str(),
			RequestID: str(), Protocol: str(), ProtocolVersion: str(), CSBytes: int64(rng.IntN(100)), XForwardedFor: str(),
			SSLProtocol: str(), SSLCipher: str(), ContentType: str(), ContentLen: int64(rng.IntN(100)) - 1,
			RangeStart: str(), RangeEnd: str(),
		}
	}
	return recs
}

// encode writes the header and recs' lines through a gzEncoder, in
// chunks of a few lines as the Writer's batches are.
func encode(t testing.TB, recs []Record, rng *rand.Rand) (plain, gz []byte) {
	t.Helper()
	var out bytes.Buffer
	e, err := newGzEncoder(&out)
	if err != nil {
		t.Fatal(err)
	}
	plain = []byte(Header())
	if err := e.write(plain); err != nil {
		t.Fatal(err)
	}
	var c clock
	for i := 0; i < len(recs); {
		n := 1 + rng.IntN(400)
		var chunk []byte
		for ; n > 0 && i < len(recs); n, i = n-1, i+1 {
			chunk = appendLine(chunk, &recs[i], "SF1-P1", &c)
		}
		plain = append(plain, chunk...)
		if err := e.write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	return plain, out.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGzEncoderRoundTrip: what the encoder writes decompresses to the
// lines given it, with Go's decompressor and with gzip(1) when installed.
func TestGzEncoderRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for name, recs := range map[string][]Record{
		"bench": benchRecords(20000), "varied": variedRecords(20000, rng), "odd": oddRecords(rng),
		"choppy": choppyRecords(30000, rng), "one": benchRecords(1), "none": nil,
	} {
		plain, gz := encode(t, recs, rng)
		if got := gunzip(t, gz); !bytes.Equal(got, plain) {
			i := 0
			for i < len(got) && i < len(plain) && got[i] == plain[i] {
				i++
			}
			t.Fatalf("%s: decompressed %d bytes, want %d, first difference at %d", name, len(got), len(plain), i)
		}
		if bin, err := exec.LookPath("gzip"); err == nil {
			cmd := exec.CommandContext(t.Context(), bin, "-dc")
			cmd.Stdin = bytes.NewReader(gz)
			got, err := cmd.Output()
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%s: gzip -dc: %v (%d bytes, want %d)", name, err, len(got), len(plain))
			}
		}
	}
}

// TestCompressionRatio: the files are as small as klauspost/compress's
// fastest level makes them (it made the bench lines 5.5 times smaller,
// the varied ones 4.4 times, when this was written).
func TestCompressionRatio(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for name, c := range map[string]struct {
		recs []Record
		min  float64
	}{"bench": {benchRecords(50000), 5.3}, "varied": {variedRecords(50000, rng), 4.1}} {
		plain, gz := encode(t, c.recs, rng)
		if r := float64(len(plain)) / float64(len(gz)); r < c.min {
			t.Errorf("%s lines compressed %.2f times, want %.1f at least", name, r, c.min)
		}
	}
}

// TestWriterFilesExact: each file a Writer writes is the header and its
// records' lines, in order, byte for byte, whichever batches and
// segments they went through. (The Writer's clock stays before the
// records' hours: its once-a-second closing of past hours' files would
// otherwise start a second file for an hour whose lines keep coming, as
// it did when the test ran slowly, under -race.)
func TestWriterFilesExact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := New(Config{Dir: dir, BatchBytes: 3000, Queue: 1 << 14,
		Now: func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	recs := append(variedRecords(3000, rng), oddRecords(rng)[:500]...)
	want := map[string][]byte{}
	for i := range recs {
		r := &recs[i]
		r.DistributionID = []string{"E1", "E2"}[rng.IntN(2)]
		r.Time = time.Date(2026, 12, 5, 10+rng.IntN(2), 0, 0, i, time.UTC)
		key := r.DistributionID + r.Time.Format(".2006-01-02-15")
		if want[key] == nil {
			want[key] = []byte(Header())
		}
		want[key] = AppendLine(want[key], r, "SF1-P1")
		w.Log(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d := w.Dropped(); d != 0 {
		t.Fatalf("%d lines dropped", d)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.gz"))
	if err != nil || len(files) != len(want) {
		t.Fatalf("files %v (%v), want %d", files, err, len(want))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		key := strings.Join(strings.Split(filepath.Base(f), ".")[:2], ".")
		if got := gunzip(t, b); !bytes.Equal(got, want[key]) {
			t.Errorf("%s: %d bytes, want %d", f, len(got), len(want[key]))
		}
	}
}
