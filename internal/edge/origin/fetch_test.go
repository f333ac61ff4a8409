package origin

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagefront/stagefront/internal/testutil"
)

// newTestFetcher returns a Fetcher with static credentials (tests never read
// the machine's AWS configuration), closed when the test ends.
func newTestFetcher(t testing.TB, opts Options) *Fetcher {
	t.Helper()
	if opts.Credentials == nil {
		opts.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	}
	f, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// redirectDial sends every connection to addr, so specs can use real-looking
// domain names while staying on loopback, and records the requested address.
type redirectDial struct {
	addr string
	mu   sync.Mutex
	got  []string
}

func (d *redirectDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.got = append(d.got, addr)
	d.mu.Unlock()
	var dialer net.Dialer
	return dialer.DialContext(ctx, network, d.addr)
}

func (d *redirectDial) last() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) == 0 {
		return ""
	}
	return d.got[len(d.got)-1]
}

// seen is what the test origin observed of one request.
type seen struct {
	method, requestURI, host, body string
	tls                            bool
	header                         http.Header
}

// recordingOrigin is an httptest handler remembering the last request.
type recordingOrigin struct {
	mu   sync.Mutex
	last seen
}

func (o *recordingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.last = seen{method: r.Method, requestURI: r.RequestURI, host: r.Host, body: string(body), tls: r.TLS != nil, header: r.Header.Clone()}
	o.mu.Unlock()
	io.WriteString(w, "from origin")
}

