package main

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/release"
	"github.com/stagefront/stagefront/internal/testutil"
)

func headerSpec(name, primary, version string) string {
	return fmt.Sprintf(`
name: %s
primary: %s
staging:
  set:
    Origins.Items[Id=web].OriginPath: /%s
steps:
  - header: {name: aws-cf-cd-env, value: staging}
  - approve: {timeout: 24h}
  - promote: {invalidate: ["/*"]}
`, name, primary, version)
}

func weightSpec(name, primary, version string) string {
	return fmt.Sprintf(`
name: %s
primary: %s
staging:
  set:
    Origins.Items[Id=web].OriginPath: /%s
steps:
  - weight: {percent: 5, stickiness: {idle: 5m, max: 10m}, hold: 10m}
  - weight: {percent: 15, hold: 10m}
  - approve: {}
  - promote: {}
analysis: {interval: 30s, minRequests: 20, maxErrorRate: 1%%}
`, name, primary, version)
}

func newStack(t *testing.T) (*stack, string, string) {
	t.Helper()
	origin := versionOrigin(t)
	s := startStack(t, t.TempDir(), testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	id, domain := s.createPrimary(origin.URL)
	return s, id, domain
}

func wantPhase(t *testing.T, s *stack, name string, want release.Phase) *release.Live {
	t.Helper()
	live := s.status(name)
	if live.State.Phase != want {
		t.Fatalf("release %s: phase %s (reason %q, last error %q), want %s", name, live.State.Phase, live.State.Reason, live.State.LastError, want)
	}
	return live
}

// TestReleaseHeaderThenWeight is the classic two-run pipeline end to end:
// v1→v2 by header + approval + promote, then v2→v3 by weight 5 % → 15 %
// with stickiness + approval + promote, each checked at the edge.
func TestReleaseHeaderThenWeight(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	if body, _, _ := s.viewer(domain, false).get(); body != "v1" {
		t.Fatalf("before any release the primary serves %q, want v1", body)
	}

	// v1 → v2 by header.
	rel := s.startRelease("alice", headerSpec("site-2.0.0", primaryID, "v2"))
	if rel.State.Step != 1 {
		t.Fatalf("after activation the release is at step %d (%s), want 1 (approve)", rel.State.Step, rel.State.LastError)
	}
	if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v2" || variant != "staging" {
		t.Fatalf("with the header: %q from %q, want v2 from staging", body, variant)
	}
	if body, _, _ := s.viewer(domain, false).get(); body != "v1" {
		t.Fatalf("without the header: %q, want v1", body)
	}
	if _, err := s.client("bob").Decide(s.ctx(), "site-2.0.0", "approve", "looks good"); err != nil {
		t.Fatal(err)
	}
	s.waitEdge()
	live := wantPhase(t, s, "site-2.0.0", release.PhasePromoted)
	if got := s.share(domain, 50); got["v2"] < 0.999 {
		t.Fatalf("after promotion viewers get %v, want only v2", got)
	}
	if live.State.Generation != 1 {
		t.Errorf("generation %d, want 1", live.State.Generation)
	}

	// v2 → v3 by weight, with stickiness. The policy was disabled by the
	// promotion: the release must enable it again (the classic pipeline drift).
	s.startRelease("alice", weightSpec("site-3.0.0", primaryID, "v3"))
	live = wantPhase(t, s, "site-3.0.0", release.PhaseProgressing)
	if live.State.Step != 0 {
		t.Fatalf("step %d, want 0", live.State.Step)
	}
	checkWeight(t, s, domain, 0.05)
	checkSticky(t, s, domain)

	s.reconcile(5 * time.Minute) // half the hold: still 5 %
	if live = s.status("site-3.0.0"); live.State.Step != 0 {
		t.Fatalf("after half the hold: step %d, want 0", live.State.Step)
	}
	if live.Window == nil || live.Window.Staging.Requests == 0 || live.Window.Primary.Requests == 0 {
		t.Fatalf("status has no per-variant window: %+v", live.Window)
	}
	s.reconcile(5 * time.Minute) // hold over: 15 %
	if live = s.status("site-3.0.0"); live.State.Step != 1 {
		t.Fatalf("after the hold: step %d, want 1", live.State.Step)
	}
	checkWeight(t, s, domain, 0.15)
	checkSticky(t, s, domain)

	s.reconcile(10 * time.Minute) // second hold over: approval, still 15 %
	if live = s.status("site-3.0.0"); live.State.Step != 2 {
		t.Fatalf("after the second hold: step %d, want 2 (approve)", live.State.Step)
	}
	checkWeight(t, s, domain, 0.15)
	if _, err := s.client("carol").Decide(s.ctx(), "site-3.0.0", "approve", ""); err != nil {
		t.Fatal(err)
	}
	s.waitEdge()
	wantPhase(t, s, "site-3.0.0", release.PhasePromoted)
	if got := s.share(domain, 50); got["v3"] < 0.999 {
		t.Fatalf("after promotion viewers get %v, want only v3", got)
	}

	gens, err := s.client("alice").History(s.ctx(), primaryID)
	testutil.Must(t, err)
	if len(gens) != 3 {
		t.Fatalf("history has %d generations, want 3 (initial, v2, v3)", len(gens))
	}
	if g := gens[2]; g.Release != "site-3.0.0" || len(g.ApprovedBy) != 1 || g.ApprovedBy[0].By != "carol" {
		t.Errorf("generation 2 = %+v, want release site-3.0.0 approved by carol", g)
	}
	if g := gens[1]; len(g.ApprovedBy) != 1 || g.ApprovedBy[0].By != "bob" || g.ApprovedBy[0].Comment != "looks good" {
		t.Errorf("generation 1 approvals = %+v, want bob's with his comment", g.ApprovedBy)
	}
}

