package routing

import (
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// t0() is the tests' fixed "now".
func t0() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

func TestDecideHeader(t *testing.T) {
	p := primaryOf(t, cdSnapshot(policyRec(1, true, headerTraffic("aws-cf-cd-env", "staging"))))
	tests := []struct {
		name    string
		header  http.Header
		want    Variant
		wantDst string
	}{
		{"exact value", http.Header{"Aws-Cf-Cd-Env": {"staging"}}, VariantStaging, stagingID},
		{"name case-insensitive", headerOf("AWS-CF-CD-ENV", "staging"), VariantStaging, stagingID},
		{"one of several values", http.Header{"Aws-Cf-Cd-Env": {"blue", "staging"}}, VariantStaging, stagingID},
		{"value case-sensitive", headerOf("aws-cf-cd-env", "Staging"), VariantPrimary, primaryID},
		{"other value", headerOf("aws-cf-cd-env", "prod"), VariantPrimary, primaryID},
		{"no header", http.Header{}, VariantPrimary, primaryID},
		{"nil header", nil, VariantPrimary, primaryID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := p.Decide(DecideInput{Header: tt.header, Now: t0(), Draw: 0})
			if dec.Variant != tt.want || dec.Dist.ID != tt.wantDst || dec.Reason != ReasonHeader {
				t.Errorf("Decide = %v on %s (%v); want %v on %s (header)", dec.Variant, dec.Dist.ID, dec.Reason, tt.want, tt.wantDst)
			}
			if dec.SetCookie {
				t.Errorf("SetCookie = true; header policies never set the cookie")
			}
		})
	}
}

func headerOf(name, value string) http.Header {
	h := http.Header{}
	h.Set(name, value)
	return h
}

func TestDecideWeight(t *testing.T) {
	threshold := uint32(math.Round(0.15 * WeightScale))
	tests := []struct {
		name   string
		weight float64
		draw   uint32
		want   Variant
	}{
		{"draw 0", 0.15, 0, VariantStaging},
		{"just below threshold", 0.15, threshold - 1, VariantStaging},
		{"at threshold", 0.15, threshold, VariantPrimary},
		{"max draw", 0.15, math.MaxUint32, VariantPrimary},
		{"weight 0, draw 0", 0, 0, VariantPrimary},
		{"weight 1, max draw", 1, math.MaxUint32, VariantStaging},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(tt.weight, 0, 0))))
			dec := p.Decide(DecideInput{Now: t0(), Draw: tt.draw})
			if dec.Variant != tt.want || dec.Reason != ReasonDraw || dec.SetCookie {
				t.Errorf("Decide(draw %d) = %v (%v, cookie %v); want %v (draw, no cookie)", tt.draw, dec.Variant, dec.Reason, dec.SetCookie, tt.want)
			}
		})
	}
}

func TestDecideNoPolicyAndBypass(t *testing.T) {
	p := primaryOf(t, cdSnapshot(policyRec(1, false, weightTraffic(0.15, 300, 600))))
	if dec := p.Decide(DecideInput{Now: t0(), Draw: 0}); dec.Variant != VariantPrimary || dec.Dist != p || dec.Reason != ReasonNoPolicy || dec.SetCookie {
		t.Errorf("disabled policy: Decide = %+v; want primary, no-policy, no cookie", dec)
	}
	p = primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 600))))
	if dec := p.Decide(DecideInput{Now: t0(), Draw: 0, Bypass: true}); dec.Variant != VariantPrimary || dec.Reason != ReasonBypass || dec.SetCookie {
		t.Errorf("bypass: Decide = %+v; want primary, bypass, no cookie", dec)
	}
}

// mint signs a cookie for p's policy as another edge node would.
func mint(p *Dist, variant Variant, gen int64, start, last time.Time) string {
	st := cookieState{variant: variant, scope: p.CD.scope, generation: gen, start: start.Unix(), last: last.Unix()}
	return string(p.CD.signer.appendCookieValue(nil, st))
}

