package cloudfront_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// TestErrorTableMatchesCloudFront: every row of the table whose code
// CloudFront's model knows (ModelErrors, generated from botocore) has
// CloudFront's HTTP status, and every fixed row has CloudFront's message
// word for word.
func TestErrorTableMatchesCloudFront(t *testing.T) {
	t.Parallel()
	known := 0
	for _, e := range cf.Contract() {
		shape, ok := cf.ModelErrors[e.Code]
		if !ok {
			if e.Fixed() {
				t.Errorf("%s is fixed but CloudFront's model does not have it", e.Code)
			}
			continue
		}
		known++
		if shape.Status != e.Status {
			t.Errorf("%s: status %d, CloudFront's is %d", e.Code, e.Status, shape.Status)
		}
		// The generator leaves a space where it removed a <code> tag.
		if want := strings.ReplaceAll(shape.Message, " .", "."); e.Fixed() && e.Message != want {
			t.Errorf("%s: fixed message %q, CloudFront's is %q", e.Code, e.Message, want)
		}
	}
	if known < 60 {
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
