package routing

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// benchTable has 200 distributions with an alias and a wildcard each, plus
// the CD fixture.
func benchTable(tb testing.TB) *Table {
	snap := cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 3600)))
	for i := range 200 {
		snap.Distributions = append(snap.Distributions, distRec(fmt.Sprintf("EBENCH%08d", i), fmt.Sprintf("d%012d.cdn.local", i), 1,
			withAliases(fmt.Sprintf("site%d.example.org", i), fmt.Sprintf("*.site%d.example.net", i))))
	}
	return mustCompile(tb, snap)
}

func behaviorDist(tb testing.TB) *Dist {
	opts := []distOpt{}
	for i := range 9 {
		opts = append(opts, withBehavior(fmt.Sprintf("/section%d/*.html", i), "api"))
	}
	opts = append(opts, withBehavior("/static/v?/*.js", "s3"))
	return mustCompile(tb, Snapshot{Distributions: []DistributionRecord{distRec(primaryID, primaryDomain, 1, opts...)}}).Dist(primaryID)
}

func requestHeader() http.Header {
	return http.Header{
		"Accept":          {"text/html,application/xhtml+xml"},
		"Accept-Encoding": {"gzip, br"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
		"Aws-Cf-Cd-Env":   {"staging"},
		"Cookie":          {"session=abc; theme=dark"},
	}
}

func stickyInput(tb testing.TB) (*Dist, DecideInput) {
	p := primaryOf(tb, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 3600))))
	cookie := mint(p, VariantStaging, 1, t0(), t0())
	return p, DecideInput{Header: requestHeader(), Cookie: cookie, Now: t0().Add(time.Minute), Draw: 1 << 31}
}

// TestHotPathAllocs pins the zero-allocation promise of the doc comment.
func TestHotPathAllocs(t *testing.T) {
	tbl := benchTable(t)
	bd := behaviorDist(t)
	hp := primaryOf(t, cdSnapshot(policyRec(1, true, headerTraffic("aws-cf-cd-env", "staging"))))
	hdr := requestHeader()
	sp, in := stickyInput(t)
	buf := make([]byte, 0, 128)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Lookup", func() { tbl.Lookup("WWW.Example.com:443") }},
		{"Lookup wildcard", func() { tbl.Lookup("a.SITE150.example.net") }},
		{"Behavior", func() { bd.Behavior("/static/v2/app.js") }},
		{"Decide header", func() { hp.Decide(DecideInput{Header: hdr, Now: t0()}) }},
		{"Decide sticky", func() { sp.Decide(in) }},
		{"AppendCookie", func() { buf = sp.Decide(in).AppendCookie(buf[:0]) }},
		{"StickyCookieValue", func() { StickyCookieValue(hdr) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
			t.Errorf("%s: %v allocs per run; want 0", tt.name, got)
		}
	}
	if dec := sp.Decide(in); dec.Reason != ReasonSession {
		t.Errorf("sticky fixture: reason %v; want session", dec.Reason)
	}
}

func BenchmarkLookup(b *testing.B) {
	tbl := benchTable(b)
	hosts := []string{"www.example.com", "Site77.Example.org:443", "x.site150.example.net", "nope.example.com"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tbl.Lookup(hosts[i%len(hosts)])
	}
}

func BenchmarkBehavior(b *testing.B) {
	d := behaviorDist(b)
	paths := []string{"/static/v2/app.js", "/section4/index.html", "/images/cat.jpg"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Behavior(paths[i%len(paths)])
	}
}

func BenchmarkDecideHeader(b *testing.B) {
	p := primaryOf(b, cdSnapshot(policyRec(1, true, headerTraffic("aws-cf-cd-env", "staging"))))
	in := DecideInput{Header: requestHeader(), Now: t0()}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(in)
	}
}

func BenchmarkDecideSticky(b *testing.B) {
	p, in := stickyInput(b)
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(in)
	}
}

// BenchmarkDecideStickyWithCookie is a sticky decision plus minting the
// re-issued cookie into a reused buffer: the whole per-request cost.
func BenchmarkDecideStickyWithCookie(b *testing.B) {
	p, in := stickyInput(b)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.Decide(in).AppendSetCookie(buf[:0])
	}
}

func BenchmarkCompile(b *testing.B) {
	snap := cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 3600)))
	for i := range 200 {
		snap.Distributions = append(snap.Distributions, distRec(fmt.Sprintf("EBENCH%08d", i), fmt.Sprintf("d%012d.cdn.local", i), 1))
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			Compile(nil, snap)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		prev, _ := Compile(nil, snap)
		for b.Loop() {
			Compile(prev, snap)
		}
	})
}
