package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/stagefront/stagefront/internal/cfn"
	"github.com/stagefront/stagefront/internal/cfn/resource"
	"github.com/stagefront/stagefront/internal/store"
)

const noChangesReason = "The submitted information didn't contain changes. Submit different information to create a change set."

// CreateStack creates a stack and runs the create to its end.
func (m *Manager) CreateStack(ctx context.Context, in Input) (*Stack, error) {
	if err := CheckName(in.StackName, "stackName"); err != nil {
		return nil, err
	}
	if in.UsePreviousTemplate {
		return nil, validationErr("UsePreviousTemplate can only be used with an existing stack")
	}
	existing, err := m.find(ctx, in.Region, in.StackName)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, &Error{Code: "AlreadyExistsException", Status: 400, Message: fmt.Sprintf("Stack [%s] already exists", in.StackName)}
	}
	pl, err := m.prepare(nil, in)
	if err != nil {
		return nil, err
	}
	l := m.newStack(in)
	l.s.Status = CreateInProgress
	l.s.Op = &Operation{Kind: "CREATE", Template: in.TemplateBody, Parameters: pl.raw}
	l.s.ParamOrder, l.s.Parameters, l.s.NoEcho = pl.paramOrder, pl.raw, pl.noEcho
	m.stackEvent(l, CreateInProgress, "User Initiated")
	if err := m.save(ctx, l); err != nil {
		return nil, err
	}
	return m.runLocked(ctx, l)
}

func (m *Manager) newStack(in Input) *loaded {
	id := m.uuid()
	s := &Stack{StackID: m.stackARN(in.Region, in.StackName, id), StackName: in.StackName, Region: in.Region,
		CreationTime: m.now(), DisableRollback: in.DisableRollback, OnFailure: in.OnFailure, Capabilities: in.Capabilities,
		Tags: in.Tags, NotificationARNs: in.NotificationARNs, Resources: map[string]*ResourceRecord{}}
	if in.OnFailure == "DO_NOTHING" {
		s.DisableRollback = true
	}
	return &loaded{s: s}
}

// runLocked runs l's operation under the stack's lock, detached from the
// caller's cancellation (a client that goes away must not leave a stack
// half-done), and returns the final stack.
func (m *Manager) runLocked(ctx context.Context, l *loaded) (*Stack, error) {
	unlock := m.lock(l.s.StackID)
	defer unlock()
	if err := m.run(context.WithoutCancel(ctx), l); err != nil {
		return nil, err
	}
	return l.s, nil
}

// UpdateStack updates a stack directly (no change set).
func (m *Manager) UpdateStack(ctx context.Context, in Input) (*Stack, error) {
	l, err := m.mustFind(ctx, in.Region, in.StackName)
	if err != nil {
		return nil, err
	}
	if err := checkUpdatable(l.s); err != nil {
		return nil, err
	}
	if in.UsePreviousTemplate {
		in.TemplateBody = ""
	}
	pl, err := m.prepare(l.s, in)
	if err != nil {
		return nil, err
	}
	changes, _, same, err := m.diff(ctx, l.s, pl, in, "")
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 && same {
		return nil, validationErr("No updates are to be performed.")
	}
	body := in.TemplateBody
	if in.UsePreviousTemplate {
		body = l.s.Template
	}
	return m.startUpdate(ctx, l, body, pl, in, nil)
}

func (m *Manager) startUpdate(ctx context.Context, l *loaded, body string, pl *plan, in Input, force []string) (*Stack, error) {
	s := l.s
	s.Op = &Operation{Kind: "UPDATE", Template: body, Parameters: pl.raw, Prev: snapshot(s), Force: force}
	s.Status, s.StatusReason, s.LastUpdatedTime = UpdateInProgress, "", m.now()
	if in.Tags != nil {
		s.Tags = in.Tags
	}
	if in.Capabilities != nil {
		s.Capabilities = in.Capabilities
	}
	s.DisableRollback = in.DisableRollback
	m.stackEvent(l, UpdateInProgress, "User Initiated")
	if err := m.save(ctx, l); err != nil {
		return nil, err
	}
	return m.runLocked(ctx, l)
}

