package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Errors of the controller's operations (HTTP maps them to statuses).
var (
	ErrExists        = errors.New("already exists")
	ErrPrimaryBusy   = errors.New("the primary already has an active release")
	ErrNotApprovable = errors.New("not waiting for an approval")
	ErrFinished      = errors.New("the release is over")
)

// Options configure a Controller.
type Options struct {
	CloudFront CloudFront // required
	Store      Store      // required
	// Metrics feeds the analysis; nil turns it off.
	Metrics MetricsSource
	// Stacks deploys the staging of releases whose staging comes from a
	// template; nil refuses such releases.
	Stacks Stacks
	// Clock is the time source of every timer (holds, approval timeouts,
	// analysis); nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
	// Tick bounds how long Run sleeps between passes (default 1s).
	Tick time.Duration
}

// Controller runs releases: it observes, asks Plan, executes, and persists.
type Controller struct {
	cloud   *cloud
	store   Store
	metrics MetricsSource
	stacks  Stacks
	now     func() time.Time
	log     *slog.Logger
	tick    time.Duration
	// mu serializes passes so that the loop and an API call never run two
	// actions on the same release at once (the store's compare-and-swap
	// would catch it, but the API calls would race for ETags first).
	mu sync.Mutex
}

// New returns a Controller.
func New(opts Options) (*Controller, error) {
	if opts.CloudFront == nil || opts.Store == nil {
		return nil, errors.New("release.New: CloudFront and Store are required")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	return &Controller{
		cloud: &cloud{cf: opts.CloudFront}, store: opts.Store, metrics: opts.Metrics, stacks: opts.Stacks,
		now: opts.Clock, log: opts.Logger, tick: opts.Tick,
	}, nil
}

// Run reconciles every active release until ctx ends, once per Tick.
// (Start and Decide reconcile their release themselves.)
func (c *Controller) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := c.ReconcileAll(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("release: reconcile", "err", err)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(c.tick)
	}
}

