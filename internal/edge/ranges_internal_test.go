package edge

import (
	"net/http"
	"testing"
)

// FuzzByteRanges: whatever the Range header, the ranges served lie inside
// the object, ascend and do not overlap, and an unsatisfiable answer (416)
// comes only for a single range.
func FuzzByteRanges(f *testing.F) {
	for _, seed := range []string{"bytes=0-1", "bytes=2-5,7-", "bytes=-3", "bytes=0-4,3-5", "bytes=20-", "bytes=,", "bytes=-", "bytes=1-0", "bytes= 1 - 2 , -0"} {
		f.Add(seed, uint16(10))
	}
	f.Fuzz(func(t *testing.T, spec string, size16 uint16) {
		size := int(size16)
		v := &netViewer{r: &http.Request{Header: http.Header{"Range": {spec}}}}
		ranges, ok, satisfiable := byteRanges(v, http.Header{}, size)
		if !ok {
			if len(ranges) != 0 {
				t.Fatalf("%q: whole object, yet ranges %v", spec, ranges)
			}
			return
		}
		if !satisfiable {
			if len(ranges) != 0 {
				t.Fatalf("%q: 416, yet ranges %v", spec, ranges)
			}
			return
		}
		if len(ranges) == 0 {
			t.Fatalf("%q against %d: a 206 with no range", spec, size)
		}
		prevEnd := -1
		for _, r := range ranges {
			if r.start <= prevEnd || r.start > r.end || r.end >= size {
				t.Fatalf("%q against %d: bad ranges %v", spec, size, ranges)
			}
			prevEnd = r.end
		}
	})
}
