// Package etcd is the store.Store backend for a fleet: every key lives in an
// etcd v3 cluster under one namespace prefix (Config.Prefix), so several
// stagefront processes — one api, any number of edges — share one store.
//
// It owns the mapping of the store contract onto etcd and nothing else:
// revisions are etcd's own (KV.ModRevision and KV.CreateRevision are passed
// through unchanged, and etcd's single revision counter is the store
// revision), a Txn is one etcd transaction guarded by compares on
// mod_revision (or create_revision == 0 for "must not exist"), and Watch is
// an etcd watch whose events are regrouped into one store.WatchResponse per
// revision. Leases and elections are not wrapped here; packages that need
// them take the underlying client from (*Store).Client.
//
// Differences from the bbolt backend, all allowed by the contract:
//   - The revision counter is shared by the whole etcd cluster, so writes
//     outside the namespace also advance it; a watcher sees gaps only among
//     revisions that do not touch its prefix.
//   - A Txn whose ops change nothing (only deletes of missing keys) creates no
//     revision and returns the current one; etcd does not record empty writes.
//   - Several ops on one key in a Txn are collapsed to the last one, because
//     etcd rejects a transaction that writes a key twice; the stored result
//     is the same as applying them in order.
//   - etcd limits a transaction to --max-txn-ops operations (128 by default)
//     and a request to --max-request-bytes (1.5 MiB by default).
//
// Availability: every call that has no deadline of its own gets
// Config.RequestTimeout, so a caller never hangs on an unreachable cluster;
// a call that fails because etcd cannot be reached returns an error wrapping
// store.ErrUnavailable. A live watch survives connection loss: the client
// reconnects and resumes from the next revision, with nothing lost, or ends
// with store.ErrCompacted if that revision was compacted meanwhile.
//
// Lifecycle: Open dials the cluster and checks that it answers; the Store is
// shared by every subsystem of the process; Close ends every watch (each
// gets a last response carrying store.ErrUnavailable) and closes the client.
// Calls after Close return store.ErrUnavailable.
package etcd
