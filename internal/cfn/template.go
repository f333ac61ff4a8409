package cfn

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Template is a parsed, structurally checked template.
type Template struct {
	// Body is the text as submitted (GetTemplate answers it byte for byte).
	Body        string
	Description string
	Metadata    any
	Parameters  []Parameter
	Mappings    map[string]any
	Conditions  map[string]any
	Resources   []Resource
	Outputs     []Output
}

// Parameter is one declared parameter.
type Parameter struct {
	Key                   string
	Type                  string
	Default               *string
	AllowedValues         []string
	AllowedPattern        string
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	NoEcho                bool
	Description           string
	ConstraintDescription string
}

// Resource is one entry of the Resources section, unevaluated.
type Resource struct {
	LogicalID           string
	Type                string
	Properties          map[string]any
	DependsOn           []string
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
	Metadata            any
}

// Output is one entry of the Outputs section, unevaluated.
type Output struct {
	Key         string
	Value       any
	Description any
	ExportName  any
	Condition   string
}

// Resource returns the resource with the logical id, or nil.
func (t *Template) Resource(logicalID string) *Resource {
	for i := range t.Resources {
		if t.Resources[i].LogicalID == logicalID {
			return &t.Resources[i]
		}
	}
	return nil
}

// Parameter returns the declared parameter, or nil.
func (t *Template) Parameter(key string) *Parameter {
	for i := range t.Parameters {
		if t.Parameters[i].Key == key {
			return &t.Parameters[i]
		}
	}
	return nil
}

// ResourceTypes lists the distinct resource types in template order.
func (t *Template) ResourceTypes() []string {
	var out []string
	for _, r := range t.Resources {
		if !slices.Contains(out, r.Type) {
			out = append(out, r.Type)
		}
	}
	return out
}

var (
	logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	topSections      = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings", "Conditions", "Resources", "Outputs", "Transform", "Rules", "Hooks"}
	resourceAttrs    = []string{"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy"}
)

// Parse parses and structurally checks a template. It does not know
// resource types; Check does that with a registry.
func Parse(body []byte) (*Template, error) {
	if len(body) > MaxTemplateBytes {
		return nil, validation("1 validation error detected: Value '%s' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to %d", "…", MaxTemplateBytes)
	}
	doc, err := parseDocument(body)
	if err != nil {
		return nil, err
	}
	root := doc.root
	var unknown []string
	for k := range root {
		if !slices.Contains(topSections, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, formatErr("Invalid template property or properties [%s]", strings.Join(unknown, ", "))
	}
	t := &Template{Body: string(body), Metadata: root["Metadata"]}
	if v, ok := root["AWSTemplateFormatVersion"]; ok {
		s, isStr := v.(string)
		if !isStr || s != "2010-09-09" {
			return nil, formatErr("'%v' is not a valid template version", v)
		}
	}
	if _, ok := root["Transform"]; ok {
		return nil, formatErr("Transform %s is not supported", describe(root["Transform"]))
	}
	if _, ok := root["Rules"]; ok {
		return nil, formatErr("Rules are not supported")
	}
	if _, ok := root["Hooks"]; ok {
		return nil, formatErr("Hooks are not supported")
	}
	if v, ok := root["Description"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, formatErr("Every Description member must be a string")
		}
		if len(s) > 1024 {
			return nil, formatErr("Description is longer than 1024 characters")
		}
		t.Description = s
	}
	if t.Parameters, err = parseParameters(root["Parameters"], doc.order["Parameters"]); err != nil {
		return nil, err
	}
	if t.Mappings, err = sectionMap(root, "Mappings"); err != nil {
		return nil, err
	}
	if t.Conditions, err = sectionMap(root, "Conditions"); err != nil {
		return nil, err
	}
	if t.Resources, err = parseResources(root["Resources"], doc.order["Resources"]); err != nil {
		return nil, err
	}
	if t.Outputs, err = parseOutputs(root["Outputs"], doc.order["Outputs"]); err != nil {
		return nil, err
	}
	if err := t.checkReferences(); err != nil {
		return nil, err
	}
	return t, nil
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func sectionMap(root map[string]any, name string) (map[string]any, error) {
	v, ok := root[name]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("%s must be an object", name)
	}
	return m, nil
}

