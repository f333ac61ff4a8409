package accesslog

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unsafe"
)

// A batch holds records captured, not formatted: Log copies a record's
// fields into the batch (a few memmoves on the request's goroutine) and
// the Writer's goroutine formats them into lines (AppendLine) as it
// compresses them. A captured record is its fixed fields, then its
// strings, each a uvarint length and the bytes.

const (
	capIncludeCookies = 1 << iota
	capAddr4          // ClientAddr is an IPv4 address
	capAddr6          // ClientAddr is an IPv6 address (no zone)
)

// capturedStrings lists a record's strings in their captured order.
func capturedStrings(r *Record) [20]*string {
	return [20]*string{
		&r.ClientIP, &r.ClientPort, &r.Method, &r.Host, &r.HostHeader, &r.URIStem, &r.URIQuery,
		&r.Referer, &r.UserAgent, &r.Cookie, &r.ResultType, &r.RequestID, &r.Protocol,
		&r.ProtocolVersion, &r.XForwardedFor, &r.SSLProtocol, &r.SSLCipher, &r.ContentType,
		&r.RangeStart, &r.RangeEnd,
	}
}

// appendCaptured appends r, captured, to b. What AppendLine writes of the
// decoded record is what it writes of r (DistributionID and Prefix, which
// name the file, are not kept).
func appendCaptured(b []byte, r *Record) []byte {
	var flags byte
	if r.IncludeCookies {
		flags |= capIncludeCookies
	}
	ip, port := r.ClientIP, r.ClientPort
	addr := r.ClientAddr
	if ip == "" && addr.IsValid() {
		switch {
		case addr.Addr().Is4():
			flags |= capAddr4
		case addr.Addr().Zone() == "":
			flags |= capAddr6
		default: // a zone: kept as strings (rare)
			ip = addr.Addr().String()
			if port == "" {
				port = itoa(uint64(addr.Port()))
			}
		}
	}
	b = append(b, flags)
	for _, n := range [...]int64{r.Time.UnixNano(), int64(r.Status), r.CSBytes, r.SCBytes, r.ContentLen, int64(r.TimeTaken), int64(r.TTFB)} {
		b = binary.LittleEndian.AppendUint64(b, uint64(n))
	}
	if flags&(capAddr4|capAddr6) != 0 {
		a := addr.Addr().As16()
		b = append(b, a[:]...)
		b = binary.LittleEndian.AppendUint16(b, addr.Port())
	}
	rc := *r
	rc.ClientIP, rc.ClientPort = ip, port
	for _, s := range capturedStrings(&rc) {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	return b
}

// readCaptured decodes the record at the start of b into r and returns
// the rest of b. r's strings alias b.
func readCaptured(b []byte, r *Record) []byte {
	*r = Record{}
	flags := b[0]
	b = b[1:]
	var n [7]int64
	for i := range n {
		n[i] = int64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	r.Time = time.Unix(0, n[0])
	r.Status, r.CSBytes, r.SCBytes, r.ContentLen = int(n[1]), n[2], n[3], n[4]
	r.TimeTaken, r.TTFB = time.Duration(n[5]), time.Duration(n[6])
	r.IncludeCookies = flags&capIncludeCookies != 0
	if flags&(capAddr4|capAddr6) != 0 {
		a := netip.AddrFrom16([16]byte(b[:16]))
		if flags&capAddr4 != 0 {
			a = a.Unmap()
		}
		r.ClientAddr = netip.AddrPortFrom(a, binary.LittleEndian.Uint16(b[16:]))
		b = b[18:]
	}
	for _, s := range capturedStrings(r) {
		l, k := binary.Uvarint(b)
		b = b[k:]
		*s = unsafe.String(unsafe.SliceData(b), int(l))
		b = b[l:]
	}
	return b
}

func itoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(buf[i:])
		}
	}
}
