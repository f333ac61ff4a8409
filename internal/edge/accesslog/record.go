package accesslog

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
	"unsafe"
)

// A batch holds records as Log received them, encoded (recordEncoder),
// not as lines: copying a record's fields is a fraction of the cost of
// formatting them, and formatting happens with the compression, on the
// Writer's goroutine, which can put both off while the CPUs are busy
// serving (see Writer.mayDefer).
//
// The encoding is small, because what a batch holds is written to
// memory on the request path and may be held a while: each record is
// coded against the one before it in its batch, as the requests one
// thread serves are much alike. Numbers are varints (zigzag where they
// may be negative): the time as the difference from the record before,
// time-to-first-byte as its difference from time-taken. The client
// address is a length and netip.Addr's binary form, or 0xFF: the same
// as before. Each string is a uvarint: 1, the same as the record
// before's; 3, a request id with the process's tail (idTail), its first
// 22 characters following; otherwise twice the length, the bytes
// following. A batch's first record is coded against the zero record.

// recordStrings are the strings of r an encoded record carries, in
// order. DistributionID and Prefix are the batch segment's (its file's),
// and the cookie is there only when the distribution logs cookies.
func recordStrings(r *Record) [20]*string {
	return [20]*string{
		&r.ClientIP, &r.ClientPort, &r.Method, &r.Host, &r.HostHeader, &r.URIStem, &r.URIQuery,
		&r.Referer, &r.UserAgent, &r.Cookie, &r.ResultType, &r.RequestID, &r.Protocol,
		&r.ProtocolVersion, &r.XForwardedFor, &r.SSLProtocol, &r.SSLCipher, &r.ContentType,
		&r.RangeStart, &r.RangeEnd,
	}
}

const (
	// recordCookie and recordID are the cookie's and the request id's
	// places in recordStrings.
	recordCookie = 9
	recordID     = 11
	// sameAddr marks a client address equal to the record before's.
	sameAddr = 0xFF
	// The string codes that are not lengths.
	sameString = 1
	tailedID   = 3
	// idHead is how much of a request id is its own (AppendRequestID).
	idHead = 22
)

// idTailString is idTail's part after idHead.
var idTailString = string(idTail[idHead:])

// recordEncoder codes records into a batch; it is the batch's (reset
// with it), and remembers the record before.
type recordEncoder struct {
	time  int64
	addr  netip.Addr
	prev  [20]string // alias the batch's bytes, or a string's own
	valid bool       // prev and addr are a record's
}

// appendRecord appends r, encoded, to b.
func (e *recordEncoder) appendRecord(b []byte, r *Record) []byte {
	t := r.Time.UnixNano()
	b = binary.AppendVarint(b, t-e.time)
	e.time = t
	b = binary.AppendVarint(b, r.SCBytes)
	b = binary.AppendVarint(b, r.CSBytes)
	b = binary.AppendVarint(b, r.ContentLen)
	b = binary.AppendVarint(b, int64(r.TimeTaken))
	b = binary.AppendVarint(b, int64(r.TTFB-r.TimeTaken))
	b = binary.AppendVarint(b, int64(r.Status))
	b = binary.AppendUvarint(b, uint64(r.ClientAddr.Port()))
	if addr := r.ClientAddr.Addr(); e.valid && addr == e.addr {
		b = append(b, sameAddr)
	} else {
		n := len(b)
		b = append(b, 0)
		b, _ = addr.AppendBinary(b) // never fails; at most 16 bytes and a zone
		if l := len(b) - n - 1; l < sameAddr {
			b[n] = byte(l)
		} else { // a zone too long to code: none
			b, _ = addr.WithZone("").AppendBinary(b[:n+1])
			b[n] = byte(len(b) - n - 1)
		}
		e.addr = addr
	}
	for i, sp := range recordStrings(r) {
		s := *sp
		if i == recordCookie && !r.IncludeCookies {
			s = ""
		}
		switch {
		case s == "": // most of them, on most requests
			b = append(b, 0)
			e.prev[i] = ""
			continue
		case e.valid && len(s) == len(e.prev[i]) && s == e.prev[i]:
			b = append(b, sameString)
			continue
		case i == recordID && len(s) == RequestIDLen && s[idHead:] == idTailString:
			b = append(b, tailedID)
			b = append(b, s[:idHead]...)
			e.prev[i] = ""
			continue
		case len(s) < 64:
			b = append(b, byte(len(s)<<1))
		default:
			b = binary.AppendUvarint(b, uint64(len(s))<<1)
		}
		at := len(b)
		b = append(b, s...)
		e.prev[i] = unsafe.String(unsafe.SliceData(b[at:]), len(s))
	}
	e.valid = true
	return b
}

var errRecord = errors.New("access log: malformed record")

// recordDecoder reads what a recordEncoder coded, from a batch's start.
type recordDecoder struct {
	time int64
	addr netip.Addr
	prev [20]string
	id   [RequestIDLen]byte
}

// readRecord decodes the record at the start of b into r, whose strings
// then alias b (or the decoder, until its next record), and returns the
// rest of b.
func (d *recordDecoder) readRecord(b []byte, r *Record) ([]byte, error) {
	var v [7]int64
	for i := range v {
		x, k := binary.Varint(b)
		if k <= 0 {
			return nil, errRecord
		}
		v[i], b = x, b[k:]
	}
	port, k := binary.Uvarint(b)
	if k <= 0 || port > 0xFFFF || len(b) == k {
		return nil, errRecord
	}
	b = b[k:]
	d.time += v[0]
	*r = Record{
		Time: time.Unix(0, d.time), SCBytes: v[1], CSBytes: v[2], ContentLen: v[3],
		TimeTaken: time.Duration(v[4]), TTFB: time.Duration(v[4] + v[5]), Status: int(v[6]),
		IncludeCookies: true, // the cookie is empty when it is not logged
	}
	if l := int(b[0]); l != sameAddr {
		if len(b) < 1+l {
			return nil, errRecord
		}
		var addr netip.Addr
		if err := addr.UnmarshalBinary(b[1 : 1+l]); err != nil {
			return nil, errRecord
		}
		d.addr, b = addr, b[1+l:]
	} else {
		b = b[1:]
	}
	if d.addr.IsValid() {
		r.ClientAddr = netip.AddrPortFrom(d.addr, uint16(port))
	}
	for i, sp := range recordStrings(r) {
		c, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errRecord
		}
		b = b[k:]
		switch {
		case c == sameString:
			*sp = d.prev[i]
			continue
		case c == tailedID && i == recordID && len(b) >= idHead:
			d.id = idTail
			copy(d.id[:], b[:idHead])
			*sp, b = unsafe.String(&d.id[0], RequestIDLen), b[idHead:]
			d.prev[i] = *sp
			continue
		case c&1 != 0 || c>>1 > uint64(len(b)):
			return nil, errRecord
		}
		l := int(c >> 1)
		*sp, b = unsafe.String(unsafe.SliceData(b), l), b[l:]
		d.prev[i] = *sp
	}
	return b, nil
}
