package resource

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The CloudFormation shape of a CloudFront resource differs from the API
// shape in a few regular ways, which the converter applies by walking the
// API's Go type (internal/cloudfront, generated from the botocore model):
//
//   - a YAML list where the API has a {Quantity, Items} wrapper becomes the
//     wrapper (and Enabled = len > 0 where the wrapper has Enabled);
//   - a wrapper written as {Items: [...]} (ResponseHeadersPolicy,
//     OriginGroups) gets its Quantity;
//   - a few members are renamed (renames below), and a few are restructured
//     (CachedMethods nests inside AllowedMethods; GeoRestriction.Locations
//     are its Items; Logging gets Enabled).
//
// Every other key must be a member of the API shape: an unknown key fails
// the resource the way CloudFormation's schema validation does.

// renames maps "<API struct>.<CloudFormation key>" to the API member.
var renames = map[string]string{
	"DistributionConfig.IPV6Enabled":        "IsIPV6Enabled",
	"DistributionConfig.CNAMEs":             "Aliases",
	"Origin.OriginCustomHeaders":            "CustomHeaders",
	"CustomOriginConfig.OriginSSLProtocols": "OriginSslProtocols",
	"ViewerCertificate.AcmCertificateArn":   "ACMCertificateArn",
	"ViewerCertificate.IamCertificateId":    "IAMCertificateId",
	"ViewerCertificate.SslSupportMethod":    "SSLSupportMethod",
	"GeoRestriction.Locations":              "Items",
}

// converter turns resolved CloudFormation properties into the JSON form of
// an API shape. It collects warnings (key repairs) on the way.
type converter struct {
	strict   bool
	warnings []string
}

// propertyError is CloudFormation's schema-validation failure.
type propertyError struct{ msg string }

func (e *propertyError) Error() string { return e.msg }

func (c *converter) extraneous(path, key string) error {
	return &propertyError{msg: fmt.Sprintf("#%s: extraneous key [%s] is not permitted", path, key)}
}

func (c *converter) typeErr(path, want string, v any) error {
	return &propertyError{msg: fmt.Sprintf("#%s: expected type: %s, found: %s", path, want, jsonKind(v))}
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "JSONArray"
	case map[string]any:
		return "JSONObject"
	case nil:
		return "Null"
	}
	return "String"
}

// convert converts v (CloudFormation shape) to the JSON value of typ.
func (c *converter) convert(v any, typ reflect.Type, path string) (any, error) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return nil, c.typeErr(path, "String", v)
		}
		return s, nil
	case reflect.Bool:
		s, ok := v.(string)
		if !ok {
			return nil, c.typeErr(path, "Boolean", v)
		}
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, &propertyError{msg: fmt.Sprintf("#%s: expected type: Boolean, found: String", path)}
	case reflect.Int32, reflect.Int64, reflect.Int:
		s, ok := v.(string)
		if !ok {
			return nil, c.typeErr(path, "Integer", v)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, &propertyError{msg: fmt.Sprintf("#%s: expected type: Integer, found: String", path)}
		}
		return n, nil
	case reflect.Float32, reflect.Float64:
		s, ok := v.(string)
		if !ok {
			return nil, c.typeErr(path, "Number", v)
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return nil, &propertyError{msg: fmt.Sprintf("#%s: expected type: Number, found: String", path)}
		}
		return json.Number(strings.TrimSpace(s)), nil
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return nil, c.typeErr(path, "JSONArray", v)
		}
		out := make([]any, 0, len(list))
		for i, e := range list {
			ce, err := c.convert(e, typ.Elem(), fmt.Sprintf("%s/%d", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, ce)
		}
		return out, nil
	case reflect.Struct:
		return c.convertStruct(v, typ, path)
	}
	return nil, fmt.Errorf("resource: no conversion to %s at %s", typ, path)
}

