// Package follow owns the edge's config pipeline: it follows the store
// (list, then watch from the next revision), folds every change waiting into
// one snapshot, drops batches that change nothing the edge serves, compiles
// an immutable routing.Table off the hot path and hands it, with the
// invalidations it must purge first, to a Publisher (the viewer server,
// which knows nothing of the store). One distribution that fails to compile
// keeps its last good entry and is reported (log, metrics, and the
// watermark the control plane reads), while the others still move.
//
// The Follower is also what the edge tells the control plane: the store
// revision its current table was compiled from and the distributions that
// failed to compile (model.Watermark). "Deployed" and "Completed" mean every
// request from then on sees the change, so the watermark moves only after
// the swap.
//
// Lifecycle: New, then Run in an owned goroutine until ctx ends; Watermark,
// WaitServed and ServedRevision are safe meanwhile.
package follow
