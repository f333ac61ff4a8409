package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// env binds a template with fixed pseudo parameters and fake resources:
// Ref R → "R-id", GetAtt R.A → "R-A".
func env(t *testing.T, tpl *Template, params map[string]string) *Env {
	t.Helper()
	bound, err := BindParameters(tpl, params)
	if err != nil {
		t.Fatalf("BindParameters: %v", err)
	}
	e := &Env{Template: tpl, Params: bound,
		Pseudo: Pseudo{Region: "us-east-1", AccountID: "123456789012", StackName: "s", StackID: "arn:stack/s/1"},
		Ref:    func(id string) (string, error) { return id + "-id", nil },
		GetAtt: func(id, attr string) (any, error) { return id + "-" + attr, nil },
		ImportValue: func(name string) (string, error) {
			if name == "shared-bucket" {
				return "imported-bucket", nil
			}
			return "", fmt.Errorf("No export named %s found", name)
		},
	}
	if err := e.BindConditions(); err != nil {
		t.Fatalf("BindConditions: %v", err)
	}
	return e
}

const engineTemplate = `AWSTemplateFormatVersion: 2010-09-09
Description: every section
Metadata: {Owner: team}
Parameters:
  Env: {Type: String, AllowedValues: [prod, staging], Default: staging}
  Weight: {Type: Number, Default: "0.15"}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
  Secret: {Type: String, NoEcho: true, Default: hidden}
Mappings:
  Paths:
    staging: {Origin: /2.0.0}
    prod: {Origin: /1.0.0}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsStaging: !Not [!Condition IsProd]
  Both: !And [!Condition IsStaging, !Equals [a, a]]
  Either: !Or [!Condition IsProd, !Condition Both]
Resources:
  Policy:
    Type: Test::Thing
    DependsOn: [Extra]
    Properties:
      Ref: !Ref Dist
      GetAtt: !GetAtt Dist.DomainName
      GetAttList: !GetAtt [Dist, Id]
      Sub: !Sub "${Env}.s3.${AWS::Region}.amazonaws.com/${Dist}/${Dist.DomainName}/${!Literal}"
      SubVars: !Sub ["${x}-${AWS::AccountId}", {x: !Ref Env}]
      Join: !Join ["-", [a, !Ref Env, !Select [1, !Ref Names]]]
      Split: !Split [",", "x,y"]
      If: !If [IsProd, yes-prod, !Ref "AWS::NoValue"]
      IfList: [one, !If [IsStaging, two, !Ref "AWS::NoValue"], !If [IsProd, three, !Ref "AWS::NoValue"]]
      Find: !FindInMap [Paths, !Ref Env, Origin]
      Import: !ImportValue shared-bucket
      AZs: !Select [0, !GetAZs ""]
      B64: !Base64 hi
      Weight: !Ref Weight
      Literal: 0.15
      Bool: yes
      Either: !If [Either, on, off]
      Partition: !Sub "${AWS::Partition}/${AWS::URLSuffix}/${AWS::StackName}"
  Dist:
    Type: Test::Thing
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
  Extra:
    Type: Test::Thing
    Condition: IsStaging
  OnlyProd:
    Type: Test::Thing
    Condition: IsProd
Outputs:
  Domain:
    Value: !GetAtt Dist.DomainName
    Description: the domain
    Export: {Name: !Sub "${AWS::StackName}-Domain"}
  ProdOnly:
    Value: x
    Condition: IsProd
`

func TestEngineEverySectionAndIntrinsic(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(engineTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Description != "every section" || len(tpl.Parameters) != 4 || !tpl.Parameters[3].NoEcho {
		t.Fatalf("sections: %+v", tpl)
	}
	if got := tpl.Resource("Dist"); got.DeletionPolicy != "Retain" || got.UpdateReplacePolicy != "Retain" {
		t.Errorf("Dist policies = %q/%q", got.DeletionPolicy, got.UpdateReplacePolicy)
	}
	order, err := tpl.Order()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[Dist Extra Policy OnlyProd]" {
		t.Errorf("order = %v, want Dist and Extra before Policy", order)
	}
	e := env(t, tpl, nil)
	if !e.Conditions["IsStaging"] || e.Conditions["IsProd"] || !e.Conditions["Both"] || !e.Conditions["Either"] {
		t.Errorf("conditions = %v", e.Conditions)
	}
	got, err := e.Resolve(tpl.Resource("Policy").Properties, "Resources/Policy/Properties")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Ref":        "Dist-id",
		"GetAtt":     "Dist-DomainName",
		"GetAttList": "Dist-Id",
		"Sub":        "staging.s3.us-east-1.amazonaws.com/Dist-id/Dist-DomainName/${Literal}",
		"SubVars":    "staging-123456789012",
		"Join":       "a-staging-b",
		"Split":      []any{"x", "y"},
		"IfList":     []any{"one", "two"},
		"Find":       "/2.0.0",
		"Import":     "imported-bucket",
		"AZs":        "us-east-1a",
		"B64":        "aGk=",
		"Weight":     "0.15",
		"Literal":    "0.15",
		"Bool":       "yes",
		"Either":     "on",
		"Partition":  "aws/amazonaws.com/s",
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("resolved properties:\n%s", gj)
	}
	// The other branch: prod removes Extra's condition and keeps If's value.
	prod := env(t, tpl, map[string]string{"Env": "prod"})
	got, err = prod.Resolve(tpl.Resource("Policy").Properties, "p")
	if err != nil {
		t.Fatal(err)
	}
	if m := got.(map[string]any); m["If"] != "yes-prod" || m["Find"] != "/1.0.0" || fmt.Sprint(m["IfList"]) != "[one three]" {
		t.Errorf("prod: If=%v Find=%v IfList=%v", m["If"], m["Find"], m["IfList"])
	}
	exp, err := e.Resolve(tpl.Outputs[0].ExportName, "Outputs/Domain/Export/Name")
	if err != nil || exp != "s-Domain" {
		t.Errorf("export name = %v, %v", exp, err)
	}
}

