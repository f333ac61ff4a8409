package cfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Values in a parsed template are a small tree:
//
//	map[string]any   a mapping (intrinsics are one-key mappings, long form)
//	[]any            a sequence
//	string           any scalar, as written (numbers and booleans included)
//	nil              null / ~ / an empty value
//
// Short-form tags become their long forms while parsing (`!Ref X` is
// {"Ref": "X"}, `!GetAtt A.B` is {"Fn::GetAtt": ["A", "B"]}), so the
// evaluator sees one language.

// MaxTemplateBytes is CloudFormation's limit on a TemplateBody.
const MaxTemplateBytes = 51200

// FormatError is a "Template format error" (or another validation message
// that CloudFormation answers as a 400 ValidationError).
type FormatError struct{ Message string }

func (e *FormatError) Error() string { return e.Message }

func formatErr(format string, args ...any) error {
	return &FormatError{Message: "Template format error: " + fmt.Sprintf(format, args...)}
}

// validation returns a ValidationError whose message is not prefixed.
func validation(format string, args ...any) error {
	return &FormatError{Message: fmt.Sprintf(format, args...)}
}

// document is the parsed top level: the sections and, for the sections
// whose order matters (Parameters, Resources, Outputs), their key order.
type document struct {
	root  map[string]any
	order map[string][]string
}

// parseDocument parses YAML or JSON (detected by the first non-space
// character, as CloudFormation does).
func parseDocument(body []byte) (*document, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, formatErr("At least one Resources member must be defined.")
	}
	if trimmed[0] == '{' {
		return parseJSON(trimmed)
	}
	return parseYAML(body)
}

func parseYAML(body []byte) (*document, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, formatErr("At least one Resources member must be defined.")
		}
		return nil, yamlErr(err)
	}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		return nil, formatErr("template format error: JSON not well-formed or YAML not well-formed (the template must be a mapping)")
	}
	v, err := convertNode(top, 0)
	if err != nil {
		return nil, err
	}
	doc := &document{root: v.(map[string]any), order: map[string][]string{}}
	for i := 0; i+1 < len(top.Content); i += 2 {
		section, value := top.Content[i].Value, top.Content[i+1]
		for value.Kind == yaml.AliasNode && value.Alias != nil {
			value = value.Alias
		}
		if value.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(value.Content); j += 2 {
				doc.order[section] = append(doc.order[section], value.Content[j].Value)
			}
		}
	}
	return doc, nil
}

func yamlErr(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	return formatErr("YAML not well-formed. (%s)", msg)
}

// maxDepth bounds nesting so a hostile template cannot exhaust the stack.
const maxDepth = 64

// convertNode turns a yaml.Node into the value tree, expanding short tags.
func convertNode(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, formatErr("YAML not well-formed. (line %d, column %d: nested too deeply)", n.Line, n.Column)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, formatErr("YAML not well-formed. (line %d, column %d: unknown alias)", n.Line, n.Column)
		}
		return convertNode(n.Alias, depth+1)
	}
	var v any
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" && (n.Value == "" || n.Value == "~" || strings.EqualFold(n.Value, "null")) && n.Style == 0 {
			v = nil
		} else {
			v = n.Value
		}
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := convertNode(c, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, cv)
		}
		v = list
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return nil, formatErr("YAML not well-formed. (line %d, column %d: a mapping key must be a scalar)", k.Line, k.Column)
			}
			if k.Tag == "!!merge" {
				return nil, formatErr("YAML not well-formed. (line %d, column %d: merge keys are not supported)", k.Line, k.Column)
			}
			if _, dup := m[k.Value]; dup {
				return nil, formatErr("YAML not well-formed. (line %d, column %d: duplicate key %q)", k.Line, k.Column, k.Value)
			}
			cv, err := convertNode(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		v = m
	default:
		return nil, formatErr("YAML not well-formed. (line %d, column %d)", n.Line, n.Column)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return expandTag(n, v)
	}
	return v, nil
}

// shortTags maps each CloudFormation short-form tag to its long form.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!If": "Fn::If", "!Equals": "Fn::Equals", "!Not": "Fn::Not",
	"!And": "Fn::And", "!Or": "Fn::Or", "!FindInMap": "Fn::FindInMap", "!ImportValue": "Fn::ImportValue",
	"!GetAZs": "Fn::GetAZs", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!Transform": "Fn::Transform",
	"!ToJsonString": "Fn::ToJsonString", "!Length": "Fn::Length",
}

func expandTag(n *yaml.Node, v any) (any, error) {
	long, ok := shortTags[n.Tag]
	if !ok {
		return nil, formatErr("YAML not well-formed. (line %d, column %d: unknown tag %s)", n.Line, n.Column, n.Tag)
	}
	if long == "Fn::GetAtt" {
		if s, isStr := v.(string); isStr {
			// Split at the first dot: attribute names may contain dots.
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, formatErr("Template error: every Fn::GetAtt object requires two non-empty parameters (line %d)", n.Line)
			}
			v = []any{res, attr}
		}
	}
	if v == nil {
		v = ""
	}
	return map[string]any{long: v}, nil
}

func parseJSON(body []byte) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, formatErr("JSON not well-formed. (text after the template)")
	}
	root, ok := v.(jsonObject)
	if !ok {
		return nil, formatErr("JSON not well-formed. (the template must be an object)")
	}
	doc := &document{root: root.m, order: map[string][]string{}}
	for _, k := range root.keys {
		if keys, ok := root.sub[k]; ok {
			doc.order[k] = keys
		}
	}
	doc.root = stripObjects(root).(map[string]any)
	return doc, nil
}

// jsonObject keeps key order while decoding (top-level sections only use it).
type jsonObject struct {
	m    map[string]any
	keys []string
	sub  map[string][]string
}

func jsonValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, formatErr("JSON not well-formed. (nested too deeply)")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, formatErr("JSON not well-formed. (%v)", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := jsonObject{m: map[string]any{}, sub: map[string][]string{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, formatErr("JSON not well-formed. (%v)", err)
				}
				k, _ := kt.(string)
				if _, dup := obj.m[k]; dup {
					return nil, formatErr("JSON not well-formed. (duplicate key %q)", k)
				}
				val, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if sub, ok := val.(jsonObject); ok {
					obj.sub[k] = sub.keys
				}
				obj.m[k] = val
				obj.keys = append(obj.keys, k)
			}
			if _, err := dec.Token(); err != nil {
				return nil, formatErr("JSON not well-formed. (%v)", err)
			}
			return obj, nil
		case '[':
			list := []any{}
			for dec.More() {
				val, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, formatErr("JSON not well-formed. (%v)", err)
			}
			return list, nil
		}
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case nil:
		return nil, nil
	}
	return nil, formatErr("JSON not well-formed. (unexpected %v)", tok)
}

// stripObjects replaces jsonObject wrappers with plain maps.
func stripObjects(v any) any {
	switch t := v.(type) {
	case jsonObject:
		m := make(map[string]any, len(t.m))
		for k, val := range t.m {
			m[k] = stripObjects(val)
		}
		return m
	case []any:
		for i := range t {
			t[i] = stripObjects(t[i])
		}
		return t
	}
	return v
}
