// Package release owns stagefront's release pipeline: the pipeline of
// CloudFront continuous-deployment walkthroughs (CodePipeline +
// CloudFormation + two Lambdas), as one declarative object.
//
// A release is a Spec (YAML, see docs/releases.md): a primary distribution,
// a change for its staging copy, and steps (header test, approval gates,
// weight steps with stickiness and metric analysis, promote). Its lifecycle:
//
//	Start ─► Progressing (step by step) ─► Promoted
//	                 │
//	                 └─► RollingBack (routing off, staging reset) ─► Rejected | Aborted | FailedAnalysis | Failed
//
// The package is split into a pure planner and a thin controller:
//
//   - Plan (planner.go) is pure: (spec, persisted state, observation, now) →
//     the next Action. Next applies an executed action to the state. Both are
//     tested with tables and properties.
//   - Controller (controller.go, cloud.go) is thin: it observes the world
//     through the CloudFront API (the aws-sdk-go-v2 client pointed at
//     stagefront's own API, or any CloudFront-compatible endpoint) and the
//     edge's metrics, executes the planned action through the same API, and
//     persists the state with compare-and-swap under "releases/" so that a
//     restart resumes where it stopped and re-running an action is harmless.
//
// Activation is level-triggered: every pass compares the policy the primary
// really routes with the one the current step wants and re-enables it when it
// differs, so the classic pipeline drift ("promotion disabled the policy and the next
// run silently skipped re-enabling it") cannot happen.
//
// Promotions and rollbacks are recorded as immutable, numbered generations
// per primary (the primary config before and after, who approved, when).
//
// The package does not import store, control or edge (internal/archtest
// checks it): it declares the few methods it needs (Store, CloudFront,
// MetricsSource) and internal/server wires the real implementations.
package release
