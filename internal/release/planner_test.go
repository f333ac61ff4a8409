package release

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// issueSpec is the header-then-weight example of docs/releases.md.
func issueSpec(t *testing.T) *Spec {
	t.Helper()
	spec, err := Parse([]byte(`
name: site-3.0.0
primary: E1ABCDEF234567
staging:
  set: {"Origins.Items[Id=website-resources].OriginPath": "/3.0.0"}
steps:
  - header: {name: aws-cf-cd-env, value: staging}
  - approve: {timeout: 24h}
  - weight: {percent: 5, stickiness: {idle: 5m, max: 10m}, hold: 10m}
  - weight: {percent: 15, hold: 10m}
  - approve: {}
  - promote: {invalidate: ["/*"]}
analysis: {interval: 30s, minRequests: 100, maxErrorRate: 1%, maxP95LatencyRatio: 1.5}
`), "issue.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func header() Traffic {
	return Traffic{Enabled: true, Kind: TrafficHeader, Header: "aws-cf-cd-env", Value: "staging"}
}
func weight(bp int) Traffic {
	return Traffic{Enabled: true, Kind: TrafficWeight, WeightBP: bp, IdleTTL: 300, MaxTTL: 600}
}

// ready is an observation where staging and routing are as step `step` wants.
func ready(spec *Spec, step int) Observation {
	return Observation{StagingReady: true, Attached: true, Traffic: spec.TrafficAt(step)}
}

func TestPlanTable(t *testing.T) {
	spec := issueSpec(t)
	healthy := &Snapshot{Staging: Counters{Requests: 500}, Primary: Counters{Requests: 5000}}
	failing := &Snapshot{Staging: Counters{Requests: 500, Errors: 50}, Primary: Counters{Requests: 5000}}
	approved := []Decision{{Step: 1, Verdict: VerdictApproved, By: "bob"}}
	cases := []struct {
		name string
		st   State
		obs  Observation
		now  time.Time
		want Action
	}{
		{"fresh release copies and changes staging", State{Phase: PhaseProgressing, StepStarted: t0},
			Observation{StagingMatchesPrimary: true}, t0, Action{Kind: ActEnsureStaging}},
		{"staging ready, no policy: set header routing", State{Phase: PhaseProgressing, StepStarted: t0},
			Observation{StagingReady: true}, t0, Action{Kind: ActSetTraffic, Traffic: header()}},
		{"policy disabled by a promotion: enable it again (the classic pipeline drift)", State{Phase: PhaseProgressing, StepStarted: t0},
			Observation{StagingReady: true, Attached: true, Traffic: Traffic{Kind: TrafficHeader, Header: "aws-cf-cd-env", Value: "staging"}}, t0,
			Action{Kind: ActSetTraffic, Traffic: header()}},
		{"header step routed: advance", State{Phase: PhaseProgressing, StepStarted: t0},
			ready(spec, 0), t0, Action{Kind: ActAdvance}},
		{"approval pending: wait for the timeout", State{Phase: PhaseProgressing, Step: 1, StepStarted: t0},
			ready(spec, 1), t0.Add(time.Hour), Action{Kind: ActWait, Until: t0.Add(24 * time.Hour)}},
		{"approval keeps the header routing", State{Phase: PhaseProgressing, Step: 1, StepStarted: t0},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500)}, t0, Action{Kind: ActSetTraffic, Traffic: header()}},
		{"approval timed out: reject", State{Phase: PhaseProgressing, Step: 1, StepStarted: t0},
			ready(spec, 1), t0.Add(24 * time.Hour), Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: "approval timed out after 24h0m0s"}},
		{"approved: advance", State{Phase: PhaseProgressing, Step: 1, StepStarted: t0, Decisions: approved},
			ready(spec, 1), t0, Action{Kind: ActAdvance}},
		{"rejected with a comment", State{Phase: PhaseProgressing, Step: 1, StepStarted: t0,
			Decisions: []Decision{{Step: 1, Verdict: VerdictRejected, By: "carol", Comment: "wrong logo"}}},
			ready(spec, 1), t0, Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: "rejected by carol: wrong logo"}},
		{"rejected at a weight step: ends like an approval's rejection", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0, Baseline: &Snapshot{},
			Decisions: []Decision{{Step: 2, Verdict: VerdictRejected, By: "carol"}}},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500), Metrics: healthy}, t0.Add(time.Minute),
			Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: "rejected by carol"}},
		{"rejected at the header step, before staging is ready", State{Phase: PhaseProgressing, StepStarted: t0,
			Decisions: []Decision{{Step: 0, Verdict: VerdictRejected, By: "carol"}}},
			Observation{}, t0, Action{Kind: ActDecide, Outcome: PhaseRejected, Reason: "rejected by carol"}},
		{"a rejection once the promotion began is too late", State{Phase: PhaseProgressing, Step: 5, StepStarted: t0, PromoteBefore: []byte("{}"),
			Decisions: []Decision{{Step: 5, Verdict: VerdictRejected, By: "carol"}}},
			ready(spec, 5), t0, Action{Kind: ActPromote}},
		{"abort wins over everything", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0,
			Decisions: []Decision{{Step: 2, Verdict: VerdictAbort, By: "dave"}}},
			Observation{}, t0, Action{Kind: ActDecide, Outcome: PhaseAborted, Reason: "aborted by dave"}},
		{"weight step: route 5% sticky", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0},
			ready(spec, 1), t0, Action{Kind: ActSetTraffic, Traffic: weight(500)}},
		{"weight step without baseline: take it", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500), Metrics: healthy}, t0, Action{Kind: ActBaseline}},
		{"weight hold, healthy: wait one interval", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0, Baseline: &Snapshot{}},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500), Metrics: healthy}, t0.Add(time.Minute),
			Action{Kind: ActWait, Until: t0.Add(time.Minute + 30*time.Second)}},
		{"weight hold, 10% 5xx: failed analysis", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0, Baseline: &Snapshot{}},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500), Metrics: failing}, t0.Add(time.Minute),
			Action{Kind: ActDecide, Outcome: PhaseFailedAnalysis, Reason: "staging 5xx rate 10.00% is over 1.00% (50 of 500 requests)"}},
		{"errors under minRequests do not fail", State{Phase: PhaseProgressing, Step: 2, StepStarted: t0, Baseline: &Snapshot{}},
			Observation{StagingReady: true, Attached: true, Traffic: weight(500), Metrics: &Snapshot{Staging: Counters{Requests: 50, Errors: 50}}}, t0.Add(10 * time.Minute),
			Action{Kind: ActAdvance}},
		{"second weight step inherits stickiness", State{Phase: PhaseProgressing, Step: 3, StepStarted: t0},
			ready(spec, 2), t0, Action{Kind: ActSetTraffic, Traffic: weight(1500)}},
		{"promote: prepare first", State{Phase: PhaseProgressing, Step: 5, StepStarted: t0},
			ready(spec, 5), t0, Action{Kind: ActPreparePromotion}},
		{"promote: call", State{Phase: PhaseProgressing, Step: 5, StepStarted: t0, PromoteBefore: []byte("{}")},
			ready(spec, 5), t0, Action{Kind: ActPromote}},
		{"promote went through before a restart", State{Phase: PhaseProgressing, Step: 5, StepStarted: t0, PromoteBefore: []byte("{}")},
			Observation{StagingReady: true, StagingMatchesPrimary: true, Attached: true, Traffic: Traffic{Kind: TrafficWeight, WeightBP: 1500, IdleTTL: 300, MaxTTL: 600}},
			t0, Action{Kind: ActMarkPromoted}},
		{"promoted: invalidate", State{Phase: PhaseProgressing, Step: 5, Promoted: true},
			Observation{}, t0, Action{Kind: ActInvalidate, Paths: []string{"/*"}}},
		{"invalidated: finish", State{Phase: PhaseProgressing, Step: 5, Promoted: true, Invalidated: true},
			Observation{}, t0, Action{Kind: ActFinish, Outcome: PhasePromoted, Reason: "promoted"}},
		{"rolling back: disable routing first", State{Phase: PhaseRollingBack, Outcome: PhaseRejected, StagingID: "E2"},
			Observation{Attached: true, Traffic: header()}, t0, Action{Kind: ActDisableRouting}},
		{"rolling back: then reset staging", State{Phase: PhaseRollingBack, Outcome: PhaseRejected, StagingID: "E2"},
			Observation{Attached: true, Traffic: Traffic{Kind: TrafficHeader}}, t0, Action{Kind: ActResetStaging}},
		{"rolling back: then finish", State{Phase: PhaseRollingBack, Outcome: PhaseRejected, Reason: "r", StagingID: "E2"},
			Observation{Attached: true, StagingMatchesPrimary: true}, t0, Action{Kind: ActFinish, Outcome: PhaseRejected, Reason: "r"}},
		{"terminal: nothing to do", State{Phase: PhasePromoted}, Observation{}, t0, Action{Kind: ActWait}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(spec, &tc.st, tc.obs, tc.now)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Plan() = %+v\nwant     %+v", got, tc.want)
			}
		})
	}
}