// DeleteStack deletes a stack; an unknown name is a no-op, as on AWS.
func (m *Manager) DeleteStack(ctx context.Context, region, nameOrID string, retain []string) error {
	l, err := m.find(ctx, region, nameOrID)
	if err != nil || l == nil || l.s.Status == DeleteComplete {
		return err
	}
	s := l.s
	if strings.HasSuffix(s.Status, "_IN_PROGRESS") && s.Status != ReviewInProgress {
		return validationErr("Stack [%s] cannot be deleted while in status %s", s.StackName, s.Status)
	}
	if len(retain) > 0 && s.Status != DeleteFailed {
		return validationErr("Invalid operation on stack [%s]. RetainResources can only be specified when the stack is in the DELETE_FAILED state", s.StackID)
	}
	for _, o := range s.Outputs {
		if o.ExportName == "" {
			continue
		}
		users, err := m.importers(ctx, region, s.StackID, o.ExportName)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return validationErr("Export %s cannot be deleted as it is in use by %s", o.ExportName, strings.Join(users, ", "))
		}
	}
	s.Op = &Operation{Kind: "DELETE", Retain: retain}
	s.Status, s.StatusReason = DeleteInProgress, "User Initiated"
	m.stackEvent(l, DeleteInProgress, "User Initiated")
	if err := m.save(ctx, l); err != nil {
		return err
	}
	m.deleteChangeSets(ctx, s)
	_, err = m.runLocked(ctx, l)
	return err
}

