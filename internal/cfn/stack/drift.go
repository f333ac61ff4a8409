package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stagefront/stagefront/internal/cfn/resource"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// Drift detection compares each resource's template properties (after the
// conversion, so defaults and repaired keys count as the template's) with
// the live CloudFront configuration, at the paths the template sets.

// driftOf returns the differences of one resource; a deleted resource is
// one difference with DifferenceType "DELETED".
func (m *Manager) driftOf(ctx context.Context, rec *ResourceRecord, props map[string]any) ([]PropertyDifference, error) {
	_, _, diffs, err := m.compare(ctx, rec, props)
	return diffs, err
}

func (m *Manager) compare(ctx context.Context, rec *ResourceRecord, props map[string]any) (expected, actual map[string]any, diffs []PropertyDifference, err error) {
	h := m.handlerFor(rec.Type)
	if h == nil || h.Expected == nil || h.Actual == nil {
		return nil, nil, nil, nil
	}
	req := &resource.Request{LogicalID: rec.LogicalID, Properties: props, PhysicalID: rec.PhysicalID}
	expected, err = h.Expected(m.env, req)
	if err != nil {
		return nil, nil, nil, nil // properties the handler rejects cannot have drifted
	}
	actual, err = h.Actual(ctx, m.env, req)
	var ce *cf.Error
	if errors.As(err, &ce) && ce.Status == 404 {
		return expected, nil, []PropertyDifference{{DifferenceType: "DELETED"}}, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("stack: read %s: %w", rec.LogicalID, err)
	}
	pruned, _ := prune(actual, expected).(map[string]any)
	diffs = compareAt("", expected, actual)
	return expected, pruned, diffs, nil
}

// prune keeps the parts of actual that expected sets.
func prune(actual, expected any) any {
	switch e := expected.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return actual
		}
		out := map[string]any{}
		for k, ev := range e {
			if av, ok := a[k]; ok {
				out[k] = prune(av, ev)
			}
		}
		return out
	case []any:
		a, ok := actual.([]any)
		if !ok {
			return actual
		}
		out := make([]any, len(a))
		for i := range a {
			if i < len(e) {
				out[i] = prune(a[i], e[i])
			} else {
				out[i] = a[i]
			}
		}
		return out
	}
	return actual
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func compareAt(path string, expected, actual any) []PropertyDifference {
	switch e := expected.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return []PropertyDifference{{PropertyPath: orRoot(path), ExpectedValue: text(expected), ActualValue: text(actual), DifferenceType: "NOT_EQUAL"}}
		}
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []PropertyDifference
		for _, k := range keys {
			p := path + "/" + k
			av, ok := a[k]
			if !ok {
				out = append(out, PropertyDifference{PropertyPath: p, ExpectedValue: text(e[k]), DifferenceType: "REMOVE"})
				continue
			}
			out = append(out, compareAt(p, e[k], av)...)
		}
		return out
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(e) {
			return []PropertyDifference{{PropertyPath: orRoot(path), ExpectedValue: text(expected), ActualValue: text(actual), DifferenceType: "NOT_EQUAL"}}
		}
		var out []PropertyDifference
		for i := range e {
			out = append(out, compareAt(fmt.Sprintf("%s/%d", path, i), e[i], a[i])...)
		}
		return out
	}
	if !strings.EqualFold(text(expected), text(actual)) {
		return []PropertyDifference{{PropertyPath: orRoot(path), ExpectedValue: text(expected), ActualValue: text(actual), DifferenceType: "NOT_EQUAL"}}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// DetectStackDrift checks every resource (or the named ones) now and
// returns the detection id; the result is complete on return.
func (m *Manager) DetectStackDrift(ctx context.Context, region, stackName string, logicalIDs []string) (string, error) {
	l, err := m.mustFind(ctx, region, stackName)
	if err != nil {
		return "", err
	}
	unlock := m.lock(l.s.StackID)
	defer unlock()
	if l, err = m.mustFind(ctx, region, l.s.StackID); err != nil {
		return "", err
	}
	s := l.s
	if strings.HasSuffix(s.Status, "_IN_PROGRESS") {
		return "", validationErr("Drift detection cannot be performed on stack [%s] in status %s", s.StackName, s.Status)
	}
	now := m.now()
	drifted := 0
	for id, rec := range s.Resources {
		if len(logicalIDs) > 0 && !contains(logicalIDs, id) {
			continue
		}
		if err := m.detect(ctx, rec); err != nil {
			return "", err
		}
		if rec.Drift != nil && rec.Drift.Status != "IN_SYNC" && rec.Drift.Status != "NOT_CHECKED" {
			drifted++
		}
	}
	s.Drift = Drift{Status: "IN_SYNC", LastCheck: now, DriftedCount: drifted, DetectionID: m.uuid(), DetectionTime: now}
	if drifted > 0 {
		s.Drift.Status = "DRIFTED"
	}
	if err := m.save(ctx, l); err != nil {
		return "", err
	}
	return s.Drift.DetectionID, nil
}

func (m *Manager) detect(ctx context.Context, rec *ResourceRecord) error {
	expected, actual, diffs, err := m.compare(ctx, rec, rec.Properties)
	if err != nil {
		return err
	}
	d := &ResourceDrift{Status: "IN_SYNC", Timestamp: m.now()}
	if expected == nil && actual == nil && diffs == nil {
		d.Status = "NOT_CHECKED"
	}
	if expected != nil {
		b, _ := json.Marshal(expected)
		d.Expected = string(b)
	}
	if actual != nil {
		b, _ := json.Marshal(actual)
		d.Actual = string(b)
	}
	switch {
	case len(diffs) == 1 && diffs[0].DifferenceType == "DELETED":
		d.Status = "DELETED"
	case len(diffs) > 0:
		d.Status, d.Differences = "MODIFIED", diffs
	}
	rec.Drift = d
	return nil
}

// DetectStackResourceDrift checks one resource.
func (m *Manager) DetectStackResourceDrift(ctx context.Context, region, stackName, logicalID string) (*Stack, *ResourceRecord, error) {
	l, err := m.mustFind(ctx, region, stackName)
	if err != nil {
		return nil, nil, err
	}
	unlock := m.lock(l.s.StackID)
	defer unlock()
	if l, err = m.mustFind(ctx, region, l.s.StackID); err != nil {
		return nil, nil, err
	}
	rec := l.s.Resources[logicalID]
	if rec == nil {
		return nil, nil, validationErr("Resource %s does not exist for stack %s", logicalID, l.s.StackName)
	}
	if err := m.detect(ctx, rec); err != nil {
		return nil, nil, err
	}
	if err := m.save(ctx, l); err != nil {
		return nil, nil, err
	}
	return l.s, rec, nil
}

// DriftStatus finds the stack a detection id belongs to.
func (m *Manager) DriftStatus(ctx context.Context, region, detectionID string) (*Stack, error) {
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.s.Drift.DetectionID == detectionID {
			return l.s, nil
		}
	}
	return nil, validationErr("Stack drift detection with id %s does not exist", detectionID)
}
