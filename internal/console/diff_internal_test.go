package console

import (
	"encoding/json"
	"testing"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/release"
)

func TestConfigDiffAddressesItemsByID(t *testing.T) {
	t.Parallel()
	primary := &cf.DistributionConfig{
		CallerReference: cf.String("p"), Comment: cf.String("site"),
		Aliases: &cf.Aliases{Quantity: cf.Int32(1), Items: []string{"www.example.com"}},
		Origins: &cf.Origins{Quantity: cf.Int32(2), Items: []cf.Origin{
			{Id: cf.String("assets"), DomainName: cf.String("a.example")},
			{Id: cf.String("web"), DomainName: cf.String("w.example"), OriginPath: cf.String("/v1")},
		}},
		ContinuousDeploymentPolicyId: cf.String("pol"),
	}
	// Staging: its own caller reference, no aliases, no policy (promotion
	// keeps the primary's), the origins reordered, one path changed, one
	// origin added.
	staging := &cf.DistributionConfig{
		CallerReference: cf.String("s"), Comment: cf.String("site"), Staging: cf.Bool(true),
		Origins: &cf.Origins{Quantity: cf.Int32(3), Items: []cf.Origin{
			{Id: cf.String("web"), DomainName: cf.String("w.example"), OriginPath: cf.String("/v2")},
			{Id: cf.String("assets"), DomainName: cf.String("a.example")},
			{Id: cf.String("img"), DomainName: cf.String("i.example")},
		}},
	}
	got, err := ConfigDiff(primary, staging, promotionKeeps)
	if err != nil {
		t.Fatal(err)
	}
	want := []DiffLine{
		{Path: "Origins.Items[Id=img].DomainName", After: `"i.example"`, Kind: "added"},
		{Path: "Origins.Items[Id=img].Id", After: `"img"`, Kind: "added"},
		{Path: "Origins.Items[Id=web].OriginPath", Before: `"/v1"`, After: `"/v2"`, Kind: "changed"},
	}
	if len(got) != len(want) {
		t.Fatalf("diff %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// The stored JSON form of a generation compares the same way.
	raw, _ := json.Marshal(primary)
	if same, err := ConfigDiff(json.RawMessage(raw), primary, nil); err != nil || len(same) != 0 {
		t.Errorf("a config against its own JSON: %+v, %v", same, err)
	}
}

func TestReleaseHistoryShowsDecisionsWithAuthorInOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rel := &release.Release{Name: "r", PrimaryID: "E1", CreatedBy: "bob", Created: t0,
		Spec: release.Spec{Steps: []release.Step{{Kind: release.StepApprove}, {Kind: release.StepPromote}}}}
	rel.State.Decisions = []release.Decision{{Step: 0, Verdict: release.VerdictApproved, By: "alice", At: t0.Add(time.Minute), Comment: "ship it"}}
	rel.State.Events = []release.Event{
		{At: t0, Message: "started by bob on E1"},
		{At: t0, Message: "staging E2 carries the change"},
		{At: t0.Add(time.Minute), Message: "approved by alice: ship it"},
		{At: t0.Add(time.Minute), Message: "step 1: promote"},
	}
	h := releaseHistory(rel)
	sortHistory(h)
	var got []string
	for _, e := range h {
		got = append(got, e.Who+" "+e.What+" "+e.Comment)
	}
	want := []string{"stagefront step 1: promote ", "alice approved step 1 ship it", "stagefront staging E2 carries the change ", "bob started the release "}
	if len(got) != len(want) {
		t.Fatalf("history %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
		}
	}
}
