package queryapi

import (
	"context"
	"strconv"

	"github.com/stagefront/stagefront/internal/cfn"
	"github.com/stagefront/stagefront/internal/cfn/stack"
)

// operation is one Action: the members it requires (checked before run,
// in order, with CloudFormation's "Value null at 'stackName'" error) and
// its implementation.
type operation struct {
	required []string
	run      func(c *call) (result, error)
}

// operations maps each Action to its implementation.
var operations = map[string]operation{
	"CreateStack":                       {[]string{"StackName"}, writeStack((*stack.Manager).CreateStack)},
	"UpdateStack":                       {[]string{"StackName"}, writeStack((*stack.Manager).UpdateStack)},
	"DeleteStack":                       {[]string{"StackName"}, deleteStack},
	"DescribeStacks":                    {nil, describeStacks},
	"ListStacks":                        {nil, listStacks},
	"DescribeStackEvents":               {[]string{"StackName"}, describeStackEvents},
	"DescribeStackResource":             {[]string{"StackName", "LogicalResourceId"}, describeStackResource},
	"DescribeStackResources":            {nil, describeStackResources},
	"ListStackResources":                {[]string{"StackName"}, listStackResources},
	"GetTemplate":                       {nil, getTemplate},
	"GetTemplateSummary":                {nil, getTemplateSummary},
	"ValidateTemplate":                  {nil, validateTemplate},
	"CreateChangeSet":                   {[]string{"StackName", "ChangeSetName"}, createChangeSet},
	"DescribeChangeSet":                 {[]string{"ChangeSetName"}, describeChangeSet},
	"ExecuteChangeSet":                  {[]string{"ChangeSetName"}, executeChangeSet},
	"DeleteChangeSet":                   {[]string{"ChangeSetName"}, deleteChangeSet},
	"ListChangeSets":                    {[]string{"StackName"}, listChangeSets},
	"ListExports":                       {nil, listExports},
	"ListImports":                       {[]string{"ExportName"}, listImports},
	"DetectStackDrift":                  {[]string{"StackName"}, detectStackDrift},
	"DescribeStackDriftDetectionStatus": {[]string{"StackDriftDetectionId"}, describeDriftStatus},
	"DescribeStackResourceDrifts":       {[]string{"StackName"}, describeResourceDrifts},
	"DetectStackResourceDrift":          {[]string{"StackName", "LogicalResourceId"}, detectResourceDrift},
}

type xParameter struct {
	ParameterKey   string `xml:"ParameterKey"`
	ParameterValue string `xml:"ParameterValue"`
}

type xOutput struct {
	OutputKey   string `xml:"OutputKey"`
	OutputValue string `xml:"OutputValue"`
	Description string `xml:"Description,omitempty"`
	ExportName  string `xml:"ExportName,omitempty"`
}

type xTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xDrift struct {
	StackDriftStatus   string `xml:"StackDriftStatus"`
	LastCheckTimestamp string `xml:"LastCheckTimestamp,omitempty"`
}

type xStack struct {
	StackID                     string       `xml:"StackId"`
	StackName                   string       `xml:"StackName"`
	ChangeSetID                 string       `xml:"ChangeSetId,omitempty"`
	Description                 string       `xml:"Description,omitempty"`
	Parameters                  []xParameter `xml:"Parameters>member"`
	CreationTime                string       `xml:"CreationTime"`
	DeletionTime                string       `xml:"DeletionTime,omitempty"`
	LastUpdatedTime             string       `xml:"LastUpdatedTime,omitempty"`
	StackStatus                 string       `xml:"StackStatus"`
	StackStatusReason           string       `xml:"StackStatusReason,omitempty"`
	DisableRollback             bool         `xml:"DisableRollback"`
	NotificationARNs            []string     `xml:"NotificationARNs>member"`
	Capabilities                []string     `xml:"Capabilities>member,omitempty"`
	Outputs                     []xOutput    `xml:"Outputs>member,omitempty"`
	Tags                        []xTag       `xml:"Tags>member"`
	EnableTerminationProtection bool         `xml:"EnableTerminationProtection"`
	DriftInformation            xDrift       `xml:"DriftInformation"`
}

