package cfn

import (
	"slices"
	"sort"
	"strings"
)

// pseudoParameters are the AWS:: names Ref accepts without a declaration.
var pseudoParameters = []string{"AWS::AccountId", "AWS::NoValue", "AWS::NotificationARNs", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}

// subVars returns the ${...} names of a Fn::Sub string: "X" or "X.Attr",
// skipping ${!Literal}.
func subVars(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		name := s[i+2 : i+j]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		s = s[i+j+1:]
	}
}

// refs walks a value and reports every Ref target, GetAtt resource and Sub
// variable (local Sub variables excluded).
func refs(v any, visit func(kind, name, attr string)) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			refs(e, visit)
		}
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				switch k {
				case "Ref":
					if s, ok := arg.(string); ok {
						visit("Ref", s, "")
					}
					return
				case "Fn::GetAtt":
					if l, ok := arg.([]any); ok && len(l) == 2 {
						res, _ := l[0].(string)
						attr, _ := l[1].(string)
						visit("GetAtt", res, attr)
						refs(l[1], visit)
					}
					return
				case "Fn::Sub":
					var str string
					local := map[string]any{}
					switch a := arg.(type) {
					case string:
						str = a
					case []any:
						if len(a) == 2 {
							str, _ = a[0].(string)
							if m, ok := a[1].(map[string]any); ok {
								local = m
								refs(m, visit)
							}
						}
					}
					for _, name := range subVars(str) {
						if _, isLocal := local[name]; isLocal {
							continue
						}
						if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
							visit("GetAtt", res, attr)
						} else {
							visit("Ref", name, "")
						}
					}
					return
				case "Condition":
					if s, ok := arg.(string); ok {
						visit("Condition", s, "")
					}
					return
				case "Fn::If":
					if l, ok := arg.([]any); ok && len(l) == 3 {
						if s, ok := l[0].(string); ok {
							visit("Condition", s, "")
						}
						refs(l[1], visit)
						refs(l[2], visit)
					}
					return
				}
			}
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			refs(t[k], visit)
		}
	}
}

// checkReferences verifies every reference names something declared, and
// that resources form no cycle.
func (t *Template) checkReferences() error {
	params := map[string]bool{}
	for _, p := range t.Parameters {
		params[p.Key] = true
	}
	resources := map[string]bool{}
	for _, r := range t.Resources {
		resources[r.LogicalID] = true
	}
	var unresolved []string
	addUnresolved := func(name string) {
		if !slices.Contains(unresolved, name) {
			unresolved = append(unresolved, name)
		}
	}
	var badCondition string
	check := func(kind, name, _ string) {
		switch kind {
		case "Ref":
			if !params[name] && !resources[name] && !slices.Contains(pseudoParameters, name) {
				addUnresolved(name)
			}
		case "GetAtt":
			if !resources[name] {
				addUnresolved(name)
			}
		case "Condition":
			if _, ok := t.Conditions[name]; !ok && badCondition == "" {
				badCondition = name
			}
		}
	}
	for _, r := range t.Resources {
		refs(r.Properties, check)
		for _, d := range r.DependsOn {
			if !resources[d] {
				return formatErr("Unresolved resource dependencies [%s] in the Resources block of the template", d)
			}
		}
		if r.Condition != "" {
			check("Condition", r.Condition, "")
		}
	}
	if len(unresolved) > 0 {
		return formatErr("Unresolved resource dependencies [%s] in the Resources block of the template", strings.Join(unresolved, ", "))
	}
	for _, o := range t.Outputs {
		refs(o.Value, check)
		refs(o.ExportName, check)
		if o.Condition != "" {
			check("Condition", o.Condition, "")
		}
	}
	if len(unresolved) > 0 {
		return formatErr("Unresolved resource dependencies [%s] in the Outputs block of the template", strings.Join(unresolved, ", "))
	}
	for _, c := range t.Conditions {
		refs(c, func(kind, name, attr string) {
			if kind == "GetAtt" || (kind == "Ref" && resources[name]) {
				addUnresolved(name)
			} else {
				check(kind, name, attr)
			}
		})
	}
	if len(unresolved) > 0 {
		return formatErr("Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", strings.Join(unresolved, ", "))
	}
	if badCondition != "" {
		return formatErr("Unresolved condition dependencies [%s]", badCondition)
	}
	_, err := t.Order()
	return err
}

// Dependencies returns the logical ids a resource depends on (Ref, GetAtt,
// Sub, DependsOn), sorted.
func (t *Template) Dependencies(r *Resource) []string {
	resources := map[string]bool{}
	for _, x := range t.Resources {
		resources[x.LogicalID] = true
	}
	var out []string
	add := func(name string) {
		if resources[name] && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	refs(r.Properties, func(kind, name, _ string) {
		if kind == "Ref" || kind == "GetAtt" {
			add(name)
		}
	})
	for _, d := range r.DependsOn {
		add(d)
	}
	sort.Strings(out)
	return out
}

// Order returns the logical ids in an order where each resource comes after
// everything it depends on (template order among independent ones), or a
// "Circular dependency" error.
func (t *Template) Order() ([]string, error) {
	deps := map[string][]string{}
	for i := range t.Resources {
		deps[t.Resources[i].LogicalID] = t.Dependencies(&t.Resources[i])
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var cycle []string
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case done:
			return true
		case visiting:
			cycle = append(cycle, id)
			return false
		}
		state[id] = visiting
		for _, d := range deps[id] {
			if !visit(d) {
				if !slices.Contains(cycle, id) {
					cycle = append(cycle, id)
				}
				return false
			}
		}
		state[id] = done
		order = append(order, id)
		return true
	}
	for _, r := range t.Resources {
		if !visit(r.LogicalID) {
			sort.Strings(cycle)
			return nil, formatErr("Circular dependency between resources: [%s]", strings.Join(cycle, ", "))
		}
	}
	return order, nil
}