// checkWeight sends fresh viewers and checks staging's share.
func checkWeight(t *testing.T, s *stack, domain string, want float64) {
	t.Helper()
	got := s.share(domain, 400)["v3"]
	if math.Abs(got-want) > 0.02 {
		t.Fatalf("staging share %.3f, want %.2f ± 0.02", got, want)
	}
}

// checkSticky checks that a viewer with a cookie jar stays on one variant.
func checkSticky(t *testing.T, s *stack, domain string) {
	t.Helper()
	for range 5 {
		v := s.viewer(domain, true)
		first, _, _ := v.get()
		for range 10 {
			if body, _, _ := v.get(); body != first {
				t.Fatalf("sticky viewer moved from %q to %q", first, body)
			}
		}
	}
}

// TestReleaseEndsWithoutPromotion: reject, approval timeout and abort each
// turn routing off at once (the next request gets the primary), disable the
// policy and reset staging to the primary's config. Each is followed by
// another release on the same primary, which must route to its staging.
func TestReleaseEndsWithoutPromotion(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	cases := []struct {
		name  string
		end   func(name string)
		phase release.Phase
	}{
		{"reject", func(name string) {
			_, err := s.client("bob").Decide(s.ctx(), name, "reject", "typo on the home page")
			testutil.Must(t, err)
		}, release.PhaseRejected},
		{"timeout", func(string) { s.reconcile(24 * time.Hour) }, release.PhaseRejected},
		{"abort", func(name string) {
			_, err := s.client("alice").Decide(s.ctx(), name, "abort", "")
			testutil.Must(t, err)
		}, release.PhaseAborted},
	}
	for i, tc := range cases {
		name := fmt.Sprintf("try-%d-%s", i, tc.name)
		s.startRelease("alice", headerSpec(name, primaryID, "v2"))
		if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v2" || variant != "staging" {
			t.Fatalf("%s: staging not reachable before the end: %q from %q", tc.name, body, variant)
		}
		tc.end(name)
		s.waitEdge()
		live := wantPhase(t, s, name, tc.phase)
		if live.State.Reason == "" {
			t.Errorf("%s: no reason recorded", tc.name)
		}
		s.expectPrimaryOnly(primaryID, domain, "v1")
	}
	live := s.status("try-0-reject")
	if !strings.Contains(live.State.Reason, "bob") || !strings.Contains(live.State.Reason, "typo") {
		t.Errorf("reject reason %q should name bob and his comment", live.State.Reason)
	}
	if live := s.status("try-1-timeout"); !strings.Contains(live.State.Reason, "timed out") {
		t.Errorf("timeout reason %q", live.State.Reason)
	}

	// At a weight step there is nothing to approve, and the error says how
	// to stop the release; reject works there as at any step.
	s.startRelease("alice", weightSpec("try-3-weight", primaryID, "v2"))
	_, err := s.client("bob").Decide(s.ctx(), "try-3-weight", "approve", "")
	if err == nil || !strings.Contains(err.Error(), "step 1/4 weight 5%, not an approval step") || !strings.Contains(err.Error(), "reject or abort") {
		t.Fatalf("approve at a weight step: %v; want a refusal that points to reject and abort", err)
	}
	_, err = s.client("bob").Decide(s.ctx(), "try-3-weight", "reject", "too slow")
	testutil.Must(t, err)
	s.waitEdge()
	if live := wantPhase(t, s, "try-3-weight", release.PhaseRejected); !strings.Contains(live.State.Reason, "rejected by bob: too slow") {
		t.Errorf("reject at a weight step: reason %q", live.State.Reason)
	}
	s.expectPrimaryOnly(primaryID, domain, "v1")
}

