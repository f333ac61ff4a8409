package cache

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Entry is one cached response. Once a fetch hands an Entry to the cache it
// is shared by every request that gets it and must be treated as read-only:
// copy Header before changing it, never write to Body.
type Entry struct {
	Status int
	Header http.Header
	Body   []byte

	// StoredAt is when the response was received; the cache sets it from its
	// clock when the fetch leaves it zero.
	StoredAt time.Time
	// TTL is how long the entry stays fresh after StoredAt, as computed by
	// TTL(); 0 means the response may not be stored nor shared: only the
	// request whose fetch it was gets it (see GetOrFetch).
	TTL time.Duration
	// StaleWhileRevalidate and StaleIfError are how long after Expires the
	// entry may still be served: at once while one background fetch
	// refreshes it, or when the origin fails (RFC 5861), as computed by
	// StaleWindows(). The cache keeps the entry until the longer ends.
	StaleWhileRevalidate, StaleIfError time.Duration
	// Revalidated is set by a fetch whose response was the origin's 304 to
	// a revalidation of the stale entry (see StaleEntry): the entry is the
	// stale one with its freshness renewed, and the request that waited
	// for it is a refresh hit, not a miss.
	Revalidated bool

	// Private holds header fields of the response that only the request
	// whose fetch it was may get (an origin's Set-Cookie that must not be
	// stored): the cache takes them off the entry before storing or
	// sharing it, and hands that request a copy of the entry with them.
	Private http.Header

	// OriginIdentity and Path are filled in by the cache from the Key (Path
	// is Key.PurgePath) and are what Purge matches against.
	OriginIdentity string
	Path           string

	weight uint32        // bytes charged against Config.MaxBytes
	keep   time.Duration // see revalidationKeep

	// age is the last Age header value built, shared by the hits of one
	// second instead of formatted for each.
	age atomic.Pointer[ageHeader]

	// Rendered is the server engine's own form of Header, built by the
	// edge on the first hit that needs it and shared read-only by the
	// hits after (the fasthttp engine copies a prepared response header
	// instead of converting Header on every hit). It always holds one type.
	Rendered atomic.Value
}

type ageHeader struct {
	seconds int64
	value   []string
}

// Expires returns the end of the entry's freshness.
func (e *Entry) Expires() time.Time { return e.StoredAt.Add(e.TTL) }

// Fresh reports whether the entry may still be served at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.Expires()) }

// keepUntil is when the cache drops the entry: its expiry plus the longer
// of its stale windows and, for an entry with a validator, the time it
// stays kept for revalidation (see revalidationKeep).
func (e *Entry) keepUntil() time.Time {
	return e.Expires().Add(max(e.StaleWhileRevalidate, e.StaleIfError, e.keep))
}

// revalidationKeep is how long past its expiry an entry with a validator
// (ETag or Last-Modified) is kept, so that the next request revalidates it
// with a conditional request and, on a 304, keeps its body instead of
// fetching it again: as long again as it was fresh, at least a minute and
// at most a day. Memory pressure evicts it earlier, as any entry.
func revalidationKeep(e *Entry) time.Duration {
	if e.Header.Get("ETag") == "" && e.Header.Get("Last-Modified") == "" {
		return 0
	}
	return min(max(e.TTL, time.Minute), 24*time.Hour)
}

// staleWhileRevalidate reports whether the expired entry may be served at
// now while a background fetch refreshes it.
func (e *Entry) staleWhileRevalidate(now time.Time) bool {
	return now.Before(e.Expires().Add(e.StaleWhileRevalidate))
}

// staleIfError reports whether the expired entry may be served at now in
// place of an origin failure.
func (e *Entry) staleIfError(now time.Time) bool {
	return now.Before(e.Expires().Add(e.StaleIfError))
}

// Age returns the entry's age at now in whole seconds, for the Age header
// (never negative).
func (e *Entry) Age(now time.Time) int64 {
	age := now.Sub(e.StoredAt)
	if age <= 0 {
		return 0
	}
	return int64(age / time.Second)
}

// AgeHeader returns the Age header's value at now. The slice is shared by
// every response of the same second and must not be modified (its len is
// its cap, so an append copies it).
func (e *Entry) AgeHeader(now time.Time) []string {
	age := e.Age(now)
	if a := e.age.Load(); a != nil && a.seconds == age {
		return a.value
	}
	a := &ageHeader{seconds: age, value: []string{strconv.FormatInt(age, 10)}}
	e.age.Store(a)
	return a.value
}

// withHeader returns a new, unstored entry: e with extra's fields added to
// its header. The values of both are shared, never modified.
func (e *Entry) withHeader(extra http.Header) *Entry {
	h := make(http.Header, len(e.Header)+len(extra))
	maps.Copy(h, e.Header)
	for k, v := range extra {
		h[k] = append(slices.Clip(h[k]), v...)
	}
	return &Entry{
		Status: e.Status, Header: h, Body: e.Body, StoredAt: e.StoredAt, TTL: e.TTL,
		StaleWhileRevalidate: e.StaleWhileRevalidate, StaleIfError: e.StaleIfError, Revalidated: e.Revalidated,
		OriginIdentity: e.OriginIdentity, Path: e.Path, weight: e.weight, keep: e.keep,
	}
}

// entryOverhead approximates the fixed memory of an Entry and its cache
// node, so that many tiny objects still count against the byte bound.
const entryOverhead = 256

// computeWeight is the number of bytes e is charged for under key.
func computeWeight(key Key, e *Entry) uint32 {
	n := int64(entryOverhead + len(e.Body) + len(key.str) + len(e.OriginIdentity) + len(e.Path))
	for name, values := range e.Header {
		n += int64(len(name))
		for _, v := range values {
			n += int64(len(v)) + 16 // a string header per value
		}
	}
	return uint32(min(n, math.MaxUint32))
}
