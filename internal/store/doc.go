// Package store owns the persistence contract of stagefront: Get, List, an
// atomic multi-key transaction with compare-on-revision, and Watch from a
// revision. Every mutation of the control plane lands as exactly one Txn, and
// every edge follows the store through Watch, so revisions drive everything.
//
// Backends live in sub-packages (store/bolt, store/etcd); store/storetest is
// the conformance suite every backend must pass. Lifecycle: a backend is
// opened by its constructor, shared by all subsystems of a process, and
// closed once by main on shutdown.
package store
