package cfn

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Pseudo holds the values of the AWS:: pseudo parameters.
type Pseudo struct {
	Region, AccountID, StackName, StackID string
	NotificationARNs                      []string
}

// Env is what evaluating a template needs from outside: parameter values,
// pseudo parameters, and the values of resources and exports.
type Env struct {
	Template *Template
	Pseudo   Pseudo
	// Params are bound parameter values: a string, or []any of strings for
	// list types.
	Params map[string]any
	// Conditions are evaluated by BindConditions.
	Conditions map[string]bool
	// Ref returns a resource's Ref value; GetAtt an attribute.
	Ref    func(logicalID string) (string, error)
	GetAtt func(logicalID, attr string) (any, error)
	// ImportValue resolves an export of another stack.
	ImportValue func(name string) (string, error)
}

// BindParameters checks the given values against the declarations and
// fills defaults. given maps a key to its value.
func BindParameters(t *Template, given map[string]string) (map[string]any, error) {
	var unknown []string
	for k := range given {
		if t.Parameter(k) == nil {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, validation("Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	out := map[string]any{}
	var missing []string
	for _, p := range t.Parameters {
		val, ok := given[p.Key]
		if !ok {
			if p.Default == nil {
				missing = append(missing, p.Key)
				continue
			}
			val = *p.Default
		}
		if err := checkParameter(&p, val); err != nil {
			return nil, err
		}
		if strings.HasPrefix(p.Type, "List<") || p.Type == "CommaDelimitedList" {
			var list []any
			if val != "" {
				for _, s := range strings.Split(val, ",") {
					list = append(list, s)
				}
			} else {
				list = []any{}
			}
			out[p.Key] = list
		} else {
			out[p.Key] = val
		}
	}
	if len(missing) > 0 {
		return nil, validation("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	return out, nil
}

func checkParameter(p *Parameter, val string) error {
	fail := func() error {
		if p.ConstraintDescription != "" {
			return validation("Parameter %s failed to satisfy constraint: %s", p.Key, p.ConstraintDescription)
		}
		return nil
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, val) {
		if err := fail(); err != nil {
			return err
		}
		return validation("Parameter '%s' must be one of AllowedValues", p.Key)
	}
	if p.AllowedPattern != "" && !regexp.MustCompile("^(?:"+p.AllowedPattern+")$").MatchString(val) {
		if err := fail(); err != nil {
			return err
		}
		return validation("Parameter '%s' must match pattern %s", p.Key, p.AllowedPattern)
	}
	if p.MinLength != nil && len(val) < *p.MinLength {
		if err := fail(); err != nil {
			return err
		}
		return validation("Parameter '%s' must contain at least %d characters", p.Key, *p.MinLength)
	}
	if p.MaxLength != nil && len(val) > *p.MaxLength {
		if err := fail(); err != nil {
			return err
		}
		return validation("Parameter '%s' must contain at most %d characters", p.Key, *p.MaxLength)
	}
	if p.Type == "Number" || p.Type == "List<Number>" {
		for _, s := range strings.Split(val, ",") {
			if p.Type == "Number" {
				s = val
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return validation("Parameter '%s' must be a number.", p.Key)
			}
			if p.MinValue != nil && f < *p.MinValue {
				if err := fail(); err != nil {
					return err
				}
				return validation("Parameter '%s' must be a number not less than %v", p.Key, *p.MinValue)
			}
			if p.MaxValue != nil && f > *p.MaxValue {
				if err := fail(); err != nil {
					return err
				}
				return validation("Parameter '%s' must be a number not greater than %v", p.Key, *p.MaxValue)
			}
			if p.Type == "Number" {
				break
			}
		}
	}
	return nil
}

// BindConditions evaluates every condition of the template.
func (e *Env) BindConditions() error {
	e.Conditions = map[string]bool{}
	names := make([]string, 0, len(e.Template.Conditions))
	for k := range e.Template.Conditions {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := e.condition(n, nil); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) condition(name string, stack []string) (bool, error) {
	if v, ok := e.Conditions[name]; ok {
		return v, nil
	}
	def, ok := e.Template.Conditions[name]
	if !ok {
		return false, formatErr("Unresolved condition dependencies [%s]", name)
	}
	if slices.Contains(stack, name) {
		return false, formatErr("Circular dependency between conditions: [%s]", strings.Join(append(stack, name), ", "))
	}
	v, err := e.evalCondition(def, append(stack, name), "Conditions/"+name)
	if err != nil {
		return false, err
	}
	e.Conditions[name] = v
	return v, nil
}

func (e *Env) evalCondition(v any, stack []string, path string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		if s, isStr := v.(string); isStr && (s == "true" || s == "false") {
			return s == "true", nil
		}
		return false, templateErr(path, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return e.condition(name, stack)
		case "Fn::Equals":
			l, ok := arg.([]any)
			if !ok || len(l) != 2 {
				return false, templateErr(path, "Fn::Equals requires a list of two values")
			}
			a, err := e.resolve(l[0], path+"/Fn::Equals/0")
			if err != nil {
				return false, err
			}
			b, err := e.resolve(l[1], path+"/Fn::Equals/1")
			if err != nil {
				return false, err
			}
			return equalValues(a, b), nil
		case "Fn::Not":
			l, ok := arg.([]any)
			if !ok || len(l) != 1 {
				return false, templateErr(path, "Fn::Not requires a list of one condition")
			}
			c, err := e.evalCondition(l[0], stack, path+"/Fn::Not/0")
			return !c, err
		case "Fn::And", "Fn::Or":
			l, ok := arg.([]any)
			if !ok || len(l) < 2 || len(l) > 10 {
				return false, templateErr(path, "%s requires a list of 2 to 10 conditions", fn)
			}
			result := fn == "Fn::And"
			for i, c := range l {
				b, err := e.evalCondition(c, stack, fmt.Sprintf("%s/%s/%d", path, fn, i))
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" {
					result = result && b
				} else {
					result = result || b
				}
			}
			return result, nil
		}
		return false, templateErr(path, "%s is not a condition function", fn)
	}
	return false, nil
}

func equalValues(a, b any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// templateErr is an evaluation error naming the template path.
func templateErr(path, format string, args ...any) error {
	return &FormatError{Message: "Template error: " + fmt.Sprintf(format, args...) + " (at " + path + ")"}
}

// noValue is what Ref AWS::NoValue evaluates to; maps and lists drop it.
type noValue struct{}

// IsNoValue reports whether v is the AWS::NoValue marker.
func IsNoValue(v any) bool { _, ok := v.(noValue); return ok }

// Resolve evaluates every intrinsic in v. path names v in the template
// for error messages (e.g. "Resources/Staging/Properties").
func (e *Env) Resolve(v any, path string) (any, error) {
	out, err := e.resolve(v, path)
	if IsNoValue(out) {
		return nil, err
	}
	return out, err
}

func (e *Env) resolve(v any, path string) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, 0, len(t))
		for i, el := range t {
			r, err := e.resolve(el, fmt.Sprintf("%s/%d", path, i))
			if err != nil {
				return nil, err
			}
			if !IsNoValue(r) {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return e.intrinsic(k, arg, path+"/"+k)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, el := range t {
			r, err := e.resolve(el, path+"/"+k)
			if err != nil {
				return nil, err
			}
			if !IsNoValue(r) {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *Env) ref(name, path string) (any, error) {
	if v, ok := e.Params[name]; ok {
		return v, nil
	}
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::Region":
		return e.Pseudo.Region, nil
	case "AWS::AccountId":
		return e.Pseudo.AccountID, nil
	case "AWS::StackName":
		return e.Pseudo.StackName, nil
	case "AWS::StackId":
		return e.Pseudo.StackID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NotificationARNs":
		out := make([]any, len(e.Pseudo.NotificationARNs))
		for i, a := range e.Pseudo.NotificationARNs {
			out[i] = a
		}
		return out, nil
	}
	if r := e.Template.Resource(name); r != nil {
		if r.Condition != "" && !e.Conditions[r.Condition] {
			return nil, templateErr(path, "Unresolved resource dependency [%s]: its condition %s is false", name, r.Condition)
		}
		if e.Ref == nil {
			return nil, templateErr(path, "Ref %s is not available here", name)
		}
		return e.Ref(name)
	}
	return nil, templateErr(path, "Unresolved resource dependencies [%s]", name)
}

func (e *Env) getAtt(res, attr, path string) (any, error) {
	r := e.Template.Resource(res)
	if r == nil {
		return nil, templateErr(path, "Unresolved resource dependencies [%s]", res)
	}
	if r.Condition != "" && !e.Conditions[r.Condition] {
		return nil, templateErr(path, "Unresolved resource dependency [%s]: its condition %s is false", res, r.Condition)
	}
	if e.GetAtt == nil {
		return nil, templateErr(path, "Fn::GetAtt %s.%s is not available here", res, attr)
	}
	return e.GetAtt(res, attr)
}

func asString(v any, path, fn string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", templateErr(path, "%s: expected a string, got %s", fn, kindOf(v))
	}
	return s, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return "a string"
}

func (e *Env) intrinsic(fn string, arg any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, templateErr(path, "Ref requires a string")
		}
		return e.ref(name, path)
	case "Condition":
		name, _ := arg.(string)
		return nil, templateErr(path, "Condition %s is only allowed in the Conditions section and in Fn::If", name)
	case "Fn::GetAtt":
		var res, attr string
		switch a := arg.(type) {
		case []any:
			if len(a) != 2 {
				return nil, templateErr(path, "every Fn::GetAtt object requires two non-empty parameters")
			}
			res, _ = a[0].(string)
			av, err := e.resolve(a[1], path+"/1")
			if err != nil {
				return nil, err
			}
			attr, _ = av.(string)
		case string:
			res, attr, _ = strings.Cut(a, ".")
		}
		if res == "" || attr == "" {
			return nil, templateErr(path, "every Fn::GetAtt object requires two non-empty parameters")
		}
		return e.getAtt(res, attr, path)
	case "Fn::Sub":
		return e.sub(arg, path)
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, templateErr(path, "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined")
		}
		d, err := e.resolve(l[0], path+"/0")
		if err != nil {
			return nil, err
		}
		delim, err := asString(d, path, "Fn::Join")
		if err != nil {
			return nil, err
		}
		items, err := e.resolve(l[1], path+"/1")
		if err != nil {
			return nil, err
		}
		list, ok := items.([]any)
		if !ok {
			return nil, templateErr(path, "Fn::Join: the second parameter must be a list of strings")
		}
		parts := make([]string, len(list))
		for i, it := range list {
			if parts[i], err = asString(it, path, "Fn::Join"); err != nil {
				return nil, err
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, templateErr(path, "Fn::Select requires a list of two parameters: an index and a list")
		}
		iv, err := e.resolve(l[0], path+"/0")
		if err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(fmt.Sprint(iv))
		if err != nil {
			return nil, templateErr(path, "Fn::Select: the index must be an integer")
		}
		lv, err := e.resolve(l[1], path+"/1")
		if err != nil {
			return nil, err
		}
		list, ok := lv.([]any)
		if !ok {
			return nil, templateErr(path, "Fn::Select: the second parameter must be a list")
		}
		if idx < 0 || idx >= len(list) {
			return nil, templateErr(path, "Fn::Select cannot select nonexistent value at index %d", idx)
		}
		return list[idx], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, templateErr(path, "Fn::Split requires a list of two parameters: a delimiter and a string")
		}
		dv, err := e.resolve(l[0], path+"/0")
		if err != nil {
			return nil, err
		}
		sv, err := e.resolve(l[1], path+"/1")
		if err != nil {
			return nil, err
		}
		delim, err := asString(dv, path, "Fn::Split")
		if err != nil {
			return nil, err
		}
		s, err := asString(sv, path, "Fn::Split")
		if err != nil {
			return nil, err
		}
		if delim == "" {
			return nil, templateErr(path, "Fn::Split: the delimiter must not be empty")
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, templateErr(path, "Fn::If requires a list of three parameters: a condition name and two values")
		}
		name, _ := l[0].(string)
		c, ok := e.Conditions[name]
		if !ok {
			if _, declared := e.Template.Conditions[name]; !declared {
				return nil, templateErr(path, "Fn::If: unresolved condition %s", name)
			}
			var err error
			if c, err = e.condition(name, nil); err != nil {
				return nil, err
			}
		}
		if c {
			return e.resolve(l[1], path+"/1")
		}
		return e.resolve(l[2], path+"/2")
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		b, err := e.evalCondition(map[string]any{fn: arg}, nil, path)
		if err != nil {
			return nil, err
		}
		return strconv.FormatBool(b), nil
	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || len(l) < 3 {
			return nil, templateErr(path, "Fn::FindInMap requires a list of three parameters: a map name and two keys")
		}
		var keys [3]string
		for i := range 3 {
			v, err := e.resolve(l[i], fmt.Sprintf("%s/%d", path, i))
			if err != nil {
				return nil, err
			}
			if keys[i], err = asString(v, path, "Fn::FindInMap"); err != nil {
				return nil, err
			}
		}
		var def any
		hasDefault := false
		if len(l) == 4 {
			if m, ok := l[3].(map[string]any); ok {
				def, hasDefault = m["DefaultValue"]
			}
		}
		m1, _ := e.Template.Mappings[keys[0]].(map[string]any)
		if m1 == nil {
			if hasDefault {
				return e.resolve(def, path+"/3")
			}
			return nil, templateErr(path, "Mapping named '%s' is not present in the 'Mappings' section of template.", keys[0])
		}
		m2, _ := m1[keys[1]].(map[string]any)
		v, found := m2[keys[2]]
		if !found {
			if hasDefault {
				return e.resolve(def, path+"/3")
			}
			return nil, templateErr(path, "Unable to get mapping for %s::%s::%s", keys[0], keys[1], keys[2])
		}
		return v, nil
	case "Fn::ImportValue":
		v, err := e.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		name, err := asString(v, path, "Fn::ImportValue")
		if err != nil {
			return nil, err
		}
		if e.ImportValue == nil {
			return nil, templateErr(path, "No export named %s found", name)
		}
		return e.ImportValue(name)
	case "Fn::GetAZs":
		v, err := e.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		region, _ := v.(string)
		if region == "" {
			region = e.Pseudo.Region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Base64":
		v, err := e.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		s, err := asString(v, path, "Fn::Base64")
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::Length":
		v, err := e.resolve(arg, path)
		if err != nil {
			return nil, err
		}
		l, ok := v.([]any)
		if !ok {
			return nil, templateErr(path, "Fn::Length requires a list")
		}
		return strconv.Itoa(len(l)), nil
	}
	return nil, templateErr(path, "%s is not supported", fn)
}

// sub evaluates Fn::Sub in both forms.
func (e *Env) sub(arg any, path string) (any, error) {
	var str string
	local := map[string]any{}
	switch a := arg.(type) {
	case string:
		str = a
	case []any:
		if len(a) != 2 {
			return nil, templateErr(path, "Fn::Sub requires a string or a list of a string and a map of variables")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, templateErr(path, "Fn::Sub: the first parameter must be a string")
		}
		str = s
		vars, ok := a[1].(map[string]any)
		if !ok {
			return nil, templateErr(path, "Fn::Sub: the second parameter must be a map of variables")
		}
		for k, v := range vars {
			r, err := e.resolve(v, path+"/1/"+k)
			if err != nil {
				return nil, err
			}
			local[k] = r
		}
	default:
		return nil, templateErr(path, "Fn::Sub requires a string or a list of a string and a map of variables")
	}
	var b strings.Builder
	for {
		i := strings.Index(str, "${")
		if i < 0 {
			b.WriteString(str)
			break
		}
		j := strings.IndexByte(str[i:], '}')
		if j < 0 {
			b.WriteString(str)
			break
		}
		b.WriteString(str[:i])
		name := str[i+2 : i+j]
		str = str[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		var v any
		var err error
		if lv, ok := local[name]; ok {
			v = lv
		} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = e.getAtt(res, attr, path)
		} else {
			v, err = e.ref(name, path)
		}
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, templateErr(path, "Fn::Sub: variable ${%s} is %s, not a string", name, kindOf(v))
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// FormatNumber renders a float the way templates write numbers (no
// exponent, no trailing zeros).
func FormatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
