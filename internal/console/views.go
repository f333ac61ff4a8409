package console

import (
	"fmt"
	"strings"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/release"
)

// policyView is a continuous-deployment policy in words.
type policyView struct {
	ID            string
	Enabled       bool
	Type          string // weight, header
	Header        string
	Value         string
	WeightPercent float64
	Sticky        bool
	IdleTTL       int32
	MaxTTL        int32
	StagingDomain string
}

func (p *policyView) Describe() string {
	if p == nil {
		return "none"
	}
	state := "disabled"
	if p.Enabled {
		state = "enabled"
	}
	switch p.Type {
	case "SingleWeight":
		s := fmt.Sprintf("weight %g%% to staging", p.WeightPercent)
		if p.Sticky {
			s += fmt.Sprintf(", sticky (idle %ds, max %ds)", p.IdleTTL, p.MaxTTL)
		}
		return s + " — " + state
	case "SingleHeader":
		return fmt.Sprintf("header %s: %s to staging — %s", p.Header, p.Value, state)
	}
	return "no traffic config — " + state
}

func newPolicyView(p *cf.ContinuousDeploymentPolicy) *policyView {
	if p == nil || p.ContinuousDeploymentPolicyConfig == nil {
		return nil
	}
	cfg := p.ContinuousDeploymentPolicyConfig
	v := &policyView{ID: cf.Str(p.Id), Enabled: cf.IsTrue(cfg.Enabled)}
	if n := cfg.StagingDistributionDnsNames; n != nil && len(n.Items) > 0 {
		v.StagingDomain = n.Items[0]
	}
	if tc := cfg.TrafficConfig; tc != nil {
		v.Type = cf.Str(tc.Type)
		if w := tc.SingleWeightConfig; w != nil {
			v.WeightPercent = cf.F64(w.Weight) * 100
			if s := w.SessionStickinessConfig; s != nil {
				v.Sticky = true
				v.IdleTTL, v.MaxTTL = cf.I32(s.IdleTTL), cf.I32(s.MaximumTTL)
			}
		}
		if h := tc.SingleHeaderConfig; h != nil {
			v.Header, v.Value = cf.Str(h.Header), cf.Str(h.Value)
		}
	}
	return v
}

// distRow is one distribution in the list.
type distRow struct {
	ID       string
	Domain   string
	Aliases  []string
	Enabled  bool
	Status   string
	Staging  bool
	Comment  string
	PolicyID string
	Policy   *policyView
	Partner  string // the staging of a primary, or the primary of a staging
	Release  string // the active release on this primary, if any
}

// originView is one origin in words.
type originView struct {
	ID, Domain, Path, Kind, Protocol, OAC string
	Headers                               []string
}

// behaviorView is one cache behavior in words.
type behaviorView struct {
	PathPattern, Origin, ViewerProtocol, Methods, CachePolicy, OriginRequestPolicy, ResponseHeadersPolicy, TTLs string
	Compress                                                                                                    bool
}

func originViews(cfg *cf.DistributionConfig) []originView {
	if cfg == nil || cfg.Origins == nil {
		return nil
	}
	var out []originView
	for _, o := range cfg.Origins.Items {
		v := originView{ID: cf.Str(o.Id), Domain: cf.Str(o.DomainName), Path: cf.Str(o.OriginPath),
			OAC: cf.Str(o.OriginAccessControlId)}
		switch {
		case o.S3OriginConfig != nil:
			v.Kind = "S3 bucket"
		case o.CustomOriginConfig != nil:
			v.Kind = "custom (HTTP server)"
			c := o.CustomOriginConfig
			v.Protocol = fmt.Sprintf("%s (HTTP %d, HTTPS %d)", cf.Str(c.OriginProtocolPolicy), cf.I32(c.HTTPPort), cf.I32(c.HTTPSPort))
		default:
			v.Kind = "other"
		}
		if o.CustomHeaders != nil {
			for _, h := range o.CustomHeaders.Items {
				// Custom header values often hold a shared secret the origin
				// checks: show the name only.
				v.Headers = append(v.Headers, cf.Str(h.HeaderName))
			}
		}
		out = append(out, v)
	}
	return out
}

func behaviorViews(cfg *cf.DistributionConfig) []behaviorView {
	if cfg == nil {
		return nil
	}
	var out []behaviorView
	add := func(pattern, origin, vpp string, methods *cf.AllowedMethods, compress *bool, cp, orp, rhp *string, minTTL, defTTL, maxTTL *int64) {
		v := behaviorView{PathPattern: pattern, Origin: origin, ViewerProtocol: vpp, Compress: cf.IsTrue(compress),
			CachePolicy: cf.Str(cp), OriginRequestPolicy: cf.Str(orp), ResponseHeadersPolicy: cf.Str(rhp)}
		if methods != nil {
			v.Methods = strings.Join(methods.Items, ", ")
		}
		if v.CachePolicy == "" && (minTTL != nil || defTTL != nil || maxTTL != nil) {
			v.TTLs = fmt.Sprintf("min %d s, default %d s, max %d s", deref(minTTL), deref(defTTL), deref(maxTTL))
		}
		out = append(out, v)
	}
	if d := cfg.DefaultCacheBehavior; d != nil {
		add("* (default)", cf.Str(d.TargetOriginId), cf.Str(d.ViewerProtocolPolicy), d.AllowedMethods, d.Compress,
			d.CachePolicyId, d.OriginRequestPolicyId, d.ResponseHeadersPolicyId, d.MinTTL, d.DefaultTTL, d.MaxTTL)
	}
	if cfg.CacheBehaviors != nil {
		for _, b := range cfg.CacheBehaviors.Items {
			add(cf.Str(b.PathPattern), cf.Str(b.TargetOriginId), cf.Str(b.ViewerProtocolPolicy), b.AllowedMethods, b.Compress,
				b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.MinTTL, b.DefaultTTL, b.MaxTTL)
		}
	}
	return out
}

