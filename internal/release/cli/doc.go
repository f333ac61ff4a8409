// Package cli is the logic of `stagefront release …`: a SigV4-signed client
// of the release JSON API (Client), the human views of a release
// (PrintRelease, Watch), the subcommands themselves (CLI, one method each,
// writing to an io.Writer so tests read what a user would see) and the
// Git trigger's wiring (WatchGit). cmd/stagefront only parses flags and
// calls this package.
package cli