// TestReleaseFailedAnalysis: a staging origin answering 500 is rolled back
// within one analysis interval.
func TestReleaseFailedAnalysis(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	s.startRelease("alice", weightSpec("broken", primaryID, "bad"))
	if live := wantPhase(t, s, "broken", release.PhaseProgressing); live.State.Step != 0 {
		t.Fatalf("step %d", live.State.Step)
	}
	// Traffic arrives: 5 % of it hits the broken staging.
	errorsSeen := 0
	for range 600 {
		if _, _, status := s.viewer(domain, false).get(); status >= 500 {
			errorsSeen++
		}
	}
	if errorsSeen < 20 {
		t.Fatalf("only %d viewers reached the broken staging", errorsSeen)
	}
	s.reconcile(30 * time.Second) // one interval
	live := wantPhase(t, s, "broken", release.PhaseFailedAnalysis)
	if !strings.Contains(live.State.Reason, "5xx") {
		t.Errorf("reason %q should name the 5xx rate", live.State.Reason)
	}
	s.expectPrimaryOnly(primaryID, domain, "v1")
}

// TestReleaseApproveRejectRace: exactly one of a racing approval and
// rejection wins.
func TestReleaseApproveRejectRace(t *testing.T) {
	t.Parallel()
	s, primaryID, _ := newStack(t)
	for i := range 3 {
		name := fmt.Sprintf("race-%d", i)
		s.startRelease("alice", headerSpec(name, primaryID, "v2"))
		approver, rejecter := s.client("bob"), s.client("carol")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); _, errs[0] = approver.Decide(s.ctx(), name, "approve", "") }()
		go func() { defer wg.Done(); _, errs[1] = rejecter.Decide(s.ctx(), name, "reject", "") }()
		wg.Wait()
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatal("both the approval and the rejection were accepted")
		case errs[0] != nil && errs[1] != nil:
			t.Fatalf("neither was accepted: %v / %v", errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil && !isConflict(err) {
				t.Fatalf("the loser got %v, want a 409 conflict", err)
			}
		}
		live := s.status(name)
		if !live.State.Phase.Terminal() {
			t.Fatalf("phase %s", live.State.Phase)
		}
		if live.State.Phase == release.PhasePromoted {
			// Put v1 back for the next round.
			gens, err := s.client("alice").History(s.ctx(), primaryID)
			testutil.Must(t, err)
			_, err = s.client("alice").Rollback(s.ctx(), primaryID, gens[len(gens)-2].Number)
			testutil.Must(t, err)
		}
	}
}

// TestReleaseNoDriftAfterPromotion is the drift case: promotion
// disables the policy; a second release with the very same routing must
// still reach its staging (a pipeline that only re-applies the unchanged
// template would leave the policy disabled).
func TestReleaseNoDriftAfterPromotion(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	s.startRelease("alice", headerSpec("first", primaryID, "v2"))
	_, err := s.client("bob").Decide(s.ctx(), "first", "approve", "")
	testutil.Must(t, err)
	wantPhase(t, s, "first", release.PhasePromoted)

	s.startRelease("alice", headerSpec("second", primaryID, "v3"))
	s.waitEdge()
	if body, variant, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v3" || variant != "staging" {
		t.Fatalf("second release with the header: %q from %q, want v3 from staging", body, variant)
	}
	if body, _, _ := s.viewer(domain, false).get(); body != "v2" {
		t.Fatalf("second release without the header: %q, want v2", body)
	}
}