func driftInfo(d stack.Drift) xDrift {
	x := xDrift{StackDriftStatus: d.Status, LastCheckTimestamp: timestamp(d.LastCheck)}
	if x.StackDriftStatus == "" {
		x.StackDriftStatus = "NOT_CHECKED"
	}
	return x
}

func params(s *stack.Stack, values map[string]string, order []string) []xParameter {
	out := []xParameter{}
	for _, k := range order {
		v := values[k]
		for _, secret := range s.NoEcho {
			if secret == k {
				v = "****"
			}
		}
		out = append(out, xParameter{ParameterKey: k, ParameterValue: v})
	}
	return out
}

func toXStack(s *stack.Stack) xStack {
	x := xStack{StackID: s.StackID, StackName: s.StackName, ChangeSetID: s.ChangeSetID, Description: s.Description,
		Parameters: params(s, s.Parameters, s.ParamOrder), CreationTime: timestamp(s.CreationTime),
		DeletionTime: timestamp(s.DeletionTime), LastUpdatedTime: timestamp(s.LastUpdatedTime), StackStatus: s.Status,
		StackStatusReason: s.StatusReason, DisableRollback: s.DisableRollback, NotificationARNs: s.NotificationARNs,
		Capabilities: s.Capabilities, DriftInformation: driftInfo(s.Drift), Tags: []xTag{}}
	for _, o := range s.Outputs {
		x.Outputs = append(x.Outputs, xOutput{OutputKey: o.Key, OutputValue: o.Value, Description: o.Description, ExportName: o.ExportName})
	}
	for _, t := range s.Tags {
		x.Tags = append(x.Tags, xTag{Key: t.Key, Value: t.Value})
	}
	if x.NotificationARNs == nil {
		x.NotificationARNs = []string{}
	}
	return x
}

type stackIDResult struct {
	StackID string `xml:"StackId"`
}

// writeStack is CreateStack or UpdateStack: both answer the stack's id.
func writeStack(write func(m *stack.Manager, ctx context.Context, in stack.Input) (*stack.Stack, error)) func(c *call) (result, error) {
	return func(c *call) (result, error) {
		in, err := c.input()
		if err != nil {
			return result{}, err
		}
		s, err := write(c.s.m, c.r.Context(), in)
		if err != nil {
			return result{}, err
		}
		return result{body: stackIDResult{StackID: s.StackID}}, nil
	}
}

func deleteStack(c *call) (result, error) {
	return result{}, c.s.m.DeleteStack(c.r.Context(), c.region, c.str("StackName"), c.list("RetainResources"))
}

