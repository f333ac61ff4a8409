package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Spec is one release, as written in YAML (docs/releases.md) and stored
// with the release. Parse fills it from YAML; Validate checks it.
type Spec struct {
	// Name identifies the release; it is unique among all releases.
	Name string `json:"name"`
	// Primary is the primary distribution's id or one of its aliases.
	Primary string `json:"primary"`
	// Staging is the change the staging distribution carries.
	Staging StagingChange `json:"staging"`
	// Steps run in order; the last one is a promote step.
	Steps []Step `json:"steps"`
	// Analysis holds the thresholds checked during weight steps.
	Analysis Analysis `json:"analysis"`

	// source is where Parse read the spec (nil otherwise): the CLI uses it
	// to put a file and line on the problems the API finds.
	source *specSource
}

type specSource struct {
	file string
	line func(field string) int
}

// Locate prefixes a problem "FIELD: message" with the file and line the
// spec was parsed from ("release.yaml:7: FIELD: message"), when known.
func (s *Spec) Locate(problem string) string {
	if s == nil || s.source == nil || strings.HasPrefix(problem, s.source.file+":") {
		return problem
	}
	where := s.source.file + ":"
	if field, _, ok := strings.Cut(problem, ": "); ok {
		if l := s.source.line(field); l > 0 {
			where += fmt.Sprintf("%d:", l)
		}
	}
	return where + " " + problem
}

// StagingChange is what the staging distribution carries, relative to the
// primary's current config: either assignments (Set) or a whole config.
type StagingChange struct {
	Set []Assignment `json:"set,omitempty"`
	// ConfigFile is where Config came from (for messages only).
	ConfigFile string `json:"configFile,omitempty"`
	// Config is a whole DistributionConfig in the JSON form the aws CLI
	// uses (`get-distribution-config` output is accepted as is).
	Config json.RawMessage `json:"config,omitempty"`
	// Template, instead of Set or Config, takes staging from a
	// CloudFormation stack that makes the staging distribution and its
	// policy (outputs StagingDistributionId and ContinuousDeploymentPolicyId).
	Template *TemplateStaging `json:"template,omitempty"`
}

// TemplateStaging is a staging stack: each release deploys it (reverting
// drift, so a policy the previous promotion disabled is enabled again),
// then routes as the template's policy says.
type TemplateStaging struct {
	// Path is where the template lives in the repository (for messages).
	Path string `json:"path"`
	// Stack is the stack's name.
	Stack string `json:"stack"`
	// Region is the stack's region; "" is the CLI's region (--region,
	// AWS_REGION, AWS_DEFAULT_REGION) or else us-east-1.
	Region string `json:"region,omitempty"`
	// Parameters are the stack's parameter values.
	Parameters map[string]string `json:"parameters,omitempty"`
	// Body is the template's content, read from Path by whoever submits the spec.
	Body string `json:"body,omitempty"`
}

