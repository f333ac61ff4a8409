// Package accesslog writes viewer requests in CloudFront's standard log
// format: tab-separated W3C extended log lines under a "#Version: 1.0" and
// "#Fields: ..." header, in gzip files named as CloudFront names them,
// <prefix><distribution-id>.YYYY-MM-DD-HH.<unique>.gz, one file per
// distribution and hour. The field list and order are CloudFront's
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html).
//
// A record is copied on the request's goroutine (it reads the request's
// buffers, which the engine reuses) into a batch (64 KiB) of its shard,
// in a compact encoding (record.go: about a quarter of the line's size
// for a run of cached hits). Requests served on one thread share a shard
// (Record.Shard), so two threads logging at once never write into the
// same memory or wait for the same lock. Formatting the lines,
// compressing and writing happen on the Writer's own goroutine, which
// takes full batches from a bounded queue and every shard's current one
// every second.
//
// While the CPUs are busy (Linux's CPU pressure: tasks waiting for a
// CPU, see cpuPressure), that goroutine holds the batches rather than
// format and compress them, so that a burst of requests is not slowed by
// its own log: the lines are written once the burst has passed, when
// the held batches reach Config.Backlog, or when they have lines of an
// hour that has ended. Close writes everything.
//
// A file's lines are in time order per shard, batch after batch, not
// across shards; CloudFront promises no order either: it consolidates
// each file from every edge location that served the distribution, and
// can add entries up to 24 hours late (standard-logs-reference.html,
// "Timing of log file delivery"). When the queue is full the batch's
// lines are dropped and counted (stagefront_access_log_dropped_total),
// never waited for.
package accesslog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// Record is one viewer request. Its strings may alias request buffers:
// Log copies them before returning and keeps no reference, except to
// DistributionID and Prefix, which name the request's file and must be
// the distribution's own strings.
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

	// Shard picks the batch the line joins: records logged from one
	// thread should carry the same value, records of two threads
	// serving at once different ones (Writer.Log).
	Shard uint32
}

// RequestIDLen is the length of a request id.
const RequestIDLen = 56

// NewRequestID returns a fresh request id shaped like CloudFront's
// (56 characters of URL-safe base64 over 40 bytes; see AppendRequestID).
func NewRequestID() string {
	var b [RequestIDLen]byte
	return string(AppendRequestID(b[:0]))
}

// AppendRequestID appends a fresh request id to dst, without allocating
// when dst has room. Its first 22 characters (132 bits) are new for each
// id, from math/rand/v2 (ChaCha8, seeded by the runtime from the system's
// randomness); the other 34 are the process's own, drawn once (idTail).
// 132 bits make an id as unique and as hard to guess as a random UUID's
// 122; the tail that every id of the process shares is what lets gzip
// match most of each id in the access log instead of coding it literally:
// fully random ids took 0.56 µs of gzip (klauspost/compress, level 1)
// per line and compressed 5.5:1, these 0.31 µs and 10.7:1.
//
// The characters are made 8 at a time, from 48 bits spread into the 8
// bytes of a word and mapped to the alphabet by comparing all 8 at once
// (a table and a byte at a time, as encoding/base64 does, took twice as
// long).
func AppendRequestID(dst []byte) []byte {
	w0, w1, w2 := rand.Uint64(), rand.Uint64(), rand.Uint64()
	id := idTail
	binary.LittleEndian.PutUint64(id[0:], base64Word(spread48(w0)))
	binary.LittleEndian.PutUint64(id[8:], base64Word(spread48(w1)))
	// 36 more bits: the words' top 16 bits and 4 of w2, characters 16
	// to 21; 22 and 23 stay the tail's.
	x := base64Word(spread48(w0>>48 | w1>>48<<16 | w2&0xF<<32))
	binary.LittleEndian.PutUint64(id[16:], x&(1<<48-1)|binary.LittleEndian.Uint64(idTail[16:])&^(1<<48-1))
	return append(dst, id[:]...)
}

// idTail is an id of the process's: the last 34 characters of every id
// it makes (AppendRequestID).
var idTail = randomID()

