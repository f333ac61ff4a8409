package cloudfront_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// botocoreErrors prints, for every error shape of CloudFront's botocore
// model, its HTTP status and documentation (CloudFront's default message).
const botocoreErrors = `
import botocore, gzip, json, os
p = os.path.join(os.path.dirname(botocore.__file__), 'data/cloudfront/2020-05-31/service-2.json.gz')
m = json.load(gzip.open(p))
print(json.dumps({n: [s.get('error', {}).get('httpStatusCode', 0), s.get('documentation', '')]
                  for n, s in m['shapes'].items() if s.get('exception')}))
`

var htmlTag = regexp.MustCompile(`<[^>]+>`)

// TestErrorTableMatchesCloudFront: every row of the table whose code
// CloudFront's model knows has CloudFront's HTTP status, and every fixed
// row has CloudFront's message word for word.
func TestErrorTableMatchesCloudFront(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("python3", "-c", botocoreErrors).Output()
	if err != nil {
		t.Fatalf("reading the botocore model (python3 with botocore is needed): %v", err)
	}
	var model map[string][2]any
	if err := json.Unmarshal(out, &model); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	known := 0
	for _, e := range cf.Contract() {
		shape, ok := model[e.Code]
		if !ok {
			if e.Fixed() {
				t.Errorf("%s is fixed but CloudFront's model does not have it", e.Code)
			}
			continue
		}
		known++
		if status := int(shape[0].(float64)); status != e.Status {
			t.Errorf("%s: status %d, CloudFront's is %d", e.Code, e.Status, status)
		}
		doc := strings.TrimSpace(htmlTag.ReplaceAllString(shape[1].(string), ""))
		if e.Fixed() && e.Message != doc {
			t.Errorf("%s: fixed message %q, CloudFront's is %q", e.Code, e.Message, doc)
		}
	}
	if known < 40 {
		t.Errorf("only %d rows matched a CloudFront error shape", known)
	}
}

// TestErrorTableIsComplete: the table is the one place errors are
// declared — every package-level *Error in errors.go is in Contract(),
// once, and no code appears twice.
func TestErrorTableIsComplete(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			for _, name := range spec.(*ast.ValueSpec).Names {
				if strings.HasPrefix(name.Name, "Err") {
					declared++
				}
			}
		}
	}
	rows := cf.Contract()
	if declared != len(rows) {
		t.Errorf("errors.go declares %d Err variables, Contract() lists %d", declared, len(rows))
	}
	seen := map[string]bool{}
	for _, e := range rows {
		if seen[e.Code] {
			t.Errorf("code %s appears twice", e.Code)
		}
		seen[e.Code] = true
		if e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Errorf("%s: status %d, message %q", e.Code, e.Status, e.Message)
		}
	}
}

// TestFixedMessages: a fixed row keeps CloudFront's message whatever
// detail the code that returns it adds; a variable row takes the detail.
func TestFixedMessages(t *testing.T) {
	t.Parallel()
	e := cf.ErrNoSuchDistribution.WithMessage("The specified distribution does not exist: %s.", "E123")
	if e.Message != "The specified distribution does not exist." || !strings.Contains(e.Error(), "E123") {
		t.Errorf("fixed row: message %q, error %q", e.Message, e.Error())
	}
	v := cf.ErrInvalidArgument.WithMessage("x %d", 1)
	if v.Message != "x 1" {
		t.Errorf("variable row: message %q", v.Message)
	}
	d := cf.DistributionAlreadyExists("EDFDVBD632BHDS5")
	if d.Code != "DistributionAlreadyExists" || d.Status != 409 ||
		d.Message != "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: EDFDVBD632BHDS5" {
		t.Errorf("DistributionAlreadyExists: %+v", d)
	}
}