func TestEngineJSONTemplate(t *testing.T) {
	t.Parallel()
	body := `{"AWSTemplateFormatVersion": "2010-09-09",
	 "Parameters": {"B": {"Type": "String"}},
	 "Resources": {"Z": {"Type": "Test::Thing", "Properties": {"N": 0.15, "T": true, "D": {"Fn::Join": ["", [{"Ref": "B"}, ".", {"Fn::GetAtt": ["A", "Id"]}]]}}},
	               "A": {"Type": "Test::Thing"}}}`
	tpl, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Resources[0].LogicalID != "Z" {
		t.Errorf("JSON key order lost: %v", tpl.Resources)
	}
	got, err := env(t, tpl, map[string]string{"B": "b"}).Resolve(tpl.Resources[0].Properties, "p")
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]any{"N": "0.15", "T": "true", "D": "b.A-Id"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestEngineSeedTemplates(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"staging-header.yml", "staging-weight.yml"} {
		body, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := Parse(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		order, _ := tpl.Order()
		if fmt.Sprint(order) != "[SampleWebSiteDistributionStaging ContinuousDeploymentPolicy]" {
			t.Errorf("%s: order %v", name, order)
		}
		e := env(t, tpl, map[string]string{"PrimaryDistributionId": "E1", "StaticResourceBucketName": "bucket", "OriginAccessControlId": "O1"})
		props, err := e.Resolve(tpl.Resource("SampleWebSiteDistributionStaging").Properties, "p")
		if err != nil {
			t.Fatal(err)
		}
		origin := props.(map[string]any)["DistributionConfig"].(map[string]any)["Origins"].([]any)[0].(map[string]any)
		if origin["DomainName"] != "bucket.s3.us-east-1.amazonaws.com" || origin["OriginAccessControlId"] != "O1" {
			t.Errorf("%s: origin %v", name, origin)
		}
		if name == "staging-header.yml" {
			if _, typo := origin["S3OriginConfig,"]; !typo {
				t.Errorf("the header template's typo must survive parsing verbatim: %v", origin)
			}
		}
	}
	weight, _ := os.ReadFile("testdata/staging-weight.yml")
	tpl, _ := Parse(weight)
	tc := tpl.Resource("ContinuousDeploymentPolicy").Properties["ContinuousDeploymentPolicyConfig"].(map[string]any)["TrafficConfig"].(map[string]any)
	if w := tc["SingleWeightConfig"].(map[string]any)["Weight"]; w != "0.15" {
		t.Errorf("Weight = %#v, want the source text 0.15", w)
	}
}

func TestEngineErrors(t *testing.T) {
	t.Parallel()
	res := "Resources:\n  A:\n    Type: Test::Thing\n"
	cases := []struct{ name, body, want string }{
		{"empty", "", "Template format error: At least one Resources member must be defined."},
		{"no resources", "Description: x\n", "Template format error: At least one Resources member must be defined."},
		{"bad yaml", "Resources: [\n", "Template format error: YAML not well-formed."},
		{"duplicate key", res + "  A:\n    Type: X\n", "duplicate key \"A\""},
		{"version", "AWSTemplateFormatVersion: '2011-01-01'\n" + res, "Template format error: '2011-01-01' is not a valid template version"},
		{"unknown section", "Foo: 1\n" + res, "Template format error: Invalid template property or properties [Foo]"},
		{"transform", "Transform: AWS::Serverless-2016-10-31\n" + res, "Template format error: Transform AWS::Serverless-2016-10-31 is not supported"},
		{"non alnum", "Resources:\n  A-b:\n    Type: X\n", "Template format error: Resource name A-b is non alphanumeric."},
		{"no type", "Resources:\n  A:\n    Properties: {}\n", "Every Resources object must contain a Type member."},
		{"unresolved", "Resources:\n  A:\n    Type: X\n    Properties: {P: !Ref NoSuchParameterOrResource}\n",
			"Template format error: Unresolved resource dependencies [NoSuchParameterOrResource] in the Resources block of the template"},
		{"unresolved getatt", "Resources:\n  A:\n    Type: X\n    Properties: {P: !GetAtt B.Id}\n", "Unresolved resource dependencies [B]"},
		{"unresolved dependson", res + "    DependsOn: Nope\n", "Unresolved resource dependencies [Nope]"},
		{"cycle", "Resources:\n  A:\n    Type: X\n    Properties: {P: !Ref B}\n  B:\n    Type: X\n    Properties: {P: !GetAtt A.Id}\n",
			"Template format error: Circular dependency between resources: [A, B]"},
		{"output without value", res + "Outputs:\n  O:\n    Description: x\n", "Template format error: Every Outputs member must contain a Value object"},
		{"bad condition", res + "    Condition: Nope\n", "Unresolved condition dependencies [Nope]"},
		{"bad attribute", res + "    Foo: 1\n", "Invalid template resource property 'Foo'"},
		{"bad tag", "Resources:\n  A:\n    Type: X\n    Properties: {P: !Nope x}\n", "unknown tag !Nope"},
		{"deletion policy", res + "    DeletionPolicy: Keep\n", "DeletionPolicy must be one of"},
		{"json", `{"Resources": {"A": {"Type": "X"}}`, "Template format error: JSON not well-formed."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestEngineParameterErrors(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(`Parameters:
  A: {Type: String}
  B: {Type: String}
  C: {Type: String, AllowedValues: [x, y], Default: x}
  N: {Type: Number, MaxValue: 10, Default: 1}
  P: {Type: String, AllowedPattern: "[a-z]+", ConstraintDescription: lowercase only, Default: abc}
Resources:
  R: {Type: X}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		given map[string]string
		want  string
	}{
		{map[string]string{}, "Parameters: [A, B] must have values"},
		{map[string]string{"A": "1", "B": "2", "Z": "3"}, "Parameters: [Z] do not exist in the template"},
		{map[string]string{"A": "1", "B": "2", "C": "z"}, "Parameter 'C' must be one of AllowedValues"},
		{map[string]string{"A": "1", "B": "2", "N": "11"}, "Parameter 'N' must be a number not greater than 10"},
		{map[string]string{"A": "1", "B": "2", "N": "x"}, "Parameter 'N' must be a number."},
		{map[string]string{"A": "1", "B": "2", "P": "ABC"}, "Parameter P failed to satisfy constraint: lowercase only"},
	}
	for _, c := range cases {
		_, err := BindParameters(tpl, c.given)
		if err == nil || err.Error() != c.want {
			t.Errorf("BindParameters(%v) = %v, want %q", c.given, err, c.want)
		}
	}
}

func TestEngineEvaluationErrorsNameThePath(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte("Mappings: {M: {a: {b: c}}}\nResources:\n  R:\n    Type: X\n    Properties:\n      Deep: [{Sel: !Select [5, [a, b]]}]\n      Map: !FindInMap [M, a, z]\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := env(t, tpl, nil)
	_, err = e.Resolve(map[string]any{"Deep": tpl.Resources[0].Properties["Deep"]}, "Resources/R/Properties")
	if err == nil || !strings.Contains(err.Error(), "Fn::Select cannot select nonexistent value at index 5 (at Resources/R/Properties/Deep/0/Sel/Fn::Select)") {
		t.Errorf("Select error = %v", err)
	}
	_, err = e.Resolve(map[string]any{"Map": tpl.Resources[0].Properties["Map"]}, "Resources/R/Properties")
	if err == nil || !strings.Contains(err.Error(), "Unable to get mapping for M::a::z") {
		t.Errorf("FindInMap error = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/staging-header.yml", "testdata/staging-weight.yml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(engineTemplate))
	f.Add([]byte(`{"Resources": {"A": {"Type": "X", "Properties": {"P": {"Fn::Sub": "${A}"}}}}}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		tpl, err := Parse(body)
		if err != nil {
			return
		}
		// A parsed template evaluates without panicking, whatever it holds.
		e := &Env{Template: tpl, Params: map[string]any{},
			Ref:    func(id string) (string, error) { return id, nil },
			GetAtt: func(id, a string) (any, error) { return id + a, nil }}
		for _, p := range tpl.Parameters {
			e.Params[p.Key] = "v"
		}
		if e.BindConditions() != nil {
			return
		}
		for _, r := range tpl.Resources {
			_, _ = e.Resolve(r.Properties, "p")
		}
		for _, o := range tpl.Outputs {
			_, _ = e.Resolve(o.Value, "o")
		}
	})
}
