package control_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

const cachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

// cdEnv is a Service over a real bbolt file, with helpers that fail the
// test on unexpected errors.
type cdEnv struct {
	t   *testing.T
	ctx context.Context
	svc *control.Service
	st  store.Store
}

func newCDEnv(t *testing.T) *cdEnv {
	t.Helper()
	return newCDEnvWith(t, control.Options{})
}

// newCDEnvWith is newCDEnv with the service's options (its quotas, say).
func newCDEnvWith(t *testing.T, opts control.Options) *cdEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	opts.DomainSuffix = "cdn.test"
	return &cdEnv{t: t, ctx: context.Background(), svc: control.New(st, opts), st: st}
}

func distConfig(ref string, staging bool) *cf.DistributionConfig {
	return &cf.DistributionConfig{
		CallerReference: cf.String(ref),
		Comment:         cf.String(ref),
		Enabled:         cf.Bool(true),
		Staging:         cf.Bool(staging),
		Origins: &cf.Origins{Quantity: cf.Int32(1), Items: []cf.Origin{{
			Id: cf.String("web"), DomainName: cf.String("origin.example.com"), OriginPath: cf.String("/v1"),
			CustomOriginConfig: &cf.CustomOriginConfig{HTTPPort: cf.Int32(80), HTTPSPort: cf.Int32(443), OriginProtocolPolicy: cf.String("http-only")},
		}}},
		DefaultCacheBehavior: &cf.DefaultCacheBehavior{
			TargetOriginId: cf.String("web"), ViewerProtocolPolicy: cf.String("allow-all"), CachePolicyId: cf.String(cachingDisabled),
		},
	}
}

