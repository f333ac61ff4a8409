package bolt

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/stagefront/stagefront/internal/store"
)

// On-disk layout. Three buckets:
//
//	kv:   key            → record: uvarint createRev, uvarint modRev, value bytes
//	log:  8-byte BE rev  → the events of that revision's transaction (encodeEvents)
//	meta: "rev"          → 8-byte BE current revision
//	      "first"        → 8-byte BE oldest revision still in the log
//
// Revisions are big-endian so that the log bucket iterates in revision order.
const (
	bucketKV   = "kv"
	bucketLog  = "log"
	bucketMeta = "meta"
	metaRev    = "rev"
	metaFirst  = "first"
)

// Event type tags in the log. They are part of the file format, so they are
// spelled out instead of reusing store.EventType's values.
const (
	tagPut    byte = 'p'
	tagDelete byte = 'd'
)

func revKey(rev int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(rev))
}

func parseRevKey(k []byte) int64 {
	if len(k) != 8 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(k))
}

func encodeRecord(createRev, modRev int64, value []byte) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(value))
	b = binary.AppendUvarint(b, uint64(createRev))
	b = binary.AppendUvarint(b, uint64(modRev))
	return append(b, value...)
}

// decodeRecord copies everything out of raw, which bbolt only keeps valid for
// the life of the transaction.
func decodeRecord(key string, raw []byte) (store.KV, error) {
	createRev, n := binary.Uvarint(raw)
	if n <= 0 {
		return store.KV{}, fmt.Errorf("bolt: corrupt record for key %q", key)
	}
	raw = raw[n:]
	modRev, n := binary.Uvarint(raw)
	if n <= 0 {
		return store.KV{}, fmt.Errorf("bolt: corrupt record for key %q", key)
	}
	return store.KV{
		Key:            key,
		Value:          cloneValue(raw[n:]),
		ModRevision:    int64(modRev),
		CreateRevision: int64(createRev),
	}, nil
}

// recordCreateRevision reads only the create revision of a record.
func recordCreateRevision(raw []byte) (int64, bool) {
	createRev, n := binary.Uvarint(raw)
	return int64(createRev), n > 0
}

// cloneValue copies a value; a put of an empty value yields a non-nil empty
// slice so that only deletes carry a nil Value.
func cloneValue(v []byte) []byte {
	return append(make([]byte, 0, len(v)), v...)
}

func encodeEvents(events []store.Event) []byte {
	size := binary.MaxVarintLen64
	for _, ev := range events {
		size += 1 + 3*binary.MaxVarintLen64 + len(ev.KV.Key) + len(ev.KV.Value)
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, ev := range events {
		if ev.Type == store.EventDelete {
			b = append(b, tagDelete)
			b = appendBytes(b, ev.KV.Key)
			continue
		}
		b = append(b, tagPut)
		b = appendBytes(b, ev.KV.Key)
		b = binary.AppendUvarint(b, uint64(ev.KV.CreateRevision))
		b = appendBytes(b, string(ev.KV.Value))
	}
	return b
}

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEvents decodes the log entry of revision rev, keeping only the events
// whose key has prefix. It copies everything out of raw.
func decodeEvents(rev int64, raw []byte, prefix string) ([]store.Event, error) {
	d := decoder{buf: raw}
	count := d.uvarint()
	var events []store.Event
	for i := uint64(0); i < count && d.err == nil; i++ {
		tag := d.byte()
		key := d.bytes()
		switch tag {
		case tagDelete:
			if strings.HasPrefix(string(key), prefix) {
				events = append(events, store.Event{
					Type: store.EventDelete,
					KV:   store.KV{Key: string(key), ModRevision: rev},
				})
			}
		case tagPut:
			createRev := d.uvarint()
			value := d.bytes()
			if strings.HasPrefix(string(key), prefix) {
				events = append(events, store.Event{
					Type: store.EventPut,
					KV: store.KV{
						Key:            string(key),
						Value:          cloneValue(value),
						ModRevision:    rev,
						CreateRevision: int64(createRev),
					},
				})
			}
		default:
			d.fail()
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("bolt: corrupt change log entry at revision %d: %w", rev, d.err)
	}
	return events, nil
}

// decoder reads the log encoding; the first malformed field sets err and every
// later read returns zero values.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or unknown field")
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.buf) == 0 {
		d.fail()
		return 0
	}
	c := d.buf[0]
	d.buf = d.buf[1:]
	return c
}

// bytes returns a length-prefixed field without copying it.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.fail()
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}
