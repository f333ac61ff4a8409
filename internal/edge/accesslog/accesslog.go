// Package accesslog writes viewer requests in CloudFront's standard log
// format: tab-separated W3C extended log lines under a "#Version: 1.0" and
// "#Fields: ..." header, in gzip files named as CloudFront names them,
// <prefix><distribution-id>.YYYY-MM-DD-HH.<unique>.gz, one file per
// distribution and hour. The field list and order are CloudFront's
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html).
//
// A record is copied on the request's goroutine (it reads the request's
// buffers, which the engine reuses) into the current batch (64 KiB), as
// it is, unformatted (capture.go); formatting, compressing and writing
// happen on the Writer's own goroutine, which takes full batches from a
// bounded queue and the current one every second. When the queue is full the batch's lines are dropped and
// counted (stagefront_access_log_dropped_total), never waited for.
package accesslog

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
)

// Fields is CloudFront's standard log field list, in order.
var Fields = []string{
	"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem",
	"sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type",
	"x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
	"ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status",
	"fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type",
	"sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end",
}

// Header is the two header lines that start every log file.
func Header() string {
	return "#Version: 1.0\n#Fields: " + strings.Join(Fields, " ") + "\n"
}

// Record is one viewer request. Strings may alias request buffers: Log
// formats them before returning and keeps no reference.
type Record struct {
	Time           time.Time // when the request arrived
	DistributionID string
	Prefix         string // the distribution's Logging.Prefix
	IncludeCookies bool

	// ClientIP and ClientPort are the viewer's address; when ClientIP is
	// empty, ClientAddr is written instead (formatted without allocating).
	ClientIP, ClientPort string
	ClientAddr           netip.AddrPort
	Method               string
	Host                 string // the distribution's domain name (cs(Host))
	HostHeader           string // the viewer's Host header (x-host-header)
	URIStem, URIQuery    string
	Status               int
	Referer, UserAgent   string
	Cookie               string
	ResultType           string // Hit, RefreshHit, Miss, Error, Redirect
	RequestID            string
	Protocol             string // http or https
	ProtocolVersion      string // HTTP/1.1
	CSBytes, SCBytes     int64
	TimeTaken, TTFB      time.Duration
	XForwardedFor        string
	SSLProtocol          string
	SSLCipher            string
	ContentType          string
	ContentLen           int64 // -1: unknown
	RangeStart, RangeEnd string
}

// RequestIDLen is the length of a request id.
const RequestIDLen = 56

// NewRequestID returns a fresh request id shaped like CloudFront's
// (56 characters of base64 over 40 random bytes).
func NewRequestID() string {
	var b [RequestIDLen]byte
	return string(AppendRequestID(b[:0]))
}

// AppendRequestID appends a fresh request id (see NewRequestID) to dst,
// without allocating when dst has room.
func AppendRequestID(dst []byte) []byte {
	var b [40]byte
	for i := 0; i < 40; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	n := len(dst)
	dst = slices.Grow(dst, RequestIDLen)[:n+RequestIDLen]
	base64.URLEncoding.Encode(dst[n:], b[:])
	return dst
}

// Config configures a Writer.
type Config struct {
	// Dir is where the files go (Prefix may add subdirectories).
	Dir string
	// Location is the x-edge-location field (default "SF1-P1").
	Location string
	// Queue bounds the full batches waiting to be written (default 64);
	// BatchBytes is a batch's size (default 64 KiB).
	Queue, BatchBytes int
	Logger            *slog.Logger
	Registry          prometheus.Registerer
	// Now is the clock that closes past hours' files (default time.Now).
	Now func() time.Time
	// Finished, when set, is called on the Writer's goroutine with the
	// path of each file once it is complete under its final name (the
	// delivery to the distribution's bucket starts there). It must not
	// block.
	Finished func(path string)
}

// batch is lines waiting to be written: buf, cut into segments of one
// file each.
type batch struct {
	buf   []byte
	segs  []seg
	lines int64
}

// seg ends at end in its batch's buf (and starts where the one before
// ends); its lines go to the file of key.
type seg struct {
	key fileKey
	end int
}

type fileKey struct {
	prefix, dist string
	hour         int64 // Unix time / 3600
}

// Writer writes access log files. Log is safe for concurrent use.
type Writer struct {
	cfg     Config
	queue   chan *batch
	bufs    sync.Pool
	mu      sync.Mutex
	cur     *batch // guarded by mu
	dropped prometheus.Counter
	written prometheus.Counter
	// ndropped mirrors dropped for Dropped.
	ndropped atomic.Int64
	done     chan struct{}
	stop     context.CancelFunc
	// open files, owned by the run goroutine.
	files map[fileKey]*file
	errs  []error
	// lines is the run goroutine's buffer of formatted lines.
	lines []byte
}

type file struct {
	tmp, final string
	f          *os.File
	bw         *bufio.Writer // between gz and f
	gz         *gzip.Writer
	hour       time.Time
}

