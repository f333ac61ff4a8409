package stack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stagefront/stagefront/internal/cfn"
	"github.com/stagefront/stagefront/internal/cfn/resource"
	"github.com/stagefront/stagefront/internal/store"
)

// Options configure a Manager.
type Options struct {
	AccountID string
	Clock     func() time.Time
	Rand      io.Reader
	Logger    *slog.Logger
	// Strict turns off the tolerant key repair (see docs/cloudformation.md).
	Strict bool
	// CrashPoint, when set, is called at named points of an operation
	// (tests kill the process there).
	CrashPoint func(point string)
	// Node names this process among the API nodes sharing the store; it
	// owns the operations it starts. Keep it across restarts (host and
	// listen address), so a restarted node recovers its own operations at
	// once. Default "local".
	Node string
	// LeaseTTL is how long after a node's last heartbeat its operations are
	// still its own; then another node recovers them. Default 15s.
	LeaseTTL time.Duration
}

// Manager runs stacks over a store and the resource handlers.
type Manager struct {
	st    store.Store
	env   *resource.Env
	types map[string]*resource.Handler
	opts  Options
	log   *slog.Logger
	// locks serialises operations on one stack within the process; the
	// store's compare-and-swap serialises them across processes.
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	// running holds the stacks whose operation this process runs: recovery
	// leaves them alone whoever the recorded owner is.
	running map[string]bool
}

