package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

func TestParseIssueExample(t *testing.T) {
	t.Parallel()
	spec := issueSpec(t)
	if got := len(spec.Steps); got != 6 {
		t.Fatalf("%d steps, want 6", got)
	}
	if w := spec.Steps[3].Weight; w.Percent != 15 || w.Stickiness == nil || w.Stickiness.Max != 10*time.Minute {
		t.Errorf("second weight step = %+v, want 15%% inheriting stickiness 5m/10m", w)
	}
	if a := spec.Analysis; a.MaxErrorRate != 0.01 || a.MinRequests != 100 || a.MaxP95LatencyRatio != 1.5 || a.Interval != 30*time.Second {
		t.Errorf("analysis = %+v", a)
	}
	if spec.Steps[1].Approve.Timeout != 24*time.Hour {
		t.Errorf("approve timeout = %v", spec.Steps[1].Approve.Timeout)
	}
	// The JSON form the CLI sends validates the same.
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("round-tripped spec: %v", err)
	}
}

func TestParseErrorsNameLineAndField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, want string
	}{
		{"weight over 15", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - weight: {percent: 20}\n  - promote\n",
			"f.yaml:5: steps[0].weight.percent: 20 is outside 0–15"},
		{"unknown field", "name: a\nprimary: E1\nstagin: {}\n", "f.yaml:3: stagin: unknown field"},
		{"weight that looks like a fraction", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - weight: {percent: 0.15}\n  - promote\n",
			"f.yaml:5: steps[0].weight.percent: 0.15 looks like a fraction: percent is a percentage, so 0.15 means 0.15 % of viewers; write 15 for 15 %"},
		{"header step that lasts 0s", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - header: {name: aws-cf-cd-env, value: s}\n  - promote\n",
			"f.yaml:5: steps[0].header: without `hold` this step lasts 0s"},
		{"unclosed flow mapping", "name: a\nprimary: E1\nsteps:\n  - header: {name: x\n  - promote\n", "f.yaml:4: did not find expected ',' or '}'"},
		{"unclosed flow sequence", "name: a\nprimary: [E1\n", "f.yaml:2: did not find expected ',' or ']'"},
		{"unclosed on the first line: the line where it is noticed", "name: [a\n", "f.yaml:2: did not find expected ',' or ']'"},
		{"tab indentation", "name: a\n\tprimary: b\n", "f.yaml:2: found a tab character"},
		{"bad mapping", "name: a\n  primary: b\n", "f.yaml:2: mapping values are not allowed"},
		{"bad member path", "name: a\nprimary: E1\nstaging:\n  set:\n    Origins.Items[Id=web].OrignPath: /v2\nsteps: [promote]\n",
			`f.yaml:5: staging.set.Origins.Items[Id=web].OrignPath: Origin has no member "OrignPath"`},
		{"own member", "name: a\nprimary: E1\nstaging: {set: {Aliases: x}}\nsteps: [promote]\n",
			"f.yaml:3: staging.set.Aliases: Aliases cannot be changed"},
		{"header prefix", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - header: {name: x-env, value: s, hold: 1m}\n  - promote\n",
			`f.yaml:5: steps[0].header.name: "x-env" must start with "aws-cf-cd-"`},
		{"promote not last", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - promote\n  - approve\n",
			"f.yaml:6: steps[1]: the last step must be `promote`"},
		{"bad duration", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - approve: {timeout: tomorrow}\n  - promote\n",
			`f.yaml:5: steps[0].approve.timeout: "tomorrow" is not a duration`},
		{"stickiness too short", "name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - weight:\n      percent: 5\n      stickiness: {idle: 1m, max: 10m}\n  - promote\n",
			"f.yaml:7: steps[0].weight.stickiness.idle: 1m0s is outside 5m–1h"},
		{"missing primary", "name: a\nstaging: {set: {Comment: x}}\nsteps: [promote]\n", "f.yaml: primary: is required"},
		{"config from the server", "name: a\nprimary: E1\nstaging: {config: c.json}\nsteps: [promote]\n", "f.yaml:3: staging.config: a config file can only be read by the CLI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "f.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("%v does not wrap ErrInvalidSpec", err)
			}
		})
	}
}