func TestDecideSticky(t *testing.T) {
	const idle, maxTTL = 300 * time.Second, 900 * time.Second
	p := primaryOf(t, cdSnapshot(policyRec(3, true, weightTraffic(0.15, 300, 900))))
	otherSnap := cdSnapshot(policyRec(3, true, weightTraffic(0.15, 300, 900)))
	otherSnap.Distributions[0].Distribution.ID = "EOTHERPRIMARY1"
	otherPrimary := mustCompile(t, otherSnap).Dist("EOTHERPRIMARY1")
	foreignKey := cdSnapshot(policyRec(3, true, weightTraffic(0.15, 300, 900)))
	foreignKey.StickyKey = []byte("another key entirely")
	foreignPrimary := primaryOf(t, foreignKey)

	valid := mint(p, VariantStaging, 3, t0(), t0())
	tampered := []byte(valid)
	tampered[20] ^= 1           // 'A' <-> 'B' and so on: still base64url
	const high = math.MaxUint32 // a draw that picks the primary

	tests := []struct {
		name       string
		cookie     string
		now        time.Time
		draw       uint32
		want       Variant
		wantReason Reason
		wantStart  time.Time
	}{
		{"no cookie: new draw", "", t0(), 0, VariantStaging, ReasonDraw, t0()},
		{"valid cookie keeps staging", valid, t0().Add(time.Minute), high, VariantStaging, ReasonSession, t0()},
		{"valid cookie keeps primary", mint(p, VariantPrimary, 3, t0(), t0()), t0().Add(time.Minute), 0, VariantPrimary, ReasonSession, t0()},
		{"idle TTL boundary", valid, t0().Add(idle), high, VariantStaging, ReasonSession, t0()},
		{"idle TTL expired", valid, t0().Add(idle + time.Second), high, VariantPrimary, ReasonDraw, t0().Add(idle + time.Second)},
		{"max TTL boundary", mint(p, VariantStaging, 3, t0(), t0().Add(800*time.Second)), t0().Add(maxTTL), high, VariantStaging, ReasonSession, t0()},
		{"max TTL expired while active", mint(p, VariantStaging, 3, t0(), t0().Add(800*time.Second)), t0().Add(maxTTL + time.Second), high, VariantPrimary, ReasonDraw, t0().Add(maxTTL + time.Second)},
		{"older generation", mint(p, VariantStaging, 2, t0(), t0()), t0().Add(time.Minute), high, VariantPrimary, ReasonDraw, t0().Add(time.Minute)},
		{"tampered cookie", string(tampered), t0().Add(time.Minute), high, VariantPrimary, ReasonDraw, t0().Add(time.Minute)},
		{"signed with another key", mint(foreignPrimary, VariantStaging, 3, t0(), t0()), t0().Add(time.Minute), high, VariantPrimary, ReasonDraw, t0().Add(time.Minute)},
		{"from another primary", mint(otherPrimary, VariantStaging, 3, t0(), t0()), t0().Add(time.Minute), high, VariantPrimary, ReasonDraw, t0().Add(time.Minute)},
		{"from the future", mint(p, VariantStaging, 3, t0().Add(time.Hour), t0().Add(time.Hour)), t0(), high, VariantPrimary, ReasonDraw, t0()},
		{"garbage", "not-a-cookie", t0(), 0, VariantStaging, ReasonDraw, t0()},
		{"garbage of the right length", string(make([]byte, cookieValueLen)), t0(), high, VariantPrimary, ReasonDraw, t0()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := p.Decide(DecideInput{Cookie: tt.cookie, Now: tt.now, Draw: tt.draw})
			if dec.Variant != tt.want || dec.Reason != tt.wantReason {
				t.Fatalf("Decide = %v (%v); want %v (%v)", dec.Variant, dec.Reason, tt.want, tt.wantReason)
			}
			if !dec.SetCookie {
				t.Fatalf("SetCookie = false; both variants get a cookie")
			}
			// The re-issued cookie carries the session on: same variant, same
			// start, last seen = now.
			st, ok := p.CD.signer.decodeCookie(string(dec.AppendCookie(nil)))
			if !ok {
				t.Fatalf("re-issued cookie does not verify")
			}
			if st.variant != tt.want || st.start != tt.wantStart.Unix() || st.last != tt.now.Unix() || st.generation != 3 {
				t.Errorf("re-issued state = %+v; want variant %v, start %d, last %d, generation 3", st, tt.want, tt.wantStart.Unix(), tt.now.Unix())
			}
		})
	}
}