// tlsNeed is a behavior whose viewer protocol policy an edge without an
// HTTPS listener cannot honour, and what that edge does instead.
type tlsNeed struct {
	PathPattern string
	Policy      string
	Effect      string
}

// tlsNeeds lists the behaviors that ask for HTTPS: an edge without an
// HTTPS listener serves redirect-to-https over plain HTTP (redirecting to a
// port nobody listens on would break the site) and refuses every plain
// request to https-only with 403.
func tlsNeeds(behaviors []behaviorView) []tlsNeed {
	var out []tlsNeed
	for _, b := range behaviors {
		switch b.ViewerProtocol {
		case "redirect-to-https":
			out = append(out, tlsNeed{PathPattern: b.PathPattern, Policy: b.ViewerProtocol, Effect: "served over plain HTTP, not redirected"})
		case "https-only":
			out = append(out, tlsNeed{PathPattern: b.PathPattern, Policy: b.ViewerProtocol, Effect: "every request refused with 403"})
		}
	}
	return out
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// pendingApproval is a release waiting for a person.
type pendingApproval struct {
	Name    string
	Primary string
	Step    int
	Since   time.Time
}

// waitingForApproval reports whether rel is at an approval step nobody decided.
func waitingForApproval(rel *release.Release) bool {
	st := rel.State
	if st.Phase != release.PhaseProgressing || st.Step < 0 || st.Step >= len(rel.Spec.Steps) {
		return false
	}
	if rel.Spec.Steps[st.Step].Kind != release.StepApprove {
		return false
	}
	for _, d := range st.Decisions {
		if d.Step == st.Step && (d.Verdict == release.VerdictApproved || d.Verdict == release.VerdictRejected) {
			return false
		}
		if d.Verdict == release.VerdictAbort {
			return false
		}
	}
	return true
}

// stepView is one step of a release's timeline.
type stepView struct {
	Number   int // 1-based, as people count
	Kind     string
	Summary  string
	State    string // done, current, pending
	TimeLeft string // for the current step with a hold or a timeout
}

func stepSummary(s release.Step) string {
	switch s.Kind {
	case release.StepHeader:
		if s.Header != nil {
			sum := fmt.Sprintf("viewers sending %s: %s go to staging", s.Header.Name, s.Header.Value)
			if s.Header.Hold > 0 {
				sum += ", for " + s.Header.Hold.String()
			}
			return sum
		}
	case release.StepApprove:
		if s.Approve != nil && s.Approve.Timeout > 0 {
			return "a person approves or rejects within " + s.Approve.Timeout.String()
		}
		return "a person approves or rejects"
	case release.StepWeight:
		if s.Weight != nil {
			sum := fmt.Sprintf("%g%% of viewers go to staging", s.Weight.Percent)
			if s.Weight.Stickiness != nil {
				sum += " (sticky)"
			}
			if s.Weight.Hold > 0 {
				sum += ", for " + s.Weight.Hold.String() + " while the analysis watches"
			}
			return sum
		}
	case release.StepPromote:
		sum := "staging's config is copied onto the primary"
		if s.Promote != nil && len(s.Promote.Invalidate) > 0 {
			sum += "; then " + strings.Join(s.Promote.Invalidate, " ") + " are invalidated"
		}
		return sum
	}
	return string(s.Kind)
}

// stepTimeLeft is the hold or approval time left of the current step.
func stepTimeLeft(s release.Step, started, now time.Time) string {
	var d time.Duration
	switch {
	case s.Kind == release.StepHeader && s.Header != nil:
		d = s.Header.Hold
	case s.Kind == release.StepWeight && s.Weight != nil:
		d = s.Weight.Hold
	case s.Kind == release.StepApprove && s.Approve != nil:
		d = s.Approve.Timeout
	}
	if d <= 0 {
		return ""
	}
	left := started.Add(d).Sub(now)
	if left < 0 {
		left = 0
	}
	return left.Round(time.Second).String() + " left"
}

// checkView is one analysis check against its threshold.
type checkView struct {
	Name      string
	Staging   string
	Primary   string
	Threshold string
	OK        bool
	Waiting   bool
}

func analysisChecks(a release.Analysis, w *release.Window) []checkView {
	if w == nil {
		return nil
	}
	s, p := w.Staging, w.Primary
	out := []checkView{{
		Name: "requests served by staging", Staging: fmt.Sprintf("%.0f", s.Requests), Primary: fmt.Sprintf("%.0f", p.Requests),
		Threshold: fmt.Sprintf("at least %d before judging", a.MinRequests), OK: s.Requests >= float64(a.MinRequests),
		Waiting: s.Requests < float64(a.MinRequests),
	}, {
		Name: "5xx rate", Staging: pct(s.ErrorRate), Primary: pct(p.ErrorRate),
		Threshold: "at most " + pct(a.MaxErrorRate), OK: s.ErrorRate <= a.MaxErrorRate,
	}}
	if a.MaxP95LatencyRatio > 0 {
		ok := p.P95 == 0 || s.P95/p.P95 <= a.MaxP95LatencyRatio
		out = append(out, checkView{Name: "p95 latency", Staging: ms(s.P95), Primary: ms(p.P95),
			Threshold: fmt.Sprintf("at most %.2f× the primary's", a.MaxP95LatencyRatio), OK: ok})
	}
	return out
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }
func ms(seconds float64) string {
	return fmt.Sprintf("%.1f ms", 1000*seconds)
}
