// Package disk is the disk tier of the edge object cache: a directory of
// object files, bounded in bytes, below the memory cache (package cache
// calls it through its Tier interface). It holds the objects beyond the
// memory bound and, because it outlives the process, every object after a
// restart or a deploy, so a restarted edge answers Hits without asking the
// origin again.
//
// # What it owns
//
//   - Object files. One file per object under objects/<2 hex>/, named by
//     the SHA-256 of the full cache key and a suffix never used before.
//     The file holds the full key (checked on every read, so a hash
//     collision is a miss), the response's status, header, freshness and
//     body, and a CRC-32C over all of it. Keys carry the origin identity
//     of the config that fetched them, as memory keys do, so an object of
//     another config is never served.
//   - Crash safety. A file is written under tmp/ and renamed into place
//     once complete; tmp/ is emptied at start. A SIGKILL in the middle of
//     a write loses that object only. A file damaged otherwise (a power
//     loss after the rename, a bad disk) fails its length or checksum
//     check and is removed, never served.
//   - The index and its bound. An otter cache maps keys to files, weighted
//     by file size rounded up to 4 KiB blocks and bounded by MaxBytes; an
//     object it evicts or expires has its file removed. otter's policy is
//     W-TinyLFU, which admits a new object only if it is asked for more
//     often than the one it would evict, so a scan of objects asked for
//     once does not flush the popular ones (see TestScanResistance).
//   - Writes off the request path. Store queues the entry; one writer
//     goroutine encodes and writes it. A full queue drops the entry
//     (counted), never blocks a request.
//   - Invalidations. Purge removes the matching files before it returns,
//     and a generation makes sure an entry queued before the Purge is
//     never written after it. The invalidations applied are recorded in
//     the file "invalidations", so that after a restart the edge applies
//     exactly those created while it was down (InvalidationApplied).
//
// # Lifecycle
//
// The edge opens one Tier per process with Open, which indexes the files a
// previous process left (reading each file's metadata only; reads check
// the whole file), and closes it after the memory cache with Flush then
// Close. Loads are safe concurrently with everything; after Close, Stores
// are dropped.
//
// # Why otter
//
// The index needs a byte-weighted bound, per-object expiry, a deletion
// callback that tells evictions apart (to remove files) and an admission
// policy that resists scans. github.com/maypok86/otter/v2, which the memory
// cache already uses, has all four; ristretto has TinyLFU admission too but
// drops and delays Sets, so a written file could be left unindexed, and a
// hand-written segmented LRU would duplicate what otter does. The checksum
// is hash/crc32's Castagnoli table, which the standard library computes
// with the CPU's CRC32 instructions.
package disk