// Assignment sets one member of the DistributionConfig, addressed by a path
// such as `Origins.Items[Id=web].OriginPath` (see ParsePath).
type Assignment struct {
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// StepKind names what a step does.
type StepKind string

// The step kinds.
const (
	StepHeader  StepKind = "header"
	StepApprove StepKind = "approve"
	StepWeight  StepKind = "weight"
	StepPromote StepKind = "promote"
)

// Step is one stage of a release; exactly the field of its Kind is set.
type Step struct {
	Kind    StepKind     `json:"kind"`
	Header  *HeaderStep  `json:"header,omitempty"`
	Approve *ApproveStep `json:"approve,omitempty"`
	Weight  *WeightStep  `json:"weight,omitempty"`
	Promote *PromoteStep `json:"promote,omitempty"`
}

// HeaderStep routes viewers that send Name: Value to staging.
type HeaderStep struct {
	Name  string        `json:"name"`
	Value string        `json:"value"`
	Hold  time.Duration `json:"hold,omitempty"`
}

// ApproveStep waits for a human. Timeout 0 waits forever; otherwise the
// release is rejected when it expires. Routing stays as the previous step set it.
type ApproveStep struct {
	Timeout time.Duration `json:"timeout,omitempty"`
}

// WeightStep sends Percent (0–15) of viewers to staging for Hold, while the
// analysis watches the metrics.
type WeightStep struct {
	Percent    float64       `json:"percent"`
	Stickiness *Stickiness   `json:"stickiness,omitempty"`
	Hold       time.Duration `json:"hold,omitempty"`
}

// Stickiness keeps a viewer on one variant (CloudFront's SessionStickinessConfig).
type Stickiness struct {
	Idle time.Duration `json:"idle"`
	Max  time.Duration `json:"max"`
}

// PromoteStep copies staging onto the primary, then invalidates the paths.
type PromoteStep struct {
	Invalidate []string `json:"invalidate,omitempty"`
}

// Analysis thresholds. A weight step fails when staging has served at least
// MinRequests since the step began and its 5xx rate is over MaxErrorRate, or
// its p95 latency is over MaxP95LatencyRatio times the primary's.
type Analysis struct {
	Interval           time.Duration `json:"interval"`
	MinRequests        int64         `json:"minRequests"`
	MaxErrorRate       float64       `json:"maxErrorRate"`       // a fraction: 0.01 is 1 %
	MaxP95LatencyRatio float64       `json:"maxP95LatencyRatio"` // 0 turns the latency check off
}

// Defaults for the zero fields of Analysis.
var defaultAnalysis = Analysis{Interval: 30 * time.Second, MinRequests: 100, MaxErrorRate: 0.01}

// Limits that CloudFront enforces on a policy: weight at most 15 %,
// session TTLs 300–3600 s (API reference, SessionStickinessConfig).
const (
	MaxWeightPercent = 15
	minStickiness    = 300 * time.Second
	maxStickiness    = 3600 * time.Second
	headerPrefix     = "aws-cf-cd-"
	maxNameLen       = 64
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// SpecError is one problem in a spec: where (file, line, field) and what.
type SpecError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// ErrInvalidSpec is wrapped by every SpecError.
var ErrInvalidSpec = errors.New("invalid release spec")

func (e *SpecError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidSpec) true.
func (e *SpecError) Unwrap() error { return ErrInvalidSpec }

// problems collects SpecErrors.
type problems struct {
	file string
	errs []error
}

func (p *problems) add(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &SpecError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// Validate checks a spec that did not come through Parse (for example one
// posted as JSON), with the same rules Parse applies, and fills defaults.
func (s *Spec) Validate() error {
	p := &problems{}
	s.check(p, func(string) int { return 0 })
	return p.err()
}

// check applies every rule. line maps a field path to its YAML line (0 when
// unknown).
func (s *Spec) check(p *problems, line func(field string) int) {
	if s.Name == "" {
		p.add(line("name"), "name", "is required")
	} else if len(s.Name) > maxNameLen || !namePattern.MatchString(s.Name) {
		p.add(line("name"), "name", "%q must be 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name, maxNameLen)
	}
	if s.Primary == "" {
		p.add(line("primary"), "primary", "is required (a distribution id or alias)")
	}
	switch {
	case s.Staging.Template != nil:
		s.checkTemplate(p, line)
	case len(s.Staging.Set) == 0 && len(s.Staging.Config) == 0:
		p.add(line("staging"), "staging", "needs `set:` (paths to change) or `config:` (a DistributionConfig file)")
	case len(s.Staging.Set) > 0 && len(s.Staging.Config) > 0:
		p.add(line("staging"), "staging", "has both `set:` and `config:`; use one")
	}
	for _, a := range s.Staging.Set {
		field := "staging.set." + a.Path
		if _, err := ParsePath(a.Path); err != nil {
			p.add(line(field), field, "%v", err)
		}
	}
	if len(s.Staging.Config) > 0 {
		if _, err := decodeConfig(s.Staging.Config); err != nil {
			p.add(line("staging.config"), "staging.config", "%v", err)
		}
	}
	if len(s.Steps) == 0 {
		p.add(line("steps"), "steps", "needs at least a promote step")
	}
	for i, st := range s.Steps {
		s.checkStep(p, line, i, st)
	}
	for i, st := range s.Steps {
		// A header step without hold advances as soon as its routing is in
		// place: testers get no time unless an approval waits for them.
		if st.Kind == StepHeader && st.Header != nil && st.Header.Hold == 0 &&
			(i+1 >= len(s.Steps) || s.Steps[i+1].Kind != StepApprove) {
			f := fmt.Sprintf("steps[%d].header", i)
			p.add(line(f), f, "without `hold` this step lasts 0s: add `hold: 10m` (how long testers get) or follow it with an `approve` step")
		}
	}
	if n := len(s.Steps); n > 0 && s.Steps[n-1].Kind != StepPromote {
		p.add(line(fmt.Sprintf("steps[%d]", n-1)), fmt.Sprintf("steps[%d]", n-1), "the last step must be `promote`")
	}
	a := &s.Analysis
	if a.Interval == 0 {
		a.Interval = defaultAnalysis.Interval
	}
	if a.MinRequests == 0 {
		a.MinRequests = defaultAnalysis.MinRequests
	}
	if a.MaxErrorRate == 0 {
		a.MaxErrorRate = defaultAnalysis.MaxErrorRate
	}
	switch {
	case a.Interval < time.Second:
		p.add(line("analysis.interval"), "analysis.interval", "%v is under 1s", a.Interval)
	case a.MinRequests < 0:
		p.add(line("analysis.minRequests"), "analysis.minRequests", "must not be negative")
	case a.MaxErrorRate < 0 || a.MaxErrorRate > 1:
		p.add(line("analysis.maxErrorRate"), "analysis.maxErrorRate", "must be between 0%% and 100%%")
	case a.MaxP95LatencyRatio < 0:
		p.add(line("analysis.maxP95LatencyRatio"), "analysis.maxP95LatencyRatio", "must not be negative (0 turns the check off)")
	}
}

func (s *Spec) checkStep(p *problems, line func(string) int, i int, st Step) {
	field := fmt.Sprintf("steps[%d]", i)
	set := 0
	for _, present := range []bool{st.Header != nil, st.Approve != nil, st.Weight != nil, st.Promote != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		p.add(line(field), field, "a step is exactly one of header, approve, weight, promote")
		return
	}
	switch st.Kind {
	case StepHeader:
		h, f := st.Header, field+".header"
		if h == nil {
			break
		}
		if !strings.HasPrefix(strings.ToLower(h.Name), headerPrefix) || len(h.Name) > 256 {
			p.add(line(f+".name"), f+".name", "%q must start with %q (CloudFront's rule) and be at most 256 characters", h.Name, headerPrefix)
		}
		if h.Value == "" || len(h.Value) > 1783 {
			p.add(line(f+".value"), f+".value", "must be 1 to 1783 characters")
		}
		if h.Hold < 0 {
			p.add(line(f+".hold"), f+".hold", "must not be negative")
		}
		return
	case StepApprove:
		if st.Approve != nil && st.Approve.Timeout < 0 {
			p.add(line(field+".approve.timeout"), field+".approve.timeout", "must not be negative")
		}
		if st.Approve != nil {
			return
		}
	case StepWeight:
		w, f := st.Weight, field+".weight"
		if w == nil {
			break
		}
		if w.Percent < 0 || w.Percent > MaxWeightPercent {
			p.add(line(f+".percent"), f+".percent", "%v is outside 0–%d (CloudFront sends at most 15%% to staging)", w.Percent, MaxWeightPercent)
		}
		if w.Hold < 0 {
			p.add(line(f+".hold"), f+".hold", "must not be negative")
		}
		if sk := w.Stickiness; sk != nil {
			for _, d := range []struct {
				name string
				v    time.Duration
			}{{"idle", sk.Idle}, {"max", sk.Max}} {
				if d.v < minStickiness || d.v > maxStickiness || d.v%time.Second != 0 {
					p.add(line(f+".stickiness."+d.name), f+".stickiness."+d.name, "%v is outside 5m–1h in whole seconds (CloudFront's IdleTTL/MaximumTTL)", d.v)
				}
			}
			if sk.Idle > sk.Max {
				p.add(line(f+".stickiness"), f+".stickiness", "idle (%v) must not exceed max (%v)", sk.Idle, sk.Max)
			}
		}
		return
	case StepPromote:
		if st.Promote == nil {
			break
		}
		if i != len(s.Steps)-1 {
			p.add(line(field), field, "promote must be the last step")
		}
		for j, path := range st.Promote.Invalidate {
			if !strings.HasPrefix(path, "/") {
				f := fmt.Sprintf("%s.promote.invalidate[%d]", field, j)
				p.add(line(f), f, "%q must start with /", path)
			}
		}
		return
	}
	p.add(line(field), field, "kind %q does not match its content", st.Kind)
}

// decodeConfig accepts a DistributionConfig as JSON, bare or wrapped the way
// `aws cloudfront get-distribution-config` prints it.
func decodeConfig(raw json.RawMessage) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if inner, ok := doc["DistributionConfig"].(map[string]any); ok {
		doc = inner
	}
	if _, ok := doc["Origins"]; !ok {
		return nil, errors.New("is not a DistributionConfig (no Origins)")
	}
	return doc, nil
}

// TrafficAt is the routing that step i runs with: the last header or weight
// step at or before i, or an enabled policy that sends nothing (weight 0)
// before the first one.
func (s *Spec) TrafficAt(i int) Traffic {
	for j := min(i, len(s.Steps)-1); j >= 0; j-- {
		switch st := s.Steps[j]; st.Kind {
		case StepHeader:
			return Traffic{Enabled: true, Kind: TrafficHeader, Header: st.Header.Name, Value: st.Header.Value}
		case StepWeight:
			t := Traffic{Enabled: true, Kind: TrafficWeight, WeightBP: percentToBP(st.Weight.Percent)}
			if sk := st.Weight.Stickiness; sk != nil {
				t.IdleTTL, t.MaxTTL = int32(sk.Idle/time.Second), int32(sk.Max/time.Second)
			}
			return t
		}
	}
	return Traffic{Enabled: true, Kind: TrafficWeight}
}

// StepLabel names step i (0-based) for people, 1-based: "2/4 weight 15%".
// Every message a user reads counts steps this way.
func (s *Spec) StepLabel(i int) string {
	n := len(s.Steps)
	if n == 0 {
		return "-"
	}
	i = min(max(i, 0), n-1)
	st := s.Steps[i]
	label := fmt.Sprintf("%d/%d %s", i+1, n, st.Kind)
	if st.Kind == StepWeight && st.Weight != nil {
		label += fmt.Sprintf(" %g%%", st.Weight.Percent)
	}
	return label
}

// percentToBP converts a percentage to basis points, the unit Traffic
// compares in (CloudFront stores the weight as a float32 fraction).
func percentToBP(p float64) int { return int(p*100 + 0.5) }

// regionPattern matches AWS region names (us-east-1, ap-southeast-2,
// us-gov-west-1, cn-north-1).
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// checkTemplate applies the rules of `staging.template`. The template's
// policy does the routing, so only approve and promote steps fit.
func (s *Spec) checkTemplate(p *problems, line func(field string) int) {
	t := s.Staging.Template
	if len(s.Staging.Set) > 0 || len(s.Staging.Config) > 0 {
		p.add(line("staging"), "staging", "has `template:` with `set:` or `config:`; use one")
	}
	if t.Path == "" {
		p.add(line("staging.template.path"), "staging.template.path", "is required (the template's path in the repository)")
	}
	if t.Stack == "" {
		p.add(line("staging.template.stack"), "staging.template.stack", "is required (the stack's name)")
	}
	if strings.TrimSpace(t.Body) == "" {
		p.add(line("staging.template"), "staging.template", "the content of %q is empty or was not sent", t.Path)
	}
	if t.Region != "" && !regionPattern.MatchString(t.Region) {
		p.add(line("staging.template.region"), "staging.template.region", "%q is not a region name (such as us-east-1)", t.Region)
	}
	for i, st := range s.Steps {
		if st.Kind == StepHeader || st.Kind == StepWeight {
			f := fmt.Sprintf("steps[%d]", i)
			p.add(line(f), f, "a %s step cannot be used with `staging.template`: the template's policy does the routing (use approve and promote)", st.Kind)
		}
	}
}
