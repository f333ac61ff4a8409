package accesslog

import (
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchRecords returns n records of a cached 1 KiB object's hits, as the
// edge logs them (Server.logAccess), each with its own request id and
// client port, one every 10µs.
func benchRecords(n int) []Record {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Time: at.Add(time.Duration(i) * 10 * time.Microsecond), DistributionID: "E2QWRUHEXAMPLE",
			Prefix: "logs/", Method: "GET", Host: "d111111abcdef8.cloudfront.net", HostHeader: "www.example.com",
			URIStem: "/obj.txt", Status: 200, UserAgent: "curl/8.5.0", RequestID: NewRequestID(),
			Protocol: "http", ProtocolVersion: "HTTP/1.1", CSBytes: 86, SCBytes: 1342,
			TimeTaken: 9 * time.Microsecond, TTFB: 9 * time.Microsecond, ResultType: "Hit",
			ContentType: "text/plain; charset=utf-8", ContentLen: 1024,
			ClientAddr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%7)}), uint16(32768+i%20000)),
		}
	}
	return recs
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriterLog is the whole cost of a line: Log on the caller's
// goroutine, then compressing and writing on the Writer's (Close waits
// for it). cpu-ns/op is the process's CPU time per line,
// both goroutines' (and the GC's); ns/op is wall time, which on several
// cores is about the slower goroutine's. The caller waits, sleeping,
// while the queue is half full, so no line is dropped.
func BenchmarkWriterLog(b *testing.B) {
	recs := benchRecords(4096)
	w, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		w.Log(&recs[i&4095])
		if i&255 == 0 {
			for len(w.queue) > cap(w.queue)/2 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.StopTimer()
	if d := w.Dropped(); d != 0 {
		b.Fatalf("%d lines dropped", d)
	}
}

// BenchmarkLog is Log alone, the part on the request's goroutine (the
// batches are dropped: no writer takes them).
func BenchmarkLog(b *testing.B) {
	recs := benchRecords(4096)
	w, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	w.stop() // no writer: Log queues, then drops
	<-w.done
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Log(&recs[i&4095])
	}
}

// BenchmarkLogParallel is BenchmarkLog on every core at once, each
// goroutine in its own shard (as each event loop is): the cost of a line
// should not grow with the cores logging.
func BenchmarkLogParallel(b *testing.B) {
	recs := benchRecords(4096)
	w, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	w.stop()
	<-w.done
	var shards atomic.Uint32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		shard := shards.Add(1)
		for i := 0; pb.Next(); i++ {
			r := recs[i&4095]
			r.Shard = shard
			w.Log(&r)
		}
	})
}

// BenchmarkAppendRequestID is a request's id, made on its goroutine.
func BenchmarkAppendRequestID(b *testing.B) {
	var buf [RequestIDLen]byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		AppendRequestID(buf[:0])
	}
}

// BenchmarkAppendRequestIDParallel is BenchmarkAppendRequestID on every
// core at once.
func BenchmarkAppendRequestIDParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf [RequestIDLen]byte
		for pb.Next() {
			AppendRequestID(buf[:0])
		}
	})
}

// BenchmarkAppendLine is a line's formatting (without the Writer's
// date and time of the second before).
func BenchmarkAppendLine(b *testing.B) {
	recs := benchRecords(4096)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendLine(buf[:0], &recs[i&4095], "SF1-P1")
	}
}
