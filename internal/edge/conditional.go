package edge

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Conditional and range requests on cached objects, as CloudFront answers
// them from its cache: If-None-Match / If-Modified-Since give 304, a single
// byte range gives 206 (416 when it cannot be satisfied), If-Range guards
// the range, and several ascending, separate ranges give one
// multipart/byteranges 206. Only a cached 200 is considered.

// notModified reports whether the viewer's validators match the entry.
func notModified(v viewer, h http.Header) bool {
	if inm := v.HeaderGet("If-None-Match"); inm != "" {
		etag := h.Get("Etag")
		if etag == "" {
			return false
		}
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || weakTag(tag) == weakTag(etag) {
				return true
			}
		}
		return false
	}
	ims, lm := v.HeaderGet("If-Modified-Since"), h.Get("Last-Modified")
	if ims == "" || lm == "" {
		return false
	}
	since, err1 := http.ParseTime(ims)
	modified, err2 := http.ParseTime(lm)
	return err1 == nil && err2 == nil && !modified.After(since.Add(time.Second-1))
}

func weakTag(tag string) string { return strings.TrimPrefix(tag, "W/") }

// byteRange is one satisfiable range, first and last byte inclusive.
type byteRange struct{ start, end int }

// byteRanges parses the viewer's "bytes=" Range against size, as
// CloudFront does. ok is false when the whole object is to be served
// instead: no Range, a Range that does not parse, an If-Range that does
// not match, or several ranges that are not all satisfiable, ascending and
// apart. satisfiable is false when a single range starts past the end (416).
func byteRanges(v viewer, h http.Header, size int) (ranges []byteRange, ok, satisfiable bool) {
	spec := v.HeaderGet("Range")
	if spec == "" || !strings.HasPrefix(spec, "bytes=") {
		return nil, false, false
	}
	if ir := v.HeaderGet("If-Range"); ir != "" && ir != h.Get("Etag") && ir != h.Get("Last-Modified") {
		return nil, false, false
	}
	if tooManyRanges(spec) {
		return nil, false, false
	}
	specs := strings.Split(strings.TrimPrefix(spec, "bytes="), ",")
	for _, one := range specs {
		r, ok, sat := parseRange(strings.TrimSpace(one), size)
		if !ok {
			return nil, false, false
		}
		if !sat {
			if len(specs) == 1 {
				return nil, true, false
			}
			return nil, false, false
		}
		if n := len(ranges); n > 0 && r.start <= ranges[n-1].end {
			return nil, false, false // overlapping or out of order: the whole object
		}
		ranges = append(ranges, r)
	}
	return ranges, true, true
}

// maxRanges is the most ranges one request may ask for; a request for more
// gets the whole object (200), as Apache's MaxRanges (default 200) answers.
// Each range costs a part to build, and thousands of tiny ones would cost
// far more than the object.
const maxRanges = 200

// tooManyRanges reports whether a Range value lists more than maxRanges
// ranges, without splitting it.
func tooManyRanges(spec string) bool {
	return strings.Count(spec, ",") >= maxRanges
}

// parseRange parses one range ("a-b", "a-" or "-n") against size.
func parseRange(spec string, size int) (r byteRange, ok, satisfiable bool) {
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return r, false, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case first == "" && last == "": // "-"
		return r, false, false
	case first == "": // suffix: the last N bytes
		n, err := strconv.Atoi(last)
		if err != nil || n < 0 {
			return r, false, false
		}
		if n == 0 || size == 0 {
			return r, true, false
		}
		return byteRange{max(size-n, 0), size - 1}, true, true
	}
	s, err := strconv.Atoi(first)
	if err != nil || s < 0 {
		return r, false, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.Atoi(last); err != nil || e < s {
			return r, false, false
		}
		e = min(e, size-1)
	}
	if s >= size {
		return r, true, false
	}
	return byteRange{s, e}, true, true
}

// writeCachedConditional answers a conditional or range GET/HEAD of a
// cached 200 and reports whether it did.
func writeCachedConditional(w *statusRecorder, v viewer, status int, body []byte) bool {
	if status != http.StatusOK {
		return false
	}
	h := w.Header()
	if notModified(v, h) {
		h.Del("Content-Length")
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	ranges, ok, satisfiable := byteRanges(v, h, len(body))
	if !ok {
		return false
	}
	size := strconv.Itoa(len(body))
	if !satisfiable {
		h.Set("Content-Range", "bytes */"+size)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	}
	var out []byte
	if len(ranges) == 1 {
		r := ranges[0]
		out = body[r.start : r.end+1]
		h.Set("Content-Range", "bytes "+strconv.Itoa(r.start)+"-"+strconv.Itoa(r.end)+"/"+size)
	} else {
		// Several ranges: one multipart/byteranges body (RFC 9110 §14.6),
		// each part with the object's type and its Content-Range.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		contentType := h.Get("Content-Type")
		for _, r := range ranges {
			ph := textproto.MIMEHeader{"Content-Range": {"bytes " + strconv.Itoa(r.start) + "-" + strconv.Itoa(r.end) + "/" + size}}
			if contentType != "" {
				ph.Set("Content-Type", contentType)
			}
			pw, _ := mw.CreatePart(ph) // writes to a bytes.Buffer: no error
			_, _ = pw.Write(body[r.start : r.end+1])
		}
		_ = mw.Close()
		out = buf.Bytes()
		h.Set("Content-Type", "multipart/byteranges; boundary="+mw.Boundary())
		h.Del("Content-Range")
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusPartialContent)
	if v.Method() != http.MethodHead {
		_, _ = w.Write(out)
	}
	return true
}
