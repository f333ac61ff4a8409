package release

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Observation is what the controller saw of the world in this pass.
type Observation struct {
	// StagingReady: the staging distribution exists and carries the change
	// on top of the primary's current config.
	StagingReady bool
	// StagingMatchesPrimary: staging serves exactly the primary's config
	// (true when there is no staging distribution).
	StagingMatchesPrimary bool
	// Attached: the primary's policy is the one that names our staging.
	Attached bool
	// Traffic is what that policy routes; the zero value when not Attached.
	Traffic Traffic
	// Metrics are the edge's counters for the primary now; nil without a source.
	Metrics *Snapshot
}

// ActionKind names what the controller must do next.
type ActionKind string

// The actions. Those marked "pure" only change the release's state; the
// others call the CloudFront API first.
const (
	ActWait             ActionKind = "Wait"             // nothing to do until Until (zero: until something changes)
	ActEnsureStaging    ActionKind = "EnsureStaging"    // copy a staging distribution if needed, apply the change
	ActSetTraffic       ActionKind = "SetTraffic"       // create/update the policy, attach it, enable it
	ActBaseline         ActionKind = "Baseline"         // pure: take the metrics baseline of a weight step
	ActAdvance          ActionKind = "Advance"          // pure: go to the next step
	ActDecide           ActionKind = "Decide"           // pure: end without promotion (Outcome, Reason)
	ActDisableRouting   ActionKind = "DisableRouting"   // disable the policy: 100 % primary
	ActResetStaging     ActionKind = "ResetStaging"     // staging config := the primary's
	ActPreparePromotion ActionKind = "PreparePromotion" // record the primary's config before promotion
	ActPromote          ActionKind = "Promote"          // UpdateDistributionWithStagingConfig
	ActMarkPromoted     ActionKind = "MarkPromoted"     // pure: the promote call went through before a restart
	ActInvalidate       ActionKind = "Invalidate"       // CreateInvalidation on the primary
	ActDetachRouting    ActionKind = "DetachRouting"    // the primary stops naming the policy (staging from a stack)
	ActRestoreStack     ActionKind = "RestoreStack"     // the stack's resources := its recorded template (no drift)
	ActFinish           ActionKind = "Finish"           // record the outcome (and the generation when promoted)
)