// sim is a model of the world the controller acts on: what the API calls
// change, as the planner observes it.
type sim struct {
	stagingExists, stagingChanged bool // staging carries the change
	primaryChanged                bool // the primary serves the change (promoted)
	attached                      bool
	traffic                       Traffic
	metrics                       Snapshot
	now                           time.Time
}

func (w *sim) observe() Observation {
	return Observation{
		StagingReady:          w.stagingExists && w.stagingChanged,
		StagingMatchesPrimary: !w.stagingExists || w.stagingChanged == w.primaryChanged,
		Attached:              w.attached,
		Traffic:               w.traffic,
		Metrics:               &w.metrics,
	}
}

// apply executes an action on the model; it may fail (the API refused).
func (w *sim) apply(act Action) {
	switch act.Kind {
	case ActEnsureStaging:
		w.stagingExists, w.stagingChanged = true, true
	case ActSetTraffic:
		w.attached, w.traffic = true, act.Traffic
	case ActDisableRouting:
		w.traffic.Enabled = false
	case ActResetStaging:
		w.stagingChanged = w.primaryChanged
	case ActPromote:
		w.primaryChanged = w.stagingChanged
		w.traffic.Enabled = false
	}
}

// TestPlanProperties runs random releases against the model, with random
// API failures, human decisions, crashes (state not saved), traffic with
// errors and clock jumps, and checks the planner's invariants:
//   - routing never sends more to staging than the step being run allows;
//   - every run reaches a terminal state (the humans eventually answer);
//   - terminal states are as docs/releases.md describes them: Promoted means the primary
//     serves the change with routing off; every other end has routing off
//     and staging equal to the primary.
func TestPlanProperties(t *testing.T) {
	specs := []*Spec{issueSpec(t)}
	for _, y := range []string{
		"steps: [promote]",
		"steps: [{weight: {percent: 15, hold: 1m}}, {weight: {percent: 1, hold: 1m}}, promote]",
		"steps: [approve, {header: {name: aws-cf-cd-x, value: y, hold: 1m}}, {approve: {timeout: 1h}}, promote]",
	} {
		spec, err := Parse([]byte("name: p\nprimary: E1\nstaging: {set: {Comment: x}}\n"+y), "prop.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, spec)
	}
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		spec := specs[int(seed)%len(specs)]
		w := &sim{now: t0}
		st := State{Phase: PhaseProgressing, StepStarted: t0}
		stepsTaken := 0
		for ; stepsTaken < 2000 && !st.Phase.Terminal(); stepsTaken++ {
			// The humans and the traffic.
			switch r := rng.IntN(100); {
			case r < 3 && st.Phase == PhaseProgressing:
				st.Decisions = append(st.Decisions, Decision{Step: st.Step, Verdict: VerdictAbort, By: "x"})
			case r < 15 && st.Phase == PhaseProgressing && spec.Steps[st.Step].Kind == StepApprove:
				if _, decided := st.decision(st.Step); !decided {
					v := VerdictApproved
					if rng.IntN(4) == 0 {
						v = VerdictRejected
					}
					st.Decisions = append(st.Decisions, Decision{Step: st.Step, Verdict: v, By: "y"})
				}
			case r < 30:
				w.metrics.Staging.Requests += float64(rng.IntN(200))
				if rng.IntN(20) == 0 {
					w.metrics.Staging.Errors += float64(rng.IntN(50))
				}
				w.metrics.Staging.Requests += w.metrics.Staging.Errors
			}
			if rng.IntN(10) == 0 { // a reconfiguration behind the controller's back
				w.traffic.Enabled = false
			}
			obs := w.observe()
			act := Plan(spec, &st, obs, w.now)
			if act.Kind == ActSetTraffic {
				limit := MaxWeightPercent * 100
				if st.Step < len(spec.Steps) {
					if s := spec.Steps[st.Step]; s.Kind == StepWeight {
						limit = percentToBP(s.Weight.Percent)
					}
				}
				if act.Traffic.WeightBP > limit || act.Traffic != spec.TrafficAt(st.Step) {
					t.Fatalf("seed %d: step %d routes %v, want %v (limit %d bp)", seed, st.Step, act.Traffic, spec.TrafficAt(st.Step), limit)
				}
			}
			if act.Kind == ActWait {
				jump := time.Duration(rng.IntN(3600)) * time.Second
				if !act.Until.IsZero() {
					jump = max(jump, act.Until.Sub(w.now))
				}
				w.now = w.now.Add(jump)
				continue
			}
			if rng.IntN(8) == 0 { // the API refused, or the process died before saving
				if rng.IntN(2) == 0 {
					st = Failed(st, act, fmt.Errorf("refused"), rng.IntN(3) == 0, w.now)
				}
				continue
			}
			w.apply(act)
			if rng.IntN(10) == 0 { // crashed after acting, before saving
				continue
			}
			st = Next(spec, st, act, Result{StagingID: "E2"}, obs, w.now)
		}
		if !st.Phase.Terminal() {
			t.Fatalf("seed %d: not terminal after %d actions: %+v", seed, stepsTaken, st)
		}
		obs := w.observe()
		if contains(st.Reason, "cleanup incomplete") {
			continue // the API kept refusing the cleanup: reported, not hidden
		}
		switch {
		case obs.Attached && obs.Traffic.Enabled:
			t.Fatalf("seed %d: %s with routing still on: %+v", seed, st.Phase, obs)
		case st.Phase == PhasePromoted && !w.primaryChanged:
			t.Fatalf("seed %d: Promoted but the primary does not serve the change", seed)
		case st.Phase != PhasePromoted && !obs.StagingMatchesPrimary:
			t.Fatalf("seed %d: %s but staging differs from the primary", seed, st.Phase)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestPlanEveryReachableStateTerminates: from every state reached on the
// way, a cooperative world (actions succeed, an abort arrives) ends the
// release within a few actions.
func TestPlanEveryReachableStateTerminates(t *testing.T) {
	spec := issueSpec(t)
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 11))
		w := &sim{now: t0}
		st := State{Phase: PhaseProgressing, StepStarted: t0}
		for i := 0; i < 200 && !st.Phase.Terminal(); i++ {
			// From here, a cooperative run must end within 10 actions.
			w2, st2 := *w, st
			st2.Decisions = append(append([]Decision(nil), st2.Decisions...), Decision{Step: st2.Step, Verdict: VerdictAbort, By: "z"})
			for j := 0; !st2.Phase.Terminal(); j++ {
				if j > 10 {
					t.Fatalf("seed %d, action %d: an aborted release did not end: %+v", seed, i, st2)
				}
				act := Plan(spec, &st2, w2.observe(), w2.now)
				w2.apply(act)
				st2 = Next(spec, st2, act, Result{StagingID: "E2"}, w2.observe(), w2.now)
			}
			// And go on with the random run.
			act := Plan(spec, &st, w.observe(), w.now)
			if act.Kind == ActWait {
				w.now = w.now.Add(time.Duration(rng.IntN(7200)) * time.Second)
				if rng.IntN(3) == 0 && spec.Steps[st.Step].Kind == StepApprove {
					st.Decisions = append(st.Decisions, Decision{Step: st.Step, Verdict: VerdictApproved, By: "y"})
				}
				continue
			}
			w.apply(act)
			st = Next(spec, st, act, Result{StagingID: "E2"}, w.observe(), w.now)
		}
	}
}