func headerPolicy(stagingDomain string) *cf.ContinuousDeploymentPolicyConfig {
	return &cf.ContinuousDeploymentPolicyConfig{
		Enabled:                     cf.Bool(true),
		StagingDistributionDnsNames: &cf.StagingDistributionDnsNames{Quantity: cf.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig: &cf.TrafficConfig{Type: cf.String("SingleHeader"),
			SingleHeaderConfig: &cf.ContinuousDeploymentSingleHeaderConfig{Header: cf.String("aws-cf-cd-test"), Value: cf.String("blue")}},
	}
}

func (e *cdEnv) create(cfg *cf.DistributionConfig) *control.DistributionResult {
	e.t.Helper()
	out, err := e.svc.CreateDistribution(e.ctx, cfg, nil)
	if err != nil {
		e.t.Fatalf("CreateDistribution %s: %v", cf.Str(cfg.CallerReference), err)
	}
	return out
}

func (e *cdEnv) get(id string) *control.DistributionResult {
	e.t.Helper()
	out, err := e.svc.GetDistribution(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetDistribution %s: %v", id, err)
	}
	return out
}

// update reads the distribution, applies change to a copy of its config
// and sends it back with the ETag it read, as every client does.
func (e *cdEnv) update(id string, change func(*cf.DistributionConfig)) (*control.DistributionResult, error) {
	e.t.Helper()
	cur := e.get(id)
	cfg := roundTrip(e.t, cur.Distribution.DistributionConfig)
	change(cfg)
	return e.svc.UpdateDistribution(e.ctx, id, cur.ETag, cfg)
}

func (e *cdEnv) mustUpdate(id string, change func(*cf.DistributionConfig)) *control.DistributionResult {
	e.t.Helper()
	out, err := e.update(id, change)
	if err != nil {
		e.t.Fatalf("UpdateDistribution %s: %v", id, err)
	}
	return out
}

func (e *cdEnv) deleteDist(id string) error {
	e.t.Helper()
	return e.svc.DeleteDistribution(e.ctx, id, e.get(id).ETag)
}

func (e *cdEnv) policy(id string) *control.PolicyResult {
	e.t.Helper()
	out, err := e.svc.GetPolicy(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetPolicy %s: %v", id, err)
	}
	return out
}

func (e *cdEnv) setPolicyEnabled(id string, enabled bool) {
	e.t.Helper()
	cur := e.policy(id)
	cfg := roundTrip(e.t, cur.Policy.ContinuousDeploymentPolicyConfig)
	cfg.Enabled = cf.Bool(enabled)
	if _, err := e.svc.UpdatePolicy(e.ctx, id, cur.ETag, cfg); err != nil {
		e.t.Fatalf("UpdatePolicy %s: %v", id, err)
	}
}

func (e *cdEnv) deletePolicy(id string) error {
	e.t.Helper()
	return e.svc.DeletePolicy(e.ctx, id, e.policy(id).ETag)
}

// roundTrip copies a shape through its stored (JSON) form, as a client
// holds its own copy of what it read.
func roundTrip[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := model.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := model.Decode[T](b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// trio is a primary, a staging distribution and a header policy naming the
// staging distribution, attached to the primary when attach is set.
type trio struct{ primaryID, stagingID, stagingDomain, policyID string }

func (e *cdEnv) trio(name string, attach bool) trio {
	e.t.Helper()
	primary := e.create(distConfig(name, false))
	staging := e.create(distConfig(name+"-staging", true))
	pol, err := e.svc.CreatePolicy(e.ctx, headerPolicy(cf.Str(staging.Distribution.DomainName)))
	if err != nil {
		e.t.Fatalf("CreatePolicy: %v", err)
	}
	tr := trio{
		primaryID: cf.Str(primary.Distribution.Id), stagingID: cf.Str(staging.Distribution.Id),
		stagingDomain: cf.Str(staging.Distribution.DomainName), policyID: cf.Str(pol.Policy.Id),
	}
	if attach {
		e.mustUpdate(tr.primaryID, func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = cf.String(tr.policyID) })
	}
	return tr
}

func (e *cdEnv) policyIDOf(distID string) string {
	e.t.Helper()
	return cf.Str(e.get(distID).Distribution.DistributionConfig.ContinuousDeploymentPolicyId)
}

// wantErr checks an error's CloudFront code, status and exact message
// (message "" skips the message).
func wantErr(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	var got *cf.Error
	if !errors.As(err, &got) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if got.Code != code || got.Status != status {
		t.Fatalf("got %s %d (%s), want %s %d", got.Code, got.Status, got.Message, code, status)
	}
	if message != "" && got.Message != message {
		t.Errorf("%s message = %q, want %q", code, got.Message, message)
	}
}

// destroyLikeTerraform runs the hashicorp/aws provider's destroy order for
// a primary, its policy and its staging distribution.
func (e *cdEnv) destroyLikeTerraform(tr trio) {
	e.t.Helper()
	// 1. The policy is disabled (it is still attached).
	e.setPolicyEnabled(tr.policyID, false)
	// 2. The primary is disabled and deleted with the policy attached.
	e.mustUpdate(tr.primaryID, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	if err := e.deleteDist(tr.primaryID); err != nil {
		e.t.Fatalf("delete primary (disabled, disabled policy attached): %v", err)
	}
	// 3. The policy is deleted.
	if err := e.deletePolicy(tr.policyID); err != nil {
		e.t.Fatalf("delete policy after its primary: %v", err)
	}
	// 4. The staging distribution's config goes back with Enabled=false and
	// ContinuousDeploymentPolicyId empty (the provider sends "").
	e.mustUpdate(tr.stagingID, func(c *cf.DistributionConfig) {
		c.Enabled = cf.Bool(false)
		c.ContinuousDeploymentPolicyId = cf.String("")
	})
	// 5. The staging distribution is deleted.
	if err := e.deleteDist(tr.stagingID); err != nil {
		e.t.Fatalf("delete staging: %v", err)
	}
}

func TestTerraformDestroyOrder(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("tf", true)
	e.destroyLikeTerraform(tr)
	for _, id := range []string{tr.primaryID, tr.stagingID} {
		if _, err := e.svc.GetDistribution(e.ctx, id); !errors.Is(err, cf.ErrNoSuchDistribution) {
			t.Errorf("GetDistribution %s after destroy: %v, want NoSuchDistribution", id, err)
		}
	}
	if _, err := e.svc.GetPolicy(e.ctx, tr.policyID); !errors.Is(err, cf.ErrNoSuchCDPolicy) {
		t.Errorf("GetPolicy after destroy: %v, want NoSuchContinuousDeploymentPolicy", err)
	}
	// The staging domain is free for a new trio's policy.
	again := e.trio("tf-again", true)
	e.destroyLikeTerraform(again)
}

func TestTerraformDestroyOrderOmittedPolicyID(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("omit", true)
	e.setPolicyEnabled(tr.policyID, false)
	e.mustUpdate(tr.primaryID, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	if err := e.deleteDist(tr.primaryID); err != nil {
		t.Fatal(err)
	}
	if err := e.deletePolicy(tr.policyID); err != nil {
		t.Fatal(err)
	}
	// Other clients leave the element out (it means "no change").
	e.mustUpdate(tr.stagingID, func(c *cf.DistributionConfig) {
		c.Enabled = cf.Bool(false)
		c.ContinuousDeploymentPolicyId = nil
	})
	if err := e.deleteDist(tr.stagingID); err != nil {
		t.Fatal(err)
	}
}

func TestDeletePrimaryClearsReversePointer(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("rp", true)
	if got := e.policyIDOf(tr.stagingID); got != tr.policyID {
		t.Fatalf("staging reverse pointer after attach = %q, want %q", got, tr.policyID)
	}
	before := e.get(tr.stagingID).ETag
	e.setPolicyEnabled(tr.policyID, false)
	e.mustUpdate(tr.primaryID, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	if err := e.deleteDist(tr.primaryID); err != nil {
		t.Fatal(err)
	}
	after := e.get(tr.stagingID)
	if got := cf.Str(after.Distribution.DistributionConfig.ContinuousDeploymentPolicyId); got != "" {
		t.Errorf("staging still points at policy %q after its primary was deleted", got)
	}
	if after.ETag == before {
		t.Error("the staging distribution kept its ETag when its reverse pointer was cleared")
	}
	// The stored record is cleared too, not only the view of it.
	kv, err := e.st.Get(e.ctx, model.DistributionKey(tr.stagingID))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := model.Decode[model.Distribution](kv.Value)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PolicyID() != "" {
		t.Errorf("stored staging record still points at %q", rec.PolicyID())
	}
	// The policy is no longer in use: it can be deleted.
	if err := e.deletePolicy(tr.policyID); err != nil {
		t.Errorf("delete the policy of a deleted primary: %v", err)
	}
}

func TestDetachClearsReversePointer(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("detach", true)
	e.mustUpdate(tr.primaryID, func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = cf.String("") })
	if got := e.policyIDOf(tr.stagingID); got != "" {
		t.Errorf("staging reverse pointer after detach = %q", got)
	}
	if err := e.deletePolicy(tr.policyID); err != nil {
		t.Fatalf("delete a detached policy: %v", err)
	}
}

func TestDeletePolicyInUse(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("inuse", true)
	const msg = "You cannot delete a continuous deployment policy that is associated with a primary distribution."
	wantErr(t, e.deletePolicy(tr.policyID), "ContinuousDeploymentPolicyInUse", 409, msg)

	// Disabling the policy does not detach it: still in use.
	e.setPolicyEnabled(tr.policyID, false)
	wantErr(t, e.deletePolicy(tr.policyID), "ContinuousDeploymentPolicyInUse", 409, msg)
	if got := e.policyIDOf(tr.primaryID); got != tr.policyID {
		t.Errorf("the refused delete changed the primary's policy id to %q", got)
	}
	if got := e.policyIDOf(tr.stagingID); got != tr.policyID {
		t.Errorf("the refused delete changed the staging's policy id to %q", got)
	}

	// A staging distribution its primary still points at cannot be deleted
	// (nor disabled, which comes first).
	_, err := e.update(tr.stagingID, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	wantErr(t, err, "StagingDistributionInUse", 409, "")
	if err := e.svc.DeleteDistribution(e.ctx, tr.stagingID, e.get(tr.stagingID).ETag); err == nil {
		t.Fatal("deleting an enabled staging distribution in use succeeded")
	}
}

func TestDeleteStagingInUse(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("stginuse", true)
	// Write the disabled staging record directly: the API refuses to
	// disable it while in use, and DeleteDistribution must refuse on its own.
	kv, err := e.st.Get(e.ctx, model.DistributionKey(tr.stagingID))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := model.Decode[model.Distribution](kv.Value)
	if err != nil {
		t.Fatal(err)
	}
	rec.Config.Enabled = cf.Bool(false)
	b, err := model.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Txn(e.ctx, nil, []store.Op{{Key: model.DistributionKey(tr.stagingID), Value: b}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.deleteDist(tr.stagingID), "ResourceInUse", 409, "Cannot delete this resource because it is in use.")
}

// putRecord writes a record straight into the store, as an older version
// of stagefront may have left it.
func (e *cdEnv) putRecord(key string, rec any) {
	e.t.Helper()
	b, err := model.Encode(rec)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.Txn(e.ctx, nil, []store.Op{{Key: key, Value: b}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *cdEnv) record(id string) *model.Distribution {
	e.t.Helper()
	kv, err := e.st.Get(e.ctx, model.DistributionKey(id))
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := model.Decode[model.Distribution](kv.Value)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func TestStalePointers(t *testing.T) {
	t.Parallel()
	const gone = "00000000-0000-4000-8000-000000000000"
	e := newCDEnv(t)
	primary := e.create(distConfig("stale", false))
	staging := e.create(distConfig("stale-staging", true))
	primaryID, stagingID := cf.Str(primary.Distribution.Id), cf.Str(staging.Distribution.Id)
	plantStale := func() {
		for _, id := range []string{primaryID, stagingID} {
			rec := e.record(id)
			rec.Config.ContinuousDeploymentPolicyId = cf.String(gone)
			e.putRecord(model.DistributionKey(id), rec)
		}
	}

	plantStale()
	for _, id := range []string{primaryID, stagingID} {
		if got := e.policyIDOf(id); got != "" {
			t.Errorf("%s shows a pointer to a deleted policy: %q", id, got)
		}
	}
	// Updates go through whether the client sends "", omits the element, or
	// echoes the stale id it may have read before, and the stored pointer
	// is cleared.
	for _, sent := range []*string{cf.String(""), nil, cf.String(gone)} {
		plantStale()
		for _, id := range []string{primaryID, stagingID} {
			e.mustUpdate(id, func(c *cf.DistributionConfig) {
				c.Comment = cf.String(fmt.Sprintf("sent %v", sent))
				c.ContinuousDeploymentPolicyId = sent
				c.PriceClass = cf.String("PriceClass_100") // CD forbids this change while attached
			})
			if got := e.record(id).PolicyID(); got != "" {
				t.Errorf("%s after an update: stored policy id %q", id, got)
			}
		}
	}
	// Once cleared, the id names a policy to attach, and there is none.
	_, err := e.update(primaryID, func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = cf.String(gone) })
	wantErr(t, err, "NoSuchContinuousDeploymentPolicy", 404, "")
	plantStale()
	// Disabling and deleting work.
	for _, id := range []string{stagingID, primaryID} {
		e.mustUpdate(id, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
		if err := e.deleteDist(id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
}

func TestStaleStagingPointerToLivePolicy(t *testing.T) {
	t.Parallel()
	// The policy exists but no primary holds it: the staging's reverse
	// pointer is stale (a primary deleted by an older version left it).
	e := newCDEnv(t)
	tr := e.trio("stalelive", false)
	rec := e.record(tr.stagingID)
	rec.Config.ContinuousDeploymentPolicyId = cf.String(tr.policyID)
	e.putRecord(model.DistributionKey(tr.stagingID), rec)
	if got := e.policyIDOf(tr.stagingID); got != "" {
		t.Errorf("staging shows policy %q that no primary holds", got)
	}
	e.mustUpdate(tr.stagingID, func(c *cf.DistributionConfig) {
		c.ContinuousDeploymentPolicyId = cf.String("")
		c.PriceClass = cf.String("PriceClass_100")
	})
	if err := e.deletePolicy(tr.policyID); err != nil {
		t.Fatal(err)
	}
	e.mustUpdate(tr.stagingID, func(c *cf.DistributionConfig) { c.Enabled = cf.Bool(false) })
	if err := e.deleteDist(tr.stagingID); err != nil {
		t.Fatal(err)
	}
}

func TestDeletePolicyClearsEveryStaging(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	tr := e.trio("every", false)
	other := e.create(distConfig("every-other-staging", true))
	otherID := cf.Str(other.Distribution.Id)
	for _, id := range []string{tr.stagingID, otherID} {
		rec := e.record(id)
		rec.Config.ContinuousDeploymentPolicyId = cf.String(tr.policyID)
		e.putRecord(model.DistributionKey(id), rec)
	}
	if err := e.deletePolicy(tr.policyID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{tr.stagingID, otherID} {
		if got := e.record(id).PolicyID(); got != "" {
			t.Errorf("stored staging %s still points at the deleted policy: %q", id, got)
		}
	}
}

// TestWritesAnswerInProgress: CloudFront answers every write InProgress;
// only a later read says Deployed. The service here has no edges to wait
// for, so a read right after the write is Deployed.
func TestWritesAnswerInProgress(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	check := func(what string, r *control.DistributionResult) {
		t.Helper()
		if got := cf.Str(r.Distribution.Status); got != "InProgress" {
			t.Fatalf("%s answered Status %q, want InProgress", what, got)
		}
		if got := cf.Str(e.get(cf.Str(r.Distribution.Id)).Distribution.Status); got != "Deployed" {
			t.Fatalf("GetDistribution after %s: Status %q, want Deployed", what, got)
		}
	}
	var ids []string
	for i := range 150 {
		r := e.create(distConfig(fmt.Sprintf("w%03d", i), false))
		check("CreateDistribution", r)
		ids = append(ids, cf.Str(r.Distribution.Id))
	}
	for i, id := range ids {
		check("UpdateDistribution", e.mustUpdate(id, func(c *cf.DistributionConfig) { c.Comment = cf.String(fmt.Sprint("u", i)) }))
	}

	primary := ids[0]
	cp, err := e.svc.CopyDistribution(e.ctx, primary, "true", e.get(primary).ETag, &cf.CopyDistributionRequest{CallerReference: cf.String("w-copy")})
	if err != nil {
		t.Fatal(err)
	}
	check("CopyDistribution", cp)
	stagingID := cf.Str(cp.Distribution.Id)
	pol, err := e.svc.CreatePolicy(e.ctx, headerPolicy(cf.Str(cp.Distribution.DomainName)))
	if err != nil {
		t.Fatal(err)
	}
	check("attach", e.mustUpdate(primary, func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = pol.Policy.Id }))
	promoted, err := e.svc.PromoteStaging(e.ctx, primary, stagingID, e.get(primary).ETag+","+e.get(stagingID).ETag)
	if err != nil {
		t.Fatal(err)
	}
	check("UpdateDistributionWithStagingConfig", promoted)

	inv, err := e.svc.CreateInvalidation(e.ctx, primary, &cf.InvalidationBatch{CallerReference: cf.String("w-inv"),
		Paths: &cf.Paths{Quantity: cf.Int32(1), Items: []string{"/*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Str(inv.Status); got != "InProgress" {
		t.Errorf("CreateInvalidation answered Status %q, want InProgress", got)
	}
}

// TestCDLinkRaces: attaching, detaching and deleting the same policy and
// primaries concurrently never leaves a primary pointing at a deleted
// policy, a policy on two primaries, or a staging pointer that disagrees.
func TestCDLinkRaces(t *testing.T) {
	t.Parallel()
	e := newCDEnv(t)
	for round := range 8 {
		tr := e.trio(fmt.Sprintf("race%d", round), false)
		second := e.create(distConfig(fmt.Sprintf("race%d-second", round), false))
		secondID := cf.Str(second.Distribution.Id)
		var wg sync.WaitGroup
		for _, id := range []string{tr.primaryID, secondID} {
			wg.Go(func() {
				_, _ = e.update(id, func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = cf.String(tr.policyID) })
			})
		}
		wg.Go(func() {
			if p, err := e.svc.GetPolicy(e.ctx, tr.policyID); err == nil {
				_ = e.svc.DeletePolicy(e.ctx, tr.policyID, p.ETag)
			}
		})
		wg.Wait()
		e.checkLinks()
	}
}

// checkLinks asserts the invariants over every stored record.
func (e *cdEnv) checkLinks() {
	e.t.Helper()
	dists, _, err := e.st.List(e.ctx, model.DistributionPrefix)
	if err != nil {
		e.t.Fatal(err)
	}
	holders := map[string][]string{} // policy → primaries
	stagingPointer := map[string]string{}
	for _, kv := range dists {
		rec, err := model.Decode[model.Distribution](kv.Value)
		if err != nil {
			e.t.Fatal(err)
		}
		if rec.IsStaging() {
			stagingPointer[rec.DomainName] = rec.PolicyID()
		} else if pid := rec.PolicyID(); pid != "" {
			holders[pid] = append(holders[pid], rec.ID)
		}
	}
	for pid, primaries := range holders {
		if len(primaries) > 1 {
			e.t.Errorf("policy %s is attached to %d primaries: %v", pid, len(primaries), primaries)
		}
		p, err := e.svc.GetPolicy(e.ctx, pid)
		if err != nil {
			e.t.Errorf("primary %v points at policy %s: %v", primaries, pid, err)
			continue
		}
		domain := p.Policy.ContinuousDeploymentPolicyConfig.StagingDistributionDnsNames.Items[0]
		if got := stagingPointer[domain]; got != pid {
			e.t.Errorf("staging %s reverse pointer = %q, want %q", domain, got, pid)
		}
	}
	for domain, pid := range stagingPointer {
		if pid != "" && len(holders[pid]) == 0 {
			e.t.Errorf("staging %s points at %q, which no primary holds", domain, pid)
		}
	}
}

// interleavingStore runs hook once, right after the n-th listing of
// distributions it answers, counted from when the hook is set: a way to
// commit one request between two reads of another.
type interleavingStore struct {
	store.Store
	mu    sync.Mutex
	n     int
	hook  func()
	lists int
}

func (s *interleavingStore) arm(n int, hook func()) {
	s.mu.Lock()
	s.n, s.hook, s.lists = n, hook, 0
	s.mu.Unlock()
}

func (s *interleavingStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	kvs, rev, err := s.Store.List(ctx, prefix)
	if prefix != model.DistributionPrefix {
		return kvs, rev, err
	}
	s.mu.Lock()
	s.lists++
	var hook func()
	if s.hook != nil && s.lists == s.n {
		hook, s.hook = s.hook, nil
	}
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return kvs, rev, err
}

// TestCDLinkInterleavings runs one link change (the victim) and commits
// another on the same trio (the intruder) between any two of the victim's
// reads of the distributions. Whatever the interleaving, the links stay
// whole: at most one primary holds a policy, and the staging distribution a
// held policy names points back at it. Two reads taken at different moments
// ("which primary holds the policy", then "the staging distribution at
// revision R") once let both of two attaches commit.
func TestCDLinkInterleavings(t *testing.T) {
	t.Parallel()
	// A scene is a trio, a second primary and a second staging
	// distribution in a store of its own; an op is one API call on it,
	// whose error is allowed (a conflict or an in-use refusal) as long as
	// the links stay whole.
	type scene struct {
		*cdEnv
		trio
		is                   *interleavingStore
		second, otherStaging string
	}
	newScene := func() scene {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
		if err != nil {
			t.Fatalf("bolt.Open: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		is := &interleavingStore{Store: st}
		e := &cdEnv{t: t, ctx: context.Background(), svc: control.New(is, control.Options{DomainSuffix: "cdn.test"}), st: is}
		return scene{
			cdEnv: e, is: is,
			trio:         e.trio("inter", false),
			second:       cf.Str(e.create(distConfig("inter-second", false)).Distribution.Id),
			otherStaging: cf.Str(e.create(distConfig("inter-other", true)).Distribution.DomainName),
		}
	}
	attach := func(primary func(scene) string) func(scene) error {
		return func(sc scene) error {
			_, err := sc.update(primary(sc), func(c *cf.DistributionConfig) { c.ContinuousDeploymentPolicyId = cf.String(sc.policyID) })
			return err
		}
	}
	ops := map[string]func(scene) error{
		"attach primary": attach(func(sc scene) string { return sc.primaryID }),
		"attach second":  attach(func(sc scene) string { return sc.second }),
		"rename staging": func(sc scene) error {
			cur := sc.policy(sc.policyID)
			cfg := roundTrip(t, cur.Policy.ContinuousDeploymentPolicyConfig)
			cfg.StagingDistributionDnsNames.Items[0] = sc.otherStaging
			_, err := sc.svc.UpdatePolicy(sc.ctx, sc.policyID, cur.ETag, cfg)
			return err
		},
		"delete policy": func(sc scene) error { return sc.svc.DeletePolicy(sc.ctx, sc.policyID, sc.policy(sc.policyID).ETag) },
	}
	pairs := [][2]string{
		{"attach second", "attach primary"},
		{"attach primary", "rename staging"},
		{"rename staging", "attach primary"},
		{"attach primary", "delete policy"},
		{"delete policy", "attach primary"},
	}
	for _, pair := range pairs {
		victim, intruder := ops[pair[0]], ops[pair[1]]
		// How many listings the victim makes, undisturbed.
		sc := newScene()
		sc.is.arm(1<<30, nil)
		if err := victim(sc); err != nil {
			t.Fatalf("%s alone: %v", pair[0], err)
		}
		sc.is.mu.Lock()
		lists := sc.is.lists
		sc.is.mu.Unlock()
		if lists == 0 {
			t.Fatalf("%s made no listing of distributions", pair[0])
		}
		for k := 1; k <= lists; k++ {
			sc := newScene()
			sc.is.arm(k, func() { _ = intruder(sc) })
			_ = victim(sc)
			sc.checkLinks()
			if t.Failed() {
				t.Fatalf("%s with %s committed after its listing %d of %d", pair[0], pair[1], k, lists)
			}
		}
	}
}
