// Package storetest owns the conformance suite of the store.Store contract.
// Every backend (bolt, etcd) calls Run from its own tests with a function that
// opens a new, empty store; the suite checks only what internal/store
// documents, never a backend's internals.
//
// Lifecycle: Run opens one store per subtest through the given function and
// closes it when the subtest ends. Watches are bound to the subtest's context,
// which is cancelled before the store is closed.
package storetest
