// Package stack runs CloudFormation stacks: create, update, delete, change
// sets, rollback and drift detection, with every state change persisted in
// the store (keys under cfn/<region>/) before the CloudFront call it
// precedes, so an interrupted operation is resumed or rolled back by
// Recover when the process starts again.
//
// Operations run to completion before the call that started them returns
// (a local deployment takes milliseconds), so the AWS CLI's waiters succeed
// on their first poll.
package stack

import (
	"encoding/json"
	"fmt"
	"time"
)

// Stack statuses and the ones CloudFormation's waiters look for.
const (
	ReviewInProgress                        = "REVIEW_IN_PROGRESS"
	CreateInProgress                        = "CREATE_IN_PROGRESS"
	CreateComplete                          = "CREATE_COMPLETE"
	CreateFailed                            = "CREATE_FAILED"
	RollbackInProgress                      = "ROLLBACK_IN_PROGRESS"
	RollbackComplete                        = "ROLLBACK_COMPLETE"
	RollbackFailed                          = "ROLLBACK_FAILED"
	UpdateInProgress                        = "UPDATE_IN_PROGRESS"
	UpdateCompleteCleanupInProgress         = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
	UpdateComplete                          = "UPDATE_COMPLETE"
	UpdateFailed                            = "UPDATE_FAILED"
	UpdateRollbackInProgress                = "UPDATE_ROLLBACK_IN_PROGRESS"
	UpdateRollbackCompleteCleanupInProgress = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
	UpdateRollbackComplete                  = "UPDATE_ROLLBACK_COMPLETE"
	UpdateRollbackFailed                    = "UPDATE_ROLLBACK_FAILED"
	DeleteInProgress                        = "DELETE_IN_PROGRESS"
	DeleteComplete                          = "DELETE_COMPLETE"
	DeleteFailed                            = "DELETE_FAILED"
	DeleteSkipped                           = "DELETE_SKIPPED"
	UpdateCompleteResource                  = "UPDATE_COMPLETE"
)

// StackType is the ResourceType of stack-level events.
const StackType = "AWS::CloudFormation::Stack"

// Tag is a stack tag.
type Tag struct{ Key, Value string }

// Output is a resolved output.
type Output struct {
	Key, Value, Description, ExportName string
}

// Stack is the stored record of one stack.
type Stack struct {
	StackID          string            `json:"stackId"`
	StackName        string            `json:"stackName"`
	Region           string            `json:"region"`
	Status           string            `json:"status"`
	StatusReason     string            `json:"statusReason,omitempty"`
	Description      string            `json:"description,omitempty"`
	CreationTime     time.Time         `json:"creationTime"`
	LastUpdatedTime  time.Time         `json:"lastUpdatedTime,omitzero"`
	DeletionTime     time.Time         `json:"deletionTime,omitzero"`
	DisableRollback  bool              `json:"disableRollback,omitempty"`
	Capabilities     []string          `json:"capabilities,omitempty"`
	NotificationARNs []string          `json:"notificationARNs,omitempty"`
	Tags             []Tag             `json:"tags,omitempty"`
	Template         string            `json:"template,omitempty"`
	Parameters       map[string]string `json:"parameters,omitempty"`
	// NoEcho lists the parameters shown as ****.
	NoEcho       []string                   `json:"noEcho,omitempty"`
	ParamOrder   []string                   `json:"paramOrder,omitempty"`
	Outputs      []Output                   `json:"outputs,omitempty"`
	Resources    map[string]*ResourceRecord `json:"resources,omitempty"`
	Op           *Operation                 `json:"op,omitempty"`
	ChangeSetID  string                     `json:"changeSetId,omitempty"`
	EventSeq     int                        `json:"eventSeq"`
	Drift        Drift                      `json:"drift"`
	OnFailure    string                     `json:"onFailure,omitempty"`
	LastDriftRun string                     `json:"lastDriftRun,omitempty"`
}

// Drift is the stack's drift information.
type Drift struct {
	Status        string    `json:"status,omitempty"` // NOT_CHECKED when empty
	LastCheck     time.Time `json:"lastCheck,omitzero"`
	DriftedCount  int       `json:"driftedCount,omitempty"`
	DetectionID   string    `json:"detectionId,omitempty"`
	DetectionTime time.Time `json:"detectionTime,omitzero"`
}

// ResourceRecord is one resource of a stack.
type ResourceRecord struct {
	LogicalID           string            `json:"logicalId"`
	Type                string            `json:"type"`
	PhysicalID          string            `json:"physicalId,omitempty"`
	Status              string            `json:"status"`
	StatusReason        string            `json:"statusReason,omitempty"`
	Updated             time.Time         `json:"updated"`
	Properties          map[string]any    `json:"properties,omitempty"`
	Attributes          map[string]string `json:"attributes,omitempty"`
	Token               string            `json:"token,omitempty"`
	DeletionPolicy      string            `json:"deletionPolicy,omitempty"`
	UpdateReplacePolicy string            `json:"updateReplacePolicy,omitempty"`
	Drift               *ResourceDrift    `json:"drift,omitempty"`
}

