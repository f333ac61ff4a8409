package queryapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/cfn/resource"
	"github.com/stagefront/stagefront/internal/cfn/stack"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

type staticCreds struct{}

func (staticCreds) Lookup(id string) (string, string, bool) {
	if id == "AKIDQUERYTEST" {
		return "query-secret", "tester", true
	}
	return "", "", false
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := control.New(st, control.Options{})
	m := stack.New(st, &resource.Env{Svc: svc}, stack.Options{})
	srv := httptest.NewServer(New(m, auth.NewVerifier(staticCreds{}, time.Now, 0), nil))
	t.Cleanup(srv.Close)
	return srv
}

// post sends a form signed for service in region eu-west-1.
func post(t *testing.T, srv *httptest.Server, service string, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDQUERYTEST", SecretAccessKey: "query-secret"},
		req, hex.EncodeToString(sum[:]), service, "eu-west-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Compare text, not its XML escaping.
	return resp.StatusCode, html.UnescapeString(string(b))
}

const template = `Resources:
  OAC:
    Type: AWS::CloudFront::OriginAccessControl
    Properties:
      OriginAccessControlConfig: {Name: !Sub "${AWS::Region}-oac", OriginAccessControlOriginType: s3, SigningBehavior: always, SigningProtocol: sigv4}
Outputs:
  Id: {Value: !Ref OAC}
`

func TestQueryProtocol(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	form := func(kv ...string) url.Values {
		v := url.Values{"Version": {"2010-05-15"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name, service string
		form          url.Values
		status        int
		want          []string
	}{
		{"create with the bare Tags= and Parameters= the CLI sends", "cloudformation",
			form("Action", "CreateStack", "StackName", "s1", "TemplateBody", template, "Tags", "", "Parameters", ""), 200,
			[]string{`<CreateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><CreateStackResult><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/s1/`}},
		{"the region comes from the credential scope", "cloudformation", form("Action", "DescribeStacks", "StackName", "s1"), 200,
			[]string{"<StackStatus>CREATE_COMPLETE</StackStatus>", "<OutputKey>Id</OutputKey>", "<StackDriftStatus>NOT_CHECKED</StackDriftStatus>"}},
		{"unknown stack", "cloudformation", form("Action", "DescribeStacks", "StackName", "nope"), 400,
			[]string{"<Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id nope does not exist</Message>"}},
		{"GetTemplate is byte-exact", "cloudformation", form("Action", "GetTemplate", "StackName", "s1"), 200,
			[]string{"<TemplateBody>Resources:\n  OAC:\n    Type: AWS::CloudFront::OriginAccessControl\n"}},
		{"no-op update", "cloudformation", form("Action", "UpdateStack", "StackName", "s1", "UsePreviousTemplate", "true"), 400,
			[]string{"<Message>No updates are to be performed.</Message>"}},
		{"unknown action", "cloudformation", form("Action", "Frobnicate"), 400, []string{"<Code>InvalidAction</Code>"}},
		{"a required member missing", "cloudformation", form("Action", "DescribeStackResource", "StackName", "s1"), 400,
			[]string{"<Code>ValidationError</Code><Message>1 validation error detected: Value null at 'logicalResourceId' failed to satisfy constraint: Member must not be null</Message>"}},
		{"required members in order", "cloudformation", form("Action", "CreateChangeSet"), 400,
			[]string{"<Message>1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null</Message>"}},
		{"drift status needs its id", "cloudformation", form("Action", "DescribeStackDriftDetectionStatus"), 400,
			[]string{"Value null at 'stackDriftDetectionId'"}},
		{"bad stack name", "cloudformation", form("Action", "CreateStack", "StackName", "1bad", "TemplateBody", template), 400,
			[]string{"Value '1bad' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"}},
		{"signed for cloudfront", "cloudfront", form("Action", "ListStacks"), 403,
			[]string{"<Code>SignatureDoesNotMatch</Code><Message>Credential should be scoped to correct service: 'cloudformation'.</Message>"}},
		{"delete answers an empty response", "cloudformation", form("Action", "DeleteStack", "StackName", "s1"), 200,
			[]string{`<DeleteStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ResponseMetadata><RequestId>`}},
		{"deleted stacks stay listed", "cloudformation", form("Action", "ListStacks", "StackStatusFilter.member.1", "DELETE_COMPLETE"), 200,
			[]string{"<StackName>s1</StackName>", "<StackStatus>DELETE_COMPLETE</StackStatus>", "<DeletionTime>"}},
	}
	for _, c := range cases { // in order: each step builds on the previous
		status, body := post(t, srv, c.service, c.form)
		if status != c.status {
			t.Errorf("%s: status %d, want %d\n%s", c.name, status, c.status, body)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body lacks %q\n%s", c.name, w, body)
			}
		}
	}
}

func FuzzQueryMembers(f *testing.F) {
	f.Add("Parameters.member.1.ParameterKey=A&Parameters.member.1.ParameterValue=1&Parameters.member.2.UsePreviousValue=true&Tags=&Capabilities.member.1=CAPABILITY_IAM")
	f.Add("Tags.member.10.Key=k&Tags.member.2.Value=v&Parameters.member.x.y=z")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		c := &call{form: form}
		in, err := c.input()
		if err != nil {
			return
		}
		for _, p := range in.Parameters {
			if p.UsePrevious && p.Value != "" && form.Get("Parameters.member.1.ParameterValue") == "" && len(in.Parameters) == 1 {
				t.Fatalf("UsePreviousValue entry got a value: %+v", p)
			}
		}
		var buf bytes.Buffer
		buf.WriteString(strings.Join(c.list("Capabilities"), ","))
	})
}