// randomID returns an id of 40 random bytes (320 bits): 53 characters
// of 6 bits, a 54th of 2 (as the last of 40 bytes is encoded) and the
// padding "==".
func randomID() (id [RequestIDLen]byte) {
	w0, w1, w2, w3, w4 := rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()
	binary.LittleEndian.PutUint64(id[0:], base64Word(spread48(w0)))
	binary.LittleEndian.PutUint64(id[8:], base64Word(spread48(w1)))
	binary.LittleEndian.PutUint64(id[16:], base64Word(spread48(w2)))
	binary.LittleEndian.PutUint64(id[24:], base64Word(spread48(w3)))
	binary.LittleEndian.PutUint64(id[32:], base64Word(spread48(w4)))
	// The words' top 16 bits: 48 more, then 32 (5 characters and the
	// 54th's 2 bits, the top of its 6).
	binary.LittleEndian.PutUint64(id[40:], base64Word(spread48(w0>>48|w1>>48<<16|w2>>48<<32)))
	last := w3>>48 | w4>>48<<16
	x := base64Word(spread48(last&(1<<30-1)) | last>>30<<(5*8+4))
	binary.LittleEndian.PutUint64(id[48:], x&(1<<48-1)|'='<<48|'='<<56)
	return id
}

// spread48 puts x's low 48 bits, 6 at a time, in the low 6 bits of a
// word's 8 bytes (bits 0-5 in the first byte).
func spread48(x uint64) uint64 {
	x = x&0xFFFFFF | x&0xFFFFFF000000<<8
	x = x&0x00000FFF00000FFF | x&0x00FFF00000FFF000<<4
	return x&0x003F003F003F003F | x&0x0FC00FC00FC00FC0<<2
}

// base64Word maps each byte of x, 0 to 63, to its URL-safe base64
// character: 'A'+v, plus 6 from 26 on ('a'), less 75 from 52 on ('0'),
// less 13 for 62 ('-'), plus 49 for 63 ('_'). v >= n is the top bit of
// v+128-n, which carries into no other byte.
func base64Word(x uint64) uint64 {
	const ones = 0x0101010101010101
	ge26 := (x + ones*(128-26)) >> 7 & ones
	ge52 := (x + ones*(128-52)) >> 7 & ones
	ge62 := (x + ones*(128-62)) >> 7 & ones
	ge63 := (x + ones*(128-63)) >> 7 & ones
	return x + ones*'A' + ge26*6 - ge52*75 - ge62*13 + ge63*49
}

// Config configures a Writer.
type Config struct {
	// Dir is where the files go (Prefix may add subdirectories).
	Dir string
	// Location is the x-edge-location field (default "SF1-P1").
	Location string
	// Queue bounds the full batches on their way to the Writer's
	// goroutine (default 64); BatchBytes is a batch's size (default
	// 64 KiB).
	Queue, BatchBytes int
	// Backlog bounds the bytes of batches the Writer's goroutine holds
	// while it puts off formatting and compressing them (default
	// DefaultBacklog). At Backlog it works whatever the CPUs' load and
	// takes no more batches until it is below it; Log then drops (and
	// counts) the lines of a batch that finds the queue full.
	Backlog int
	// Busy reports whether the CPUs are too busy for work that can wait
	// (default: Linux's CPU pressure, see cpuPressure; where there is
	// none, never). It is called on the Writer's goroutine.
	Busy     func() bool
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Now is the clock that closes past hours' files (default time.Now).
	Now func() time.Time
	// Finished, when set, is called on the Writer's goroutine with the
	// path of each file once it is complete under its final name (the
	// delivery to the distribution's bucket starts there). It must not
	// block.
	Finished func(path string)
}

// batch is records waiting to be written (encoded, see recordEncoder):
// buf, cut into segments of one file each.
type batch struct {
	buf   []byte
	segs  []seg
	lines int64
	enc   recordEncoder
}

// seg ends at end in its batch's buf (and starts where the one before
// ends); its records (n of them) go to the file of key.
type seg struct {
	key fileKey
	end int
	n   int64
}

type fileKey struct {
	prefix, dist string
	hour         int64 // Unix time / 3600
}

// Writer writes access log files. Log is safe for concurrent use.
type Writer struct {
	cfg    Config
	queue  chan *batch
	bufs   sync.Pool
	shards []shard
	// mask picks a record's shard: len(shards) is a power of two.
	mask    uint32
	dropped prometheus.Counter
	written prometheus.Counter
	// ndropped mirrors dropped for Dropped.
	ndropped atomic.Int64
	done     chan struct{}
	stop     context.CancelFunc
	backlog  prometheus.Gauge

	// Owned by the run goroutine: the batches held (from held[head] on,
	// heldBytes of them), the open files, the line being formatted and
	// the clock of its date and time.
	held      []*batch
	head      int
	heldBytes int
	// minHeld is the earliest hour (Unix time / 3600) with held lines,
	// at most an onTick old (math.MaxInt64: none).
	minHeld int64
	files   map[fileKey]*file
	lines   []byte
	clock   clock
	errs    []error
}