// fileBuffer is the buffer between a file's compressor and the file. The
// compressor hands its output on in pieces of about 240 bytes, a few
// lines' worth: unbuffered, that was one write system call per few
// requests logged, about a third of the writer's own CPU.
const fileBuffer = 32 << 10

// New starts a Writer. Close flushes and finishes its files.
func New(cfg Config) (*Writer, error) {
	if cfg.Dir == "" {
		return nil, errors.New("access log: no directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("access log directory: %w", err)
	}
	if cfg.Location == "" {
		cfg.Location = "SF1-P1"
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 64
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 64 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	w := &Writer{
		cfg: cfg, queue: make(chan *batch, cfg.Queue), done: make(chan struct{}), files: map[fileKey]*file{},
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stagefront_access_log_dropped_total",
			Help: "Access log lines dropped because the write queue was full.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stagefront_access_log_lines_total",
			Help: "Access log lines written.",
		}),
	}
	w.bufs.New = func() any { return &batch{buf: make([]byte, 0, cfg.BatchBytes+1024)} }
	for _, c := range []prometheus.Collector{w.dropped, w.written} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("access log metrics: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go w.run(ctx)
	return w, nil
}

// Log formats r into the current batch; a full batch is queued, or
// dropped and counted when the queue is full. It never blocks on I/O.
func (w *Writer) Log(r *Record) {
	key := fileKey{prefix: r.Prefix, dist: r.DistributionID, hour: r.Time.Unix() / 3600}
	w.mu.Lock()
	b := w.cur
	if b == nil {
		b = w.bufs.Get().(*batch)
		w.cur = b
	}
	b.buf = appendCaptured(b.buf, r)
	b.lines++
	if n := len(b.segs); n > 0 && b.segs[n-1].key == key {
		b.segs[n-1].end = len(b.buf)
	} else {
		b.segs = append(b.segs, seg{key: key, end: len(b.buf)})
	}
	if len(b.buf) < w.cfg.BatchBytes {
		w.mu.Unlock()
		return
	}
	w.cur = nil
	w.mu.Unlock()
	select {
	case w.queue <- b:
	default:
		w.dropped.Add(float64(b.lines))
		w.ndropped.Add(b.lines)
		w.recycle(b)
	}
}

func (w *Writer) recycle(b *batch) {
	b.buf, b.segs, b.lines = b.buf[:0], b.segs[:0], 0
	w.bufs.Put(b)
}

// takeCurrent takes the batch being filled, if any.
func (w *Writer) takeCurrent() *batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.cur
	w.cur = nil
	return b
}

// Dropped returns the number of lines dropped so far.
func (w *Writer) Dropped() int64 { return w.ndropped.Load() }

// Close writes what is queued, finishes every open file and stops.
func (w *Writer) Close() error {
	w.stop()
	<-w.done
	return errors.Join(w.errs...)
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case b := <-w.queue:
			w.write(b)
		case <-tick.C:
			if b := w.takeCurrent(); b != nil {
				w.write(b)
			}
			w.closeBefore(w.cfg.Now().UTC().Truncate(time.Hour))
		case <-ctx.Done():
			for {
				select {
				case b := <-w.queue:
					w.write(b)
				default:
					if b := w.takeCurrent(); b != nil {
						w.write(b)
					}
					w.closeBefore(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
					return
				}
			}
		}
	}
}

func (w *Writer) fail(err error) {
	w.cfg.Logger.Error("access log", "err", err)
	if len(w.errs) < 16 {
		w.errs = append(w.errs, err)
	}
}

func (w *Writer) write(b *batch) {
	defer w.recycle(b)
	start := 0
	var r Record
	for _, sg := range b.segs {
		// Format the segment's records into lines, then compress them.
		lines := w.lines[:0]
		n := 0
		for rest := b.buf[start:sg.end]; len(rest) > 0; n++ {
			rest = readCaptured(rest, &r)
			lines = AppendLine(lines, &r, w.cfg.Location)
		}
		w.lines = lines
		start = sg.end
		f, ok := w.files[sg.key]
		if !ok {
			var err error
			if f, err = w.open(sg.key); err != nil {
				w.fail(err)
				continue
			}
			w.files[sg.key] = f
		}
		if _, err := f.gz.Write(lines); err != nil {
			w.fail(fmt.Errorf("write %s: %w", f.tmp, err))
			continue
		}
		w.written.Add(float64(n))
	}
}

