package disk

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"time"
)

// An object file is one cached response:
//
//	offset 0   magic "SFD1"
//	offset 4   uint32 length of the metadata (little-endian)
//	offset 8   uint64 length of the body
//	offset 16  uint32 CRC-32C of everything after this field (metadata and body)
//	offset 20  metadata (JSON, see meta)
//	           body
//
// A file is written under tmp/ and renamed into objects/ once complete, so
// objects/ never holds a partly written file after a process crash; the
// lengths and the checksum catch what a power loss or a disk can still tear
// (a renamed file whose data never reached the disk), and such a file is
// never served: it is removed on read or at start.
const (
	magic      = "SFD1"
	prefixSize = 20
	// maxMetaSize bounds the metadata a file may claim, so a corrupt
	// length cannot make the tier allocate without bound.
	maxMetaSize = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is returned for a file that is not a complete object file.
var errCorrupt = errors.New("disk cache: corrupt object file")

// meta is what an object file says about its response besides the body.
type meta struct {
	Key       string      `json:"k"`
	Identity  string      `json:"i"`
	Path      string      `json:"p"`
	Status    int         `json:"s"`
	Header    http.Header `json:"h,omitempty"`
	StoredAt  int64       `json:"t"`   // Unix nanoseconds
	TTL       int64       `json:"ttl"` // nanoseconds
	SWR       int64       `json:"swr,omitempty"`
	SIE       int64       `json:"sie,omitempty"`
	KeepUntil int64       `json:"ku"` // Unix nanoseconds: when the tier drops the object
}

func (m *meta) storedAt() time.Time  { return time.Unix(0, m.StoredAt) }
func (m *meta) keepUntil() time.Time { return time.Unix(0, m.KeepUntil) }

// encode returns the object file for m and body.
func encode(m *meta, body []byte) ([]byte, error) {
	mb, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("disk cache: encode metadata: %w", err)
	}
	buf := make([]byte, prefixSize, prefixSize+len(mb)+len(body))
	copy(buf, magic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(mb)))
	binary.LittleEndian.PutUint64(buf[8:], uint64(len(body)))
	buf = append(buf, mb...)
	buf = append(buf, body...)
	binary.LittleEndian.PutUint32(buf[16:], crc32.Checksum(buf[prefixSize:], castagnoli))
	return buf, nil
}

// decode checks a whole object file and returns its metadata and body
// (which aliases data).
func decode(data []byte) (*meta, []byte, error) {
	metaLen, bodyLen, err := parsePrefix(data)
	if err != nil {
		return nil, nil, err
	}
	if uint64(len(data)) != prefixSize+uint64(metaLen)+bodyLen {
		return nil, nil, fmt.Errorf("%w: %d bytes, header says %d", errCorrupt, len(data), prefixSize+uint64(metaLen)+bodyLen)
	}
	if crc32.Checksum(data[prefixSize:], castagnoli) != binary.LittleEndian.Uint32(data[16:]) {
		return nil, nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	var m meta
	if err := json.Unmarshal(data[prefixSize:prefixSize+metaLen], &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return &m, data[prefixSize+metaLen:], nil
}

func parsePrefix(data []byte) (metaLen uint32, bodyLen uint64, err error) {
	if len(data) < prefixSize || string(data[:4]) != magic {
		return 0, 0, fmt.Errorf("%w: bad prefix", errCorrupt)
	}
	metaLen = binary.LittleEndian.Uint32(data[4:])
	if metaLen > maxMetaSize {
		return 0, 0, fmt.Errorf("%w: metadata length %d", errCorrupt, metaLen)
	}
	return metaLen, binary.LittleEndian.Uint64(data[8:]), nil
}

// readMeta reads the metadata of the object file r of size bytes, without
// reading or checking the body: enough to index it at start. Reads check
// the whole file before serving it.
func readMeta(r io.Reader, size int64) (*meta, error) {
	var prefix [prefixSize]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	metaLen, bodyLen, err := parsePrefix(prefix[:])
	if err != nil {
		return nil, err
	}
	if uint64(size) != prefixSize+uint64(metaLen)+bodyLen {
		return nil, fmt.Errorf("%w: %d bytes, header says %d", errCorrupt, size, prefixSize+uint64(metaLen)+bodyLen)
	}
	mb := make([]byte, metaLen)
	if _, err := io.ReadFull(r, mb); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	var m meta
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return &m, nil
}