func TestPlanRollback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		obs  RollbackObservation
		want RollbackAction
	}{
		{"primary differs: restore", RollbackObservation{StagingMatches: true}, RollbackRestore},
		{"restore refused with a policy attached: detach and restore", RollbackObservation{Refused: true, PolicyAttached: true}, RollbackRestoreDetached},
		{"refused without a policy: plain restore again (its error is returned)", RollbackObservation{Refused: true}, RollbackRestore},
		{"restored, staging differs: reset it", RollbackObservation{PrimaryRestored: true, PolicyAttached: true}, RollbackResetStaging},
		{"restored, staging equal: record", RollbackObservation{PrimaryRestored: true, PolicyAttached: true, StagingMatches: true}, RollbackRecord},
		{"re-run after a failed staging reset: only the reset is left", RollbackObservation{PrimaryRestored: true, Refused: false, PolicyAttached: true}, RollbackResetStaging},
	} {
		if got := PlanRollback(tc.obs); got != tc.want {
			t.Errorf("%s: PlanRollback(%+v) = %s, want %s", tc.name, tc.obs, got, tc.want)
		}
	}
}

// TestPlanStackEnd: a release whose staging is a stack ends, promoted or
// rejected, by detaching the policy from the primary and then restoring
// the stack to its template; a release with `set:` disables the policy.
func TestPlanStackEnd(t *testing.T) {
	stackSpec := &Spec{Name: "r", Primary: "E1",
		Staging: StagingChange{Template: &TemplateStaging{Path: "t.yml", Stack: "s", Body: "Resources: {}"}},
		Steps:   []Step{{Kind: StepApprove, Approve: &ApproveStep{}}, {Kind: StepPromote, Promote: &PromoteStep{}}}}
	routed := Traffic{Enabled: true, Kind: TrafficHeader, Header: "aws-cf-cd-env", Value: "staging"}
	disabled := routed
	disabled.Enabled = false
	rollingBack := State{Phase: PhaseRollingBack, Outcome: PhaseRejected, Reason: "rejected by bob"}
	promoted := State{Phase: PhaseProgressing, Step: 1, Promoted: true, StackTraffic: routed}
	cases := []struct {
		name string
		spec *Spec
		st   State
		obs  Observation
		want ActionKind
	}{
		{"rejected, still routed: detach", stackSpec, rollingBack, Observation{Attached: true, Traffic: routed}, ActDetachRouting},
		{"rejected, detached: restore the stack", stackSpec, rollingBack, Observation{StagingReady: true}, ActRestoreStack},
		{"rejected, restored: finish", stackSpec, func() State { s := rollingBack; s.StackRestored = true; return s }(), Observation{}, ActFinish},
		{"promoted, policy disabled by the promotion: detach", stackSpec, promoted, Observation{StagingReady: true, Attached: true, Traffic: disabled, StagingMatchesPrimary: true}, ActDetachRouting},
		{"promoted, detached: restore", stackSpec, promoted, Observation{StagingReady: true, StagingMatchesPrimary: true}, ActRestoreStack},
		{"promoted, restored: finish", stackSpec, func() State { s := promoted; s.StackRestored = true; return s }(), Observation{StagingMatchesPrimary: true}, ActFinish},
		{"set: rejected, still routed: disable", issueSpec(t), rollingBack, Observation{Attached: true, Traffic: routed, StagingMatchesPrimary: true}, ActDisableRouting},
	}
	for _, c := range cases {
		st := c.st
		if got := Plan(c.spec, &st, c.obs, t0); got.Kind != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got.Kind, c.want)
		}
	}
	next := Next(stackSpec, rollingBack, Action{Kind: ActRestoreStack}, Result{}, Observation{}, t0)
	if !next.StackRestored || !strings.Contains(next.Events[len(next.Events)-1].Message, "stack s restored to its template") {
		t.Errorf("after RestoreStack: restored %v events %v", next.StackRestored, next.Events)
	}
}

func TestChangeSetName(t *testing.T) {
	for in, want := range map[string]string{
		"site-2.0.0":             "stagefront-release-site-2-0-0",
		"a_b/c":                  "stagefront-release-a-b-c",
		strings.Repeat("x", 200): "stagefront-release-" + strings.Repeat("x", 128-len("stagefront-release-")),
	} {
		if got := changeSetName("stagefront-release-", in); got != want {
			t.Errorf("changeSetName(%q) = %q, want %q", in, got, want)
		}
	}
}
