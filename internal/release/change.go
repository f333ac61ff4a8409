package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// PathSegment is one step of an assignment path: a member name, optionally
// followed by a list selector: [3] (an index) or [Id=web] (the item whose
// member Id is "web").
type PathSegment struct {
	Name     string
	Index    int    // -1 when absent
	MatchKey string // "" when absent
	MatchVal string
}

// ownMembers are never taken from the change: each distribution keeps its
// own (CloudFront rejects or ignores changes to them).
var ownMembers = []string{"CallerReference", "Staging", "Aliases", "ContinuousDeploymentPolicyId"}

// ParsePath splits `Origins.Items[Id=web].OriginPath` into segments.
func ParsePath(path string) ([]PathSegment, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	var segs []PathSegment
	for _, part := range strings.Split(path, ".") {
		seg := PathSegment{Index: -1}
		name, sel, hasSel := strings.Cut(part, "[")
		seg.Name = name
		if name == "" {
			return nil, fmt.Errorf("path %q has an empty member name", path)
		}
		if hasSel {
			sel, ok := strings.CutSuffix(sel, "]")
			if !ok || sel == "" {
				return nil, fmt.Errorf("path %q: selector of %q must look like [0] or [Id=value]", path, name)
			}
			if k, v, isMatch := strings.Cut(sel, "="); isMatch {
				seg.MatchKey, seg.MatchVal = k, v
			} else {
				n, err := strconv.Atoi(sel)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("path %q: selector [%s] is neither an index nor Key=value", path, sel)
				}
				seg.Index = n
			}
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// checkPathType parses path and checks it against the DistributionConfig
// type, so a misspelt member is reported when the spec is read.
func checkPathType(path string) ([]PathSegment, error) {
	segs, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	for _, own := range ownMembers {
		if strings.EqualFold(segs[0].Name, own) {
			return nil, fmt.Errorf("%s cannot be changed by a release (each distribution keeps its own)", own)
		}
	}
	t := reflect.TypeOf(types.DistributionConfig{})
	for i, seg := range segs {
		f, ok := memberField(t, seg.Name)
		if !ok {
			return nil, fmt.Errorf("%s has no member %q (members: %s)", typeName(t), seg.Name, memberNames(t))
		}
		t = derefType(f.Type)
		if seg.Index >= 0 || seg.MatchKey != "" {
			if t.Kind() == reflect.Struct { // Origins[Id=x] means Origins.Items[Id=x]
				items, ok := t.FieldByName("Items")
				if !ok {
					return nil, fmt.Errorf("%s is not a list", seg.Name)
				}
				t = items.Type
			}
			if t.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s is not a list", seg.Name)
			}
			t = derefType(t.Elem())
			if seg.MatchKey != "" {
				if t.Kind() != reflect.Struct {
					return nil, fmt.Errorf("items of %s have no members to match on", seg.Name)
				}
				if _, ok := memberField(t, seg.MatchKey); !ok {
					return nil, fmt.Errorf("items of %s have no member %q", seg.Name, seg.MatchKey)
				}
			}
		}
		if i < len(segs)-1 && t.Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s is a %s, it has no member %q", seg.Name, t.Kind(), segs[i+1].Name)
		}
	}
	return segs, nil
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func typeName(t reflect.Type) string { return derefType(t).Name() }

func memberField(t reflect.Type, name string) (reflect.StructField, bool) {
	t = derefType(t)
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	if f, ok := t.FieldByName(name); ok && f.IsExported() {
		return f, true
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func memberNames(t reflect.Type) string {
	t = derefType(t)
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}

// Apply sets one assignment on cfg.
func (a Assignment) Apply(cfg *types.DistributionConfig) error {
	segs, err := checkPathType(a.Path)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(cfg).Elem()
	for i, seg := range segs {
		f, _ := memberField(v.Type(), seg.Name)
		fv := v.FieldByIndex(f.Index)
		last := i == len(segs)-1 && seg.Index < 0 && seg.MatchKey == ""
		if last {
			return assign(fv, a.Value, a.Path)
		}
		fv = ensure(fv)
		if seg.Index >= 0 || seg.MatchKey != "" {
			if fv.Kind() == reflect.Struct {
				fv = fv.FieldByName("Items")
			}
			item, err := selectItem(fv, seg)
			if err != nil {
				return fmt.Errorf("%s: %w", a.Path, err)
			}
			if i == len(segs)-1 {
				return assign(item, a.Value, a.Path)
			}
			fv = ensure(item)
		}
		v = fv
	}
	return nil
}

// ensure allocates a nil pointer on the way down and returns the pointee.
func ensure(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return v.Elem()
	}
	return v
}

func selectItem(list reflect.Value, seg PathSegment) (reflect.Value, error) {
	if seg.Index >= 0 {
		if seg.Index >= list.Len() {
			return reflect.Value{}, fmt.Errorf("%s has %d items, no index %d", seg.Name, list.Len(), seg.Index)
		}
		return list.Index(seg.Index), nil
	}
	var have []string
	for i := range list.Len() {
		item := list.Index(i)
		key := reflect.Indirect(item)
		f, _ := memberField(key.Type(), seg.MatchKey)
		got := fmt.Sprint(reflect.Indirect(key.FieldByIndex(f.Index)).Interface())
		if got == seg.MatchVal {
			return item, nil
		}
		have = append(have, got)
	}
	return reflect.Value{}, fmt.Errorf("no item of %s has %s=%s (have: %s)", seg.Name, seg.MatchKey, seg.MatchVal, strings.Join(have, ", "))
}

// assign converts a YAML/JSON value into the member's type through JSON.
func assign(dst reflect.Value, value any, path string) error {
	if value == nil {
		dst.SetZero()
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ptr := reflect.New(dst.Type())
	if err := json.Unmarshal(raw, ptr.Interface()); err != nil {
		// A scalar for a string member (OriginPath: 3) is meant as text.
		if derefType(dst.Type()).Kind() == reflect.String {
			raw, _ = json.Marshal(fmt.Sprint(value))
			err = json.Unmarshal(raw, ptr.Interface())
		}
		if err != nil {
			return fmt.Errorf("%s: %v does not fit %s: %w", path, value, derefType(dst.Type()), err)
		}
	}
	dst.Set(ptr.Elem())
	return nil
}

// fixQuantities makes every Quantity equal to its Items' length, so that a
// change that adds or removes list items stays consistent.
func fixQuantities(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fixQuantities(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			fixQuantities(v.Index(i))
		}
	case reflect.Struct:
		q, items := v.FieldByName("Quantity"), v.FieldByName("Items")
		if q.IsValid() && items.IsValid() && items.Kind() == reflect.Slice && q.Type() == reflect.TypeOf((*int32)(nil)) && q.CanSet() {
			q.Set(reflect.ValueOf(aws.Int32(int32(items.Len()))))
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fixQuantities(v.Field(i))
			}
		}
	}
}

// cloneConfig deep-copies a DistributionConfig through JSON.
func cloneConfig(cfg *types.DistributionConfig) (*types.DistributionConfig, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode distribution config: %w", err)
	}
	return unmarshalConfig(raw)
}