// shard is a batch being filled, by the threads whose records carry its
// number. The padding keeps two shards' locks off one cache line.
type shard struct {
	mu  sync.Mutex
	cur *batch // guarded by mu
	_   [64]byte
}

// DefaultBacklog is Config.Backlog's default: at 100,000 cached hits a
// second, about 65 bytes a record, some forty seconds of lines before
// the Writer works whatever the load.
const DefaultBacklog = 256 << 20

// deferCheck is how often the Writer's goroutine asks again whether the
// CPUs are still busy, while it holds batches.
const deferCheck = 50 * time.Millisecond

type file struct {
	tmp, final string
	f          *os.File
	gz         *gzEncoder
	hour       time.Time
}

// fileBuffer is how much compressed output a file's encoder keeps before
// writing it: a write system call per few requests logged was about a
// third of the writer's own CPU.
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
	if cfg.Backlog <= 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Busy == nil {
		cfg.Busy = func() bool { return false }
		if p := newCPUPressure(); p != nil {
			cfg.Busy = p.Busy
			cfg.Logger.Info("access log lines wait while the CPUs are busy", "cpu_pressure", p.path, "backlog_bytes", cfg.Backlog)
		} else {
			cfg.Logger.Info("access log lines are written at once: the kernel reports no CPU pressure (PSI)")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	w := &Writer{
		cfg: cfg, queue: make(chan *batch, cfg.Queue), done: make(chan struct{}), files: map[fileKey]*file{},
		minHeld: math.MaxInt64,
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stagefront_access_log_dropped_total",
			Help: "Access log lines dropped because the write queue was full.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stagefront_access_log_lines_total",
			Help: "Access log lines written.",
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stagefront_access_log_backlog_bytes",
			Help: "Access log records held, their formatting and compression put off while the CPUs are busy.",
		}),
	}
	w.bufs.New = func() any { return &batch{buf: make([]byte, 0, cfg.BatchBytes+1024)} }
	n := 1
	for n < 2*runtime.GOMAXPROCS(0) && n < 64 {
		n *= 2
	}
	w.shards, w.mask = make([]shard, n), uint32(n-1)
	for _, c := range []prometheus.Collector{w.dropped, w.written, w.backlog} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("access log metrics: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go w.run(ctx)
	return w, nil
}

// Log copies r into the current batch of its shard; a full batch is
// queued, or dropped and counted when the queue is full. It never blocks
// on I/O.
func (w *Writer) Log(r *Record) {
	key := fileKey{prefix: r.Prefix, dist: r.DistributionID, hour: r.Time.Unix() / 3600}
	sh := &w.shards[r.Shard&w.mask]
	sh.mu.Lock()
	b := sh.cur
	if b == nil {
		b = w.bufs.Get().(*batch)
		sh.cur = b
	}
	b.buf = b.enc.appendRecord(b.buf, r)
	b.lines++
	if n := len(b.segs); n > 0 && b.segs[n-1].key == key {
		b.segs[n-1].end = len(b.buf)
		b.segs[n-1].n++
	} else {
		b.segs = append(b.segs, seg{key: key, end: len(b.buf), n: 1})
	}
	if len(b.buf) < w.cfg.BatchBytes {
		sh.mu.Unlock()
		return
	}
	sh.cur = nil
	sh.mu.Unlock()
	select {
	case w.queue <- b:
	default:
		w.dropped.Add(float64(b.lines))
		w.ndropped.Add(b.lines)
		w.recycle(b)
	}
}

func (w *Writer) recycle(b *batch) {
	b.buf, b.segs, b.lines, b.enc = b.buf[:0], b.segs[:0], 0, recordEncoder{}
	w.bufs.Put(b)
}

// holdCurrent takes the batches being filled.
func (w *Writer) holdCurrent() {
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		b := sh.cur
		sh.cur = nil
		sh.mu.Unlock()
		if b != nil {
			w.hold(b)
		}
	}
}

