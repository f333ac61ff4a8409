package console

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DiffLine is one member that differs between two configs.
type DiffLine struct {
	Path   string // e.g. Origins.Items[Id=web].OriginPath
	Before string // "" when added
	After  string // "" when removed
	Kind   string // changed, added, removed
}

// promotionKeeps are the members a promotion leaves as the primary has
// them (UpdateDistributionWithStagingConfig copies everything else), so a
// diff of staging against the primary never lists them.
var promotionKeeps = map[string]bool{
	"CallerReference": true, "Aliases": true, "ContinuousDeploymentPolicyId": true, "Staging": true,
}

// ConfigDiff compares two configs in their JSON form (the API's shapes or
// the SDK's, which share member names) member by member. Members in skip
// (top level) are left out.
func ConfigDiff(before, after any, skip map[string]bool) ([]DiffLine, error) {
	b, err := flatten(before, skip)
	if err != nil {
		return nil, err
	}
	a, err := flatten(after, skip)
	if err != nil {
		return nil, err
	}
	var out []DiffLine
	for path, bv := range b {
		av, ok := a[path]
		switch {
		case !ok:
			out = append(out, DiffLine{Path: path, Before: bv, Kind: "removed"})
		case av != bv:
			out = append(out, DiffLine{Path: path, Before: bv, After: av, Kind: "changed"})
		}
	}
	for path, av := range a {
		if _, ok := b[path]; !ok {
			out = append(out, DiffLine{Path: path, After: av, Kind: "added"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// flatten turns a config into path → scalar. Lists whose items carry an Id
// (origins) or a PathPattern (cache behaviors) are addressed by it, so a
// reordering or an insertion does not show as a change of every later item.
func flatten(v any, skip map[string]bool) (map[string]string, error) {
	var raw []byte
	switch t := v.(type) {
	case json.RawMessage:
		raw = t
	case []byte:
		raw = t
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("diff: %w", err)
		}
	}
	out := map[string]string{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	if m, ok := doc.(map[string]any); ok {
		for k := range skip {
			delete(m, k)
		}
	}
	walk("", doc, out)
	return out, nil
}

func walk(path string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == "_unknown" || k == "Quantity" {
				continue // Quantity always equals the length of Items
			}
			walk(join(path, k), child, out)
		}
	case []any:
		for i, child := range t {
			walk(path+"["+itemKey(i, child)+"]", child, out)
		}
	case nil:
	case string:
		out[path] = strconv.Quote(t)
	case bool:
		out[path] = strconv.FormatBool(t)
	case float64:
		out[path] = strconv.FormatFloat(t, 'f', -1, 64)
	default:
		out[path] = fmt.Sprint(t)
	}
}

func itemKey(i int, v any) string {
	if m, ok := v.(map[string]any); ok {
		for _, k := range []string{"Id", "PathPattern"} {
			if s, ok := m[k].(string); ok && s != "" {
				return k + "=" + s
			}
		}
	}
	return strconv.Itoa(i)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// diffSummary is a short sentence for a list of differences.
func diffSummary(lines []DiffLine) string {
	if len(lines) == 0 {
		return "no differences"
	}
	tops := map[string]bool{}
	for _, l := range lines {
		top, _, _ := strings.Cut(l.Path, ".")
		top, _, _ = strings.Cut(top, "[")
		tops[top] = true
	}
	names := make([]string, 0, len(tops))
	for t := range tops {
		names = append(names, t)
	}
	sort.Strings(names)
	return fmt.Sprintf("%d difference(s) in %s", len(lines), strings.Join(names, ", "))
}