func unmarshalConfig(raw []byte) (*types.DistributionConfig, error) {
	var out types.DistributionConfig
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode distribution config: %w", err)
	}
	return &out, nil
}

// withOwnMembers returns cfg with owner's own members (CallerReference,
// Staging, Aliases, ContinuousDeploymentPolicyId) in place of its own.
func withOwnMembers(cfg, owner *types.DistributionConfig) *types.DistributionConfig {
	out := *cfg
	out.CallerReference = owner.CallerReference
	out.Staging = owner.Staging
	out.Aliases = owner.Aliases
	out.ContinuousDeploymentPolicyId = aws.String(aws.ToString(owner.ContinuousDeploymentPolicyId))
	return &out
}

// CheckChange applies change to the primary's config as a release would,
// so that a selector matching nothing (an origin Id the primary does not
// have, an index past the end) is refused when the release starts, naming
// the field, instead of failing later on every pass.
func CheckChange(primary *types.DistributionConfig, change StagingChange) error {
	if len(change.Config) > 0 {
		if _, err := DesiredStaging(primary, primary, change); err != nil {
			return &SpecError{File: change.ConfigFile, Field: "staging.config", Msg: err.Error()}
		}
		return nil
	}
	p := &problems{}
	for _, a := range change.Set {
		next, err := cloneConfig(primary)
		if err == nil {
			err = a.Apply(next)
		}
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), a.Path+": ")
			p.add(0, "staging.set."+a.Path, "%s (on the primary's current config)", msg)
		}
	}
	return p.err()
}

// DesiredStaging computes the staging config a change asks for: the
// primary's config with the change applied, keeping staging's own members
// (and Enabled, since a staging distribution in use cannot be disabled).
func DesiredStaging(primary, staging *types.DistributionConfig, change StagingChange) (*types.DistributionConfig, error) {
	var next *types.DistributionConfig
	var err error
	if len(change.Config) > 0 {
		doc, derr := decodeConfig(change.Config)
		if derr != nil {
			return nil, derr
		}
		raw, _ := json.Marshal(doc)
		next, err = unmarshalConfig(raw)
	} else {
		next, err = cloneConfig(primary)
		for _, a := range change.Set {
			if err != nil {
				break
			}
			err = a.Apply(next)
		}
	}
	if err != nil {
		return nil, err
	}
	fixQuantities(reflect.ValueOf(next))
	next = withOwnMembers(next, staging)
	next.Enabled = aws.Bool(true)
	return next, nil
}

// ConfigDigest fingerprints what a config serves: everything but the
// members each distribution keeps as its own.
func ConfigDigest(cfg *types.DistributionConfig) string {
	if cfg == nil {
		return ""
	}
	c := *cfg
	c.CallerReference, c.Staging, c.Aliases, c.ContinuousDeploymentPolicyId = nil, nil, nil, nil
	c.Enabled = nil // a staging copy is always enabled; what it serves is the rest
	raw, _ := json.Marshal(&c)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}
