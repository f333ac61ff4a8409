package netlimit_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stagefront/stagefront/internal/netlimit"
)

// serveEcho accepts on ln and answers each connection "hi\n", keeping it
// open until the client closes it.
func serveEcho(t *testing.T, ln net.Listener) {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "hi\n")
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
}

// dialFrom connects from the loopback address src and reports whether the
// server served the connection (said hi) or closed it at once.
func dialFrom(t *testing.T, src, addr string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 3)
	_, err = io.ReadFull(c, buf)
	return c, err == nil && string(buf) == "hi\n"
}

func TestCaps(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := netlimit.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	lim := netlimit.NewLimiter("test", netlimit.Limits{MaxConns: 3, MaxConnsPerIP: 2}, m, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, lim.Wrap(ln))
	addr := ln.Addr().String()

	a1, ok1 := dialFrom(t, "127.0.0.1", addr)
	_, ok2 := dialFrom(t, "127.0.0.1", addr)
	_, ok3 := dialFrom(t, "127.0.0.1", addr) // over the per-IP cap
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("from one address: served %v %v %v, want true true false", ok1, ok2, ok3)
	}
	_, ok4 := dialFrom(t, "127.0.0.2", addr) // another client: served
	_, ok5 := dialFrom(t, "127.0.0.3", addr) // over the total cap
	if !ok4 || ok5 {
		t.Fatalf("other addresses: served %v %v, want true false", ok4, ok5)
	}
	// A slot freed by a client is served again.
	a1.Close()
	deadline := time.Now().Add(5 * time.Second)
	for lim.Open() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := dialFrom(t, "127.0.0.1", addr); !ok {
		t.Fatalf("after a close, a new connection was refused (open %d)", lim.Open())
	}
	if got := value(m.Refused("test", "max_conns_per_ip")); got != 1 {
		t.Errorf("refused per IP = %v, want 1", got)
	}
	if got := value(m.Refused("test", "max_conns")); got != 1 {
		t.Errorf("refused total = %v, want 1", got)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "stagefront_listener_connections_open" {
			if got := f.GetMetric()[0].GetGauge().GetValue(); got != 3 {
				t.Errorf("open gauge = %v, want 3", got)
			}
		}
	}
}

// flakyListener fails its first n Accepts with err.
type flakyListener struct {
	net.Listener
	n   int
	err error
}

func (f *flakyListener) Accept() (net.Conn, error) {
	if f.n > 0 {
		f.n--
		return nil, f.err
	}
	return f.Listener.Accept()
}

// TestAcceptRetriesTransientErrors: running out of descriptors is not the
// end of the listener: Accept backs off and retries, and returns the next
// connection.
func TestAcceptRetriesTransientErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			m, _ := netlimit.NewMetrics(prometheus.NewRegistry())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			opErr := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
			wrapped := netlimit.NewLimiter("flaky", netlimit.Limits{}, m, slog.New(slog.DiscardHandler)).
				Wrap(&flakyListener{Listener: ln, n: 4, err: opErr})
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err == nil {
					defer c.Close()
					time.Sleep(2 * time.Second)
				}
			}()
			c, err := wrapped.Accept()
			if err != nil {
				t.Fatalf("Accept after %v: %v", errno, err)
			}
			c.Close()
			if got := value(m.AcceptErrors("flaky")); got != 4 {
				t.Errorf("accept errors = %v, want 4", got)
			}
		})
	}
}

// TestAcceptPermanentErrorAndClose: an error that does not pass is
// returned, and closing the listener ends a backoff at once.
func TestAcceptPermanentErrorAndClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("listener broke")
	w := netlimit.NewLimiter("x", netlimit.Limits{}, nil, slog.New(slog.DiscardHandler)).Wrap(&flakyListener{Listener: ln, n: 1, err: bad})
	if _, err := w.Accept(); !errors.Is(err, bad) {
		t.Fatalf("Accept = %v, want %v", err, bad)
	}
	emfile := &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	w = netlimit.NewLimiter("y", netlimit.Limits{}, nil, slog.New(slog.DiscardHandler)).Wrap(&flakyListener{Listener: ln, n: 1 << 30, err: emfile})
	done := make(chan error, 1)
	go func() { _, err := w.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	w.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(fmt.Sprint(err), "closed") {
			t.Fatalf("Accept after Close = %v, want a closed error", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Accept still retrying after Close")
	}
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
