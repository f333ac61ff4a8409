package release

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Parse reads a release spec from YAML. file names the source in messages;
// readFile loads `staging.config: FILE` (relative to file's directory); nil
// refuses such a reference. Every problem is reported with its line and
// field, as *SpecError values joined into one error.
func Parse(data []byte, file string, readFile func(string) ([]byte, error)) (*Spec, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlSyntaxError(err)
		return nil, &SpecError{File: file, Line: line, Msg: msg}
	}
	if len(root.Content) == 0 {
		return nil, &SpecError{File: file, Msg: "the spec is empty"}
	}
	y := &yamlParser{problems: problems{file: file}, lines: map[string]int{}, readFile: readFile, dir: filepath.Dir(file)}
	spec := &Spec{}
	y.top(root.Content[0], spec)
	if len(y.errs) > 0 {
		return nil, y.err()
	}
	spec.check(&y.problems, func(field string) int { return y.line(field) })
	if len(y.errs) > 0 {
		return nil, y.err()
	}
	spec.source = &specSource{file: file, line: y.line}
	return spec, nil
}

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). For them yaml.v3 reports the 0-based line of the construct
// being parsed, and no line at all when that is the first one; scanner
// errors carry 1-based lines already.
var yamlParserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"found undefined tag handle", "did not find expected node content",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"found duplicate %YAML directive", "found incompatible YAML document", "found duplicate %TAG directive",
}

// yamlSyntaxError turns a yaml.v3 syntax error into a 1-based line (0 when
// unknown) and its message.
func yamlSyntaxError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	if slices.Contains(yamlParserProblems, msg) {
		line++
	}
	return line, msg
}

type yamlParser struct {
	problems
	lines    map[string]int // field path → line, for the semantic checks
	readFile func(string) ([]byte, error)
	dir      string
}

// line finds the line of field, or of its closest parent.
func (y *yamlParser) line(field string) int {
	for f := field; f != ""; {
		if l, ok := y.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

// fields walks a mapping node, calling fn for each known key and reporting
// unknown or repeated ones.
func (y *yamlParser) fields(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		y.add(n.Line, path, "must be a mapping (key: value), not %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := joinField(path, k.Value)
		switch {
		case !slices.Contains(known, k.Value):
			y.add(k.Line, field, "unknown field (known: %s)", strings.Join(known, ", "))
			continue
		case seen[k.Value]:
			y.add(k.Line, field, "appears twice")
			continue
		}
		seen[k.Value] = true
		y.lines[field] = k.Line
		fn(k.Value, v)
	}
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the scalar %q", n.Value)
}

func (y *yamlParser) top(n *yaml.Node, s *Spec) {
	y.fields(n, "", []string{"name", "primary", "staging", "steps", "analysis"}, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			s.Name = y.str(v, "name")
		case "primary":
			s.Primary = y.str(v, "primary")
		case "staging":
			y.staging(v, &s.Staging)
		case "steps":
			y.steps(v, s)
		case "analysis":
			y.analysis(v, &s.Analysis)
		}
	})
}

func (y *yamlParser) staging(n *yaml.Node, c *StagingChange) {
	y.fields(n, "staging", []string{"set", "config", "template"}, func(key string, v *yaml.Node) {
		switch key {
		case "template":
			c.Template = y.template(v)
		case "set":
			if v.Kind != yaml.MappingNode {
				y.add(v.Line, "staging.set", "must be a mapping of path: value")
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], v.Content[i+1]
				field := "staging.set." + k.Value
				y.lines[field] = k.Line
				var value any
				if err := val.Decode(&value); err != nil {
					y.add(val.Line, field, "%v", err)
					continue
				}
				if _, err := checkPathType(k.Value); err != nil {
					y.add(k.Line, field, "%v", err)
					continue
				}
				c.Set = append(c.Set, Assignment{Path: k.Value, Value: jsonable(value)})
			}
		case "config":
			name := y.str(v, "staging.config")
			if name == "" {
				return
			}
			if y.readFile == nil {
				y.add(v.Line, "staging.config", "a config file can only be read by the CLI; it sends the file's content")
				return
			}
			if !filepath.IsAbs(name) {
				name = filepath.Join(y.dir, name)
			}
			data, err := y.readFile(name)
			if err != nil {
				y.add(v.Line, "staging.config", "%v", err)
				return
			}
			raw, err := configJSON(data)
			if err != nil {
				y.add(v.Line, "staging.config", "%s: %v", name, err)
				return
			}
			c.ConfigFile, c.Config = name, raw
		}
	})
}

