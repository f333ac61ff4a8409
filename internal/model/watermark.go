package model

// Watermark is what the edges serve, as each reports it: the store revision
// its routing table was compiled from, and the distributions whose stored
// config it failed to compile at that revision. Such a distribution keeps
// its last good entry on the edge, so its stored config is not served.
type Watermark struct {
	Revision int64 `json:"revision"`
	// Failing maps a distribution ID to the ModRevision of the record that
	// did not compile.
	Failing map[string]int64 `json:"failing,omitempty"`
}

// Served reports whether a change written at rev is served.
func (w Watermark) Served(rev int64) bool { return w.Revision >= rev }

// Deployed reports whether the distribution distID, as written at rev (the
// latest revision of its record and of what it names), is served: the edges
// serve rev or later, so they have compiled that record, and none of them
// fails to compile the distribution's current config.
func (w Watermark) Deployed(distID string, rev int64) bool {
	_, failing := w.Failing[distID]
	return w.Served(rev) && !failing
}

// Join combines the watermarks of two edges into the fleet's: the lower
// revision, and every failure either reports.
func (w Watermark) Join(o Watermark) Watermark {
	out := Watermark{Revision: min(w.Revision, o.Revision)}
	if len(w.Failing)+len(o.Failing) == 0 {
		return out
	}
	out.Failing = make(map[string]int64, len(w.Failing)+len(o.Failing))
	for _, f := range []map[string]int64{w.Failing, o.Failing} {
		for id, rev := range f {
			out.Failing[id] = max(out.Failing[id], rev)
		}
	}
	return out
}