// keysInOrder returns the keys of m in document order when known, else sorted.
func keysInOrder(m map[string]any, order []string) []string {
	if len(order) == len(m) {
		return order
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var parameterTypes = []string{"String", "Number", "List<Number>", "CommaDelimitedList"}

func parseParameters(v any, order []string) ([]Parameter, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("Parameters must be an object")
	}
	if len(m) > 200 {
		return nil, formatErr("Parameters: the template declares %d parameters, more than the maximum of 200", len(m))
	}
	var out []Parameter
	for _, key := range keysInOrder(m, order) {
		if !logicalIDPattern.MatchString(key) {
			return nil, formatErr("Parameter name %s is non alphanumeric.", key)
		}
		def, ok := m[key].(map[string]any)
		if !ok {
			return nil, formatErr("Every Parameters object must contain a Type member. (at Parameters/%s)", key)
		}
		p := Parameter{Key: key}
		typ, _ := def["Type"].(string)
		if typ == "" {
			return nil, formatErr("Every Parameters object must contain a Type member. (at Parameters/%s)", key)
		}
		switch {
		case slices.Contains(parameterTypes, typ), strings.HasPrefix(typ, "AWS::EC2::"), strings.HasPrefix(typ, "List<AWS::EC2::"):
		default:
			return nil, formatErr("Unrecognized parameter type: %s (at Parameters/%s)", typ, key)
		}
		p.Type = typ
		if d, ok := def["Default"]; ok {
			s, err := scalarOrList(d)
			if err != nil {
				return nil, formatErr("Default of parameter %s must be a string", key)
			}
			p.Default = &s
		}
		if av, ok := def["AllowedValues"].([]any); ok {
			for _, a := range av {
				s, _ := a.(string)
				p.AllowedValues = append(p.AllowedValues, s)
			}
		}
		p.AllowedPattern, _ = def["AllowedPattern"].(string)
		if p.AllowedPattern != "" {
			if _, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$"); err != nil {
				return nil, formatErr("AllowedPattern of parameter %s is not a valid regular expression", key)
			}
		}
		var err error
		if p.MinLength, err = intAttr(def, "MinLength", key); err != nil {
			return nil, err
		}
		if p.MaxLength, err = intAttr(def, "MaxLength", key); err != nil {
			return nil, err
		}
		if p.MinValue, err = floatAttr(def, "MinValue", key); err != nil {
			return nil, err
		}
		if p.MaxValue, err = floatAttr(def, "MaxValue", key); err != nil {
			return nil, err
		}
		p.NoEcho = fmt.Sprint(def["NoEcho"]) == "true"
		p.Description, _ = def["Description"].(string)
		p.ConstraintDescription, _ = def["ConstraintDescription"].(string)
		out = append(out, p)
	}
	return out, nil
}

func scalarOrList(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("not a string")
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("not a string")
}

func intAttr(def map[string]any, name, key string) (*int, error) {
	v, ok := def[name]
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return nil, formatErr("%s of parameter %s must be an integer", name, key)
	}
	return &n, nil
}

func floatAttr(def map[string]any, name, key string) (*float64, error) {
	v, ok := def[name]
	if !ok {
		return nil, nil
	}
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		return nil, formatErr("%s of parameter %s must be a number", name, key)
	}
	return &f, nil
}

