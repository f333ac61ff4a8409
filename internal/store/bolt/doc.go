// Package bolt is the default store.Store backend: one bbolt file, for a
// single-node stagefront (`stagefront serve`).
//
// It owns the file layout (a kv bucket, a change log bucket of revision →
// events, a meta bucket with the current and oldest retained revision), the
// global revision counter, compaction of the change log, and the in-process
// fan-out that feeds watchers.
//
// Durability: every Txn with ops is one bbolt read-write transaction,
// committed and fsynced before Txn returns. The revision counter is stored in
// the same transaction, so it survives restarts and crashes with the data.
//
// Watch: a watcher replays the change log from its revision, then joins the
// live fan-out at exactly the next revision. Writers never wait for watchers;
// a watcher that falls Options.WatchBuffer responses behind goes back to
// replaying from the log, and one that falls behind the log's retention
// (Options.LogRetention revisions) ends with store.ErrCompacted so that its
// owner lists again and resumes from there.
//
// Lifecycle: Open takes an exclusive lock on the file (a second process
// waits up to Options.OpenTimeout, then gets store.ErrUnavailable); the Store
// is shared by every subsystem of the process; Close ends every watch and
// releases the file. Operations after Close return store.ErrUnavailable.
package bolt
