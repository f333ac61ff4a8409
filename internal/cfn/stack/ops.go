package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/stagefront/stagefront/internal/cfn"
	"github.com/stagefront/stagefront/internal/cfn/resource"
)

// ParamInput is one entry of a request's Parameters list.
type ParamInput struct {
	Key, Value  string
	UsePrevious bool
}

// Input is what CreateStack, UpdateStack and CreateChangeSet carry.
type Input struct {
	Region, StackName   string
	TemplateBody        string
	UsePreviousTemplate bool
	Parameters          []ParamInput
	Capabilities        []string
	Tags                []Tag
	DisableRollback     bool
	OnFailure           string
	NotificationARNs    []string
}

// plan is a checked template with bound parameters.
type plan struct {
	tpl        *cfn.Template
	raw        map[string]string
	bound      map[string]any
	noEcho     []string
	paramOrder []string
}

func (m *Manager) prepare(prev *Stack, in Input) (*plan, error) {
	body := in.TemplateBody
	if in.UsePreviousTemplate {
		if prev == nil || prev.Template == "" {
			return nil, validationErr("UsePreviousTemplate can only be used with an existing stack")
		}
		if body != "" {
			return nil, validationErr("You cannot specify both usePreviousTemplate and Template Body/Template URL")
		}
		body = prev.Template
	}
	tpl, err := m.parseTemplate(body)
	if err != nil {
		return nil, err
	}
	raw := map[string]string{}
	for _, p := range in.Parameters {
		if p.UsePrevious {
			if prev == nil || prev.Template == "" {
				return nil, validationErr("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a new stack", p.Key)
			}
			v, ok := prev.Parameters[p.Key]
			if !ok {
				return nil, validationErr("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", p.Key)
			}
			raw[p.Key] = v
			continue
		}
		raw[p.Key] = p.Value
	}
	bound, err := cfn.BindParameters(tpl, raw)
	if err != nil {
		return nil, asValidation(err)
	}
	pl := &plan{tpl: tpl, raw: map[string]string{}, bound: bound}
	for _, p := range tpl.Parameters {
		pl.paramOrder = append(pl.paramOrder, p.Key)
		switch v := bound[p.Key].(type) {
		case string:
			pl.raw[p.Key] = v
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i], _ = e.(string)
			}
			pl.raw[p.Key] = strings.Join(parts, ",")
		}
		if p.NoEcho {
			pl.noEcho = append(pl.noEcho, p.Key)
		}
	}
	return pl, nil
}

// pendingValue stands for a value only known once a resource is created
// (change-set computation).
func pendingValue(id, attr string) string { return "{{stagefront:pending:" + id + "." + attr + "}}" }

func isPending(v any) bool {
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), "{{stagefront:pending:")
}

// env builds the evaluation environment of a template over resource records.
func (m *Manager) evalEnv(ctx context.Context, s *Stack, pl *plan, recs map[string]*ResourceRecord, pending bool) (*cfn.Env, error) {
	e := &cfn.Env{Template: pl.tpl, Params: pl.bound,
		Pseudo: cfn.Pseudo{Region: s.Region, AccountID: m.opts.AccountID, StackName: s.StackName, StackID: s.StackID, NotificationARNs: s.NotificationARNs}}
	e.Ref = func(id string) (string, error) {
		if r := recs[id]; r != nil && r.PhysicalID != "" {
			return r.PhysicalID, nil
		}
		if pending {
			return pendingValue(id, "Ref"), nil
		}
		return "", fmt.Errorf("resource %s has no physical id yet", id)
	}
	e.GetAtt = func(id, attr string) (any, error) {
		if r := recs[id]; r != nil {
			if v, ok := r.Attributes[attr]; ok {
				return v, nil
			}
		}
		if pending {
			return pendingValue(id, attr), nil
		}
		return nil, validationErr("Template error: resource %s has no attribute %s yet", id, attr)
	}
	e.ImportValue = func(name string) (string, error) {
		exports, err := m.Exports(ctx, s.Region)
		if err != nil {
			return "", err
		}
		for _, x := range exports {
			if x.Name == name && x.StackID != s.StackID {
				return x.Value, nil
			}
		}
		return "", validationErr("No export named %s found", name)
	}
	if err := e.BindConditions(); err != nil {
		return nil, asValidation(err)
	}
	return e, nil
}