// hold puts b at the end of the held batches.
func (w *Writer) hold(b *batch) {
	if w.head == len(w.held) {
		w.held, w.head = w.held[:0], 0
	}
	w.held = append(w.held, b)
	w.heldBytes += len(b.buf)
	for _, sg := range b.segs {
		w.minHeld = min(w.minHeld, sg.key.hour)
	}
	w.backlog.Set(float64(w.heldBytes))
}

// writeHeld writes the oldest held batch.
func (w *Writer) writeHeld() {
	b := w.held[w.head]
	w.held[w.head] = nil
	w.head++
	w.heldBytes -= len(b.buf)
	w.backlog.Set(float64(w.heldBytes))
	w.write(b)
}

// mayDefer reports whether the held batches can wait: while the CPUs
// are busy serving, formatting and compressing them would take CPU from
// the requests, and a burst's lines can be written when it has passed.
// They cannot wait once they fill the backlog, nor when the oldest has
// lines of an hour that has ended, whose file is due.
func (w *Writer) mayDefer() bool {
	if w.heldBytes >= w.cfg.Backlog {
		return false
	}
	if w.minHeld < w.cfg.Now().Unix()/3600 {
		return false
	}
	return w.cfg.Busy()
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
	retry := time.NewTimer(deferCheck)
	defer retry.Stop()
	for {
		// Hold whatever is queued, up to the backlog: the queue is only
		// the way in, and full batches wait here, not there.
	take:
		for w.heldBytes < w.cfg.Backlog {
			select {
			case b := <-w.queue:
				w.hold(b)
			default:
				break take
			}
		}
		if w.head < len(w.held) && !w.mayDefer() {
			w.writeHeld()
			select { // without waiting
			case <-tick.C:
				w.onTick()
			case <-ctx.Done():
				w.finish()
				return
			default:
			}
			continue
		}
		var wait <-chan time.Time
		if w.head < len(w.held) {
			retry.Reset(deferCheck)
			wait = retry.C
		}
		// Here nothing is held, or it may wait: the backlog is not full.
		select {
		case b := <-w.queue:
			w.hold(b)
		case <-tick.C:
			w.onTick()
		case <-wait:
		case <-ctx.Done():
			w.finish()
			return
		}
	}
}

// onTick takes the batches being filled, so that no line waits more
// than a second to be held, and finishes the files of past hours that no
// held line belongs to.
func (w *Writer) onTick() {
	w.holdCurrent()
	w.minHeld = math.MaxInt64
	for _, b := range w.held[w.head:] {
		for _, sg := range b.segs {
			w.minHeld = min(w.minHeld, sg.key.hour)
		}
	}
	cutoff := w.cfg.Now().UTC().Truncate(time.Hour)
	if w.minHeld < cutoff.Unix()/3600 {
		cutoff = time.Unix(w.minHeld*3600, 0).UTC()
	}
	w.closeBefore(cutoff)
}