// template reads `staging.template: {path, stack, region, parameters}`; the
// template's content is read like a config file, relative to the spec.
func (y *yamlParser) template(n *yaml.Node) *TemplateStaging {
	t := &TemplateStaging{}
	y.fields(n, "staging.template", []string{"path", "stack", "region", "parameters"}, func(key string, v *yaml.Node) {
		switch key {
		case "region":
			t.Region = y.str(v, "staging.template.region")
		case "path":
			t.Path = y.str(v, "staging.template.path")
		case "stack":
			t.Stack = y.str(v, "staging.template.stack")
		case "parameters":
			if v.Kind != yaml.MappingNode {
				y.add(v.Line, "staging.template.parameters", "must be a mapping of name: value")
				return
			}
			t.Parameters = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], v.Content[i+1]
				field := "staging.template.parameters." + k.Value
				y.lines[field] = k.Line
				if val.Kind != yaml.ScalarNode {
					y.add(val.Line, field, "must be a string, not %s", kindName(val))
					continue
				}
				t.Parameters[k.Value] = val.Value
			}
		}
	})
	if t.Path == "" {
		return t
	}
	if y.readFile == nil {
		y.add(n.Line, "staging.template", "a template file can only be read by the CLI or watch-git; send the spec as JSON with the template's body")
		return t
	}
	name := t.Path
	if !filepath.IsAbs(name) {
		name = filepath.Join(y.dir, name)
	}
	data, err := y.readFile(name)
	if err != nil {
		y.add(n.Line, "staging.template.path", "%v", err)
		return t
	}
	t.Body = string(data)
	return t
}

// configJSON accepts a DistributionConfig file in JSON or YAML.
func configJSON(data []byte) (json.RawMessage, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(jsonable(doc))
	if err != nil {
		return nil, err
	}
	if _, err := decodeConfig(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// jsonable turns the map[string]any / []any tree of yaml.v3 into one that
// encoding/json can encode (it already is, except for non-string keys).
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonable(e)
		}
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = jsonable(e)
		}
	}
	return v
}