func (o *recordingOrigin) seen() seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func TestFetchCustomOrigin(t *testing.T) {
	rec := &recordingOrigin{}
	plain := httptest.NewServer(rec)
	defer plain.Close()
	secure := httptest.NewTLSServer(rec)
	defer secure.Close()
	plainDial := &redirectDial{addr: plain.Listener.Addr().String()}
	secureDial := &redirectDial{addr: secure.Listener.Addr().String()}
	plainFetcher := newTestFetcher(t, Options{DialContext: plainDial.dial})
	secureFetcher := newTestFetcher(t, Options{
		DialContext:     secureDial.dial,
		TLSClientConfig: &tls.Config{RootCAs: secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs},
	})

	base := Spec{ID: "web", DomainName: "origin.example.com", OriginPath: "/v1", ProtocolPolicy: HTTPOnly}
	const absent = "<absent>"
	tests := []struct {
		name       string
		spec       func(*Spec)
		req        Request
		https      bool // the origin is reached over TLS
		wantURI    string
		wantHost   string
		wantDial   string
		wantMethod string
		wantBody   string
		wantHeader map[string]string // absent = must not be sent
	}{
		{
			name:     "origin path prefixes the request path",
			req:      Request{Path: "/index.html"},
			wantURI:  "/v1/index.html",
			wantHost: "origin.example.com",
			wantDial: "origin.example.com:80",
			wantHeader: map[string]string{
				"Via": Via, "User-Agent": userAgent, "Accept-Encoding": absent, "X-Forwarded-For": absent,
			},
		},
		{
			name:    "no origin path, escaped path and query passed through unchanged",
			spec:    func(s *Spec) { s.OriginPath = "" },
			req:     Request{Path: "/a%2Fb/c%20d.txt", RawQuery: "z=1&a=%2F&a=2"},
			wantURI: "/a%2Fb/c%20d.txt?z=1&a=%2F&a=2",
		},
		{
			name: "custom headers added and replace viewer headers",
			spec: func(s *Spec) {
				s.CustomHeaders = [][2]string{{"x-origin-secret", "s3cr3t"}, {"X-Env", "prod"}}
			},
			req: Request{Path: "/", Header: http.Header{"X-Origin-Secret": {"forged"}, "Accept": {"text/html"}}},
			wantHeader: map[string]string{
				"X-Origin-Secret": "s3cr3t", "X-Env": "prod", "Accept": "text/html",
			},
		},
		{
			name: "CD cookie stripped, other cookies kept",
			req: Request{Path: "/", Header: http.Header{"Cookie": {
				"a=1; x-amz-continuous-deployment-state=eyJ0IjoiUyJ9; b=2", "c=3",
			}}},
			wantHeader: map[string]string{"Cookie": "a=1; b=2; c=3"},
		},
		{
			name:       "only the CD cookie: no Cookie header",
			req:        Request{Path: "/", Header: http.Header{"Cookie": {"x-amz-continuous-deployment-state=abc"}}},
			wantHeader: map[string]string{"Cookie": absent},
		},
		{
			name: "hop-by-hop headers not forwarded",
			req: Request{Path: "/", Header: http.Header{
				"Connection":          {"keep-alive, X-Private"},
				"X-Private":           {"1"},
				"Keep-Alive":          {"timeout=5"},
				"Te":                  {"trailers"},
				"Upgrade":             {"websocket"},
				"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
				"Proxy-Connection":    {"keep-alive"},
				"Trailer":             {"X-Checksum"},
				"X-Kept":              {"yes"},
			}},
			wantHeader: map[string]string{
				"Connection": absent, "X-Private": absent, "Keep-Alive": absent, "Te": absent,
				"Upgrade": absent, "Proxy-Authorization": absent, "Proxy-Connection": absent,
				"Trailer": absent, "X-Kept": "yes",
			},
		},
		{
			name: "Via and X-Forwarded-For appended, viewer User-Agent kept",
			req: Request{Path: "/", ClientIP: "203.0.113.7", Header: http.Header{
				"Via": {"1.1 upstream"}, "X-Forwarded-For": {"198.51.100.1"}, "User-Agent": {"curl/8"},
			}},
			wantHeader: map[string]string{
				"Via": "1.1 upstream, " + Via, "X-Forwarded-For": "198.51.100.1, 203.0.113.7", "User-Agent": "curl/8",
			},
		},
		{
			name:     "forwarded Host header wins for a custom origin",
			req:      Request{Path: "/", Header: http.Header{"Host": {"www.viewer.example"}}},
			wantHost: "www.viewer.example",
		},
		{
			name:     "non-default HTTP port in URL and Host",
			spec:     func(s *Spec) { s.HTTPPort = 8080 },
			req:      Request{Path: "/x"},
			wantHost: "origin.example.com:8080",
			wantDial: "origin.example.com:8080",
		},
		{
			name:       "POST body forwarded",
			req:        Request{Method: http.MethodPost, Path: "/api", Body: strings.NewReader("payload"), ContentLength: 7},
			wantMethod: http.MethodPost,
			wantBody:   "payload",
		},
		{
			name:     "match-viewer follows an https viewer",
			spec:     func(s *Spec) { s.ProtocolPolicy = MatchViewer },
			req:      Request{Path: "/", ViewerScheme: "https"},
			https:    true,
			wantHost: "origin.example.com",
			wantDial: "origin.example.com:443",
		},
		{
			name:     "match-viewer follows an http viewer",
			spec:     func(s *Spec) { s.ProtocolPolicy = MatchViewer },
			req:      Request{Path: "/", ViewerScheme: "http"},
			wantDial: "origin.example.com:80",
		},
		{
			name:     "https-only with a custom port",
			spec:     func(s *Spec) { s.ProtocolPolicy = HTTPSOnly; s.HTTPSPort = 8443 },
			req:      Request{Path: "/", ViewerScheme: "http"},
			https:    true,
			wantHost: "origin.example.com:8443",
			wantDial: "origin.example.com:8443",
		},
		{
			name:     "http-only ignores an https viewer",
			req:      Request{Path: "/", ViewerScheme: "https"},
			wantDial: "origin.example.com:80",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := base
			if tt.spec != nil {
				tt.spec(&spec)
			}
			viewerHeader := tt.req.Header.Clone()
			f, dial := plainFetcher, plainDial
			if tt.https {
				f, dial = secureFetcher, secureDial
			}
			f.Close() // so that this case dials and the dialed address is its own
			resp, err := f.Fetch(context.Background(), &spec, &tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "from origin" {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "from origin")
			}
			got := rec.seen()
			if got.tls != tt.https {
				t.Errorf("origin TLS: got %v, want %v", got.tls, tt.https)
			}
			if tt.wantURI != "" && got.requestURI != tt.wantURI {
				t.Errorf("request URI: got %q, want %q", got.requestURI, tt.wantURI)
			}
			if tt.wantHost != "" && got.host != tt.wantHost {
				t.Errorf("Host: got %q, want %q", got.host, tt.wantHost)
			}
			if tt.wantDial != "" && dial.last() != tt.wantDial {
				t.Errorf("dialed: got %q, want %q", dial.last(), tt.wantDial)
			}
			if tt.wantMethod != "" && got.method != tt.wantMethod {
				t.Errorf("method: got %q, want %q", got.method, tt.wantMethod)
			}
			if got.body != tt.wantBody {
				t.Errorf("body: got %q, want %q", got.body, tt.wantBody)
			}
			for key, want := range tt.wantHeader {
				values, ok := got.header[key]
				gotValue := strings.Join(values, " | ")
				if !ok {
					gotValue = absent
				}
				if gotValue != want {
					t.Errorf("header %s: got %q, want %q", key, gotValue, want)
				}
			}
			if !equalHeader(tt.req.Header, viewerHeader) {
				t.Errorf("Fetch modified the caller's header: got %v, want %v", tt.req.Header, viewerHeader)
			}
		})
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		if strings.Join(va, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// countingDial counts connection attempts and delegates to dial.
type countingDial struct {
	mu    sync.Mutex
	count int
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c *countingDial) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	c.count++
	c.mu.Unlock()
	return c.dial(ctx, network, addr)
}

func (c *countingDial) attempts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	return testutil.RefusedAddr(t)
}