// finish writes everything and finishes every file.
func (w *Writer) finish() {
	for len(w.queue) > 0 { // this goroutine is the queue's only reader
		w.hold(<-w.queue)
	}
	w.holdCurrent()
	for w.head < len(w.held) {
		w.writeHeld()
	}
	w.closeBefore(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
}

func (w *Writer) fail(err error) {
	w.cfg.Logger.Error("access log", "err", err)
	if len(w.errs) < 16 {
		w.errs = append(w.errs, err)
	}
}

// lineFlush is how many formatted bytes the Writer gathers before
// compressing them.
const lineFlush = 32 << 10

// write formats b's records and compresses them into their files. Each
// record is coded against the one before it, so every segment is
// decoded, even one whose file cannot be written.
func (w *Writer) write(b *batch) {
	defer w.recycle(b)
	var r Record
	var dec recordDecoder
	off := 0
	for i, sg := range b.segs {
		f, err := w.files[sg.key], error(nil)
		if f == nil {
			if f, err = w.open(sg.key); err == nil {
				w.files[sg.key] = f
			}
		}
		for off < sg.end {
			rest, derr := dec.readRecord(b.buf[off:sg.end], &r)
			if derr != nil { // a bug: the rest of the batch is lost
				w.fail(fmt.Errorf("batch segment %d of %d: %w", i+1, len(b.segs), derr))
				return
			}
			off = sg.end - len(rest)
			if err != nil {
				continue
			}
			w.lines = appendLine(w.lines, &r, w.cfg.Location, &w.clock)
			if len(w.lines) >= lineFlush || off == sg.end {
				err = f.gz.write(w.lines)
				w.lines = w.lines[:0]
			}
		}
		w.lines = w.lines[:0]
		if err != nil {
			if f != nil {
				err = fmt.Errorf("write %s: %w", f.tmp, err)
			}
			w.fail(err)
			continue
		}
		w.written.Add(float64(sg.n))
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
	gz, err := newGzEncoder(fh)
	if err == nil {
		err = gz.write([]byte(Header()))
	}
	if err != nil {
		fh.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &file{tmp: tmp, final: final, f: fh, gz: gz, hour: hour}, nil
}

// closeBefore finishes the files of hours before cutoff.
func (w *Writer) closeBefore(cutoff time.Time) {
	for name, f := range w.files {
		if !f.hour.Before(cutoff) {
			continue
		}
		delete(w.files, name)
		err := f.gz.close()
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
	return appendLine(b, r, location, nil)
}

// clock keeps the date and time last formatted, for the lines of the
// same second.
type clock struct {
	sec  int64 // Unix time
	n    int   // len of text; 0: none yet
	text [32]byte
}

// appendLine is AppendLine, with the date and time from c when they are
// c's (c may be nil).
func appendLine(b []byte, r *Record, location string, c *clock) []byte {
	if c == nil {
		b = appendDateTime(b, r.Time.UTC())
	} else if sec := r.Time.Unix(); c.n > 0 && sec == c.sec {
		b = append(b, c.text[:c.n]...)
	} else {
		n := len(b)
		b = appendDateTime(b, r.Time.UTC())
		c.sec, c.n = sec, copy(c.text[:], b[n:])
	}
	b = appendTabField(b, location)
	b = appendTabInt(b, r.SCBytes)
	if r.ClientIP == "" && r.ClientAddr.IsValid() {
		b = r.ClientAddr.Addr().AppendTo(append(b, '\t'))
	} else {
		b = appendTabField(b, r.ClientIP)
	}
	b = appendTabField(b, r.Method)
	b = appendTabField(b, r.Host)
	b = appendTabField(b, r.URIStem)
	b = appendTabInt(b, int64(r.Status))
	b = appendTabField(b, r.Referer)
	b = appendTabField(b, r.UserAgent)
	b = appendTabField(b, r.URIQuery)
	if r.IncludeCookies {
		b = appendTabField(b, r.Cookie)
	} else {
		b = append(b, "\t-"...)
	}
	b = appendTabField(b, r.ResultType)
	b = appendTabField(b, r.RequestID)
	b = appendTabField(b, r.HostHeader)
	b = appendTabField(b, r.Protocol)
	b = appendTabInt(b, r.CSBytes)
	b = appendSeconds(append(b, '\t'), r.TimeTaken)
	b = appendTabField(b, r.XForwardedFor)
	b = appendTabField(b, r.SSLProtocol)
	b = appendTabField(b, r.SSLCipher)
	b = appendTabField(b, r.ResultType) // x-edge-response-result-type
	b = appendTabField(b, r.ProtocolVersion)
	b = append(b, "\t-\t-"...) // fle-status, fle-encrypted-fields: no field-level encryption
	if r.ClientPort == "" && r.ClientAddr.IsValid() {
		b = appendTabInt(b, int64(r.ClientAddr.Port()))
	} else {
		b = appendTabField(b, r.ClientPort)
	}
	b = appendSeconds(append(b, '\t'), r.TTFB)
	b = appendTabField(b, r.ResultType) // x-edge-detailed-result-type
	b = appendTabField(b, r.ContentType)
	if r.ContentLen >= 0 {
		b = appendTabInt(b, r.ContentLen)
	} else {
		b = append(b, "\t-"...)
	}
	b = appendTabField(b, r.RangeStart)
	b = appendTabField(b, r.RangeEnd)
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
	if ms < 1000 {
		return append(b, '0', '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	}
	b = strconv.AppendInt(b, int64(ms/1000), 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendTabInt appends a tab and n in decimal: below 10^7, the tab and
// digits are put together in a word, stored at once (b's capacity takes
// the store past the end).
func appendTabInt(b []byte, n int64) []byte {
	if n < 0 || n >= 1e7 {
		return strconv.AppendInt(append(b, '\t'), n, 10)
	}
	u := uint64(n)
	w, k := uint64(0), 1
	for ; u >= 100; k += 2 {
		q := u / 100
		d := (u - q*100) * 2
		w = w<<16 | uint64(digitPairs[d+1])<<8 | uint64(digitPairs[d])
		u = q
	}
	if u >= 10 {
		w = w<<16 | uint64(digitPairs[u*2+1])<<8 | uint64(digitPairs[u*2])
		k += 2
	} else {
		w = w<<8 | ('0' + u)
		k++
	}
	w = w<<8 | '\t'
	at := len(b)
	if cap(b)-at < 8 {
		b = slices.Grow(b, 8)
	}
	binary.LittleEndian.PutUint64(b[at:at+8], w)
	return b[:at+k]
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

const hexDigits = "0123456789ABCDEF"

// appendTabField appends a tab and s, "-" when empty, percent-encoding
// what would break the line: spaces, tabs, control bytes and bytes
// beyond ASCII (as CloudFront URL-encodes User-Agent, Referer and the
// like). s is checked and copied a word at a time, in one pass: words of
// 8 bytes (the last one overlapping the one before), two of 4 or three
// bytes; b's capacity takes a word's store past the end.
func appendTabField(b []byte, s string) []byte {
	n := len(s)
	if n == 0 {
		return append(b, '\t', '-')
	}
	at := len(b)
	if cap(b)-at < n+9 {
		b = slices.Grow(b, n+9)
	}
	w := b[at : at+n+9]
	w[0] = '\t'
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			x := load64(s, i)
			if dirtyBytes(x) != 0 {
				return appendEscaped(b[:at+1], s)
			}
			binary.LittleEndian.PutUint64(w[1+i:], x)
		}
		x := load64(s, n-8)
		if dirtyBytes(x) != 0 {
			return appendEscaped(b[:at+1], s)
		}
		binary.LittleEndian.PutUint64(w[n-7:], x)
	case n >= 4:
		lo, hi := load32(s, 0), load32(s, n-4)
		if dirtyBytes(uint64(lo)|uint64(hi)<<32) != 0 {
			return appendEscaped(b[:at+1], s)
		}
		binary.LittleEndian.PutUint32(w[1:], lo)
		binary.LittleEndian.PutUint32(w[n-3:], hi)
	default:
		c0, c1, c2 := s[0], s[n>>1], s[n-1]
		if dirtyBytes(uint64(c0)|uint64(c1)<<8|uint64(c2)<<16|0x2121212121<<24) != 0 {
			return appendEscaped(b[:at+1], s)
		}
		w[1], w[1+n>>1], w[n] = c0, c1, c2
	}
	return b[:at+1+n]
}

// appendEscaped appends s, percent-encoding what is not from '!' to '~'.
func appendEscaped(b []byte, s string) []byte {
	for {
		i := cleanPrefix(s)
		b = append(b, s[:i]...)
		if i == len(s) {
			return b
		}
		c := s[i]
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		s = s[i+1:]
	}
}

// cleanPrefix is the length of s's prefix of bytes from '!' to '~'.
func cleanPrefix(s string) int {
	n := len(s)
	var x uint64
	switch {
	case n >= 8:
		i := 0
		for ; i+8 < n; i += 8 {
			if m := dirtyBytes(load64(s, i)); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
		}
		// The last 8 bytes: their first dirty one is past those seen.
		if m := dirtyBytes(load64(s, n-8)); m != 0 {
			return n - 8 + bits.TrailingZeros64(m)>>3
		}
		return n
	case n >= 4: // two words of 4, which may overlap
		x = uint64(load32(s, 0)) | uint64(load32(s, n-4))<<32
	case n > 0:
		x = uint64(s[0]) | uint64(s[n>>1])<<8 | uint64(s[n-1])<<16 | 0x2121212121<<24
	}
	if dirtyBytes(x) == 0 {
		return n
	}
	for i := 0; i < n; i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return i
		}
	}
	return n
}

// dirtyBytes has the top bit set of x's bytes that are not from '!' to
// '~', and maybe of bytes above one that is not: a byte below '!'
// borrows into its top bit when '!' is subtracted (and on to the next
// byte), one of '\x7f' and above has it set once 1 is added (or had).
func dirtyBytes(x uint64) uint64 {
	const ones = 0x0101010101010101
	return ((x-ones*'!')&^x | (x + ones) | x) & (ones * 0x80)
}

// load32 is s[i:i+4] as a little-endian integer.
func load32(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load64 is s[i:i+8] as a little-endian integer.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
