package routing

import (
	"net/http"
	"time"
)

// Variant is the distribution a request is served with.
type Variant uint8

// Variants.
const (
	VariantPrimary Variant = iota
	VariantStaging
)

func (v Variant) String() string {
	if v == VariantStaging {
		return "staging"
	}
	return "primary"
}

// TrafficType is a policy's TrafficConfig.Type.
type TrafficType uint8

// Traffic types.
const (
	TrafficHeader TrafficType = iota + 1 // SingleHeader
	TrafficWeight                        // SingleWeight
)

// WeightScale is the denominator of CD.Threshold: a draw is a uniform
// uint32, and draw < Threshold sends the request to staging.
const WeightScale = 1 << 32

// maxClockSkew is how far in the future a cookie's timestamps may be
// (another edge node's clock may run ahead) and still count.
const maxClockSkew = 60 // seconds

// CD is a primary's compiled continuous-deployment decision data.
type CD struct {
	PolicyID   string
	Generation int64
	Revision   int64 // store ModRevision of the policy
	Staging    *Dist
	Type       TrafficType

	// SingleHeader: Header is the canonical MIME name, Value is exact.
	Header, Value string

	// SingleWeight: Threshold is Weight scaled to WeightScale.
	Weight    float64
	Threshold uint64
	// Sticky is set when the policy has a SessionStickinessConfig and the
	// table has a key to sign cookies with.
	Sticky          bool
	IdleTTL, MaxTTL time.Duration

	idleSeconds, maxSeconds int64
	scope                   [8]byte
	signer                  *signer
}

// DecideInput is what Decide reads from one request. The caller supplies
// the time and the random draw, so decisions are exact in tests.
type DecideInput struct {
	// Header holds the request's headers with canonical keys, as net/http
	// provides them; the policy's header name is matched through its
	// canonical form, which makes the match case-insensitive.
	Header http.Header
	// HeaderValues, when set, is used instead of Header: it returns the
	// values of the header with the given canonical name, so a caller
	// whose request is not an http.Request (the fasthttp engine) need not
	// build an http.Header.
	HeaderValues func(canonicalName string) []string
	// Cookie is the value of the x-amz-continuous-deployment-state cookie
	// ("" when absent; see StickyCookieValue). Garbage is fine.
	Cookie string
	Now    time.Time
	// Draw is a uniform random uint32, used only when a weighted decision
	// needs a new draw.
	Draw uint32
	// Bypass sends everything to the primary, as CloudFront may do at peak
	// load (docs/cloudfront.md, "Limits"); an operator switch or a load-shedding signal.
	Bypass bool
}

// Reason says why Decide chose its variant.
type Reason uint8

// Reasons.
const (
	ReasonNoPolicy Reason = iota // no enabled policy with an enabled staging distribution
	ReasonBypass                 // DecideInput.Bypass
	ReasonHeader                 // header policy: matched or not
	ReasonDraw                   // weighted: a new draw
	ReasonSession                // weighted: kept from a valid sticky cookie
)

func (r Reason) String() string {
	switch r {
	case ReasonNoPolicy:
		return "no-policy"
	case ReasonBypass:
		return "bypass"
	case ReasonHeader:
		return "header"
	case ReasonDraw:
		return "draw"
	case ReasonSession:
		return "session"
	}
	return "unknown"
}

// Decision is the outcome of Decide.
type Decision struct {
	Variant Variant
	// Dist is the distribution to serve with: the primary or its staging.
	Dist   *Dist
	Reason Reason
	// SetCookie says the response must carry the sticky cookie; write it
	// with AppendCookie or AppendSetCookie.
	SetCookie bool

	cd    *CD
	state cookieState
}

// Decide runs the routing algorithm of docs/cloudfront.md for a request that resolved to the primary d. It
// never fails: a missing, expired, foreign or forged cookie only means a
// new draw. It does not allocate.
func (d *Dist) Decide(in DecideInput) Decision {
	cd := d.CD
	if cd == nil {
		return Decision{Variant: VariantPrimary, Dist: d, Reason: ReasonNoPolicy}
	}
	if in.Bypass {
		return Decision{Variant: VariantPrimary, Dist: d, Reason: ReasonBypass}
	}
	if cd.Type == TrafficHeader {
		values := in.Header[cd.Header]
		if in.HeaderValues != nil {
			values = in.HeaderValues(cd.Header)
		}
		for _, v := range values {
			if v == cd.Value {
				return Decision{Variant: VariantStaging, Dist: cd.Staging, Reason: ReasonHeader}
			}
		}
		return Decision{Variant: VariantPrimary, Dist: d, Reason: ReasonHeader}
	}
	if !cd.Sticky {
		return cd.decision(d, cd.draw(in.Draw), ReasonDraw)
	}
	now := in.Now.Unix()
	variant, reason, start := VariantPrimary, ReasonDraw, now
	if st, ok := cd.session(in.Cookie, now); ok {
		variant, reason, start = st.variant, ReasonSession, st.start
	} else {
		variant = cd.draw(in.Draw)
	}
	dec := cd.decision(d, variant, reason)
	dec.SetCookie = true
	dec.cd = cd
	dec.state = cookieState{
		variant:    variant,
		scope:      cd.scope,
		generation: cd.Generation,
		start:      start,
		last:       max(now, start),
	}
	return dec
}

func (cd *CD) decision(primary *Dist, v Variant, r Reason) Decision {
	if v == VariantStaging {
		return Decision{Variant: VariantStaging, Dist: cd.Staging, Reason: r}
	}
	return Decision{Variant: VariantPrimary, Dist: primary, Reason: r}
}

func (cd *CD) draw(draw uint32) Variant {
	if uint64(draw) < cd.Threshold {
		return VariantStaging
	}
	return VariantPrimary
}

// session returns the cookie's state when it continues a session: it is
// authentic, names this primary and policy at the current generation, is
// within both TTLs, and is not from the future. A session on staging ends
// when the weight drops to 0, so weight 0 always means primary.
func (cd *CD) session(cookie string, now int64) (cookieState, bool) {
	if cookie == "" {
		return cookieState{}, false
	}
	st, ok := cd.signer.decodeCookie(cookie)
	switch {
	case !ok,
		st.scope != cd.scope,
		st.generation != cd.Generation,
		st.last < st.start,
		st.last > now+maxClockSkew,
		now-st.last > cd.idleSeconds,
		now-st.start > cd.maxSeconds,
		st.variant == VariantStaging && cd.Threshold == 0:
		return cookieState{}, false
	}
	return st, true
}

// AppendCookie appends the sticky cookie's value for this decision to dst
// and returns the extended slice; with SetCookie false it returns dst
// unchanged. With a reused buffer of 64 bytes' capacity it does not
// allocate.
func (dec Decision) AppendCookie(dst []byte) []byte {
	if !dec.SetCookie || dec.cd == nil || dec.cd.signer == nil {
		return dst
	}
	return dec.cd.signer.appendCookieValue(dst, dec.state)
}

// AppendSetCookie appends a whole Set-Cookie header value: the cookie with
// Path=/ and no Expires, so it is a session cookie, as CloudFront's is. With
// SetCookie false it returns dst unchanged.
func (dec Decision) AppendSetCookie(dst []byte) []byte {
	if !dec.SetCookie || dec.cd == nil || dec.cd.signer == nil {
		return dst
	}
	dst = append(dst, CookieName+"="...)
	dst = dec.AppendCookie(dst)
	return append(dst, "; Path=/; HttpOnly"...)
}