// rawServer accepts connections and hands each to handle; closed at the end
// of the test, waiting for its goroutines.
func rawServer(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				handle(conn)
			})
		}
	})
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return l.Addr().String()
}

// slowOrigin answers after delay, or when the client gives up.
func slowOrigin(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		io.WriteString(w, "late")
	})
}

func TestFetchErrors(t *testing.T) {
	slow := httptest.NewServer(slowOrigin(2 * time.Second))
	defer slow.Close()
	refused := closedAddr(t)
	garbage := rawServer(t, func(conn net.Conn) {
		conn.Read(make([]byte, 4096))
		io.WriteString(conn, "NOT HTTP AT ALL\r\n\r\n")
	})
	hangUp := rawServer(t, func(conn net.Conn) {})
	var realDialer net.Dialer
	stall := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}

	tests := []struct {
		name         string
		addr         string // where connections go
		dial         func(ctx context.Context, network, addr string) (net.Conn, error)
		spec         Spec
		wantStatus   int
		wantKind     error
		wantAttempts int // connection attempts counted by the dialer
		maxElapsed   time.Duration
	}{
		{
			name: "refused, 3 attempts", addr: refused,
			spec:       Spec{ConnectionAttempts: 3},
			wantStatus: http.StatusBadGateway, wantKind: ErrOriginUnreachable, wantAttempts: 3,
		},
		{
			name: "refused, 1 attempt", addr: refused,
			spec:       Spec{ConnectionAttempts: 1},
			wantStatus: http.StatusBadGateway, wantKind: ErrOriginUnreachable, wantAttempts: 1,
		},
		{
			name: "refused, default attempts", addr: refused,
			wantStatus: http.StatusBadGateway, wantKind: ErrOriginUnreachable, wantAttempts: DefaultConnectionAttempts,
		},
		{
			name: "connect timeout on every attempt", addr: refused, dial: stall,
			spec:       Spec{ConnectionAttempts: 2, ConnectTimeout: 50 * time.Millisecond},
			wantStatus: http.StatusGatewayTimeout, wantKind: ErrOriginTimeout, wantAttempts: 2,
			maxElapsed: time.Second,
		},
		{
			name: "no response header within ReadTimeout", addr: slow.Listener.Addr().String(),
			spec:       Spec{ReadTimeout: 200 * time.Millisecond},
			wantStatus: http.StatusGatewayTimeout, wantKind: ErrOriginTimeout, wantAttempts: 1,
			maxElapsed: time.Second,
		},
		{
			name: "malformed response", addr: garbage,
			wantStatus: http.StatusBadGateway, wantKind: ErrOriginUnreachable, wantAttempts: 1,
		},
		{
			name: "connection closed without a response", addr: hangUp,
			wantStatus: http.StatusBadGateway, wantKind: ErrOriginUnreachable, wantAttempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dial := tt.dial
			if dial == nil {
				dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
					return realDialer.DialContext(ctx, network, tt.addr)
				}
			}
			counter := &countingDial{dial: dial}
			f := newTestFetcher(t, Options{DialContext: counter.DialContext})
			spec := tt.spec
			spec.ID, spec.DomainName, spec.ProtocolPolicy = "broken", "origin.example.com", HTTPOnly
			start := time.Now()
			resp, err := f.Fetch(context.Background(), &spec, &Request{Path: "/"})
			elapsed := time.Since(start)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Fetch: got status %d, want an error", resp.StatusCode)
			}
			if got := StatusFor(err); got != tt.wantStatus {
				t.Errorf("StatusFor(%v): got %d, want %d", err, got, tt.wantStatus)
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("errors.Is(%v, %v): got false, want true", err, tt.wantKind)
			}
			var originErr *Error
			if !errors.As(err, &originErr) || originErr.OriginID != "broken" {
				t.Errorf("error %v: want an *Error for origin %q", err, "broken")
			}
			if got := counter.attempts(); got != tt.wantAttempts {
				t.Errorf("connection attempts: got %d, want %d", got, tt.wantAttempts)
			}
			if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
				t.Errorf("elapsed: got %v, want at most %v", elapsed, tt.maxElapsed)
			}
		})
	}
}