// ReconcileAll runs one Reconcile for every active release.
func (c *Controller) ReconcileAll(ctx context.Context) error {
	kvs, err := c.store.List(ctx, activePrefix)
	if err != nil {
		return fmt.Errorf("list active releases: %w", err)
	}
	var errs []error
	for _, kv := range kvs {
		if err := c.Reconcile(ctx, string(kv.Value)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// maxActionsPerPass bounds one Reconcile (activation is about five actions).
const maxActionsPerPass = 32

// Reconcile drives one release until it has to wait (or is over).
func (c *Controller) Reconcile(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range maxActionsPerPass {
		waiting, err := c.pass(ctx, name)
		if err != nil || waiting {
			return err
		}
	}
	return nil
}

// pass observes, plans, executes one action and persists the result.
func (c *Controller) pass(ctx context.Context, name string) (waiting bool, err error) {
	rel, rev, err := loadRelease(ctx, c.store, name)
	if err != nil {
		return true, err
	}
	if rel.State.Phase.Terminal() {
		return true, nil
	}
	w, obs, err := c.cloud.observe(ctx, rel, c.metrics)
	if err != nil {
		// A primary deleted under the release, or a change that no longer
		// applies, will not fix itself: count it like a refused action.
		return true, c.recordFailure(ctx, rel, rev, Action{Kind: "Observe"}, err)
	}
	now := c.now()
	act := Plan(&rel.Spec, &rel.State, obs, now)
	if act.Kind == ActWait {
		return true, nil
	}
	res, err := c.execute(ctx, rel, w, act, now)
	if err != nil {
		return true, c.recordFailure(ctx, rel, rev, act, err)
	}
	next := Next(&rel.Spec, rel.State, act, res, obs, now)
	c.log.Info("release action", "release", name, "action", act.Kind, "step", rel.Spec.StepLabel(rel.State.Step), "phase", next.Phase, "reason", act.Reason)
	if err := c.save(ctx, rel, rev, next, act); err != nil {
		if errors.Is(err, ErrConflict) {
			return false, nil // someone decided meanwhile: plan again with their change
		}
		return true, err
	}
	return false, nil
}

func (c *Controller) recordFailure(ctx context.Context, rel *Release, rev int64, act Action, err error) error {
	c.log.Warn("release action failed", "release", rel.Name, "action", act.Kind, "err", err)
	next := Failed(rel.State, act, err, permanent(err) || act.Kind == "Observe" && !errors.Is(err, context.Canceled), c.now())
	if saveErr := c.save(ctx, rel, rev, next, act); saveErr != nil && !errors.Is(saveErr, ErrConflict) {
		return errors.Join(err, saveErr)
	}
	return err
}

// save writes the new state with compare-and-swap. Finishing also frees the
// primary and, for a promotion, records the new generation, in the same write.
func (c *Controller) save(ctx context.Context, rel *Release, rev int64, next State, act Action) error {
	updated := *rel
	updated.State = next
	updated.Updated = c.now()
	var writes []Write
	if next.Phase.Terminal() {
		writes = append(writes, Write{Key: activeKey(rel.PrimaryID), Delete: true, Rev: -1})
	}
	if act.Kind == ActFinish && next.Phase == PhasePromoted {
		gens, err := c.promotionGenerations(ctx, rel)
		if err != nil {
			return err
		}
		for _, g := range gens {
			raw, err := encode(g)
			if err != nil {
				return err
			}
			writes = append(writes, Write{Key: generationKey(g.Primary, g.Number), Value: raw})
			updated.State.Generation = g.Number
		}
		updated.State.Events[len(updated.State.Events)-1].Message = fmt.Sprintf("Promoted as generation %d", updated.State.Generation)
	}
	raw, err := encode(&updated)
	if err != nil {
		return err
	}
	writes = append(writes, Write{Key: releaseKey(rel.Name), Value: raw, Rev: rev})
	if err := c.store.Write(ctx, writes); err != nil {
		return fmt.Errorf("save release %s: %w", rel.Name, err)
	}
	return nil
}

// promotionGenerations builds the generation a promotion adds (and, for a
// primary's first one, generation 0: its config before any release).
func (c *Controller) promotionGenerations(ctx context.Context, rel *Release) ([]Generation, error) {
	existing, err := listGenerations(ctx, c.store, rel.PrimaryID)
	if err != nil {
		return nil, err
	}
	primary, _, err := c.cloud.getDistribution(ctx, rel.PrimaryID)
	if err != nil {
		return nil, err
	}
	after, err := configJSONOf(primary.DistributionConfig)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var out []Generation
	if len(existing) == 0 {
		before, err := unmarshalConfig(rel.State.PromoteBefore)
		if err != nil {
			return nil, err
		}
		out = append(out, Generation{Primary: rel.PrimaryID, Number: 0, Kind: "initial", At: now,
			Config: rel.State.PromoteBefore, Digest: ConfigDigest(before)})
	}
	var approvals []Decision
	for _, d := range rel.State.Decisions {
		if d.Verdict == VerdictApproved {
			approvals = append(approvals, d)
		}
	}
	out = append(out, Generation{
		Primary: rel.PrimaryID, Number: len(existing) + len(out), Kind: "promote", Release: rel.Name,
		ApprovedBy: approvals, By: rel.CreatedBy, At: now,
		Before: rel.State.PromoteBefore, Config: after, Digest: ConfigDigest(primary.DistributionConfig),
	})
	return out, nil
}

// execute performs an action's effect through the API.
func (c *Controller) execute(ctx context.Context, rel *Release, w *world, act Action, now time.Time) (Result, error) {
	switch act.Kind {
	case ActEnsureStaging:
		if rel.Spec.Staging.Template != nil {
			return c.cloud.deployStaging(ctx, c.stacks, rel)
		}
		return c.cloud.ensureStaging(ctx, rel, w)
	case ActSetTraffic:
		return c.cloud.setTraffic(ctx, rel, w, act.Traffic)
	case ActDisableRouting:
		return Result{}, c.cloud.disableRouting(ctx, w)
	case ActResetStaging:
		return Result{}, c.cloud.resetStaging(ctx, w)
	case ActDetachRouting:
		return Result{}, c.cloud.detachRouting(ctx, w)
	case ActRestoreStack:
		if c.stacks == nil {
			return Result{}, errors.New("restoring a staging stack needs the CloudFormation engine, which this controller was not given")
		}
		return Result{}, c.stacks.RestoreStack(ctx, rel.Name, *rel.Spec.Staging.Template)
	case ActPreparePromotion:
		raw, err := configJSONOf(w.primary.DistributionConfig)
		return Result{PromoteBefore: raw}, err
	case ActPromote:
		return Result{}, c.cloud.promote(ctx, w)
	case ActInvalidate:
		return Result{}, c.cloud.invalidate(ctx, rel, act.Paths)
	case ActBaseline, ActAdvance, ActDecide, ActMarkPromoted, ActFinish:
		return Result{}, nil // pure: only the state changes
	}
	return Result{}, fmt.Errorf("unknown action %q", act.Kind)
}

// Start records a new release and runs its first pass (activation).
func (c *Controller) Start(ctx context.Context, spec *Spec, by string) (*Release, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Staging.Template != nil && c.stacks == nil {
		return nil, fmt.Errorf("staging.template: %w: this server runs releases without the CloudFormation engine", ErrInvalidSpec)
	}
	primary, err := c.cloud.resolvePrimary(ctx, spec.Primary)
	if err != nil {
		return nil, err
	}
	if err := CheckChange(primary.DistributionConfig, spec.Staging); err != nil {
		return nil, err
	}
	now := c.now()
	rel := &Release{
		Name: spec.Name, Spec: *spec, PrimaryID: aws.ToString(primary.Id), Domain: aws.ToString(primary.DomainName),
		CreatedBy: by, Created: now, Updated: now,
		State: State{Phase: PhaseProgressing, StepStarted: now},
	}
	rel.State = rel.State.logged(now, fmt.Sprintf("started by %s on %s", by, rel.PrimaryID))
	raw, err := encode(rel)
	if err != nil {
		return nil, err
	}
	err = c.store.Write(ctx, []Write{
		{Key: releaseKey(rel.Name), Value: raw},
		{Key: activeKey(rel.PrimaryID), Value: []byte(rel.Name)},
	})
	if errors.Is(err, ErrConflict) {
		if _, _, getErr := c.store.Get(ctx, releaseKey(rel.Name)); getErr == nil {
			return nil, fmt.Errorf("release %q: %w", rel.Name, ErrExists)
		}
		active, _, _ := c.store.Get(ctx, activeKey(rel.PrimaryID))
		return nil, fmt.Errorf("%s is busy with %q: %w", rel.PrimaryID, active, ErrPrimaryBusy)
	}
	if err != nil {
		return nil, fmt.Errorf("record release: %w", err)
	}
	if err := c.Reconcile(ctx, rel.Name); err != nil {
		c.log.Warn("release: first pass", "release", rel.Name, "err", err)
	}
	got, _, err := loadRelease(ctx, c.store, rel.Name)
	return got, err
}

// Decide records an approval, a rejection or an abort request by a
// principal, with compare-and-swap: when an approval and a rejection race,
// exactly one is recorded and the other gets ErrNotApprovable. The release
// is then reconciled at once, so that a rejection or an abort has turned
// routing off when Decide returns.
func (c *Controller) Decide(ctx context.Context, name, verdict, by, comment string) (*Release, error) {
	seenStep := -1 // the step the decision was made at: a retry must not move it
	for {
		rel, rev, err := loadRelease(ctx, c.store, name)
		if err != nil {
			return nil, err
		}
		st := &rel.State
		if st.Phase != PhaseProgressing {
			return nil, fmt.Errorf("release %q is %s: %w", name, st.Phase, ErrFinished)
		}
		if seenStep >= 0 && st.Step != seenStep && verdict != VerdictAbort {
			return nil, fmt.Errorf("release %q moved on to step %s while deciding; look at it again: %w", name, rel.Spec.StepLabel(st.Step), ErrNotApprovable)
		}
		seenStep = st.Step
		d := Decision{Step: st.Step, Verdict: verdict, By: by, At: c.now(), Comment: comment}
		switch verdict {
		case VerdictAbort:
			if prev, ok := st.abortRequest(); ok {
				return nil, fmt.Errorf("release %q: abort already requested by %s: %w", name, prev.By, ErrFinished)
			}
		case VerdictApproved, VerdictRejected:
			label := rel.Spec.StepLabel(st.Step)
			if prev, ok := st.decision(st.Step); ok {
				return nil, fmt.Errorf("release %q step %s was already %s by %s: %w", name, label, prev.Verdict, prev.By, ErrNotApprovable)
			}
			if verdict == VerdictRejected && st.promoting() {
				return nil, fmt.Errorf("release %q is promoting: too late to reject: %w", name, ErrNotApprovable)
			}
			// Reject works at any step; approve only answers an approval step.
			if verdict == VerdictApproved && rel.Spec.Steps[st.Step].Kind != StepApprove {
				return nil, fmt.Errorf("release %q is at step %s, not an approval step: nothing to approve (to stop it, use reject or abort): %w", name, label, ErrNotApprovable)
			}
		default:
			return nil, fmt.Errorf("unknown verdict %q", verdict)
		}
		st.Decisions = append(st.Decisions, d)
		*st = st.logged(d.At, withComment(fmt.Sprintf("%s by %s", verdict, by), comment))
		rel.Updated = d.At
		raw, err := encode(rel)
		if err != nil {
			return nil, err
		}
		err = c.store.Write(ctx, []Write{{Key: releaseKey(name), Value: raw, Rev: rev}})
		if errors.Is(err, ErrConflict) {
			continue // re-read: the other decision, or the controller's progress
		}
		if err != nil {
			return nil, fmt.Errorf("record decision: %w", err)
		}
		break
	}
	if err := c.Reconcile(ctx, name); err != nil {
		c.log.Warn("release: pass after decision", "release", name, "err", err)
	}
	rel, _, err := loadRelease(ctx, c.store, name)
	return rel, err
}

// Get returns a release.
func (c *Controller) Get(ctx context.Context, name string) (*Release, error) {
	rel, _, err := loadRelease(ctx, c.store, name)
	return rel, err
}

// List returns every release.
func (c *Controller) List(ctx context.Context) ([]*Release, error) { return listReleases(ctx, c.store) }

// History returns a primary's generations (primary is an id or alias).
func (c *Controller) History(ctx context.Context, primary string) ([]Generation, error) {
	d, err := c.cloud.resolvePrimary(ctx, primary)
	if err != nil {
		return nil, err
	}
	return listGenerations(ctx, c.store, aws.ToString(d.Id))
}

// Live is a release's status with the metrics of the current weight step.
type Live struct {
	*Release
	PhaseDescription string    `json:"phaseDescription"`
	Window           *Window   `json:"window,omitempty"`
	Verdict          *Verdict  `json:"verdict,omitempty"`
	Now              time.Time `json:"now"`
}

// Status returns a release with its live analysis window.
func (c *Controller) Status(ctx context.Context, name string) (*Live, error) {
	rel, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	live := &Live{Release: rel, PhaseDescription: rel.State.Phase.Description(), Now: c.now()}
	if c.metrics != nil && rel.State.Baseline != nil && !rel.State.Phase.Terminal() {
		families, err := c.metrics.Gather()
		if err != nil {
			return nil, fmt.Errorf("gather metrics: %w", err)
		}
		win := WindowSince(*rel.State.Baseline, SnapshotOf(families, rel.PrimaryID))
		v := Analyze(rel.Spec.Analysis, win)
		live.Window, live.Verdict = &win, &v
	}
	return live, nil
}