// active reports whether a resource exists under the template's conditions.
func active(e *cfn.Env, r *cfn.Resource) bool {
	return r.Condition == "" || e.Conditions[r.Condition]
}

func (m *Manager) resolveProps(e *cfn.Env, r *cfn.Resource) (map[string]any, error) {
	if r.Properties == nil {
		return map[string]any{}, nil
	}
	v, err := e.Resolve(r.Properties, "Resources/"+r.LogicalID+"/Properties")
	if err != nil {
		return nil, err
	}
	props, _ := v.(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return props, nil
}

func (m *Manager) resolveOutputs(ctx context.Context, s *Stack, e *cfn.Env) ([]Output, error) {
	var out []Output
	for _, o := range e.Template.Outputs {
		if o.Condition != "" && !e.Conditions[o.Condition] {
			continue
		}
		v, err := e.Resolve(o.Value, "Outputs/"+o.Key+"/Value")
		if err != nil {
			return nil, err
		}
		val, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("Template error: the value of output %s must be a string, not a list or an object", o.Key)
		}
		res := Output{Key: o.Key, Value: val}
		if o.Description != nil {
			d, err := e.Resolve(o.Description, "Outputs/"+o.Key+"/Description")
			if err != nil {
				return nil, err
			}
			res.Description, _ = d.(string)
		}
		if o.ExportName != nil {
			n, err := e.Resolve(o.ExportName, "Outputs/"+o.Key+"/Export/Name")
			if err != nil {
				return nil, err
			}
			res.ExportName, _ = n.(string)
			exports, err := m.Exports(ctx, s.Region)
			if err != nil {
				return nil, err
			}
			for _, x := range exports {
				if x.Name == res.ExportName && x.StackID != s.StackID {
					return nil, fmt.Errorf("Export with name %s is already exported by stack %s", x.Name, x.StackID[strings.LastIndex(x.StackID[:strings.LastIndexByte(x.StackID, '/')], "/")+1:strings.LastIndexByte(x.StackID, '/')])
				}
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// handlerFor returns a type's handler (parseTemplate has checked it).
func (m *Manager) handlerFor(typ string) *resource.Handler { return m.types[typ] }

// apply brings the stack's resources to the template of l.s.Op: creates
// new ones, updates changed ones, in dependency order. It returns the
// logical id of a failed resource and the reason ("" when all went well).
func (m *Manager) apply(ctx context.Context, l *loaded, pl *plan) (string, string, error) {
	s := l.s
	order, _ := pl.tpl.Order()
	for _, id := range order {
		r := pl.tpl.Resource(id)
		e, err := m.evalEnv(ctx, s, pl, s.Resources, false)
		if err != nil {
			return id, err.Error(), nil
		}
		if !active(e, r) {
			continue
		}
		h := m.handlerFor(r.Type)
		props, rerr := m.resolveProps(e, r)
		rec := s.Resources[id]
		if rec != nil && rec.PhysicalID != "" && rec.Type == r.Type {
			force := slices.Contains(s.Op.Force, id)
			if rerr == nil && reflect.DeepEqual(normalize(props), normalize(rec.Properties)) && !force &&
				rec.DeletionPolicy == r.DeletionPolicy && rec.UpdateReplacePolicy == r.UpdateReplacePolicy {
				continue
			}
			req := &resource.Request{LogicalID: id, Properties: props, OldProperties: rec.Properties, PhysicalID: rec.PhysicalID}
			m.resourceEvent(l, req, r.Type, rec.PhysicalID, UpdateInProgress, "", props)
			if rerr != nil {
				return m.failResource(ctx, l, rec, UpdateFailed, rerr.Error())
			}
			rec.Status, rec.Updated = UpdateInProgress, m.now()
			if err := m.save(ctx, l); err != nil {
				return "", "", err
			}
			m.crash("before-update:" + id)
			res, err := h.Update(ctx, m.env, req)
			if err != nil {
				return m.failResource(ctx, l, rec, UpdateFailed, err.Error())
			}
			if len(res.Warnings) > 0 {
				m.resourceEvent(l, req, r.Type, rec.PhysicalID, UpdateInProgress, strings.Join(res.Warnings, "; "), nil)
			}
			rec.Properties, rec.Attributes, rec.Status, rec.StatusReason = props, res.Attributes, UpdateCompleteResource, ""
			rec.DeletionPolicy, rec.UpdateReplacePolicy, rec.Drift = r.DeletionPolicy, r.UpdateReplacePolicy, nil
			m.resourceEvent(l, req, r.Type, rec.PhysicalID, UpdateCompleteResource, "", nil)
			if err := m.save(ctx, l); err != nil {
				return "", "", err
			}
			continue
		}
		// Create (or resume a create the crash interrupted: Recover has
		// looked the resource up by its token already).
		if rec == nil {
			rec = &ResourceRecord{LogicalID: id, Type: r.Type, Token: m.uuid()}
			s.Resources[id] = rec
		}
		rec.Status, rec.Updated, rec.Properties = CreateInProgress, m.now(), props
		rec.DeletionPolicy, rec.UpdateReplacePolicy = r.DeletionPolicy, r.UpdateReplacePolicy
		req := &resource.Request{LogicalID: id, Properties: props, Token: rec.Token}
		m.resourceEvent(l, req, r.Type, "", CreateInProgress, "", props)
		if rerr != nil {
			return m.failResource(ctx, l, rec, CreateFailed, rerr.Error())
		}
		if err := m.save(ctx, l); err != nil {
			return "", "", err
		}
		m.crash("before-create:" + id)
		res, err := h.Create(ctx, m.env, req)
		if err != nil {
			return m.failResource(ctx, l, rec, CreateFailed, err.Error())
		}
		m.crash("created:" + id) // made in CloudFront, not yet recorded here
		rec.PhysicalID, rec.Attributes = res.PhysicalID, res.Attributes
		reason := "Resource creation Initiated"
		if len(res.Warnings) > 0 {
			reason += "; " + strings.Join(res.Warnings, "; ")
		}
		m.resourceEvent(l, req, r.Type, rec.PhysicalID, CreateInProgress, reason, nil)
		rec.Status = CreateComplete
		m.resourceEvent(l, req, r.Type, rec.PhysicalID, CreateComplete, "", nil)
		if err := m.save(ctx, l); err != nil {
			return "", "", err
		}
		m.crash("after-create:" + id)
	}
	return "", "", nil
}

func (m *Manager) failResource(ctx context.Context, l *loaded, rec *ResourceRecord, status, reason string) (string, string, error) {
	rec.Status, rec.StatusReason = status, reason
	m.resourceEvent(l, &resource.Request{LogicalID: rec.LogicalID}, rec.Type, rec.PhysicalID, status, reason, nil)
	if err := m.save(ctx, l); err != nil {
		return "", "", err
	}
	return rec.LogicalID, reason, nil
}

// normalize makes resolved properties comparable whatever their origin
// (JSON round trip: stored records come back from JSON).
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// deleteOrder returns the records in the order to delete them: reverse
// dependency order of the template they came from, then the rest.
func deleteOrder(body string, recs map[string]*ResourceRecord) []string {
	var order []string
	if tpl, err := cfn.Parse([]byte(body)); err == nil {
		order, _ = tpl.Order()
	}
	var out []string
	for i := len(order) - 1; i >= 0; i-- {
		if _, ok := recs[order[i]]; ok {
			out = append(out, order[i])
		}
	}
	var rest []string
	for id := range recs {
		if !slices.Contains(out, id) {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	return append(rest, out...)
}

// deleteResources deletes the named records; retained ones are skipped.
// It returns the ids that failed.
func (m *Manager) deleteResources(ctx context.Context, l *loaded, ids []string, retain []string, onCreateRollback bool) ([]string, error) {
	var failed []string
	for _, id := range ids {
		rec := l.s.Resources[id]
		if rec == nil {
			continue
		}
		req := &resource.Request{LogicalID: id, PhysicalID: rec.PhysicalID}
		keep := slices.Contains(retain, id) || rec.DeletionPolicy == "Retain" || (rec.DeletionPolicy == "RetainExceptOnCreate" && !onCreateRollback)
		if keep && rec.PhysicalID != "" {
			m.resourceEvent(l, req, rec.Type, rec.PhysicalID, DeleteSkipped, "", nil)
			delete(l.s.Resources, id)
			if err := m.save(ctx, l); err != nil {
				return nil, err
			}
			continue
		}
		if rec.PhysicalID == "" {
			m.resourceEvent(l, req, rec.Type, "", DeleteComplete, "", nil)
			delete(l.s.Resources, id)
			if err := m.save(ctx, l); err != nil {
				return nil, err
			}
			continue
		}
		m.resourceEvent(l, req, rec.Type, rec.PhysicalID, DeleteInProgress, "", nil)
		rec.Status = DeleteInProgress
		if err := m.save(ctx, l); err != nil {
			return nil, err
		}
		m.crash("before-delete:" + id)
		if err := m.handlerFor(rec.Type).Delete(ctx, m.env, req); err != nil {
			rec.Status, rec.StatusReason = DeleteFailed, err.Error()
			m.resourceEvent(l, req, rec.Type, rec.PhysicalID, DeleteFailed, err.Error(), nil)
			if err := m.save(ctx, l); err != nil {
				return nil, err
			}
			failed = append(failed, id)
			continue
		}
		m.resourceEvent(l, req, rec.Type, rec.PhysicalID, DeleteComplete, "", nil)
		delete(l.s.Resources, id)
		if err := m.save(ctx, l); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

// planOf rebuilds the plan of an operation in progress.
func (m *Manager) planOf(s *Stack) (*plan, error) {
	tpl, err := m.parseTemplate(s.Op.Template)
	if err != nil {
		return nil, err
	}
	bound, err := cfn.BindParameters(tpl, s.Op.Parameters)
	if err != nil {
		return nil, asValidation(err)
	}
	return &plan{tpl: tpl, raw: s.Op.Parameters, bound: bound}, nil
}

// run executes (or resumes) the operation recorded in l.s.Op.
func (m *Manager) run(ctx context.Context, l *loaded) error {
	s := l.s
	switch s.Op.Kind {
	case "CREATE", "UPDATE":
		if s.Op.RollingBck {
			return m.rollback(ctx, l)
		}
		pl, err := m.planOf(s)
		if err != nil {
			return m.startRollback(ctx, l, "", err.Error())
		}
		failed, reason, err := m.apply(ctx, l, pl)
		if err != nil {
			return err
		}
		if failed != "" {
			return m.startRollback(ctx, l, failed, reason)
		}
		e, err := m.evalEnv(ctx, s, pl, s.Resources, false)
		if err != nil {
			return m.startRollback(ctx, l, "", err.Error())
		}
		outputs, err := m.resolveOutputs(ctx, s, e)
		if err != nil {
			return m.startRollback(ctx, l, "", err.Error())
		}
		s.Outputs = outputs
		s.Template, s.Parameters, s.ParamOrder, s.Description = s.Op.Template, s.Op.Parameters, pl.paramOrder, pl.tpl.Description
		s.NoEcho = nil
		for _, p := range pl.tpl.Parameters {
			if p.NoEcho {
				s.NoEcho = append(s.NoEcho, p.Key)
			}
		}
		if s.Op.Kind == "CREATE" {
			s.Status, s.StatusReason, s.Op = CreateComplete, "", nil
			m.stackEvent(l, CreateComplete, "")
			return m.save(ctx, l)
		}
		// Cleanup: resources the new template no longer has.
		var removed []string
		for id, rec := range s.Resources {
			r := pl.tpl.Resource(id)
			if r == nil || !active(e, r) || r.Type != rec.Type {
				removed = append(removed, id)
			}
		}
		s.Status = UpdateCompleteCleanupInProgress
		m.stackEvent(l, UpdateCompleteCleanupInProgress, "")
		if err := m.save(ctx, l); err != nil {
			return err
		}
		if len(removed) > 0 {
			ids := deleteOrder(s.Op.Prev.Template, subset(s.Resources, removed))
			if _, err := m.deleteResources(ctx, l, ids, nil, false); err != nil {
				return err
			}
		}
		s.Status, s.StatusReason, s.Op = UpdateComplete, "", nil
		m.stackEvent(l, UpdateComplete, "")
		return m.save(ctx, l)
	case "DELETE":
		ids := deleteOrder(s.Template, s.Resources)
		failed, err := m.deleteResources(ctx, l, ids, s.Op.Retain, false)
		if err != nil {
			return err
		}
		if len(failed) > 0 {
			s.Status = DeleteFailed
			s.StatusReason = fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(failed, ", "))
			s.Op = nil
			m.stackEvent(l, DeleteFailed, s.StatusReason)
			return m.save(ctx, l)
		}
		s.Status, s.StatusReason, s.Op, s.DeletionTime = DeleteComplete, "", nil, m.now()
		m.stackEvent(l, DeleteComplete, "")
		return m.save(ctx, l)
	}
	return fmt.Errorf("stack: unknown operation %q", s.Op.Kind)
}

func subset(recs map[string]*ResourceRecord, ids []string) map[string]*ResourceRecord {
	out := map[string]*ResourceRecord{}
	for _, id := range ids {
		out[id] = recs[id]
	}
	return out
}

// startRollback records the failure and rolls back (or stops, when
// rollback is disabled).
func (m *Manager) startRollback(ctx context.Context, l *loaded, failed, reason string) error {
	s := l.s
	if failed != "" {
		s.Op.Failed = append(s.Op.Failed, failed)
	}
	verb := "create"
	if s.Op.Kind == "UPDATE" {
		verb = "update"
	}
	summary := reason
	if len(s.Op.Failed) > 0 {
		summary = fmt.Sprintf("The following resource(s) failed to %s: [%s]. ", verb, strings.Join(s.Op.Failed, ", "))
	}
	if s.DisableRollback || s.OnFailure == "DO_NOTHING" {
		status := CreateFailed
		if s.Op.Kind == "UPDATE" {
			status = UpdateFailed
		}
		s.Status, s.StatusReason, s.Op = status, summary, nil
		m.stackEvent(l, status, summary)
		return m.save(ctx, l)
	}
	s.Op.RollingBck = true
	if s.Op.Kind == "CREATE" {
		// A reason of ours (not the failed-resources sentence) ends its own sentence.
		switch {
		case strings.HasSuffix(summary, ". "):
		case strings.HasSuffix(summary, "."):
			summary += " "
		default:
			summary += ". "
		}
		s.Status, s.StatusReason = RollbackInProgress, summary+"Rollback requested by user."
		m.stackEvent(l, RollbackInProgress, s.StatusReason)
	} else {
		s.Status, s.StatusReason = UpdateRollbackInProgress, summary
		m.stackEvent(l, UpdateRollbackInProgress, summary)
	}
	if err := m.save(ctx, l); err != nil {
		return err
	}
	return m.rollback(ctx, l)
}

// rollback undoes the operation in l.s.Op; it is idempotent, so Recover
// can call it again after a crash.
func (m *Manager) rollback(ctx context.Context, l *loaded) error {
	s := l.s
	if s.Op.Kind == "CREATE" {
		failed, err := m.deleteResources(ctx, l, deleteOrder(s.Op.Template, s.Resources), nil, true)
		if err != nil {
			return err
		}
		if len(failed) > 0 {
			s.Status, s.Op = RollbackFailed, nil
			s.StatusReason = fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(failed, ", "))
			m.stackEvent(l, RollbackFailed, s.StatusReason)
			return m.save(ctx, l)
		}
		if s.OnFailure == "DELETE" {
			s.Status, s.Op, s.DeletionTime = DeleteComplete, nil, m.now()
			m.stackEvent(l, DeleteComplete, "")
			return m.save(ctx, l)
		}
		s.Status, s.Op = RollbackComplete, nil
		m.stackEvent(l, RollbackComplete, "")
		return m.save(ctx, l)
	}
	// Update rollback: put every changed resource back, delete new ones.
	prev := s.Op.Prev
	var rollbackFailed []string
	var added []string
	for id, rec := range s.Resources {
		old, existed := prev.Resources[id]
		if !existed || old.PhysicalID != rec.PhysicalID {
			added = append(added, id)
			continue
		}
		if reflect.DeepEqual(normalize(old.Properties), normalize(rec.Properties)) && rec.Status != UpdateFailed && rec.Status != UpdateInProgress {
			continue
		}
		req := &resource.Request{LogicalID: id, Properties: old.Properties, OldProperties: rec.Properties, PhysicalID: rec.PhysicalID}
		m.resourceEvent(l, req, rec.Type, rec.PhysicalID, UpdateInProgress, "", old.Properties)
		if err := m.save(ctx, l); err != nil {
			return err
		}
		res, err := m.handlerFor(rec.Type).Update(ctx, m.env, req)
		if err != nil {
			rec.Status, rec.StatusReason = UpdateFailed, err.Error()
			m.resourceEvent(l, req, rec.Type, rec.PhysicalID, UpdateFailed, err.Error(), nil)
			rollbackFailed = append(rollbackFailed, id)
		} else {
			rec.Properties, rec.Attributes, rec.Status, rec.StatusReason = old.Properties, res.Attributes, UpdateCompleteResource, ""
			m.resourceEvent(l, req, rec.Type, rec.PhysicalID, UpdateCompleteResource, "", nil)
		}
		if err := m.save(ctx, l); err != nil {
			return err
		}
	}
	if len(rollbackFailed) > 0 {
		s.Status, s.Op = UpdateRollbackFailed, nil
		s.StatusReason = fmt.Sprintf("The following resource(s) failed to update: [%s]. ", strings.Join(rollbackFailed, ", "))
		m.stackEvent(l, UpdateRollbackFailed, s.StatusReason)
		return m.save(ctx, l)
	}
	s.Status = UpdateRollbackCompleteCleanupInProgress
	m.stackEvent(l, UpdateRollbackCompleteCleanupInProgress, "")
	if err := m.save(ctx, l); err != nil {
		return err
	}
	if _, err := m.deleteResources(ctx, l, deleteOrder(s.Op.Template, subset(s.Resources, added)), nil, true); err != nil {
		return err
	}
	// Resources the update removed before failing are not deleted until
	// cleanup, so the previous records still describe them.
	for id, old := range prev.Resources {
		if _, ok := s.Resources[id]; !ok {
			s.Resources[id] = old
		}
	}
	s.Template, s.Parameters, s.ParamOrder, s.NoEcho, s.Outputs, s.Description = prev.Template, prev.Parameters, prev.ParamOrder, prev.NoEcho, prev.Outputs, prev.Description
	s.Status, s.Op = UpdateRollbackComplete, nil
	m.stackEvent(l, UpdateRollbackComplete, "")
	return m.save(ctx, l)
}

// snapshot copies the stack's current state (the rollback target).
func snapshot(s *Stack) *Snapshot {
	recs := map[string]*ResourceRecord{}
	for id, r := range s.Resources {
		c := *r
		recs[id] = &c
	}
	return &Snapshot{Template: s.Template, Parameters: s.Parameters, ParamOrder: s.ParamOrder, NoEcho: s.NoEcho,
		Outputs: s.Outputs, Description: s.Description, Resources: recs}
}

// checkUpdatable answers CloudFormation's state errors.
func checkUpdatable(s *Stack) error {
	switch s.Status {
	case CreateComplete, UpdateComplete, UpdateRollbackComplete, UpdateFailed:
		return nil
	}
	return validationErr("Stack:%s is in %s state and can not be updated.", s.StackID, s.Status)
}