// New returns a Manager.
func New(st store.Store, env *resource.Env, opts Options) *Manager {
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Node == "" {
		opts.Node = "local"
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	env.Strict = opts.Strict
	return &Manager{st: st, env: env, types: resource.Types(), opts: opts, log: opts.Logger, locks: map[string]*sync.Mutex{}, running: map[string]bool{}}
}

func (m *Manager) now() time.Time { return m.opts.Clock().UTC().Truncate(time.Millisecond) }

func (m *Manager) uuid() string {
	var b [16]byte
	_, _ = io.ReadFull(m.opts.Rand, b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (m *Manager) crash(point string) {
	if m.opts.CrashPoint != nil {
		m.opts.CrashPoint(point)
	}
}

func (m *Manager) lock(stackID string) func() {
	m.mu.Lock()
	l, ok := m.locks[stackID]
	if !ok {
		l = &sync.Mutex{}
		m.locks[stackID] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// loaded is a stack with the store revision it was read at.
type loaded struct {
	s   *Stack
	rev int64
	// pending events, written with the next save.
	events []Event
}

func uuidOf(stackID string) string { return stackID[strings.LastIndexByte(stackID, '/')+1:] }

var stackNamePattern = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]*$`)

// CheckName validates a stack or change set name.
func CheckName(name, member string) error {
	if len(name) > 128 || !stackNamePattern.MatchString(name) {
		return validationErr("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", name, member)
	}
	return nil
}

func (m *Manager) list(ctx context.Context, region string) ([]*loaded, error) {
	kvs, _, err := m.st.List(ctx, stackPrefix(region))
	if err != nil {
		return nil, fmt.Errorf("stack: list: %w", err)
	}
	out := make([]*loaded, 0, len(kvs))
	for _, kv := range kvs {
		s := new(Stack)
		if err := json.Unmarshal(kv.Value, s); err != nil {
			return nil, fmt.Errorf("stack: decode %s: %w", kv.Key, err)
		}
		if s.Resources == nil {
			s.Resources = map[string]*ResourceRecord{}
		}
		out = append(out, &loaded{s: s, rev: kv.ModRevision})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].s.CreationTime.Before(out[j].s.CreationTime) })
	return out, nil
}

// find returns the stack named by a name (live stacks only) or an ARN
// (deleted ones too); nil when there is none.
func (m *Manager) find(ctx context.Context, region, nameOrID string) (*loaded, error) {
	if strings.HasPrefix(nameOrID, "arn:") {
		if !strings.Contains(nameOrID, ":stack/") {
			return nil, nil
		}
		kv, err := m.st.Get(ctx, stackKey(region, uuidOf(nameOrID)))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("stack: get: %w", err)
		}
		s := new(Stack)
		if err := json.Unmarshal(kv.Value, s); err != nil {
			return nil, fmt.Errorf("stack: decode: %w", err)
		}
		if s.StackID != nameOrID {
			return nil, nil
		}
		if s.Resources == nil {
			s.Resources = map[string]*ResourceRecord{}
		}
		return &loaded{s: s, rev: kv.ModRevision}, nil
	}
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.s.StackName == nameOrID && l.s.Status != DeleteComplete {
			return l, nil
		}
	}
	return nil, nil
}

// mustFind is find with CloudFormation's "does not exist" error.
func (m *Manager) mustFind(ctx context.Context, region, nameOrID string) (*loaded, error) {
	l, err := m.find(ctx, region, nameOrID)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, validationErr("Stack with id %s does not exist", nameOrID)
	}
	return l, nil
}

// event queues a stack-level event.
func (m *Manager) stackEvent(l *loaded, status, reason string) {
	l.events = append(l.events, Event{LogicalResourceID: l.s.StackName, PhysicalResourceID: l.s.StackID,
		ResourceType: StackType, ResourceStatus: status, StatusReason: reason})
}

func (m *Manager) resourceEvent(l *loaded, r *resource.Request, typ, physicalID, status, reason string, props map[string]any) {
	e := Event{LogicalResourceID: r.LogicalID, PhysicalResourceID: physicalID, ResourceType: typ, ResourceStatus: status, StatusReason: reason}
	if props != nil {
		b, _ := json.Marshal(m.masked(l.s, props))
		e.ResourceProperties = string(b)
	}
	l.events = append(l.events, e)
}

// masked hides NoEcho parameter values in event properties.
func (m *Manager) masked(s *Stack, props map[string]any) any {
	if len(s.NoEcho) == 0 {
		return props
	}
	secrets := map[string]bool{}
	for _, k := range s.NoEcho {
		if v := s.Parameters[k]; v != "" {
			secrets[v] = true
		}
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range t {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = walk(e)
			}
			return out
		case string:
			if secrets[t] {
				return "****"
			}
		}
		return v
	}
	return walk(props)
}

// save writes the stack and its queued events in one transaction, guarded
// by the revision it was read at.
func (m *Manager) save(ctx context.Context, l *loaded) error {
	now := m.now()
	// running marks the stacks whose operation this process is carrying
	// out, so that recovery leaves them alone. It is set before an
	// operation's state is written and cleared only after the write that
	// ends it has committed: recovery that reads the stack in between
	// still sees it as this process's, instead of claiming an operation
	// that is finishing (and failing its last write).
	id := l.s.StackID
	m.mu.Lock()
	wasRunning := m.running[id]
	if l.s.Op != nil {
		if l.s.Op.Owner == "" {
			l.s.Op.Owner = m.opts.Node
		}
		m.running[id] = true
	}
	m.mu.Unlock()
	// A write that fails leaves the mark as it was: a second caller's
	// conflicting write must not unmark the operation that won.
	committed := false
	defer func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if (committed && l.s.Op == nil) || (!committed && !wasRunning) {
			delete(m.running, id)
		}
	}()
	var ops []store.Op
	region := l.s.Region
	for _, e := range l.events {
		l.s.EventSeq++
		e.StackID, e.StackName, e.EventID, e.Timestamp = l.s.StackID, l.s.StackName, m.uuid(), now
		b, err := encode(e)
		if err != nil {
			return err
		}
		ops = append(ops, store.Op{Key: fmt.Sprintf("%s%010d", eventPrefix(region, uuidOf(l.s.StackID)), l.s.EventSeq), Value: b})
	}
	b, err := encode(l.s)
	if err != nil {
		return err
	}
	key := stackKey(region, uuidOf(l.s.StackID))
	ops = append(ops, store.Op{Key: key, Value: b})
	rev, err := m.st.Txn(ctx, []store.Cond{{Key: key, ModRevision: l.rev}}, ops)
	committed = err == nil
	if errors.Is(err, store.ErrConflict) {
		return &Error{Code: "ValidationError", Status: 400, Message: fmt.Sprintf("Stack:%s was changed by another operation; retry", l.s.StackID), Err: err}
	}
	if err != nil {
		return fmt.Errorf("stack: save %s: %w", l.s.StackName, err)
	}
	l.rev, l.events = rev, nil
	return nil
}

// Events returns a stack's events, newest first.
func (m *Manager) Events(ctx context.Context, region, nameOrID string) ([]Event, error) {
	l, err := m.mustFind(ctx, region, nameOrID)
	if err != nil {
		return nil, err
	}
	kvs, _, err := m.st.List(ctx, eventPrefix(region, uuidOf(l.s.StackID)))
	if err != nil {
		return nil, fmt.Errorf("stack: events: %w", err)
	}
	out := make([]Event, 0, len(kvs))
	for i := len(kvs) - 1; i >= 0; i-- {
		var e Event
		if err := json.Unmarshal(kvs[i].Value, &e); err != nil {
			return nil, fmt.Errorf("stack: decode event: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Describe returns one stack (by name or ARN), or every live stack when
// nameOrID is empty.
func (m *Manager) Describe(ctx context.Context, region, nameOrID string) ([]*Stack, error) {
	if nameOrID != "" {
		l, err := m.mustFind(ctx, region, nameOrID)
		if err != nil {
			return nil, err
		}
		return []*Stack{l.s}, nil
	}
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []*Stack
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].s.Status != DeleteComplete {
			out = append(out, all[i].s)
		}
	}
	return out, nil
}

// List returns every stack of the region, deleted ones included, newest first.
func (m *Manager) List(ctx context.Context, region string) ([]*Stack, error) {
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	out := make([]*Stack, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, all[i].s)
	}
	return out, nil
}

// Exports lists every export of the region's live stacks.
type Export struct{ StackID, Name, Value string }

// Exports returns the region's exports.
func (m *Manager) Exports(ctx context.Context, region string) ([]Export, error) {
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []Export
	for _, l := range all {
		if l.s.Status == DeleteComplete || l.s.Status == ReviewInProgress {
			continue
		}
		for _, o := range l.s.Outputs {
			if o.ExportName != "" {
				out = append(out, Export{StackID: l.s.StackID, Name: o.ExportName, Value: o.Value})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// importers returns the live stacks (other than self) whose template imports name.
func (m *Manager) importers(ctx context.Context, region, self, name string) ([]string, error) {
	all, err := m.list(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range all {
		if l.s.StackID == self || l.s.Status == DeleteComplete || l.s.Template == "" {
			continue
		}
		if strings.Contains(l.s.Template, name) && strings.Contains(l.s.Template, "ImportValue") {
			out = append(out, l.s.StackName)
		}
	}
	return out, nil
}

func (m *Manager) stackARN(region, name, uuid string) string {
	return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", region, m.opts.AccountID, name, uuid)
}

func (m *Manager) changeSetARN(region, name, uuid string) string {
	return fmt.Sprintf("arn:aws:cloudformation:%s:%s:changeSet/%s/%s", region, m.opts.AccountID, name, uuid)
}

// parseTemplate parses a template and checks every resource type.
func (m *Manager) parseTemplate(body string) (*cfn.Template, error) {
	if body == "" {
		return nil, validationErr("Either Template URL or Template Body must be specified.")
	}
	tpl, err := cfn.Parse([]byte(body))
	if err != nil {
		return nil, asValidation(err)
	}
	var unknown, reasons []string
	for _, t := range tpl.ResourceTypes() {
		h, ok := m.types[t]
		if !ok {
			unknown = append(unknown, t)
			continue
		}
		if h.Unsupported != "" {
			unknown = append(unknown, t)
			reasons = append(reasons, h.Unsupported)
		}
	}
	if len(unknown) > 0 {
		msg := fmt.Sprintf("Template format error: Unrecognized resource types: [%s]", strings.Join(unknown, ", "))
		if len(reasons) > 0 {
			msg += " (" + strings.Join(reasons, "; ") + ")"
		}
		return nil, validationErr("%s", msg)
	}
	for _, r := range tpl.Resources {
		if r.DeletionPolicy == "Snapshot" || r.UpdateReplacePolicy == "Snapshot" {
			return nil, validationErr("Template format error: [/Resources/%s] %s does not support the Snapshot policy", r.LogicalID, r.Type)
		}
	}
	// GetAtt attributes are checked statically, as CloudFormation does.
	var bad error
	for i := range tpl.Resources {
		walkGetAtt(tpl.Resources[i].Properties, func(res, attr string) {
			if bad != nil {
				return
			}
			target := tpl.Resource(res)
			if target == nil {
				return
			}
			if !contains(m.types[target.Type].Attributes, attr) {
				bad = validationErr("Template error: resource %s does not support attribute type %s in Fn::GetAtt", res, attr)
			}
		})
	}
	for _, o := range tpl.Outputs {
		walkGetAtt(o.Value, func(res, attr string) {
			if target := tpl.Resource(res); bad == nil && target != nil && !contains(m.types[target.Type].Attributes, attr) {
				bad = validationErr("Template error: resource %s does not support attribute type %s in Fn::GetAtt", res, attr)
			}
		})
	}
	return tpl, bad
}

func walkGetAtt(v any, fn func(res, attr string)) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			walkGetAtt(e, fn)
		}
	case map[string]any:
		if ga, ok := t["Fn::GetAtt"].([]any); ok && len(t) == 1 && len(ga) == 2 {
			res, _ := ga[0].(string)
			attr, _ := ga[1].(string)
			if attr != "" {
				fn(res, attr)
			}
			return
		}
		if s, ok := t["Fn::Sub"].(string); ok && len(t) == 1 {
			for _, part := range strings.Split(s, "${")[1:] {
				name, _, _ := strings.Cut(part, "}")
				if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") && !strings.HasPrefix(name, "!") {
					fn(res, attr)
				}
			}
			return
		}
		for _, e := range t {
			walkGetAtt(e, fn)
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func asValidation(err error) error {
	var fe *cfn.FormatError
	if errors.As(err, &fe) {
		return validationErr("%s", fe.Message)
	}
	return err
}

// Importers lists the stacks that import an export.
func (m *Manager) Importers(ctx context.Context, region, name string) ([]string, error) {
	exports, err := m.Exports(ctx, region)
	if err != nil {
		return nil, err
	}
	found := false
	for _, x := range exports {
		found = found || x.Name == name
	}
	if !found {
		return nil, validationErr("Export '%s' does not exist.", name)
	}
	users, err := m.importers(ctx, region, "", name)
	if users == nil {
		users = []string{}
	}
	return users, err
}