func parseResources(v any, order []string) ([]Resource, error) {
	m, ok := v.(map[string]any)
	if v == nil || (ok && len(m) == 0) {
		return nil, formatErr("At least one Resources member must be defined.")
	}
	if !ok {
		return nil, formatErr("Resources must be an object")
	}
	if len(m) > 500 {
		return nil, formatErr("Number of resources, %d, is greater than maximum allowed, 500", len(m))
	}
	var out []Resource
	for _, id := range keysInOrder(m, order) {
		if !logicalIDPattern.MatchString(id) || len(id) > 255 {
			return nil, formatErr("Resource name %s is non alphanumeric.", id)
		}
		def, ok := m[id].(map[string]any)
		if !ok {
			return nil, formatErr("[/Resources/%s] Every Resources object must contain a Type member.", id)
		}
		for k := range def {
			if !slices.Contains(resourceAttrs, k) {
				return nil, formatErr("Invalid template resource property '%s' (at Resources/%s)", k, id)
			}
		}
		r := Resource{LogicalID: id, Metadata: def["Metadata"]}
		r.Type, _ = def["Type"].(string)
		if r.Type == "" {
			return nil, formatErr("[/Resources/%s] Every Resources object must contain a Type member.", id)
		}
		if p, ok := def["Properties"]; ok && p != nil {
			pm, isMap := p.(map[string]any)
			if !isMap {
				return nil, formatErr("[/Resources/%s/Properties] Properties must be an object", id)
			}
			r.Properties = pm
		}
		switch d := def["DependsOn"].(type) {
		case nil:
		case string:
			r.DependsOn = []string{d}
		case []any:
			for _, e := range d {
				s, ok := e.(string)
				if !ok {
					return nil, formatErr("[/Resources/%s/DependsOn] DependsOn must be a string or a list of strings", id)
				}
				r.DependsOn = append(r.DependsOn, s)
			}
		default:
			return nil, formatErr("[/Resources/%s/DependsOn] DependsOn must be a string or a list of strings", id)
		}
		if c, ok := def["Condition"]; ok {
			r.Condition, _ = c.(string)
			if r.Condition == "" {
				return nil, formatErr("[/Resources/%s/Condition] Condition must be a string", id)
			}
		}
		var err error
		if r.DeletionPolicy, err = policyAttr(def, "DeletionPolicy", id, []string{"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"}); err != nil {
			return nil, err
		}
		if r.UpdateReplacePolicy, err = policyAttr(def, "UpdateReplacePolicy", id, []string{"Delete", "Retain", "Snapshot"}); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func policyAttr(def map[string]any, name, id string, allowed []string) (string, error) {
	v, ok := def[name]
	if !ok {
		return "", nil
	}
	s, _ := v.(string)
	if !slices.Contains(allowed, s) {
		return "", formatErr("[/Resources/%s/%s] %s must be one of [%s]", id, name, name, strings.Join(allowed, ", "))
	}
	return s, nil
}

func parseOutputs(v any, order []string) ([]Output, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("Outputs must be an object")
	}
	if len(m) > 200 {
		return nil, formatErr("Number of outputs, %d, is greater than maximum allowed, 200", len(m))
	}
	var out []Output
	for _, key := range keysInOrder(m, order) {
		if !logicalIDPattern.MatchString(key) {
			return nil, formatErr("Output %s is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters.", key)
		}
		def, ok := m[key].(map[string]any)
		if !ok {
			return nil, formatErr("Every Outputs member must contain a Value object")
		}
		val, ok := def["Value"]
		if !ok || val == nil {
			return nil, formatErr("Every Outputs member must contain a Value object")
		}
		o := Output{Key: key, Value: val, Description: def["Description"]}
		if exp, ok := def["Export"]; ok {
			em, isMap := exp.(map[string]any)
			if !isMap || em["Name"] == nil {
				return nil, formatErr("Output %s is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters.", key)
			}
			o.ExportName = em["Name"]
		}
		if c, ok := def["Condition"]; ok {
			o.Condition, _ = c.(string)
		}
		out = append(out, o)
	}
	return out, nil
}
