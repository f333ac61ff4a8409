package edge

import (
	"bytes"
	"compress/gzip"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// Content codings the edge compresses with (Compress), as CloudFront does.
const (
	encodingBrotli = "br"
	encodingGzip   = "gzip"
)

// servedEncoding is the encoding a Compress behavior serves a viewer: br
// when the viewer accepts it and the cache policy enables it (CloudFront
// prefers br when both are possible), else gzip when accepted, else "".
func servedEncoding(acceptEncoding string, brotliEnabled bool) string {
	switch {
	case brotliEnabled && acceptsCoding(acceptEncoding, encodingBrotli):
		return encodingBrotli
	case acceptsCoding(acceptEncoding, encodingGzip):
		return encodingGzip
	}
	return ""
}

// acceptedEncoding normalizes Accept-Encoding for the key of a behavior
// whose policy includes the encodings but that does not compress: the
// encodings of interest that the viewer accepts.
func acceptedEncoding(ae string, gz, br bool) string {
	br = br && acceptsCoding(ae, encodingBrotli)
	gz = gz && acceptsCoding(ae, encodingGzip)
	switch {
	case br && gz:
		return "br,gzip"
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}

// acceptsCoding reports whether the Accept-Encoding value lists coding
// without refusing it (q=0). It does not allocate: it runs on every hit of
// a Compress behavior.
func acceptsCoding(ae, coding string) bool {
	for ae != "" {
		var elem string
		if i := strings.IndexByte(ae, ','); i >= 0 {
			elem, ae = ae[:i], ae[i+1:]
		} else {
			elem, ae = ae, ""
		}
		name, params, _ := strings.Cut(elem, ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for params != "" {
			var p string
			if i := strings.IndexByte(params, ';'); i >= 0 {
				p, params = params[:i], params[i+1:]
			} else {
				p, params = params, ""
			}
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") && qIsZero(strings.TrimSpace(v)) {
				return false
			}
		}
		return true
	}
	return false
}

// qIsZero reports whether a qvalue is 0 ("0", "0.", "0.000").
func qIsZero(q string) bool {
	if q == "" || q[0] != '0' {
		return false
	}
	return strings.Trim(q[1:], ".0") == "" && strings.Count(q, ".") <= 1
}

func compressible(contentType string) bool {
	ct := strings.ToLower(contentType)
	for _, p := range compressibleTypes {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

var compressibleTypes = [...]string{"text/", "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/x-javascript"}

// brotliLevel trades compression time, which a viewer waiting on a miss
// pays once per object and encoding, against bytes, which every hit pays.
const brotliLevel = 6

// compressors pools the encoders: a gzip or brotli writer holds hundreds
// of KiB of state, allocated once per writer rather than per object.
type compressors struct {
	gzip, brotli sync.Pool
}

// compress encodes body with enc ("br" or "gzip").
func (c *compressors) compress(enc string, body []byte) ([]byte, bool) {
	var buf bytes.Buffer
	buf.Grow(len(body)/3 + 64)
	switch enc {
	case encodingGzip:
		zw, _ := c.gzip.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		} else {
			zw.Reset(&buf)
		}
		defer c.gzip.Put(zw)
		if _, err := zw.Write(body); err != nil {
			return nil, false
		}
		if err := zw.Close(); err != nil {
			return nil, false
		}
	case encodingBrotli:
		bw, _ := c.brotli.Get().(*brotli.Writer)
		if bw == nil {
			bw = brotli.NewWriterLevel(&buf, brotliLevel)
		} else {
			bw.Reset(&buf)
		}
		defer c.brotli.Put(bw)
		if _, err := bw.Write(body); err != nil {
			return nil, false
		}
		if err := bw.Close(); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return buf.Bytes(), true
}
