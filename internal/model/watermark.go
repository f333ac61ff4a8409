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
	// Reasons maps a failing distribution ID to why its config did not
	// compile (the compiler's error, as the edge logs it).
	Reasons map[string]string `json:"reasons,omitempty"`
	// WithoutTLS counts the edges that have no HTTPS listener: they serve a
	// behavior whose viewer protocol policy is redirect-to-https over plain
	// HTTP, and refuse every plain request to an https-only one.
	WithoutTLS int `json:"withoutTLS,omitempty"`
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
// revision, every failure either reports (with the reason of the later
// record), and the edges without TLS of both.
func (w Watermark) Join(o Watermark) Watermark {
	out := Watermark{Revision: min(w.Revision, o.Revision), WithoutTLS: w.WithoutTLS + o.WithoutTLS}
	if len(w.Failing)+len(o.Failing) == 0 {
		return out
	}
	out.Failing = make(map[string]int64, len(w.Failing)+len(o.Failing))
	for _, src := range []Watermark{w, o} {
		for id, rev := range src.Failing {
			prev, seen := out.Failing[id]
			if seen && prev >= rev {
				continue
			}
			out.Failing[id] = rev
			if reason, ok := src.Reasons[id]; ok {
				if out.Reasons == nil {
					out.Reasons = map[string]string{}
				}
				out.Reasons[id] = reason
			}
		}
	}
	return out
}