// page cuts a list at NextToken (an index) and returns the next token.
func page[T any](items []T, token string, size int) ([]T, string) {
	start, _ := strconv.Atoi(token)
	if start < 0 || start > len(items) {
		start = len(items)
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

// paged converts the page of items that NextToken names (100 a page) for
// a list answer, and returns the next token.
func paged[T, X any](c *call, items []T, convert func(T) X) ([]X, string) {
	items, next := page(items, c.str("NextToken"), 100)
	out := make([]X, 0, len(items))
	for _, it := range items {
		out = append(out, convert(it))
	}
	return out, next
}

func describeStacks(c *call) (result, error) {
	stacks, err := c.s.m.Describe(c.r.Context(), c.region, c.str("StackName"))
	if err != nil {
		return result{}, err
	}
	list, next := paged(c, stacks, toXStack)
	return result{body: struct {
		Stacks    []xStack `xml:"Stacks>member"`
		NextToken string   `xml:"NextToken,omitempty"`
	}{list, next}}, nil
}

type xStackSummary struct {
	StackID             string `xml:"StackId"`
	StackName           string `xml:"StackName"`
	TemplateDescription string `xml:"TemplateDescription,omitempty"`
	CreationTime        string `xml:"CreationTime"`
	LastUpdatedTime     string `xml:"LastUpdatedTime,omitempty"`
	DeletionTime        string `xml:"DeletionTime,omitempty"`
	StackStatus         string `xml:"StackStatus"`
	StackStatusReason   string `xml:"StackStatusReason,omitempty"`
	DriftInformation    xDrift `xml:"DriftInformation"`
}

func listStacks(c *call) (result, error) {
	all, err := c.s.m.List(c.r.Context(), c.region)
	if err != nil {
		return result{}, err
	}
	filter := c.list("StackStatusFilter")
	var kept []*stack.Stack
	for _, s := range all {
		if len(filter) == 0 || contains(filter, s.Status) {
			kept = append(kept, s)
		}
	}
	list, next := paged(c, kept, func(s *stack.Stack) xStackSummary {
		return xStackSummary{StackID: s.StackID, StackName: s.StackName,
			TemplateDescription: s.Description, CreationTime: timestamp(s.CreationTime), LastUpdatedTime: timestamp(s.LastUpdatedTime),
			DeletionTime: timestamp(s.DeletionTime), StackStatus: s.Status, StackStatusReason: s.StatusReason, DriftInformation: driftInfo(s.Drift)}
	})
	return result{body: struct {
		StackSummaries []xStackSummary `xml:"StackSummaries>member"`
		NextToken      string          `xml:"NextToken,omitempty"`
	}{list, next}}, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

type xEvent struct {
	StackID              string `xml:"StackId"`
	EventID              string `xml:"EventId"`
	StackName            string `xml:"StackName"`
	LogicalResourceID    string `xml:"LogicalResourceId"`
	PhysicalResourceID   string `xml:"PhysicalResourceId"`
	ResourceType         string `xml:"ResourceType"`
	Timestamp            string `xml:"Timestamp"`
	ResourceStatus       string `xml:"ResourceStatus"`
	ResourceStatusReason string `xml:"ResourceStatusReason,omitempty"`
	ResourceProperties   string `xml:"ResourceProperties,omitempty"`
}

func describeStackEvents(c *call) (result, error) {
	name := c.str("StackName")
	events, err := c.s.m.Events(c.r.Context(), c.region, name)
	if err != nil {
		return result{}, err
	}
	list, next := paged(c, events, func(e stack.Event) xEvent {
		return xEvent{StackID: e.StackID, EventID: e.EventID, StackName: e.StackName,
			LogicalResourceID: e.LogicalResourceID, PhysicalResourceID: e.PhysicalResourceID, ResourceType: e.ResourceType,
			Timestamp: timestamp(e.Timestamp), ResourceStatus: e.ResourceStatus, ResourceStatusReason: e.StatusReason,
			ResourceProperties: e.ResourceProperties}
	})
	return result{body: struct {
		StackEvents []xEvent `xml:"StackEvents>member"`
		NextToken   string   `xml:"NextToken,omitempty"`
	}{list, next}}, nil
}

type xResourceDrift struct {
	StackResourceDriftStatus string `xml:"StackResourceDriftStatus"`
	LastCheckTimestamp       string `xml:"LastCheckTimestamp,omitempty"`
}

func resourceDrift(r *stack.ResourceRecord) xResourceDrift {
	if r.Drift == nil {
		return xResourceDrift{StackResourceDriftStatus: "NOT_CHECKED"}
	}
	return xResourceDrift{StackResourceDriftStatus: r.Drift.Status, LastCheckTimestamp: timestamp(r.Drift.Timestamp)}
}

type xResource struct {
	StackName            string         `xml:"StackName,omitempty"`
	StackID              string         `xml:"StackId,omitempty"`
	LogicalResourceID    string         `xml:"LogicalResourceId"`
	PhysicalResourceID   string         `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string         `xml:"ResourceType"`
	Timestamp            string         `xml:"Timestamp,omitempty"`
	LastUpdatedTimestamp string         `xml:"LastUpdatedTimestamp,omitempty"`
	ResourceStatus       string         `xml:"ResourceStatus"`
	ResourceStatusReason string         `xml:"ResourceStatusReason,omitempty"`
	DriftInformation     xResourceDrift `xml:"DriftInformation"`
}

func describeStackResource(c *call) (result, error) {
	name := c.str("StackName")
	id := c.str("LogicalResourceId")
	s, recs, err := c.s.m.Resources(c.r.Context(), c.region, name, id, "")
	if err != nil {
		return result{}, err
	}
	r := recs[0]
	return result{body: struct {
		Detail xResource `xml:"StackResourceDetail"`
	}{xResource{StackName: s.StackName, StackID: s.StackID, LogicalResourceID: r.LogicalID, PhysicalResourceID: r.PhysicalID,
		ResourceType: r.Type, LastUpdatedTimestamp: timestamp(r.Updated), ResourceStatus: r.Status, ResourceStatusReason: r.StatusReason,
		DriftInformation: resourceDrift(r)}}}, nil
}

func describeStackResources(c *call) (result, error) {
	s, recs, err := c.s.m.Resources(c.r.Context(), c.region, c.str("StackName"), c.str("LogicalResourceId"), c.str("PhysicalResourceId"))
	if err != nil {
		return result{}, err
	}
	out := struct {
		Resources []xResource `xml:"StackResources>member"`
	}{Resources: []xResource{}}
	for _, r := range recs {
		out.Resources = append(out.Resources, xResource{StackName: s.StackName, StackID: s.StackID, LogicalResourceID: r.LogicalID,
			PhysicalResourceID: r.PhysicalID, ResourceType: r.Type, Timestamp: timestamp(r.Updated), ResourceStatus: r.Status,
			ResourceStatusReason: r.StatusReason, DriftInformation: resourceDrift(r)})
	}
	return result{body: out}, nil
}

func listStackResources(c *call) (result, error) {
	name := c.str("StackName")
	_, recs, err := c.s.m.Resources(c.r.Context(), c.region, name, "", "")
	if err != nil {
		return result{}, err
	}
	list, next := paged(c, recs, func(r *stack.ResourceRecord) xResource {
		return xResource{LogicalResourceID: r.LogicalID, PhysicalResourceID: r.PhysicalID,
			ResourceType: r.Type, LastUpdatedTimestamp: timestamp(r.Updated), ResourceStatus: r.Status,
			ResourceStatusReason: r.StatusReason, DriftInformation: resourceDrift(r)}
	})
	return result{body: struct {
		Summaries []xResource `xml:"StackResourceSummaries>member"`
		NextToken string      `xml:"NextToken,omitempty"`
	}{list, next}}, nil
}

func getTemplate(c *call) (result, error) {
	body, err := c.s.m.Template(c.r.Context(), c.region, c.str("StackName"), c.str("ChangeSetName"))
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		TemplateBody    string   `xml:"TemplateBody"`
		StagesAvailable []string `xml:"StagesAvailable>member"`
	}{body, []string{"Original", "Processed"}}}, nil
}

type xParamDecl struct {
	ParameterKey  string   `xml:"ParameterKey"`
	DefaultValue  string   `xml:"DefaultValue,omitempty"`
	ParameterType string   `xml:"ParameterType,omitempty"`
	NoEcho        bool     `xml:"NoEcho"`
	Description   string   `xml:"Description,omitempty"`
	AllowedValues []string `xml:"ParameterConstraints>AllowedValues>member,omitempty"`
}

func declarations(t *cfn.Template, withType bool) []xParamDecl {
	out := []xParamDecl{}
	for _, p := range t.Parameters {
		d := xParamDecl{ParameterKey: p.Key, NoEcho: p.NoEcho, Description: p.Description, AllowedValues: p.AllowedValues}
		if p.Default != nil {
			d.DefaultValue = *p.Default
		}
		if withType {
			d.ParameterType = p.Type
		} else {
			d.AllowedValues = nil
		}
		out = append(out, d)
	}
	return out
}

func (c *call) templateOf() (*cfn.Template, error) {
	if body := c.str("TemplateBody"); body != "" {
		return c.s.m.Validate(body)
	}
	if c.str("TemplateURL") != "" {
		return nil, &stack.Error{Code: "ValidationError", Status: 400, Message: "TemplateURL is not supported by stagefront; send TemplateBody"}
	}
	if name := c.str("StackName"); name != "" {
		body, err := c.s.m.Template(c.r.Context(), c.region, name, "")
		if err != nil {
			return nil, err
		}
		return cfn.Parse([]byte(body))
	}
	return nil, &stack.Error{Code: "ValidationError", Status: 400, Message: "Either Template URL or Template Body must be specified."}
}

func getTemplateSummary(c *call) (result, error) {
	t, err := c.templateOf()
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		Parameters    []xParamDecl `xml:"Parameters>member"`
		Description   string       `xml:"Description,omitempty"`
		Capabilities  []string     `xml:"Capabilities>member"`
		ResourceTypes []string     `xml:"ResourceTypes>member"`
		Version       string       `xml:"Version"`
	}{declarations(t, true), t.Description, []string{}, t.ResourceTypes(), "2010-09-09"}}, nil
}

func validateTemplate(c *call) (result, error) {
	t, err := c.templateOf()
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		Parameters   []xParamDecl `xml:"Parameters>member"`
		Description  string       `xml:"Description,omitempty"`
		Capabilities []string     `xml:"Capabilities>member"`
	}{declarations(t, false), t.Description, []string{}}}, nil
}

func createChangeSet(c *call) (result, error) {
	name := c.str("ChangeSetName")
	in, err := c.input()
	if err != nil {
		return result{}, err
	}
	cs, err := c.s.m.CreateChangeSet(c.r.Context(), stack.ChangeSetInput{Input: in, ChangeSetName: name,
		ChangeSetType: c.str("ChangeSetType"), Description: c.str("Description"), DeploymentMode: c.str("DeploymentMode")})
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		ID      string `xml:"Id"`
		StackID string `xml:"StackId"`
	}{cs.ID, cs.StackID}}, nil
}

type xTarget struct {
	Attribute          string `xml:"Attribute"`
	Name               string `xml:"Name,omitempty"`
	RequiresRecreation string `xml:"RequiresRecreation"`
}

type xDetail struct {
	Target       xTarget `xml:"Target"`
	Evaluation   string  `xml:"Evaluation"`
	ChangeSource string  `xml:"ChangeSource"`
}

type xChange struct {
	Type           string `xml:"Type"`
	ResourceChange struct {
		Action             string    `xml:"Action"`
		LogicalResourceID  string    `xml:"LogicalResourceId"`
		PhysicalResourceID string    `xml:"PhysicalResourceId,omitempty"`
		ResourceType       string    `xml:"ResourceType"`
		Replacement        string    `xml:"Replacement,omitempty"`
		Scope              []string  `xml:"Scope>member"`
		Details            []xDetail `xml:"Details>member"`
	} `xml:"ResourceChange"`
}

func describeChangeSet(c *call) (result, error) {
	name := c.str("ChangeSetName")
	s, cs, err := c.s.m.ChangeSet(c.r.Context(), c.region, name, c.str("StackName"))
	if err != nil {
		return result{}, err
	}
	out := struct {
		ChangeSetName   string       `xml:"ChangeSetName"`
		ChangeSetID     string       `xml:"ChangeSetId"`
		StackID         string       `xml:"StackId"`
		StackName       string       `xml:"StackName"`
		Description     string       `xml:"Description,omitempty"`
		Parameters      []xParameter `xml:"Parameters>member"`
		CreationTime    string       `xml:"CreationTime"`
		ExecutionStatus string       `xml:"ExecutionStatus"`
		Status          string       `xml:"Status"`
		StatusReason    string       `xml:"StatusReason,omitempty"`
		Capabilities    []string     `xml:"Capabilities>member"`
		Tags            []xTag       `xml:"Tags>member"`
		Changes         []xChange    `xml:"Changes>member"`
		DeploymentMode  string       `xml:"DeploymentMode,omitempty"`
	}{ChangeSetName: cs.Name, ChangeSetID: cs.ID, StackID: cs.StackID, StackName: cs.StackName, Description: cs.Description,
		Parameters: params(s, cs.Parameters, cs.ParamOrder), CreationTime: timestamp(cs.CreationTime), ExecutionStatus: cs.ExecutionStatus,
		Status: cs.Status, StatusReason: cs.StatusReason, Capabilities: cs.Capabilities, Tags: []xTag{}, Changes: []xChange{},
		DeploymentMode: cs.DeploymentMode}
	for _, t := range cs.Tags {
		out.Tags = append(out.Tags, xTag{Key: t.Key, Value: t.Value})
	}
	for _, ch := range cs.Changes {
		var x xChange
		x.Type = "Resource"
		rc := &x.ResourceChange
		rc.Action, rc.LogicalResourceID, rc.PhysicalResourceID, rc.ResourceType = ch.Action, ch.LogicalID, ch.PhysicalID, ch.Type
		rc.Replacement, rc.Scope = ch.Replacement, ch.Scope
		if rc.Scope == nil {
			rc.Scope = []string{}
		}
		rc.Details = []xDetail{}
		for _, d := range ch.Details {
			rc.Details = append(rc.Details, xDetail{Target: xTarget{Attribute: d.Attribute, Name: d.Name, RequiresRecreation: d.RequiresRecreation},
				Evaluation: d.Evaluation, ChangeSource: d.ChangeSource})
		}
		out.Changes = append(out.Changes, x)
	}
	return result{body: out}, nil
}

func executeChangeSet(c *call) (result, error) {
	name := c.str("ChangeSetName")
	if _, err := c.s.m.ExecuteChangeSet(c.r.Context(), c.region, name, c.str("StackName"), c.boolean("DisableRollback")); err != nil {
		return result{}, err
	}
	return result{wrapper: true}, nil
}

func deleteChangeSet(c *call) (result, error) {
	name := c.str("ChangeSetName")
	if err := c.s.m.DeleteChangeSet(c.r.Context(), c.region, name, c.str("StackName")); err != nil {
		return result{}, err
	}
	return result{wrapper: true}, nil
}

func listChangeSets(c *call) (result, error) {
	name := c.str("StackName")
	sets, err := c.s.m.ListChangeSets(c.r.Context(), c.region, name)
	if err != nil {
		return result{}, err
	}
	type summary struct {
		StackID         string `xml:"StackId"`
		StackName       string `xml:"StackName"`
		ChangeSetID     string `xml:"ChangeSetId"`
		ChangeSetName   string `xml:"ChangeSetName"`
		ExecutionStatus string `xml:"ExecutionStatus"`
		Status          string `xml:"Status"`
		StatusReason    string `xml:"StatusReason,omitempty"`
		CreationTime    string `xml:"CreationTime"`
		Description     string `xml:"Description,omitempty"`
	}
	out := struct {
		Summaries []summary `xml:"Summaries>member"`
	}{Summaries: []summary{}}
	for _, cs := range sets {
		out.Summaries = append(out.Summaries, summary{cs.StackID, cs.StackName, cs.ID, cs.Name, cs.ExecutionStatus, cs.Status, cs.StatusReason, timestamp(cs.CreationTime), cs.Description})
	}
	return result{body: out}, nil
}

func listExports(c *call) (result, error) {
	exports, err := c.s.m.Exports(c.r.Context(), c.region)
	if err != nil {
		return result{}, err
	}
	type export struct {
		ExportingStackID string `xml:"ExportingStackId"`
		Name             string `xml:"Name"`
		Value            string `xml:"Value"`
	}
	out := struct {
		Exports []export `xml:"Exports>member"`
	}{Exports: []export{}}
	for _, e := range exports {
		out.Exports = append(out.Exports, export{e.StackID, e.Name, e.Value})
	}
	return result{body: out}, nil
}

func listImports(c *call) (result, error) {
	name := c.str("ExportName")
	users, err := c.s.m.Importers(c.r.Context(), c.region, name)
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		Imports []string `xml:"Imports>member"`
	}{users}}, nil
}

func detectStackDrift(c *call) (result, error) {
	name := c.str("StackName")
	id, err := c.s.m.DetectStackDrift(c.r.Context(), c.region, name, c.list("LogicalResourceIds"))
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		ID string `xml:"StackDriftDetectionId"`
	}{id}}, nil
}

func describeDriftStatus(c *call) (result, error) {
	id := c.str("StackDriftDetectionId")
	s, err := c.s.m.DriftStatus(c.r.Context(), c.region, id)
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		StackID                   string `xml:"StackId"`
		StackDriftDetectionID     string `xml:"StackDriftDetectionId"`
		StackDriftStatus          string `xml:"StackDriftStatus"`
		DetectionStatus           string `xml:"DetectionStatus"`
		DriftedStackResourceCount int    `xml:"DriftedStackResourceCount"`
		Timestamp                 string `xml:"Timestamp"`
	}{s.StackID, id, s.Drift.Status, "DETECTION_COMPLETE", s.Drift.DriftedCount, timestamp(s.Drift.DetectionTime)}}, nil
}

type xPropertyDifference struct {
	PropertyPath   string `xml:"PropertyPath"`
	ExpectedValue  string `xml:"ExpectedValue"`
	ActualValue    string `xml:"ActualValue"`
	DifferenceType string `xml:"DifferenceType"`
}

type xResourceDriftDetail struct {
	StackID                  string                `xml:"StackId"`
	LogicalResourceID        string                `xml:"LogicalResourceId"`
	PhysicalResourceID       string                `xml:"PhysicalResourceId"`
	ResourceType             string                `xml:"ResourceType"`
	ExpectedProperties       string                `xml:"ExpectedProperties,omitempty"`
	ActualProperties         string                `xml:"ActualProperties,omitempty"`
	PropertyDifferences      []xPropertyDifference `xml:"PropertyDifferences>member"`
	StackResourceDriftStatus string                `xml:"StackResourceDriftStatus"`
	Timestamp                string                `xml:"Timestamp"`
}

func driftDetail(s *stack.Stack, r *stack.ResourceRecord) xResourceDriftDetail {
	x := xResourceDriftDetail{StackID: s.StackID, LogicalResourceID: r.LogicalID, PhysicalResourceID: r.PhysicalID, ResourceType: r.Type,
		StackResourceDriftStatus: "NOT_CHECKED", PropertyDifferences: []xPropertyDifference{}}
	if d := r.Drift; d != nil {
		x.ExpectedProperties, x.ActualProperties, x.StackResourceDriftStatus, x.Timestamp = d.Expected, d.Actual, d.Status, timestamp(d.Timestamp)
		for _, p := range d.Differences {
			x.PropertyDifferences = append(x.PropertyDifferences, xPropertyDifference{p.PropertyPath, p.ExpectedValue, p.ActualValue, p.DifferenceType})
		}
	}
	return x
}

func describeResourceDrifts(c *call) (result, error) {
	name := c.str("StackName")
	s, recs, err := c.s.m.Resources(c.r.Context(), c.region, name, "", "")
	if err != nil {
		return result{}, err
	}
	filter := c.list("StackResourceDriftStatusFilters")
	out := struct {
		Drifts []xResourceDriftDetail `xml:"StackResourceDrifts>member"`
	}{Drifts: []xResourceDriftDetail{}}
	for _, r := range recs {
		d := driftDetail(s, r)
		if len(filter) == 0 || contains(filter, d.StackResourceDriftStatus) {
			out.Drifts = append(out.Drifts, d)
		}
	}
	return result{body: out}, nil
}

func detectResourceDrift(c *call) (result, error) {
	name := c.str("StackName")
	id := c.str("LogicalResourceId")
	s, r, err := c.s.m.DetectStackResourceDrift(c.r.Context(), c.region, name, id)
	if err != nil {
		return result{}, err
	}
	return result{body: struct {
		Drift xResourceDriftDetail `xml:"StackResourceDrift"`
	}{driftDetail(s, r)}}, nil
}