func TestStickySessionRoundTrip(t *testing.T) {
	p := primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 900))))
	// A viewer lands on staging, then keeps coming back every 4 minutes with
	// draws that would pick the primary: the session holds until MaximumTTL.
	dec := p.Decide(DecideInput{Now: t0(), Draw: 0})
	cookie := string(dec.AppendCookie(nil))
	for i := 1; ; i++ {
		now := t0().Add(time.Duration(i) * 4 * time.Minute)
		dec = p.Decide(DecideInput{Cookie: cookie, Now: now, Draw: math.MaxUint32})
		cookie = string(dec.AppendCookie(nil))
		if now.Sub(t0()) <= 900*time.Second {
			if dec.Variant != VariantStaging || dec.Reason != ReasonSession {
				t.Fatalf("at +%v: %v (%v); want staging (session)", now.Sub(t0()), dec.Variant, dec.Reason)
			}
			continue
		}
		if dec.Variant != VariantPrimary || dec.Reason != ReasonDraw {
			t.Fatalf("at +%v: %v (%v); want a new draw after MaximumTTL", now.Sub(t0()), dec.Variant, dec.Reason)
		}
		break
	}

	// A generation bump (policy re-enabled, promotion) ends every session.
	bumped := primaryOf(t, cdSnapshot(policyRec(2, true, weightTraffic(0.15, 300, 900))))
	stagingCookie := string(p.Decide(DecideInput{Now: t0(), Draw: 0}).AppendCookie(nil))
	if dec := bumped.Decide(DecideInput{Cookie: stagingCookie, Now: t0().Add(time.Minute), Draw: math.MaxUint32}); dec.Reason != ReasonDraw || dec.Variant != VariantPrimary {
		t.Errorf("after generation bump: %v (%v); want a new draw", dec.Variant, dec.Reason)
	}

	// Weight 0 sends everyone to the primary, sticky staging sessions included.
	zero := primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(0, 300, 900))))
	if dec := zero.Decide(DecideInput{Cookie: stagingCookie, Now: t0().Add(time.Minute), Draw: 0}); dec.Variant != VariantPrimary {
		t.Errorf("weight 0 with a staging cookie: %v (%v); want primary", dec.Variant, dec.Reason)
	}
}

func TestAppendSetCookie(t *testing.T) {
	p := primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 900))))
	dec := p.Decide(DecideInput{Now: t0(), Draw: 0})
	got := string(dec.AppendSetCookie(nil))
	want := CookieName + "=" + string(dec.AppendCookie(nil)) + "; Path=/; HttpOnly"
	if got != want {
		t.Errorf("AppendSetCookie = %q; want %q", got, want)
	}
	resp := http.Response{Header: http.Header{"Set-Cookie": {got}}}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != CookieName || cookies[0].Path != "/" || !cookies[0].Expires.IsZero() {
		t.Errorf("parsed Set-Cookie = %+v; want one session cookie with Path=/", cookies)
	}
	noCookie := p.Decide(DecideInput{Now: t0(), Bypass: true})
	if got := noCookie.AppendSetCookie([]byte("x")); string(got) != "x" {
		t.Errorf("AppendSetCookie without SetCookie = %q; want dst unchanged", got)
	}
}

// TestWeightDistribution: with a seeded PCG source, 30,000 fresh viewers
// land on staging within ±1 percentage point of the 15% weight.
func TestWeightDistribution(t *testing.T) {
	p := primaryOf(t, cdSnapshot(policyRec(1, true, weightTraffic(0.15, 300, 3600))))
	rng := rand.New(rand.NewPCG(20250301, 42))
	const n = 30000
	staging := 0
	for range n {
		if p.Decide(DecideInput{Now: t0(), Draw: rng.Uint32()}).Variant == VariantStaging {
			staging++
		}
	}
	if got := float64(staging) / n; math.Abs(got-0.15) > 0.01 {
		t.Errorf("staging share = %.4f; want 0.15 ± 0.01", got)
	}
}

func TestStickyCookieValue(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"only cookie", http.Header{"Cookie": {CookieName + "=abc"}}, "abc"},
		{"among others", http.Header{"Cookie": {"a=1; " + CookieName + "=xyz; b=2"}}, "xyz"},
		{"second line", http.Header{"Cookie": {"a=1", CookieName + "=line2"}}, "line2"},
		{"quoted", http.Header{"Cookie": {CookieName + `="q"`}}, "q"},
		{"absent", http.Header{"Cookie": {"a=1; b=2"}}, ""},
		{"prefix of another name", http.Header{"Cookie": {CookieName + "x=1"}}, ""},
		{"no header", http.Header{}, ""},
	}
	for _, tt := range tests {
		if got := StickyCookieValue(tt.header); got != tt.want {
			t.Errorf("%s: StickyCookieValue = %q; want %q", tt.name, got, tt.want)
		}
	}
}
