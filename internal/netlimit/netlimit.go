package netlimit

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits are the caps of one Limiter; zero means no cap.
type Limits struct {
	// MaxConns caps the connections open at once.
	MaxConns int
	// MaxConnsPerIP caps the connections open at once from one client
	// IP address.
	MaxConnsPerIP int
}

// Backoff bounds of a listener whose Accept keeps failing, as net/http's
// Server.Serve does.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Metrics are the listeners' counters, labelled by listener name.
type Metrics struct {
	open         *prometheus.GaugeVec
	accepted     *prometheus.CounterVec
	refused      *prometheus.CounterVec
	acceptErrors *prometheus.CounterVec
}

// NewMetrics registers the listener metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stagefront_listener_connections_open",
			Help: "Connections open on a listener.",
		}, []string{"listener"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_listener_connections_accepted_total",
			Help: "Connections accepted and served by a listener.",
		}, []string{"listener"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_listener_connections_refused_total",
			Help: "Connections closed as soon as accepted, by the cap they were over (max_conns, max_conns_per_ip).",
		}, []string{"listener", "reason"}),
		acceptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagefront_listener_accept_errors_total",
			Help: "Accept calls that failed with a passing error (EMFILE, ENFILE, ...) and were retried.",
		}, []string{"listener"}),
	}
	for _, c := range []prometheus.Collector{m.open, m.accepted, m.refused, m.acceptErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Limiter counts the connections of the listeners it wraps against its
// Limits. It is safe for concurrent use.
type Limiter struct {
	name   string
	limits Limits
	log    *slog.Logger

	open          prometheus.Gauge
	accepted      prometheus.Counter
	refusedTotal  prometheus.Counter
	refusedPerIP  prometheus.Counter
	acceptErrors  prometheus.Counter
	mu            sync.Mutex
	total         int
	perIP         map[netip.Addr]int
	lastRefuseLog time.Time
}

// NewLimiter returns a Limiter named name (the metrics' listener label).
// m may be nil (no metrics), log nil (slog.Default()).
func NewLimiter(name string, limits Limits, m *Metrics, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	if m == nil {
		m, _ = NewMetrics(prometheus.NewRegistry()) // a private registry: cannot fail
	}
	return &Limiter{
		name: name, limits: limits, log: log,
		open:         m.open.WithLabelValues(name),
		accepted:     m.accepted.WithLabelValues(name),
		refusedTotal: m.refused.WithLabelValues(name, "max_conns"),
		refusedPerIP: m.refused.WithLabelValues(name, "max_conns_per_ip"),
		acceptErrors: m.acceptErrors.WithLabelValues(name),
		perIP:        map[netip.Addr]int{},
	}
}

// Limits returns the limiter's caps.
func (l *Limiter) Limits() Limits { return l.limits }

// Open returns the number of connections open through the limiter.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Wrap returns ln with the limiter's caps and accept retries.
func (l *Limiter) Wrap(ln net.Listener) net.Listener {
	return &listener{Listener: ln, lim: l, closed: make(chan struct{})}
}

// admit counts a new connection from addr, or reports which cap it is over.
func (l *Limiter) admit(addr netip.Addr) (ok bool, reason prometheus.Counter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.MaxConns > 0 && l.total >= l.limits.MaxConns {
		return false, l.refusedTotal
	}
	if l.limits.MaxConnsPerIP > 0 && addr.IsValid() && l.perIP[addr] >= l.limits.MaxConnsPerIP {
		return false, l.refusedPerIP
	}
	l.total++
	if addr.IsValid() {
		l.perIP[addr]++
	}
	return true, nil
}

func (l *Limiter) release(addr netip.Addr) {
	l.mu.Lock()
	l.total--
	if addr.IsValid() {
		if n := l.perIP[addr] - 1; n > 0 {
			l.perIP[addr] = n
		} else {
			delete(l.perIP, addr)
		}
	}
	l.mu.Unlock()
	l.open.Dec()
}

// logRefused logs a refusal at most once a second: a flood must not
// become a flood of log lines.
func (l *Limiter) logRefused(addr netip.Addr, reason string) {
	l.mu.Lock()
	now := time.Now()
	quiet := now.Sub(l.lastRefuseLog) < time.Second
	if !quiet {
		l.lastRefuseLog = now
	}
	l.mu.Unlock()
	if !quiet {
		l.log.Warn("connection refused: over the listener's cap", "listener", l.name, "client", addr.String(), "cap", reason,
			"max_conns", l.limits.MaxConns, "max_conns_per_ip", l.limits.MaxConnsPerIP)
	}
}

type listener struct {
	net.Listener
	lim       *Limiter
	closeOnce sync.Once
	closed    chan struct{}
}

// Accept returns the next connection within the caps. A passing accept
// error is retried after a backoff (5 ms doubling to 1 s); other errors,
// and any error once the listener is closed, are returned.
func (ln *listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			select {
			case <-ln.closed:
				return nil, err
			default:
			}
			if !Transient(err) {
				return nil, err
			}
			if delay == 0 {
				delay = minBackoff
			} else {
				delay = min(2*delay, maxBackoff)
			}
			ln.lim.acceptErrors.Inc()
			ln.lim.log.Warn("accept failed; retrying", "listener", ln.lim.name, "err", err, "retry_in", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ln.closed:
				t.Stop()
				return nil, net.ErrClosed
			}
			continue
		}
		delay = 0
		addr := remoteIP(c.RemoteAddr())
		if ok, reason := ln.lim.admit(addr); !ok {
			reason.Inc()
			c.Close()
			label := "max_conns"
			if reason == ln.lim.refusedPerIP {
				label = "max_conns_per_ip"
			}
			ln.lim.logRefused(addr, label)
			continue
		}
		ln.lim.accepted.Inc()
		ln.lim.open.Inc()
		return &conn{Conn: c, lim: ln.lim, addr: addr}, nil
	}
}

func (ln *listener) Close() error {
	ln.closeOnce.Do(func() { close(ln.closed) })
	return ln.Listener.Close()
}

// Transient reports whether an accept error passes with time: the process
// or the system is out of descriptors or buffers, or a client gave up
// before its connection was accepted.
func Transient(err error) bool {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.ENOBUFS),
		errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EINTR),
		errors.Is(err, syscall.EAGAIN):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// conn releases its slot once, on the first Close.
type conn struct {
	net.Conn
	lim  *Limiter
	addr netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.lim.release(c.addr) })
	return err
}

// NetConn returns the accepted connection (as tls.Conn.NetConn does).
func (c *conn) NetConn() net.Conn { return c.Conn }

// Refused returns the refusal counter of a listener for a reason
// ("max_conns" or "max_conns_per_ip"), for tests and dashboards.
func (m *Metrics) Refused(listener, reason string) prometheus.Counter {
	return m.refused.WithLabelValues(listener, reason)
}

// AcceptErrors returns the retried accept errors counter of a listener.
func (m *Metrics) AcceptErrors(listener string) prometheus.Counter {
	return m.acceptErrors.WithLabelValues(listener)
}