func TestFetchBadSpec(t *testing.T) {
	f := newTestFetcher(t, Options{})
	tests := []struct {
		name string
		spec Spec
		req  Request
	}{
		{"unknown protocol policy", Spec{DomainName: "o.example.com", ProtocolPolicy: "gopher"}, Request{Path: "/"}},
		{"S3 flag on a non-bucket domain", Spec{DomainName: "o.example.com", S3: true}, Request{Path: "/"}},
		{"unknown OAC signing behavior", Spec{DomainName: "b.s3.amazonaws.com", S3: true, OACID: "E1", OACSigning: "sometimes"}, Request{Path: "/"}},
		{"bad escape in path", Spec{DomainName: "o.example.com"}, Request{Path: "/%zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), &tt.spec, &tt.req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("Fetch: got nil error, want one")
			}
			if got := StatusFor(err); got != http.StatusBadGateway {
				t.Errorf("StatusFor(%v): got %d, want 502", err, got)
			}
		})
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{&Error{Kind: ErrOriginTimeout, Err: errors.New("x")}, http.StatusGatewayTimeout},
		{&Error{Kind: ErrOriginUnreachable, Err: errors.New("x")}, http.StatusBadGateway},
		{context.DeadlineExceeded, http.StatusGatewayTimeout},
		{errors.New("anything else"), http.StatusBadGateway},
	}
	for _, tt := range tests {
		if got := StatusFor(tt.err); got != tt.want {
			t.Errorf("StatusFor(%v): got %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestTransportsShared checks one pooled Transport per timeout tuple.
func TestTransportsShared(t *testing.T) {
	f := newTestFetcher(t, Options{})
	a := f.transport(keyOf(&Spec{}))
	b := f.transport(keyOf(&Spec{ConnectTimeout: DefaultConnectTimeout, ConnectionAttempts: 3}))
	c := f.transport(keyOf(&Spec{ReadTimeout: time.Second}))
	if a != b {
		t.Error("same effective timeouts: got two transports, want one")
	}
	if a == c {
		t.Error("different read timeouts: got one transport, want two")
	}
	if got, want := a.MaxIdleConnsPerHost, 256; got != want {
		t.Errorf("MaxIdleConnsPerHost: got %d, want %d", got, want)
	}
	if got, want := c.ResponseHeaderTimeout, time.Second; got != want {
		t.Errorf("ResponseHeaderTimeout: got %v, want %v", got, want)
	}
	if got, want := a.IdleConnTimeout, DefaultKeepaliveTimeout; got != want {
		t.Errorf("IdleConnTimeout: got %v, want %v", got, want)
	}
}