// Action is the planner's answer.
type Action struct {
	Kind    ActionKind `json:"kind"`
	Until   time.Time  `json:"until,omitzero"`
	Traffic Traffic    `json:"traffic,omitzero"`
	Outcome Phase      `json:"outcome,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	Paths   []string   `json:"paths,omitempty"`
}

// Result is what executing an action learned, for Next to record.
type Result struct {
	StagingID, StagingDomain   string
	PolicyID                   string
	StagingBase, StagingResult string
	StackTraffic               Traffic
	PromoteBefore              json.RawMessage
	Generation                 int
}

// Plan is the pure planner: from the spec, the persisted state, what the
// controller observes and the time, it returns the one next action.
func Plan(spec *Spec, st *State, obs Observation, now time.Time) Action {
	switch st.Phase {
	case PhaseRollingBack:
		if spec.Staging.Template != nil {
			return planStackEnd(st, obs, Action{Kind: ActFinish, Outcome: st.Outcome, Reason: st.Reason})
		}
		switch {
		case obs.Attached && obs.Traffic.Enabled:
			return Action{Kind: ActDisableRouting}
		case !obs.StagingMatchesPrimary && spec.Staging.Template == nil:
			// A stack's staging is left as is: the next release reverts it.
			return Action{Kind: ActResetStaging}
		}
		return Action{Kind: ActFinish, Outcome: st.Outcome, Reason: st.Reason}
	case PhaseProgressing:
	default:
		return Action{Kind: ActWait}
	}
	if d, ok := st.abortRequest(); ok {
		return Action{Kind: ActDecide, Outcome: PhaseAborted, Reason: withComment("aborted by "+d.By, d.Comment)}
	}
	if st.Step < 0 || st.Step >= len(spec.Steps) {
		return Action{Kind: ActDecide, Outcome: PhaseFailed, Reason: fmt.Sprintf("step %d does not exist (the spec has %d)", st.Step+1, len(spec.Steps))}
	}
	// A rejection ends the release at any step; at an approval step it is
	// the human's answer, elsewhere a "stop this" with the same outcome.
	// Once the promotion has begun it is too late (Decide refuses it too).
	if d, ok := st.decision(st.Step); ok && d.Verdict == VerdictRejected && !st.promoting() {
		return Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: withComment("rejected by "+d.By, d.Comment)}
	}
	step := spec.Steps[st.Step]
	want := spec.TrafficAt(st.Step)
	if spec.Staging.Template != nil {
		want = st.StackTraffic
	}
	if step.Kind == StepPromote {
		act := planPromote(step, st, obs, want)
		if act.Kind == ActFinish && spec.Staging.Template != nil {
			return planStackEnd(st, obs, act)
		}
		return act
	}
	if !obs.StagingReady {
		return Action{Kind: ActEnsureStaging}
	}
	if !obs.Attached || obs.Traffic != want {
		return Action{Kind: ActSetTraffic, Traffic: want}
	}
	switch step.Kind {
	case StepHeader:
		if until := st.StepStarted.Add(step.Header.Hold); now.Before(until) {
			return Action{Kind: ActWait, Until: until}
		}
		return Action{Kind: ActAdvance}
	case StepApprove:
		if d, ok := st.decision(st.Step); ok && d.Verdict == VerdictApproved {
			return Action{Kind: ActAdvance}
		}
		if t := step.Approve.Timeout; t > 0 {
			deadline := st.StepStarted.Add(t)
			if !now.Before(deadline) {
				return Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: fmt.Sprintf("approval timed out after %v", t)}
			}
			return Action{Kind: ActWait, Until: deadline}
		}
		return Action{Kind: ActWait}
	case StepWeight:
		if obs.Metrics != nil {
			if st.Baseline == nil {
				return Action{Kind: ActBaseline}
			}
			if v := Analyze(spec.Analysis, WindowSince(*st.Baseline, *obs.Metrics)); v.Failed {
				return Action{Kind: ActDecide, Outcome: PhaseFailedAnalysis, Reason: v.Reason}
			}
		}
		until := st.StepStarted.Add(step.Weight.Hold)
		if !now.Before(until) {
			return Action{Kind: ActAdvance}
		}
		// Wake up at least once per interval to run the analysis.
		return Action{Kind: ActWait, Until: minTime(until, now.Add(spec.Analysis.Interval))}
	}
	return Action{Kind: ActDecide, Outcome: PhaseFailed, Reason: fmt.Sprintf("step %s has unknown kind %q", spec.StepLabel(st.Step), step.Kind)}
}

func planPromote(step Step, st *State, obs Observation, want Traffic) Action {
	if !st.Promoted {
		// After a restart the promote call may have gone through without
		// being recorded: the primary then serves staging's config and the
		// policy is disabled (and it was enabled before PreparePromotion).
		if st.PromoteBefore != nil && obs.Attached && !obs.Traffic.Enabled && obs.StagingMatchesPrimary {
			return Action{Kind: ActMarkPromoted}
		}
		if !obs.StagingReady {
			return Action{Kind: ActEnsureStaging}
		}
		if st.PromoteBefore == nil {
			if !obs.Attached || obs.Traffic != want {
				return Action{Kind: ActSetTraffic, Traffic: want}
			}
			return Action{Kind: ActPreparePromotion}
		}
		if !obs.Attached {
			return Action{Kind: ActSetTraffic, Traffic: want}
		}
		return Action{Kind: ActPromote}
	}
	if paths := step.Promote.Invalidate; len(paths) > 0 && !st.Invalidated {
		return Action{Kind: ActInvalidate, Paths: paths}
	}
	return Action{Kind: ActFinish, Outcome: PhasePromoted, Reason: "promoted"}
}

// planStackEnd ends a release whose staging is a stack, promoted or not.
// Disabling the policy (a promotion does, and so would a rollback) leaves
// the stack drifted from its template until the next release; instead the
// primary stops naming the policy, which routes it all to the primary, and
// then the stack gets back what its template says, so drift detection
// finds it IN_SYNC and the next release starts from the template.
func planStackEnd(st *State, obs Observation, finish Action) Action {
	switch {
	case obs.Attached:
		return Action{Kind: ActDetachRouting}
	case !st.StackRestored:
		return Action{Kind: ActRestoreStack}
	}
	return finish
}

func withComment(s, comment string) string {
	if comment == "" {
		return s
	}
	return s + ": " + comment
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Next is the pure state transition after act was executed successfully.
func Next(spec *Spec, st State, act Action, res Result, obs Observation, now time.Time) State {
	st.Failures, st.LastError = 0, ""
	event := ""
	switch act.Kind {
	case ActWait:
		return st
	case ActEnsureStaging:
		st.StagingID, st.StagingDomain = res.StagingID, res.StagingDomain
		st.StagingBase, st.StagingResult = res.StagingBase, res.StagingResult
		event = fmt.Sprintf("staging %s carries the change", res.StagingID)
		if t := spec.Staging.Template; t != nil {
			st.PolicyID, st.StackTraffic = res.PolicyID, res.StackTraffic
			event = fmt.Sprintf("stack %s deployed from %s: staging %s, policy %s (%s)", t.Stack, t.Path, res.StagingID, res.PolicyID, res.StackTraffic)
		}
	case ActSetTraffic:
		st.PolicyID = res.PolicyID
		event = fmt.Sprintf("policy %s enabled and attached: %s", res.PolicyID, act.Traffic)
	case ActBaseline:
		st.Baseline = obs.Metrics
		return st
	case ActAdvance:
		st.Step++
		st.StepStarted = now
		st.Baseline = nil
		if st.Step < len(spec.Steps) && spec.Steps[st.Step].Kind == StepWeight {
			st.Baseline = obs.Metrics
		}
		event = "step " + spec.StepLabel(st.Step)
	case ActDecide:
		st.Phase, st.Outcome, st.Reason = PhaseRollingBack, act.Outcome, act.Reason
		event = fmt.Sprintf("ending as %s (%s): routing back to the primary", act.Outcome, act.Reason)
	case ActDisableRouting:
		event = "policy disabled: 100% primary"
	case ActResetStaging:
		event = "staging reset to the primary's config"
	case ActDetachRouting:
		event = fmt.Sprintf("the primary no longer names policy %s: 100%% primary", st.PolicyID)
	case ActRestoreStack:
		st.StackRestored = true
		event = fmt.Sprintf("stack %s restored to its template", spec.Staging.Template.Stack)
	case ActPreparePromotion:
		st.PromoteBefore = res.PromoteBefore
		event = "promotion prepared"
	case ActPromote, ActMarkPromoted:
		st.Promoted = true
		event = "staging config promoted to the primary; policy disabled"
	case ActInvalidate:
		st.Invalidated = true
		event = fmt.Sprintf("invalidation of %v created", act.Paths)
	case ActFinish:
		st.Phase, st.Finished = act.Outcome, now
		st.Generation = res.Generation
		if st.Reason == "" {
			st.Reason = act.Reason
		}
		event = string(act.Outcome)
		if res.Generation > 0 {
			event += fmt.Sprintf(" as generation %d", res.Generation)
		}
	}
	return st.logged(now, event)
}

// maxFailures is how many consecutive refusals by the API end a release.
const maxFailures = 3

// Failed is the pure state transition after act failed with err. A
// permanent error (the API refused the request) counts towards maxFailures;
// then a progressing release is decided as Failed, and a rolling-back one
// finishes with the cleanup error in its reason. Transient errors only
// record the message and are retried on the next pass.
func Failed(st State, act Action, err error, permanent bool, now time.Time) State {
	msg := fmt.Sprintf("%s: %v", act.Kind, err)
	if st.LastError != msg {
		st = st.logged(now, "error: "+msg)
	}
	st.LastError = msg
	if !permanent {
		return st
	}
	st.Failures++
	if st.Failures < maxFailures {
		return st
	}
	st.Failures = 0
	switch st.Phase {
	case PhaseProgressing:
		st.Phase, st.Outcome, st.Reason = PhaseRollingBack, PhaseFailed, msg
		return st.logged(now, "ending as Failed: routing back to the primary")
	case PhaseRollingBack:
		st.Phase, st.Finished = st.Outcome, now
		st.Reason += " (cleanup incomplete: " + msg + ")"
		return st.logged(now, string(st.Outcome)+" with an incomplete cleanup")
	}
	return st
}

func (st State) logged(now time.Time, msg string) State {
	if msg == "" {
		return st
	}
	st.Events = append(slices.Clip(st.Events), Event{At: now, Message: msg})
	if n := len(st.Events); n > maxEvents {
		st.Events = append([]Event(nil), st.Events[n-maxEvents:]...)
	}
	return st
}

// String describes the routing for humans.
func (t Traffic) String() string {
	switch {
	case !t.Enabled:
		return "off (100% primary)"
	case t.Kind == TrafficHeader:
		return fmt.Sprintf("header %s: %s", t.Header, t.Value)
	case t.IdleTTL > 0:
		return fmt.Sprintf("weight %.2f%% sticky (idle %ds, max %ds)", float64(t.WeightBP)/100, t.IdleTTL, t.MaxTTL)
	default:
		return fmt.Sprintf("weight %.2f%%", float64(t.WeightBP)/100)
	}
}
