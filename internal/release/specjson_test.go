package release

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestSpecJSONDurations: durations are Go duration strings in JSON, and
// decode back; nanosecond numbers (what earlier versions stored) still load.
func TestSpecJSONDurations(t *testing.T) {
	t.Parallel()
	spec := issueSpec(t)
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout":"24h0m0s"`, `"hold":"10m0s"`, `"idle":"5m0s"`, `"max":"10m0s"`, `"interval":"30s"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("spec JSON lacks %s:\n%s", want, raw)
		}
	}
	var back Spec
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Steps[1].Approve.Timeout != 24*time.Hour || back.Steps[2].Weight.Hold != 10*time.Minute ||
		back.Steps[2].Weight.Stickiness.Idle != 5*time.Minute || back.Analysis.Interval != 30*time.Second ||
		back.Steps[2].Weight.Percent != 5 || back.Steps[0].Header.Name != "aws-cf-cd-env" {
		t.Errorf("round trip lost values: %+v", back)
	}
	var old Spec
	if err := json.Unmarshal([]byte(`{"name":"a","steps":[{"kind":"approve","approve":{"timeout":86400000000000}}],"analysis":{"interval":30000000000}}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Steps[0].Approve.Timeout != 24*time.Hour || old.Analysis.Interval != 30*time.Second {
		t.Errorf("nanoseconds: %+v", old)
	}
	if err := json.Unmarshal([]byte(`{"steps":[{"kind":"approve","approve":{"timeout":"soon"}}]}`), &old); err == nil {
		t.Error("a bad duration string was accepted")
	}
}

// TestGenerationJSONRollbackToZero: a rollback to generation 0 says so.
func TestGenerationJSONRollbackToZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		g    Generation
		want string
	}{
		{Generation{Number: 3, Kind: "rollback", From: 0}, `"rollbackTo":0`},
		{Generation{Number: 3, Kind: "rollback", From: 2}, `"rollbackTo":2`},
		{Generation{Number: 1, Kind: "promote"}, ""},
	} {
		raw, err := json.Marshal(tc.g)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(raw), `"rollbackTo"`); got != (tc.want != "") || !strings.Contains(string(raw), tc.want) {
			t.Errorf("%+v: %s, want %q", tc.g, raw, tc.want)
		}
		var back Generation
		if err := json.Unmarshal(raw, &back); err != nil || back.From != tc.g.From || back.Kind != tc.g.Kind {
			t.Errorf("round trip of %s: %+v, %v", raw, back, err)
		}
	}
}