// ResourceDrift is the last drift check of a resource.
type ResourceDrift struct {
	Status      string               `json:"status"`
	Expected    string               `json:"expected,omitempty"`
	Actual      string               `json:"actual,omitempty"`
	Differences []PropertyDifference `json:"differences,omitempty"`
	Timestamp   time.Time            `json:"timestamp"`
}

// PropertyDifference is one drifted property.
type PropertyDifference struct {
	PropertyPath, ExpectedValue, ActualValue, DifferenceType string
}

// Operation is the stack operation in progress, enough to resume or roll
// it back after a crash.
type Operation struct {
	Kind string `json:"kind"` // CREATE, UPDATE, DELETE
	// Owner is the node running the operation (Options.Node); while its
	// heartbeat is fresh no other node recovers the operation.
	Owner      string            `json:"owner,omitempty"`
	Template   string            `json:"template,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	// Prev is the stack before an update (rollback target).
	Prev *Snapshot `json:"prev,omitempty"`
	// Force lists resources to update even when their properties did not
	// change (a REVERT_DRIFT change set).
	Force []string `json:"force,omitempty"`
	// Failed names the resources whose failure started a rollback.
	Failed     []string `json:"failed,omitempty"`
	RollingBck bool     `json:"rollingBack,omitempty"`
	Retain     []string `json:"retain,omitempty"`
}

// Snapshot is a stack's template, parameters, outputs and resources.
type Snapshot struct {
	Template    string                     `json:"template"`
	Parameters  map[string]string          `json:"parameters"`
	ParamOrder  []string                   `json:"paramOrder,omitempty"`
	NoEcho      []string                   `json:"noEcho,omitempty"`
	Outputs     []Output                   `json:"outputs,omitempty"`
	Description string                     `json:"description,omitempty"`
	Resources   map[string]*ResourceRecord `json:"resources"`
}

// Event is one stack event.
type Event struct {
	StackID            string    `json:"stackId"`
	EventID            string    `json:"eventId"`
	StackName          string    `json:"stackName"`
	LogicalResourceID  string    `json:"logicalId"`
	PhysicalResourceID string    `json:"physicalId,omitempty"`
	ResourceType       string    `json:"type"`
	Timestamp          time.Time `json:"timestamp"`
	ResourceStatus     string    `json:"status"`
	StatusReason       string    `json:"reason,omitempty"`
	ResourceProperties string    `json:"properties,omitempty"`
}

// ChangeSet is a stored change set.
type ChangeSet struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	StackID         string            `json:"stackId"`
	StackName       string            `json:"stackName"`
	Type            string            `json:"type"` // CREATE, UPDATE
	Status          string            `json:"status"`
	StatusReason    string            `json:"statusReason,omitempty"`
	ExecutionStatus string            `json:"executionStatus"`
	Description     string            `json:"description,omitempty"`
	Template        string            `json:"template"`
	Parameters      map[string]string `json:"parameters,omitempty"`
	ParamOrder      []string          `json:"paramOrder,omitempty"`
	Capabilities    []string          `json:"capabilities,omitempty"`
	Tags            []Tag             `json:"tags,omitempty"`
	CreationTime    time.Time         `json:"creationTime"`
	Changes         []Change          `json:"changes,omitempty"`
	DeploymentMode  string            `json:"deploymentMode,omitempty"`
	Force           []string          `json:"force,omitempty"`
}

// Change is one resource change of a change set.
type Change struct {
	Action      string         `json:"action"` // Add, Modify, Remove
	LogicalID   string         `json:"logicalId"`
	PhysicalID  string         `json:"physicalId,omitempty"`
	Type        string         `json:"type"`
	Replacement string         `json:"replacement,omitempty"`
	Scope       []string       `json:"scope,omitempty"`
	Details     []ChangeDetail `json:"details,omitempty"`
}

// ChangeDetail is one changed property of a Modify.
type ChangeDetail struct {
	Name, RequiresRecreation, Evaluation, ChangeSource, Attribute string
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("stack: encode %T: %w", v, err)
	}
	return b, nil
}

// Keys.
func stackPrefix(region string) string       { return "cfn/" + region + "/stacks/" }
func stackKey(region, uuid string) string    { return stackPrefix(region) + uuid }
func eventPrefix(region, uuid string) string { return "cfn/" + region + "/events/" + uuid + "/" }
func changeSetPrefix(region, stack string) string {
	return "cfn/" + region + "/changesets/" + stack + "/"
}

// Error is a CloudFormation API error.
type Error struct {
	Code    string
	Status  int
	Message string
	// Err is the cause, when there is one to match (store.ErrConflict).
	Err error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Err }

func validationErr(format string, args ...any) *Error {
	return &Error{Code: "ValidationError", Status: 400, Message: fmt.Sprintf(format, args...)}
}
