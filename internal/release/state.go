package release

import (
	"encoding/json"
	"time"
)

// Phase is where a release is in its lifecycle.
type Phase string

// The phases. Progressing and RollingBack are the only non-terminal ones.
const (
	PhaseProgressing    Phase = "Progressing"
	PhaseRollingBack    Phase = "RollingBack"
	PhasePromoted       Phase = "Promoted"
	PhaseRejected       Phase = "Rejected"
	PhaseAborted        Phase = "Aborted"
	PhaseFailedAnalysis Phase = "FailedAnalysis"
	PhaseFailed         Phase = "Failed"
)

var phaseDescriptions = map[Phase]string{
	PhaseProgressing:    "running its steps: staging carries the change and the policy routes what the current step asks",
	PhaseRollingBack:    "ending without promotion: routing back to 100% primary, staging being reset to the primary's config",
	PhasePromoted:       "staging's config was copied onto the primary (a new generation); all traffic goes to the primary",
	PhaseRejected:       "a human rejected it, or its approval timed out; routing is off and staging equals the primary",
	PhaseAborted:        "aborted on request; routing is off and staging equals the primary",
	PhaseFailedAnalysis: "the metrics of a weight step failed their thresholds; routing is off and staging equals the primary",
	PhaseFailed:         "the CloudFront API kept refusing an action; routing is off and staging equals the primary",
}

// Description says what the phase means.
func (p Phase) Description() string { return phaseDescriptions[p] }

// Terminal reports whether the release is over.
func (p Phase) Terminal() bool { return p != PhaseProgressing && p != PhaseRollingBack && p != "" }

// TrafficKind is how a policy picks staging.
type TrafficKind string

// Traffic kinds ("" means the policy routes nothing).
const (
	TrafficHeader TrafficKind = "header"
	TrafficWeight TrafficKind = "weight"
)

// Traffic is what the primary's policy routes, comparable with ==. The
// zero value means "routing is off" (no policy attached, or disabled).
type Traffic struct {
	Enabled  bool        `json:"enabled"`
	Kind     TrafficKind `json:"kind,omitempty"`
	Header   string      `json:"header,omitempty"`
	Value    string      `json:"value,omitempty"`
	WeightBP int         `json:"weightBasisPoints,omitempty"` // 500 is 5 %
	IdleTTL  int32       `json:"idleTTL,omitempty"`           // seconds; 0 without stickiness
	MaxTTL   int32       `json:"maxTTL,omitempty"`
}

// Decision is a human's approval, rejection or abort.
type Decision struct {
	Step    int       `json:"step"`
	Verdict string    `json:"verdict"` // approved, rejected, abort
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
}

// Verdicts.
const (
	VerdictApproved = "approved"
	VerdictRejected = "rejected"
	VerdictAbort    = "abort"
)

// Event is one line of a release's history.
type Event struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// State is what a release persists between passes of the controller.
type State struct {
	Phase       Phase     `json:"phase"`
	Step        int       `json:"step"`
	StepStarted time.Time `json:"stepStarted"`
	// Decisions holds every approval and rejection, and the abort request.
	Decisions []Decision `json:"decisions,omitempty"`
	// Outcome and Reason are set when the release is decided (RollingBack).
	Outcome Phase  `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`

	StagingID     string `json:"stagingId,omitempty"`
	StagingDomain string `json:"stagingDomain,omitempty"`
	PolicyID      string `json:"policyId,omitempty"`
	// StagingBase and StagingResult fingerprint the primary config the change
	// was applied to and the staging config that resulted, so that a server
	// which normalizes configs does not make the change look unapplied.
	StagingBase   string `json:"stagingBase,omitempty"`
	StagingResult string `json:"stagingResult,omitempty"`
	// StackTraffic is what the policy of a staging stack routes, as this
	// release deployed it (the routing of every step of such a release).
	StackTraffic Traffic `json:"stackTraffic,omitzero"`

	// Baseline is the metrics snapshot taken when the current weight step began.
	Baseline *Snapshot `json:"baseline,omitempty"`

	// Promotion progress: the primary's config before, whether the promote
	// call and the invalidation went through.
	PromoteBefore json.RawMessage `json:"promoteBefore,omitempty"`
	Promoted      bool            `json:"promoted,omitempty"`
	Invalidated   bool            `json:"invalidated,omitempty"`
	// StackRestored: the staging stack was put back to its template at the end.
	StackRestored bool `json:"stackRestored,omitempty"`
	Generation    int  `json:"generation,omitempty"`

	// Failures counts consecutive refusals by the API; LastError is the last one.
	Failures  int    `json:"failures,omitempty"`
	LastError string `json:"lastError,omitempty"`

	Events   []Event   `json:"events,omitempty"`
	Finished time.Time `json:"finished,omitzero"`
}

// maxEvents bounds a release's history.
const maxEvents = 200

// Release is the stored record of a release.
type Release struct {
	Name      string    `json:"name"`
	Spec      Spec      `json:"spec"`
	PrimaryID string    `json:"primaryId"`
	Domain    string    `json:"domain"` // the primary's domain name
	CreatedBy string    `json:"createdBy"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	State     State     `json:"state"`
}

// decision returns the approve/reject decision recorded for step, if any.
func (s *State) decision(step int) (Decision, bool) {
	for _, d := range s.Decisions {
		if d.Step == step && (d.Verdict == VerdictApproved || d.Verdict == VerdictRejected) {
			return d, true
		}
	}
	return Decision{}, false
}

// promoting reports whether the promotion call may have been made: from
// then on a release can only finish as Promoted.
func (s *State) promoting() bool { return s.PromoteBefore != nil || s.Promoted }

// abortRequest returns the abort request, if any.
func (s *State) abortRequest() (Decision, bool) {
	for _, d := range s.Decisions {
		if d.Verdict == VerdictAbort {
			return d, true
		}
	}
	return Decision{}, false
}

// Generation is one immutable entry of a primary's config history: what a
// promotion or a rollback changed, who decided it and when.
type Generation struct {
	Primary    string          `json:"primary"`
	Number     int             `json:"number"`
	Kind       string          `json:"kind"` // initial, promote, rollback
	Release    string          `json:"release,omitempty"`
	From       int             `json:"rollbackTo,omitempty"`
	ApprovedBy []Decision      `json:"approvedBy,omitempty"`
	By         string          `json:"by,omitempty"`
	At         time.Time       `json:"at"`
	Before     json.RawMessage `json:"before,omitempty"`
	Config     json.RawMessage `json:"config"`
	Digest     string          `json:"digest"`
}
