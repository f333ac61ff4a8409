package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Conditional and range requests on cached objects, as CloudFront answers
// them from its cache: If-None-Match / If-Modified-Since give 304, a single
// byte range gives 206 (416 when it cannot be satisfied), If-Range guards
// the range. Only a cached 200 is considered; multi-range requests get the
// whole object.

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

// byteRange parses a single "bytes=" range against size. ok is false when
// the request has no usable single range (serve the whole object);
// satisfiable is false when it names bytes past the end (416).
func byteRange(v viewer, h http.Header, size int) (start, end int, ok, satisfiable bool) {
	spec := v.HeaderGet("Range")
	if spec == "" || !strings.HasPrefix(spec, "bytes=") || strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	if ir := v.HeaderGet("If-Range"); ir != "" && ir != h.Get("Etag") && ir != h.Get("Last-Modified") {
		return 0, 0, false, false
	}
	first, last, found := strings.Cut(strings.TrimPrefix(spec, "bytes="), "-")
	if !found {
		return 0, 0, false, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case first == "" && last == "": // "bytes=-"
		return 0, 0, false, false
	case first == "": // suffix: the last N bytes
		n, err := strconv.Atoi(last)
		if err != nil || n < 0 {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		return max(size-n, 0), size - 1, true, true
	}
	s, err := strconv.Atoi(first)
	if err != nil || s < 0 {
		return 0, 0, false, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.Atoi(last); err != nil || e < s {
			return 0, 0, false, false
		}
		e = min(e, size-1)
	}
	if s >= size {
		return 0, 0, true, false
	}
	return s, e, true, true
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
	start, end, ok, satisfiable := byteRange(v, h, len(body))
	if !ok {
		return false
	}
	if !satisfiable {
		h.Set("Content-Range", "bytes */"+strconv.Itoa(len(body)))
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	}
	part := body[start : end+1]
	h.Set("Content-Range", "bytes "+strconv.Itoa(start)+"-"+strconv.Itoa(end)+"/"+strconv.Itoa(len(body)))
	h.Set("Content-Length", strconv.Itoa(len(part)))
	w.WriteHeader(http.StatusPartialContent)
	if v.Method() != http.MethodHead {
		_, _ = w.Write(part)
	}
	return true
}
