package disk

import (
	"bytes"
	"net/http"
	"testing"
)

// FuzzDecode: no file content makes decode panic; what it accepts
// re-encodes to a file that decodes alike, and readMeta accepts it too.
func FuzzDecode(f *testing.F) {
	good, err := encode(&meta{Key: "v1|k", Identity: "id", Path: "/a", Status: 200,
		Header: http.Header{"Etag": {`"x"`}}, StoredAt: 1, TTL: 2, KeepUntil: 3}, []byte("body"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:prefixSize])
	f.Add([]byte("SFD1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, body, err := decode(data)
		if err != nil {
			return
		}
		again, err := encode(m, body)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, body2, err := decode(again)
		if err != nil || !bytes.Equal(body, body2) || m2.Key != m.Key || m2.KeepUntil != m.KeepUntil {
			t.Fatalf("re-encoded file decodes differently: %v", err)
		}
		if third, _ := encode(m2, body2); !bytes.Equal(third, again) {
			t.Fatal("encoding is not stable")
		}
		if _, err := readMeta(bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("readMeta refused a file decode accepted: %v", err)
		}
	})
}