func fieldByJSON(typ reflect.Type, name string) (reflect.StructField, bool) {
	if name == "" || name == "_unknown" {
		return reflect.StructField{}, false
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func isWrapper(typ reflect.Type) bool {
	_, q := fieldByJSON(typ, "Quantity")
	_, i := fieldByJSON(typ, "Items")
	return q && i
}

func (c *converter) convertStruct(v any, typ reflect.Type, path string) (any, error) {
	if list, ok := v.([]any); ok && isWrapper(typ) {
		items, _ := fieldByJSON(typ, "Items")
		conv, err := c.convert(list, items.Type, path)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"Quantity": len(list), "Items": conv}
		if _, ok := fieldByJSON(typ, "Enabled"); ok {
			out["Enabled"] = len(list) > 0
		}
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, c.typeErr(path, "JSONObject", v)
	}
	m = c.restructure(typ.Name(), m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(m))
	for _, k := range keys {
		name := k
		if r, ok := renames[typ.Name()+"."+k]; ok {
			name = r
		}
		f, ok := fieldByJSON(typ, name)
		if !ok {
			repaired := strings.TrimRight(k, ",;: \t")
			if r, renamed := renames[typ.Name()+"."+repaired]; renamed {
				repaired = r
			}
			rf, found := fieldByJSON(typ, repaired)
			_, alsoPresent := m[repaired]
			if c.strict || repaired == k || !found || alsoPresent {
				return nil, c.extraneous(path, k)
			}
			c.warnings = append(c.warnings, fmt.Sprintf("stagefront: property %q read as %q (AWS CloudFormation would reject it: extraneous key)", k, repaired))
			f, name = rf, repaired
		}
		conv, err := c.convert(m[k], f.Type, path+"/"+name)
		if err != nil {
			return nil, err
		}
		out[name] = conv
	}
	if isWrapper(typ) {
		if _, has := out["Quantity"]; !has {
			n := 0
			if l, ok := out["Items"].([]any); ok {
				n = len(l)
			}
			out["Quantity"] = n
		}
	}
	return out, nil
}

// restructure applies the non-rename differences of one struct.
func (c *converter) restructure(typeName string, m map[string]any) map[string]any {
	switch typeName {
	case "DefaultCacheBehavior", "CacheBehavior":
		cached, hasCached := m["CachedMethods"]
		if !hasCached {
			return m
		}
		m = clone(m)
		delete(m, "CachedMethods")
		allowed, ok := m["AllowedMethods"].([]any)
		if !ok {
			allowed = []any{"GET", "HEAD"}
		}
		cl, _ := cached.([]any)
		m["AllowedMethods"] = map[string]any{"Items": allowed, "CachedMethods": map[string]any{"Items": cl}}
	case "ContinuousDeploymentPolicyConfig":
		// The legacy flat form: Type and Single*PolicyConfig beside Enabled.
		if _, has := m["TrafficConfig"]; has {
			return m
		}
		typ, hasType := m["Type"]
		if !hasType {
			return m
		}
		m = clone(m)
		tc := map[string]any{"Type": typ}
		if h, ok := m["SingleHeaderPolicyConfig"]; ok {
			tc["SingleHeaderConfig"] = h
		}
		if w, ok := m["SingleWeightPolicyConfig"]; ok {
			tc["SingleWeightConfig"] = w
		}
		delete(m, "Type")
		delete(m, "SingleHeaderPolicyConfig")
		delete(m, "SingleWeightPolicyConfig")
		m["TrafficConfig"] = tc
	case "LoggingConfig":
		if _, has := m["Enabled"]; !has {
			m = clone(m)
			m["Enabled"] = "true"
		}
	}
	return m
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// decode converts props to the API struct T.
func decode[T any](c *converter, props any, path string) (*T, error) {
	var zero T
	j, err := c.convert(props, reflect.TypeOf(zero), path)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("resource: encode %T: %w", zero, err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("resource: decode %T: %w", zero, err)
	}
	return out, nil
}