// diff computes the resource changes from the stack's current state to
// pl; same reports that outputs, parameters, description and tags are
// unchanged too.
func (m *Manager) diff(ctx context.Context, s *Stack, pl *plan, in Input, mode string) (changes []Change, force []string, same bool, err error) {
	e, err := m.evalEnv(ctx, s, pl, s.Resources, true)
	if err != nil {
		return nil, nil, false, err
	}
	var typeChanged []string
	order, _ := pl.tpl.Order()
	for _, id := range order {
		r := pl.tpl.Resource(id)
		if !active(e, r) {
			continue
		}
		props, err := m.resolveProps(e, r)
		if err != nil {
			return nil, nil, false, asValidation(err)
		}
		rec := s.Resources[id]
		if rec == nil || rec.PhysicalID == "" {
			changes = append(changes, Change{Action: "Add", LogicalID: id, Type: r.Type})
			continue
		}
		if rec.Type != r.Type {
			typeChanged = append(typeChanged, id)
			continue
		}
		c := Change{Action: "Modify", LogicalID: id, PhysicalID: rec.PhysicalID, Type: r.Type, Replacement: "False"}
		newN, oldN := normalize(props).(map[string]any), normalize(rec.Properties).(map[string]any)
		var keys []string
		for k := range newN {
			keys = append(keys, k)
		}
		for k := range oldN {
			if _, ok := newN[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if reflect.DeepEqual(newN[k], oldN[k]) {
				continue
			}
			d := ChangeDetail{Name: k, Attribute: "Properties", RequiresRecreation: "Never", Evaluation: "Static", ChangeSource: "DirectModification"}
			if isPending(newN[k]) {
				d.Evaluation, d.ChangeSource = "Dynamic", "ResourceReference"
			}
			c.Details = append(c.Details, d)
		}
		if len(c.Details) > 0 {
			c.Scope = append(c.Scope, "Properties")
		}
		if rec.DeletionPolicy != r.DeletionPolicy {
			c.Scope = append(c.Scope, "DeletionPolicy")
		}
		if rec.UpdateReplacePolicy != r.UpdateReplacePolicy {
			c.Scope = append(c.Scope, "UpdateReplacePolicy")
		}
		if len(c.Scope) == 0 && mode == "REVERT_DRIFT" {
			diffs, err := m.driftOf(ctx, rec, props)
			if err != nil {
				return nil, nil, false, err
			}
			for _, d := range diffs {
				name := strings.SplitN(strings.TrimPrefix(d.PropertyPath, "/"), "/", 2)[0]
				c.Details = append(c.Details, ChangeDetail{Name: name, Attribute: "Properties", RequiresRecreation: "Never", Evaluation: "Static", ChangeSource: "DirectModification"})
			}
			if len(diffs) > 0 {
				c.Scope = []string{"Properties"}
				force = append(force, id)
			}
		}
		if len(c.Scope) > 0 {
			changes = append(changes, c)
		}
	}
	if len(typeChanged) > 0 {
		return nil, nil, false, validationErr("Update of resource type is not permitted. The new template modifies resource type of the following resources: [%s]", strings.Join(typeChanged, ", "))
	}
	var removed []string
	for id, rec := range s.Resources {
		r := pl.tpl.Resource(id)
		if r == nil || !active(e, r) {
			removed = append(removed, id)
			_ = rec
		}
	}
	sort.Strings(removed)
	for _, id := range removed {
		rec := s.Resources[id]
		changes = append(changes, Change{Action: "Remove", LogicalID: id, PhysicalID: rec.PhysicalID, Type: rec.Type})
	}
	outputs, err := m.resolveOutputs(ctx, s, e)
	if err != nil {
		return nil, nil, false, asValidation(err)
	}
	same = reflect.DeepEqual(normalize(outputs), normalize(s.Outputs)) && !isPending(outputs) &&
		sameParams(pl.raw, s.Parameters) && pl.tpl.Description == s.Description &&
		(in.Tags == nil || reflect.DeepEqual(normalize(in.Tags), normalize(s.Tags)) || (len(in.Tags) == 0 && len(s.Tags) == 0))
	return changes, force, same, nil
}

// ChangeSetInput is CreateChangeSet's input.
type ChangeSetInput struct {
	Input
	ChangeSetName  string
	ChangeSetType  string // CREATE, UPDATE (default)
	Description    string
	DeploymentMode string
}

// CreateChangeSet computes a change set synchronously: it is
// CREATE_COMPLETE (or FAILED, when empty) when the call returns.
func (m *Manager) CreateChangeSet(ctx context.Context, in ChangeSetInput) (*ChangeSet, error) {
	if err := CheckName(in.StackName, "stackName"); err != nil {
		return nil, err
	}
	if err := CheckName(in.ChangeSetName, "changeSetName"); err != nil {
		return nil, err
	}
	typ := in.ChangeSetType
	if typ == "" {
		typ = "UPDATE"
	}
	if typ != "CREATE" && typ != "UPDATE" {
		return nil, validationErr("ChangeSetType %s is not supported by stagefront", typ)
	}
	if in.DeploymentMode != "" && in.DeploymentMode != "REVERT_DRIFT" {
		return nil, validationErr("1 validation error detected: Value '%s' at 'deploymentMode' failed to satisfy constraint: Member must satisfy enum value set: [REVERT_DRIFT]", in.DeploymentMode)
	}
	l, err := m.find(ctx, in.Region, in.StackName)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == "CREATE" && l != nil && l.s.Status != ReviewInProgress:
		return nil, &Error{Code: "AlreadyExistsException", Status: 400, Message: fmt.Sprintf("Stack [%s] already exists", in.StackName)}
	case typ == "UPDATE" && l == nil:
		return nil, validationErr("Stack [%s] does not exist", in.StackName)
	case typ == "UPDATE" && l.s.Status == ReviewInProgress:
		return nil, validationErr("Stack [%s] does not exist", in.StackName)
	case typ == "UPDATE":
		if err := checkUpdatable(l.s); err != nil {
			return nil, err
		}
	}
	if in.DeploymentMode == "REVERT_DRIFT" && typ != "UPDATE" {
		return nil, validationErr("DeploymentMode REVERT_DRIFT requires ChangeSetType UPDATE")
	}
	var prev *Stack
	if l != nil {
		prev = l.s
	}
	pl, err := m.prepare(prev, in.Input)
	if err != nil {
		return nil, err
	}
	body := in.TemplateBody
	if in.UsePreviousTemplate && prev != nil {
		body = prev.Template
	}
	if l == nil {
		l = m.newStack(in.Input)
		l.s.Status = ReviewInProgress
		m.stackEvent(l, ReviewInProgress, "User Initiated")
		if err := m.save(ctx, l); err != nil {
			return nil, err
		}
	}
	cs := &ChangeSet{Name: in.ChangeSetName, StackID: l.s.StackID, StackName: l.s.StackName, Type: typ,
		Description: in.Description, Template: body, Parameters: pl.raw, ParamOrder: pl.paramOrder, Capabilities: in.Capabilities,
		Tags: in.Tags, CreationTime: m.now(), DeploymentMode: in.DeploymentMode}
	existing, err := m.changeSets(ctx, l.s)
	if err != nil {
		return nil, err
	}
	for _, x := range existing {
		if x.Name == in.ChangeSetName {
			return nil, &Error{Code: "AlreadyExistsException", Status: 400, Message: fmt.Sprintf("ChangeSet %s already exists", in.ChangeSetName)}
		}
	}
	cs.ID = m.changeSetARN(in.Region, in.ChangeSetName, m.uuid())
	changes, force, same, err := m.diff(ctx, l.s, pl, in.Input, in.DeploymentMode)
	if err != nil {
		return nil, err
	}
	cs.Changes, cs.Force = changes, force
	cs.Status, cs.ExecutionStatus = "CREATE_COMPLETE", "AVAILABLE"
	if typ == "UPDATE" && len(changes) == 0 && same {
		cs.Status, cs.ExecutionStatus, cs.StatusReason = "FAILED", "UNAVAILABLE", noChangesReason
	}
	if err := m.putChangeSet(ctx, in.Region, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

func (m *Manager) putChangeSet(ctx context.Context, region string, cs *ChangeSet) error {
	b, err := encode(cs)
	if err != nil {
		return err
	}
	_, err = m.st.Txn(ctx, nil, []store.Op{{Key: changeSetPrefix(region, uuidOf(cs.StackID)) + uuidOf(cs.ID), Value: b}})
	if err != nil {
		return fmt.Errorf("stack: save change set: %w", err)
	}
	return nil
}

func (m *Manager) changeSets(ctx context.Context, s *Stack) ([]*ChangeSet, error) {
	kvs, _, err := m.st.List(ctx, changeSetPrefix(s.Region, uuidOf(s.StackID)))
	if err != nil {
		return nil, fmt.Errorf("stack: list change sets: %w", err)
	}
	var out []*ChangeSet
	for _, kv := range kvs {
		cs := new(ChangeSet)
		if err := json.Unmarshal(kv.Value, cs); err != nil {
			return nil, fmt.Errorf("stack: decode change set: %w", err)
		}
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreationTime.Before(out[j].CreationTime) })
	return out, nil
}

func (m *Manager) deleteChangeSets(ctx context.Context, s *Stack) {
	sets, err := m.changeSets(ctx, s)
	if err != nil {
		return
	}
	var ops []store.Op
	for _, cs := range sets {
		ops = append(ops, store.Op{Key: changeSetPrefix(s.Region, uuidOf(s.StackID)) + uuidOf(cs.ID), Delete: true})
	}
	if len(ops) > 0 {
		if _, err := m.st.Txn(ctx, nil, ops); err != nil {
			m.log.Warn("cloudformation: dropping change sets", "stack", s.StackName, "err", err)
		}
	}
}

// ChangeSet finds a change set by ARN, or by name within a stack.
func (m *Manager) ChangeSet(ctx context.Context, region, nameOrARN, stackName string) (*Stack, *ChangeSet, error) {
	notFound := &Error{Code: "ChangeSetNotFound", Status: 404, Message: fmt.Sprintf("ChangeSet [%s] does not exist", nameOrARN)}
	var l *loaded
	var err error
	if strings.HasPrefix(nameOrARN, "arn:") {
		all, err := m.list(ctx, region)
		if err != nil {
			return nil, nil, err
		}
		for i := len(all) - 1; i >= 0 && l == nil; i-- {
			sets, err := m.changeSets(ctx, all[i].s)
			if err != nil {
				return nil, nil, err
			}
			for _, cs := range sets {
				if cs.ID == nameOrARN {
					return all[i].s, cs, nil
				}
			}
		}
		return nil, nil, notFound
	}
	if stackName == "" {
		return nil, nil, validationErr("StackName must be specified if ChangeSetName is not specified as an ARN.")
	}
	if l, err = m.find(ctx, region, stackName); err != nil {
		return nil, nil, err
	}
	if l == nil {
		return nil, nil, notFound
	}
	sets, err := m.changeSets(ctx, l.s)
	if err != nil {
		return nil, nil, err
	}
	for _, cs := range sets {
		if cs.Name == nameOrARN {
			return l.s, cs, nil
		}
	}
	return nil, nil, notFound
}

// ListChangeSets lists a stack's change sets.
func (m *Manager) ListChangeSets(ctx context.Context, region, stackName string) ([]*ChangeSet, error) {
	l, err := m.mustFind(ctx, region, stackName)
	if err != nil {
		return nil, err
	}
	return m.changeSets(ctx, l.s)
}

// DeleteChangeSet deletes a change set that is not executing.
func (m *Manager) DeleteChangeSet(ctx context.Context, region, nameOrARN, stackName string) error {
	s, cs, err := m.ChangeSet(ctx, region, nameOrARN, stackName)
	if err != nil {
		return err
	}
	if cs.ExecutionStatus == "EXECUTE_IN_PROGRESS" {
		return &Error{Code: "InvalidChangeSetStatus", Status: 400, Message: fmt.Sprintf("ChangeSet [%s] cannot be deleted in its current status of [%s]", cs.ID, cs.ExecutionStatus)}
	}
	_, err = m.st.Txn(ctx, nil, []store.Op{{Key: changeSetPrefix(region, uuidOf(s.StackID)) + uuidOf(cs.ID), Delete: true}})
	if err != nil {
		return fmt.Errorf("stack: delete change set: %w", err)
	}
	return nil
}

// ExecuteChangeSet runs a change set to its end.
func (m *Manager) ExecuteChangeSet(ctx context.Context, region, nameOrARN, stackName string, disableRollback bool) (*Stack, error) {
	s, cs, err := m.ChangeSet(ctx, region, nameOrARN, stackName)
	if err != nil {
		return nil, err
	}
	if cs.ExecutionStatus != "AVAILABLE" {
		return nil, &Error{Code: "InvalidChangeSetStatus", Status: 400, Message: fmt.Sprintf("ChangeSet [%s] cannot be executed in its current status of [%s]", cs.ID, cs.Status)}
	}
	l, err := m.mustFind(ctx, region, s.StackID)
	if err != nil {
		return nil, err
	}
	in := Input{Region: region, StackName: s.StackName, TemplateBody: cs.Template, Capabilities: cs.Capabilities, Tags: cs.Tags, DisableRollback: disableRollback}
	for k, v := range cs.Parameters {
		in.Parameters = append(in.Parameters, ParamInput{Key: k, Value: v})
	}
	pl, err := m.prepare(l.s, in)
	if err != nil {
		return nil, err
	}
	m.deleteChangeSets(ctx, l.s)
	l.s.ChangeSetID = cs.ID
	if cs.Type == "CREATE" {
		if l.s.Status != ReviewInProgress {
			return nil, validationErr("Stack:%s is in %s state and can not be updated.", l.s.StackID, l.s.Status)
		}
		s := l.s
		s.Status, s.DisableRollback = CreateInProgress, disableRollback
		s.Op = &Operation{Kind: "CREATE", Template: cs.Template, Parameters: pl.raw}
		s.ParamOrder, s.Parameters, s.NoEcho, s.Tags, s.Capabilities = pl.paramOrder, pl.raw, pl.noEcho, cs.Tags, cs.Capabilities
		m.stackEvent(l, CreateInProgress, "User Initiated")
		if err := m.save(ctx, l); err != nil {
			return nil, err
		}
		return m.runLocked(ctx, l)
	}
	if err := checkUpdatable(l.s); err != nil {
		return nil, err
	}
	return m.startUpdate(ctx, l, cs.Template, pl, in, cs.Force)
}

// Template returns the template body of a stack or change set.
func (m *Manager) Template(ctx context.Context, region, stackName, changeSetName string) (string, error) {
	if changeSetName != "" {
		_, cs, err := m.ChangeSet(ctx, region, changeSetName, stackName)
		if err != nil {
			return "", err
		}
		return cs.Template, nil
	}
	l, err := m.mustFind(ctx, region, stackName)
	if err != nil {
		return "", err
	}
	if l.s.Template == "" && l.s.Op != nil {
		return l.s.Op.Template, nil
	}
	return l.s.Template, nil
}

// Summary is GetTemplateSummary / ValidateTemplate's view of a template.
type Summary struct {
	Template      *cfn.Template
	ResourceTypes []string
}

// Validate parses and checks a template body.
func (m *Manager) Validate(body string) (*cfn.Template, error) { return m.parseTemplate(body) }

// Resources lists a stack's resources (one when logicalID is set).
func (m *Manager) Resources(ctx context.Context, region, stackName, logicalID, physicalID string) (*Stack, []*ResourceRecord, error) {
	var l *loaded
	var err error
	if stackName == "" && physicalID != "" {
		all, lerr := m.list(ctx, region)
		if lerr != nil {
			return nil, nil, lerr
		}
		for _, x := range all {
			for _, r := range x.s.Resources {
				if r.PhysicalID == physicalID && x.s.Status != DeleteComplete {
					l = x
				}
			}
		}
		if l == nil {
			return nil, nil, validationErr("Stack for %s does not exist", physicalID)
		}
	} else if l, err = m.mustFind(ctx, region, stackName); err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(l.s.Resources))
	for id := range l.s.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*ResourceRecord
	for _, id := range ids {
		r := l.s.Resources[id]
		if (logicalID == "" || r.LogicalID == logicalID) && (physicalID == "" || r.PhysicalID == physicalID) {
			out = append(out, r)
		}
	}
	if logicalID != "" && len(out) == 0 {
		return nil, nil, validationErr("Resource %s does not exist for stack %s", logicalID, l.s.StackName)
	}
	return l.s, out, nil
}

