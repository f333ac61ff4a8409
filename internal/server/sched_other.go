//go:build !linux

package server

// setBatchScheduling does nothing: SCHED_BATCH is Linux's, and other
// systems run the process under their usual policy.
func setBatchScheduling() (int, error) { return 0, nil }