func primaryConfig() *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String("p"), Comment: aws.String("site"), Enabled: aws.Bool(true), Staging: aws.Bool(false),
		Aliases: &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.com"}},
		Origins: &types.Origins{Quantity: aws.Int32(2), Items: []types.Origin{
			{Id: aws.String("assets"), DomainName: aws.String("a.example.com"), OriginPath: aws.String("")},
			{Id: aws.String("web"), DomainName: aws.String("w.example.com"), OriginPath: aws.String("/v1")},
		}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("web")},
	}
}

func TestDesiredStaging(t *testing.T) {
	t.Parallel()
	staging := &types.DistributionConfig{CallerReference: aws.String("s"), Staging: aws.Bool(true),
		Aliases: &types.Aliases{Quantity: aws.Int32(0)}, ContinuousDeploymentPolicyId: aws.String("pol")}
	change := StagingChange{Set: []Assignment{
		{Path: "Origins.Items[Id=web].OriginPath", Value: "/v2"},
		{Path: "Origins[Id=assets].OriginPath", Value: 3}, // shorthand for .Items, number as text
		{Path: "DefaultRootObject", Value: "index.html"},
		{Path: "Restrictions.GeoRestriction.RestrictionType", Value: "none"}, // allocates on the way
	}}
	primary := primaryConfig()
	got, err := DesiredStaging(primary, staging, change)
	if err != nil {
		t.Fatal(err)
	}
	if p := aws.ToString(got.Origins.Items[1].OriginPath); p != "/v2" {
		t.Errorf("web OriginPath = %q", p)
	}
	if p := aws.ToString(got.Origins.Items[0].OriginPath); p != "3" {
		t.Errorf("assets OriginPath = %q", p)
	}
	if got.Restrictions.GeoRestriction.RestrictionType != types.GeoRestrictionTypeNone {
		t.Errorf("restriction = %v", got.Restrictions.GeoRestriction.RestrictionType)
	}
	if aws.ToString(got.CallerReference) != "s" || !aws.ToBool(got.Staging) || aws.ToInt32(got.Aliases.Quantity) != 0 ||
		aws.ToString(got.ContinuousDeploymentPolicyId) != "pol" {
		t.Errorf("staging lost its own members: %+v", got)
	}
	if aws.ToString(primary.Origins.Items[1].OriginPath) != "/v1" {
		t.Error("the primary's config was modified")
	}
	if ConfigDigest(got) == ConfigDigest(primary) {
		t.Error("digest ignores the change")
	}
	reset := withOwnMembers(primary, staging)
	if ConfigDigest(reset) != ConfigDigest(primary) {
		t.Error("digest depends on own members")
	}
	if _, err := DesiredStaging(primary, staging, StagingChange{Set: []Assignment{{Path: "Origins.Items[Id=nope].OriginPath", Value: "/x"}}}); err == nil ||
		!strings.Contains(err.Error(), "have: assets, web") {
		t.Errorf("missing item: %v", err)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	buckets := []Bucket{{0.01, 50}, {0.1, 90}, {1, 100}}
	if got := quantile(0.5, buckets, 100); got != 0.01 {
		t.Errorf("p50 = %v, want 0.01", got)
	}
	if got := quantile(0.95, buckets, 100); got < 0.1 || got > 1 {
		t.Errorf("p95 = %v, want inside (0.1, 1]", got)
	}
	base := Snapshot{Staging: Counters{Requests: 100, Errors: 1}}
	cur := Snapshot{Staging: Counters{Requests: 40, Errors: 40}} // restarted: counters went down
	if w := WindowSince(base, cur); w.Staging.Requests != 40 || w.Staging.ErrorRate != 1 {
		t.Errorf("after a counter reset the window is %+v, want the 40 requests since", w.Staging)
	}
}

func TestTemplateStagingRules(t *testing.T) {
	t.Parallel()
	base := func() *Spec {
		return &Spec{Name: "r", Primary: "E1",
			Staging: StagingChange{Template: &TemplateStaging{Path: "staging.yml", Stack: "cd-staging", Body: "Resources: {}"}},
			Steps:   []Step{{Kind: StepApprove, Approve: &ApproveStep{}}, {Kind: StepPromote, Promote: &PromoteStep{}}}}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid template spec refused: %v", err)
	}
	for name, tc := range map[string]struct {
		edit func(*Spec)
		want string
	}{
		"no stack":   {func(s *Spec) { s.Staging.Template.Stack = "" }, "staging.template.stack: is required"},
		"no path":    {func(s *Spec) { s.Staging.Template.Path = "" }, "staging.template.path: is required"},
		"empty body": {func(s *Spec) { s.Staging.Template.Body = " " }, `the content of "staging.yml" is empty`},
		"with set":   {func(s *Spec) { s.Staging.Set = []Assignment{{Path: "Comment", Value: "x"}} }, "has `template:` with `set:` or `config:`"},
		"header step": {func(s *Spec) {
			s.Steps = append([]Step{{Kind: StepHeader, Header: &HeaderStep{Name: "aws-cf-cd-x", Value: "1"}}}, s.Steps...)
		}, "a header step cannot be used with `staging.template`"},
		"weight step": {func(s *Spec) {
			s.Steps = append([]Step{{Kind: StepWeight, Weight: &WeightStep{Percent: 5}}}, s.Steps...)
		}, "a weight step cannot be used with `staging.template`"},
	} {
		s := base()
		tc.edit(s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func TestParseTemplateStaging(t *testing.T) {
	t.Parallel()
	doc := `name: r1
primary: E1
staging:
  template:
    path: cfn/staging-cloudfront-distribution.yml
    stack: cd-staging
    parameters:
      PrimaryDistributionId: E1
      StaticResourceBucketName: site
steps:
  - approve: {}
  - promote: {}
`
	files := map[string]string{"cfn/staging-cloudfront-distribution.yml": "Resources: {}\n"}
	read := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return []byte(b), nil
		}
		return nil, fmt.Errorf("%s: no such file", name)
	}
	s, err := Parse([]byte(doc), "release.yaml", read)
	if err != nil {
		t.Fatal(err)
	}
	tpl := s.Staging.Template
	if tpl == nil || tpl.Path != "cfn/staging-cloudfront-distribution.yml" || tpl.Stack != "cd-staging" || tpl.Body != "Resources: {}\n" ||
		tpl.Parameters["PrimaryDistributionId"] != "E1" || tpl.Parameters["StaticResourceBucketName"] != "site" || len(tpl.Parameters) != 2 {
		t.Fatalf("template = %+v", tpl)
	}
	if _, err := Parse([]byte(doc), "release.yaml", nil); err == nil || !strings.Contains(err.Error(), "a template file can only be read by the CLI or watch-git") {
		t.Errorf("without a file reader: %v", err)
	}
	files = map[string]string{}
	if _, err := Parse([]byte(doc), "release.yaml", read); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing template: %v", err)
	}
	bad := strings.Replace(doc, "    stack: cd-staging\n", "    stack: cd-staging\n    capabilities: [CAPABILITY_IAM]\n", 1)
	files["cfn/staging-cloudfront-distribution.yml"] = "Resources: {}\n"
	if _, err := Parse([]byte(bad), "release.yaml", read); err == nil || !strings.Contains(err.Error(), "capabilities") {
		t.Errorf("unknown template key: %v", err)
	}
}

// TestParseAcceptsIntendedSmallWeights: a weight under 1 % is accepted when
// written with its % sign, and a header step may skip hold when an approval
// follows it.
func TestParseAcceptsIntendedSmallWeights(t *testing.T) {
	t.Parallel()
	spec, err := Parse([]byte("name: a\nprimary: E1\nstaging: {set: {Comment: x}}\nsteps:\n  - header: {name: aws-cf-cd-env, value: s}\n  - approve\n  - weight: {percent: 0.5%, hold: 1m}\n  - promote\n"), "f.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Steps[2].Weight.Percent; got != 0.5 {
		t.Errorf("percent = %v, want 0.5", got)
	}
	if got := spec.StepLabel(2); got != "3/4 weight 0.5%" {
		t.Errorf("StepLabel(2) = %q, want 1-based %q", got, "3/4 weight 0.5%")
	}
}