// open starts a file under a hidden temporary name; finish renames it to
// its final .gz name, so a reader never sees a half-written file.
func (w *Writer) open(k fileKey) (*file, error) {
	hour := time.Unix(k.hour*3600, 0).UTC()
	name := k.prefix + k.dist + "." + hour.Format("2006-01-02-15")
	var u [4]byte
	binary.LittleEndian.PutUint32(u[:], rand.Uint32())
	final := filepath.Join(w.cfg.Dir, filepath.FromSlash(name)+"."+fmt.Sprintf("%08x", binary.BigEndian.Uint32(u[:]))+".gz")
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("access log directory: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".partial")
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("access log file: %w", err)
	}
	// Level 1: the writer keeps up with the edge at a fraction of the
	// default level's CPU, for files a little larger. klauspost/compress's
	// gzip (a drop-in for compress/gzip, already in the module through
	// fasthttp) compresses these lines about 2.5 times as fast as the
	// standard library's at the same level: the writer's CPU per logged
	// request is more than the hit's own without it.
	bw := bufio.NewWriterSize(fh, fileBuffer)
	gz, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("access log gzip: %w", err)
	}
	if _, err := gz.Write([]byte(Header())); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("write %s: %w", tmp, err)
	}
	return &file{tmp: tmp, final: final, f: fh, bw: bw, gz: gz, hour: hour}, nil
}

// closeBefore finishes the files of hours before cutoff.
func (w *Writer) closeBefore(cutoff time.Time) {
	for name, f := range w.files {
		if !f.hour.Before(cutoff) {
			continue
		}
		delete(w.files, name)
		err := f.gz.Close()
		if err == nil {
			err = f.bw.Flush()
		}
		if err == nil {
			err = f.f.Sync()
		}
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.tmp, f.final)
		}
		if err != nil {
			w.fail(fmt.Errorf("finish %s: %w", f.final, err))
		} else if w.cfg.Finished != nil {
			w.cfg.Finished(f.final)
		}
	}
}

// AppendLine appends r as one log line (with its newline) to b.
func AppendLine(b []byte, r *Record, location string) []byte {
	b = appendDateTime(b, r.Time.UTC())
	b = append(b, '\t')
	b = appendField(b, location)
	b = strconv.AppendInt(append(b, '\t'), r.SCBytes, 10)
	if r.ClientIP == "" && r.ClientAddr.IsValid() {
		b = r.ClientAddr.Addr().AppendTo(append(b, '\t'))
	} else {
		b = appendField(append(b, '\t'), r.ClientIP)
	}
	b = appendField(append(b, '\t'), r.Method)
	b = appendField(append(b, '\t'), r.Host)
	b = appendField(append(b, '\t'), r.URIStem)
	b = strconv.AppendInt(append(b, '\t'), int64(r.Status), 10)
	b = appendField(append(b, '\t'), r.Referer)
	b = appendField(append(b, '\t'), r.UserAgent)
	b = appendField(append(b, '\t'), r.URIQuery)
	if r.IncludeCookies {
		b = appendField(append(b, '\t'), r.Cookie)
	} else {
		b = append(b, "\t-"...)
	}
	b = appendField(append(b, '\t'), r.ResultType)
	b = appendField(append(b, '\t'), r.RequestID)
	b = appendField(append(b, '\t'), r.HostHeader)
	b = appendField(append(b, '\t'), r.Protocol)
	b = strconv.AppendInt(append(b, '\t'), r.CSBytes, 10)
	b = appendSeconds(append(b, '\t'), r.TimeTaken)
	b = appendField(append(b, '\t'), r.XForwardedFor)
	b = appendField(append(b, '\t'), r.SSLProtocol)
	b = appendField(append(b, '\t'), r.SSLCipher)
	b = appendField(append(b, '\t'), r.ResultType) // x-edge-response-result-type
	b = appendField(append(b, '\t'), r.ProtocolVersion)
	b = append(b, "\t-\t-"...) // fle-status, fle-encrypted-fields: no field-level encryption
	if r.ClientPort == "" && r.ClientAddr.IsValid() {
		b = strconv.AppendUint(append(b, '\t'), uint64(r.ClientAddr.Port()), 10)
	} else {
		b = appendField(append(b, '\t'), r.ClientPort)
	}
	b = appendSeconds(append(b, '\t'), r.TTFB)
	b = appendField(append(b, '\t'), r.ResultType) // x-edge-detailed-result-type
	b = appendField(append(b, '\t'), r.ContentType)
	if r.ContentLen >= 0 {
		b = strconv.AppendInt(append(b, '\t'), r.ContentLen, 10)
	} else {
		b = append(b, "\t-"...)
	}
	b = appendField(append(b, '\t'), r.RangeStart)
	b = appendField(append(b, '\t'), r.RangeEnd)
	return append(b, '\n')
}

// appendDateTime appends t as "2006-01-02\t15:04:05" (t.AppendFormat's
// result, without parsing the layout on every line).
func appendDateTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02\t15:04:05")
	}
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append(b, byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), '\t')
	return append(b, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
}

// appendSeconds appends d in seconds with three decimals, rounded to the
// nearest millisecond.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ms := (d + time.Millisecond/2) / time.Millisecond
	b = strconv.AppendInt(b, int64(ms/1000), 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

const hexDigits = "0123456789ABCDEF"

// appendField appends s, "-" when empty, percent-encoding what would
// break the line: spaces, tabs, control bytes and bytes beyond ASCII (as
// CloudFront URL-encodes User-Agent, Referer and the like).
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}