// TestReleaseResumesAfterRestart stops the whole stack during a weight hold
// and starts a new one on the same bolt file: the release continues from
// that step, with its hold counted from when the step began.
func TestReleaseResumesAfterRestart(t *testing.T) {
	t.Parallel()
	origin := versionOrigin(t)
	dir := t.TempDir()
	clock := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := startStack(t, dir, clock)
	primaryID, domain := s.createPrimary(origin.URL)
	s.startRelease("alice", weightSpec("resume", primaryID, "v3"))
	s.reconcile(10 * time.Minute) // 5 % hold over: now at 15 %
	if live := s.status("resume"); live.State.Step != 1 {
		t.Fatalf("step %d, want 1", live.State.Step)
	}
	s.reconcile(4 * time.Minute) // mid-hold
	s.stop()

	s = startStack(t, dir, clock)
	if live := s.status("resume"); live.State.Step != 1 || live.State.Phase != release.PhaseProgressing {
		t.Fatalf("after restart: step %d %s, want step 1 Progressing", live.State.Step, live.State.Phase)
	}
	checkWeight(t, s, domain, 0.15)
	s.reconcile(5 * time.Minute) // 9 of 10 minutes: still holding
	if live := s.status("resume"); live.State.Step != 1 {
		t.Fatalf("hold restarted or skipped: step %d, want 1", live.State.Step)
	}
	s.reconcile(time.Minute)
	if live := s.status("resume"); live.State.Step != 2 {
		t.Fatalf("after the hold: step %d, want 2", live.State.Step)
	}
	_, err := s.client("bob").Decide(s.ctx(), "resume", "approve", "")
	testutil.Must(t, err)
	wantPhase(t, s, "resume", release.PhasePromoted)
	if got := s.share(domain, 20); got["v3"] < 0.999 {
		t.Fatalf("after promotion: %v", got)
	}
}

// TestRollbackToGeneration promotes v2 then v3, then rolls back to the
// generation that served v2, then to the initial one (v1).
func TestRollbackToGeneration(t *testing.T) {
	t.Parallel()
	s, primaryID, domain := newStack(t)
	for _, v := range []string{"v2", "v3"} {
		s.startRelease("alice", headerSpec("to-"+v, primaryID, v))
		_, err := s.client("bob").Decide(s.ctx(), "to-"+v, "approve", "")
		testutil.Must(t, err)
		wantPhase(t, s, "to-"+v, release.PhasePromoted)
	}
	for _, tc := range []struct {
		to   int
		want string
	}{{1, "v2"}, {0, "v1"}, {2, "v3"}} {
		gen, err := s.client("dave").Rollback(s.ctx(), primaryID, tc.to)
		testutil.Must(t, err)
		s.waitEdge()
		if gen.Kind != "rollback" || gen.From != tc.to || gen.By != "dave" {
			t.Errorf("generation %+v, want a rollback to %d by dave", gen, tc.to)
		}
		if got := s.share(domain, 20); got[tc.want] < 0.999 {
			t.Fatalf("after rollback to %d: %v, want only %s", tc.to, got, tc.want)
		}
	}
	gens, err := s.client("alice").History(s.ctx(), primaryID)
	testutil.Must(t, err)
	if len(gens) != 6 {
		t.Fatalf("%d generations, want 6", len(gens))
	}
	// A release after a rollback starts from the restored config.
	s.startRelease("alice", headerSpec("after-rollback", primaryID, "v2"))
	if body, _, _ := s.viewer(domain, false).get("aws-cf-cd-env", "staging"); body != "v2" {
		t.Fatalf("release after rollback: staging serves %q", body)
	}
	if _, err := s.client("dave").Rollback(s.ctx(), primaryID, 0); !isConflict(err) {
		t.Fatalf("rollback during a release: %v, want a conflict", err)
	}
}