// Recover resumes or rolls back every operation a crash interrupted.
// Resources whose create was in flight are looked up by their token first,
// so none is left orphaned.
func (m *Manager) Recover(ctx context.Context, region string) error {
	all, err := m.list(ctx, region)
	if err != nil {
		return err
	}
	for _, l := range all {
		if l.s.Op == nil {
			continue
		}
		if ok, err := m.recoverable(ctx, l.s); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		// Claim it: a node that read the stack at the same revision fails
		// its own claim and leaves the operation to this one.
		prev := l.s.Op.Owner
		l.s.Op.Owner = m.opts.Node
		if err := m.save(ctx, l); err != nil {
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			return fmt.Errorf("cloudformation: claim %s: %w", l.s.StackName, err)
		}
		m.log.Info("cloudformation: recovering an interrupted operation", "stack", l.s.StackName, "status", l.s.Status, "owner", prev)
		for _, rec := range l.s.Resources {
			if rec.PhysicalID != "" || rec.Token == "" {
				continue
			}
			h := m.handlerFor(rec.Type)
			if h == nil || h.Find == nil {
				continue
			}
			id, err := h.Find(ctx, m.env, &resource.Request{LogicalID: rec.LogicalID, Properties: rec.Properties, Token: rec.Token})
			if err != nil {
				return fmt.Errorf("cloudformation: recover %s/%s: %w", l.s.StackName, rec.LogicalID, err)
			}
			if id != "" {
				rec.PhysicalID = id
				if r, err := h.Read(ctx, m.env, id); err == nil {
					rec.Attributes = r.Attributes
				}
			}
		}
		reason := "stagefront restarted while the operation was in progress"
		if prev != "" && prev != m.opts.Node {
			reason = fmt.Sprintf("stagefront node %s stopped while the operation was in progress", prev)
		}
		var runErr error
		switch {
		case l.s.Op.Kind == "DELETE" || l.s.Op.RollingBck:
			_, runErr = m.runLocked(ctx, l)
		default:
			unlock := m.lock(l.s.StackID)
			runErr = m.startRollback(context.WithoutCancel(ctx), l, "", reason)
			unlock()
		}
		if runErr != nil {
			return fmt.Errorf("cloudformation: recover %s: %w", l.s.StackName, runErr)
		}
	}
	return nil
}

// Regions lists the regions that have stacks.
func (m *Manager) Regions(ctx context.Context) ([]string, error) {
	kvs, _, err := m.st.List(ctx, "cfn/")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, "cfn/"), "/", 2)
		if len(parts) == 2 && strings.HasPrefix(parts[1], "stacks/") && !seen[parts[0]] {
			seen[parts[0]] = true
			out = append(out, parts[0])
		}
	}
	return out, nil
}

// AsError returns the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// sameParams compares parameter maps, an empty map equal to none (a stored
// stack without parameters decodes to nil).
func sameParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