func (y *yamlParser) steps(n *yaml.Node, s *Spec) {
	if n.Kind != yaml.SequenceNode {
		y.add(n.Line, "steps", "must be a list")
		return
	}
	var lastStickiness *Stickiness // weight steps inherit stickiness unless they say `off`
	for i, item := range n.Content {
		field := fmt.Sprintf("steps[%d]", i)
		y.lines[field] = item.Line
		if item.Kind == yaml.ScalarNode { // "- approve" and "- promote" shorthands
			item = &yaml.Node{Kind: yaml.MappingNode, Line: item.Line, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Value: item.Value, Line: item.Line}, {Kind: yaml.ScalarNode, Tag: "!!null", Line: item.Line},
			}}
		}
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			y.add(item.Line, field, "a step is a mapping with one key: header, approve, weight or promote")
			continue
		}
		var st Step
		y.fields(item, field, []string{"header", "approve", "weight", "promote"}, func(key string, v *yaml.Node) {
			f := field + "." + key
			st.Kind = StepKind(key)
			switch key {
			case "header":
				h := &HeaderStep{}
				y.fields(v, f, []string{"name", "value", "hold"}, func(k string, v *yaml.Node) {
					switch k {
					case "name":
						h.Name = y.str(v, f+".name")
					case "value":
						h.Value = y.str(v, f+".value")
					case "hold":
						h.Hold = y.duration(v, f+".hold")
					}
				})
				st.Header = h
			case "approve":
				a := &ApproveStep{}
				if !isNull(v) {
					y.fields(v, f, []string{"timeout"}, func(_ string, v *yaml.Node) { a.Timeout = y.duration(v, f+".timeout") })
				}
				st.Approve = a
			case "weight":
				w := &WeightStep{Stickiness: lastStickiness}
				y.fields(v, f, []string{"percent", "stickiness", "hold"}, func(k string, v *yaml.Node) {
					switch k {
					case "percent":
						w.Percent = y.percent(v, f+".percent")
						// CloudFront's API takes the weight as a fraction (0.15
						// is 15 %); a bare number under 1 is most likely one.
						if raw := strings.TrimSpace(v.Value); w.Percent > 0 && w.Percent < 1 && !strings.HasSuffix(raw, "%") {
							y.add(v.Line, f+".percent", "%s looks like a fraction: percent is a percentage, so %s means %s %% of viewers; write %g for %g %%, or %s%% if you do mean %s %%",
								raw, raw, raw, w.Percent*100, w.Percent*100, raw, raw)
						}
					case "hold":
						w.Hold = y.duration(v, f+".hold")
					case "stickiness":
						w.Stickiness = nil
						if v.Kind == yaml.ScalarNode && (v.Value == "off" || v.Value == "false" || isNull(v)) {
							return
						}
						sk := &Stickiness{}
						y.fields(v, f+".stickiness", []string{"idle", "max"}, func(k string, v *yaml.Node) {
							if k == "idle" {
								sk.Idle = y.duration(v, f+".stickiness.idle")
							} else {
								sk.Max = y.duration(v, f+".stickiness.max")
							}
						})
						w.Stickiness = sk
					}
				})
				lastStickiness = w.Stickiness
				st.Weight = w
			case "promote":
				p := &PromoteStep{}
				if !isNull(v) {
					y.fields(v, f, []string{"invalidate"}, func(_ string, v *yaml.Node) {
						if v.Kind != yaml.SequenceNode {
							y.add(v.Line, f+".invalidate", "must be a list of paths")
							return
						}
						for j, e := range v.Content {
							y.lines[fmt.Sprintf("%s.invalidate[%d]", f, j)] = e.Line
							p.Invalidate = append(p.Invalidate, y.str(e, fmt.Sprintf("%s.invalidate[%d]", f, j)))
						}
					})
				}
				st.Promote = p
			}
		})
		if st.Kind != "" {
			s.Steps = append(s.Steps, st)
		}
	}
}

func (y *yamlParser) analysis(n *yaml.Node, a *Analysis) {
	y.fields(n, "analysis", []string{"interval", "minRequests", "maxErrorRate", "maxP95LatencyRatio"}, func(key string, v *yaml.Node) {
		f := "analysis." + key
		switch key {
		case "interval":
			a.Interval = y.duration(v, f)
		case "minRequests":
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil || v.Kind != yaml.ScalarNode {
				y.add(v.Line, f, "%q is not a whole number", v.Value)
			}
			a.MinRequests = n
		case "maxErrorRate":
			a.MaxErrorRate = y.percent(v, f) / 100
		case "maxP95LatencyRatio":
			a.MaxP95LatencyRatio = y.number(v, f)
		}
	})
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "" || n.Value == "~")
}

func (y *yamlParser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		y.add(n.Line, field, "must be a string, not %s", kindName(n))
		return ""
	}
	return n.Value
}

func (y *yamlParser) duration(n *yaml.Node, field string) time.Duration {
	s := y.str(n, field)
	if s == "" {
		return 0
	}
	if s == "0" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		y.add(n.Line, field, "%q is not a duration (like 30s, 10m, 24h)", s)
	}
	return d
}

func (y *yamlParser) number(n *yaml.Node, field string) float64 {
	s := y.str(n, field)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && s != "" {
		y.add(n.Line, field, "%q is not a number", s)
	}
	return f
}

// percent reads `5`, `5%` or `0.5%` as a percentage.
func (y *yamlParser) percent(n *yaml.Node, field string) float64 {
	s := strings.TrimSpace(y.str(n, field))
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil && s != "" {
		y.add(n.Line, field, "%q is not a percentage (like 5 or 1.5%%)", s)
	}
	return f
}
