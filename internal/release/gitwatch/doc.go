// Package gitwatch owns the Git trigger of releases: `stagefront release
// watch-git`. It follows one branch of a Git repository (a clone with a
// worktree, or a bare repository; read with go-git, no git binary) and
// starts a release, through the release API, for each new commit that
// changes the release spec file, oldest first.
//
// Lifecycle: New checks the repository, the branch and the state file; Step
// does one poll and is what tests call; Run calls Step on a ticker until its
// context ends. One Step:
//
//  1. settles the releases the watcher started: when one has ended Promoted
//     and write-back is on, the primary's live DistributionConfig (read with
//     GetDistributionConfig) is committed to the branch, so that the
//     repository holds what is live;
//  2. walks the branch's first-parent history from the last handled commit
//     to the head and handles each commit in order: a commit that does not
//     change the spec file (the watcher's own write-back commits among them)
//     is skipped; one that does starts its release, or waits, without
//     advancing, while the primary has an active release.
//
// The last handled commit, a start in flight and the releases not yet
// settled live in a small JSON state file (see StateFile), written after
// every commit handled, so that a restarted watcher neither starts a release
// twice nor forgets a write-back.
//
// The package talks to stagefront only through the interfaces it declares
// (Releases, Configs); cmd wires the SigV4 release client and the
// aws-sdk-go-v2 CloudFront client.
package gitwatch
