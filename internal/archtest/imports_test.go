// Package archtest checks the package table of docs/architecture.md:
// which stagefront packages may not import which.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/stagefront/stagefront/"

// forbidden is docs/architecture.md's "must not import" column. A rule on a
// package also covers its sub-packages unless one has a rule of its own (the
// most specific rule applies); a forbidden target covers its sub-packages.
var forbidden = map[string][]string{
	"internal/cloudfront": {"internal/"}, // pure: imports nothing of stagefront
	"internal/netlimit":   {"internal/"}, // a listener wrapper: imports nothing of stagefront
	"internal/model":      {"internal/api", "internal/control", "internal/edge", "internal/store", "internal/routing", "internal/release"},
	"internal/store":      {"internal/api", "internal/edge", "internal/control", "internal/routing", "internal/release"},
	"internal/control":    {"internal/api", "internal/edge", "internal/routing", "internal/release"},
	"internal/api":        {"internal/edge", "internal/routing"},
	"internal/routing":    {"internal/api", "internal/store", "internal/control"},
	// The viewer server receives compiled tables and knows nothing of the
	// store; its config follower (internal/edge/follow) reads the store.
	"internal/edge":        {"internal/api", "internal/control", "internal/store", "internal/fleet"},
	"internal/edge/follow": {"internal/api", "internal/control", "internal/fleet"},
	"internal/fleet":       {"internal/api", "internal/control", "internal/edge", "internal/routing", "internal/release"},
	"internal/release":     {"internal/edge", "internal/control", "internal/store"},
	"internal/console":     {"internal/edge", "internal/api", "internal/store"},
	// CloudFormation: resource handlers call the control service only;
	// stacks reach CloudFront only through the handlers; the Query API
	// only through stacks.
	"internal/cfn/resource": {"internal/api", "internal/edge", "internal/routing", "internal/release", "internal/store", "internal/cfn/stack", "internal/cfn/queryapi"},
	"internal/cfn/stack":    {"internal/api", "internal/edge", "internal/routing", "internal/release", "internal/control", "internal/cfn/queryapi"},
	"internal/cfn/queryapi": {"internal/edge", "internal/routing", "internal/release", "internal/control", "internal/store", "internal/cfn/resource"},
}

// ruleFor returns the most specific rule covering pkg, or "".
func ruleFor(pkg string) string {
	best := ""
	for rule := range forbidden {
		if allowed(rule, pkg) && len(rule) > len(best) {
			best = rule
		}
	}
	return best
}

// wiring is the package that assembles a process; only cmd imports it.
const wiring = "internal/server"

// allowedInside lists exceptions: a package may import its own sub-packages.
func allowed(pkg, target string) bool {
	return target == pkg || strings.HasPrefix(target, pkg+"/")
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			target := strings.TrimPrefix(strings.Trim(imp.Path.Value, `"`), module)
			if allowed(wiring, target) && !allowed(wiring, rel) {
				t.Errorf("%s imports %s: only cmd may import the wiring package", path, target)
			}
		}
		if rule := ruleFor(rel); rule != "" {
			targets := forbidden[rule]
			for _, imp := range f.Imports {
				target := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(target, module) {
					continue
				}
				target = strings.TrimPrefix(target, module)
				if allowed(rule, target) && rule != "internal/cloudfront" {
					continue
				}
				if rule == "internal/cloudfront" && allowed(rule, target) {
					continue
				}
				for _, bad := range targets {
					if target == strings.TrimSuffix(bad, "/") || strings.HasPrefix(target, strings.TrimSuffix(bad, "/")+"/") {
						t.Errorf("%s imports %s: docs/architecture.md says %s must not import %s", path, target, rule, bad)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go files checked: is the test run from internal/archtest?")
	}
}

// TestEveryPackageHasDoc checks that every package under
// internal/ says in a doc comment what it owns.
func TestEveryPackageHasDoc(t *testing.T) {
	root, _ := filepath.Abs("../..")
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		entries, _ := os.ReadDir(path)
		hasGo, hasDoc := false, false
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				hasGo = true
				f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(path, n), nil, parser.PackageClauseOnly|parser.ParseComments)
				if err == nil && f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package ") {
					hasDoc = true
				}
			}
		}
		if hasGo && !hasDoc && !strings.Contains(path, "/gen") {
			t.Errorf("%s has no package doc comment (doc.go)", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
