package origin

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// CloudFront's defaults for the timeouts and attempts of an origin; Fetch
// uses them for zero fields of a Spec.
const (
	DefaultConnectTimeout     = 10 * time.Second
	DefaultConnectionAttempts = 3
	DefaultReadTimeout        = 30 * time.Second
	DefaultKeepaliveTimeout   = 5 * time.Second
)

// Spec is one origin of a distribution, compiled from cloudfront.Origin by
// the caller. It is read-only to this package and may be shared.
type Spec struct {
	ID         string
	DomainName string
	OriginPath string // "" or "/prefix", prepended to the request path
	// S3 is set when the origin has an S3OriginConfig or its DomainName is
	// an S3 bucket domain (see ParseS3Domain).
	S3 bool
	// OACID is OriginAccessControlId; "" means unsigned requests.
	OACID string
	// OACSigning is the OAC's SigningBehavior: SignAlways (also for ""),
	// SignNever or SignNoOverride.
	OACSigning string
	// ProtocolPolicy is HTTPOnly, HTTPSOnly or MatchViewer ("" means
	// MatchViewer). Custom origins only.
	ProtocolPolicy string
	// HTTPPort and HTTPSPort default to 80 and 443. Custom origins only.
	HTTPPort, HTTPSPort int
	// ReadTimeout bounds the wait for the response header,
	// KeepaliveTimeout how long an idle connection is kept, ConnectTimeout
	// each connection attempt. Zero means the Default… constant.
	ReadTimeout, KeepaliveTimeout, ConnectTimeout time.Duration
	// ConnectionAttempts is how many times a connection is tried (0 means
	// DefaultConnectionAttempts).
	ConnectionAttempts int
	// CustomHeaders are added to every origin request, replacing viewer
	// headers of the same name.
	CustomHeaders [][2]string
}

// Request is what the edge forwards of one viewer request.
type Request struct {
	Method string // "" means GET
	// Path is the viewer's escaped path (r.URL.EscapedPath()) after
	// DefaultRootObject, starting with "/". OriginPath is prepended.
	Path string
	// RawQuery is the query the cache and origin request policies forward,
	// without "?", sent as is.
	RawQuery string
	// Header holds the viewer headers to forward, as the policies select
	// them. Fetch never modifies it and drops hop-by-hop headers and the
	// CDCookie from it. A "Host" entry is sent as Host to custom origins
	// (a policy that forwards Host); otherwise Host is the origin's.
	Header http.Header
	// Body and ContentLength (-1 if unknown) are the request body; nil for
	// GET and HEAD. Fetch closes Body if it is an io.ReadCloser.
	Body          io.Reader
	ContentLength int64
	// ViewerScheme is "http" or "https", for MatchViewer.
	ViewerScheme string
	// ClientIP, if set, is appended to X-Forwarded-For.
	ClientIP string
}

// Options configure a Fetcher. The zero value is usable.
type Options struct {
	// S3Endpoint, when set, sends every S3 origin's requests path-style to
	// this S3-compatible server (MinIO, moto): <endpoint>/<bucket><path>.
	S3Endpoint *url.URL
	// Credentials sign OAC requests. nil loads the standard AWS chain
	// (environment, shared files, SSO, IMDS…) once, in New.
	Credentials aws.CredentialsProvider
	// Region, when S3Endpoint is set and Region is not empty, is the
	// signing region of every S3 origin (such a server has one region).
	// Otherwise the region comes from the bucket's domain.
	Region string
	// Logger gets debug records about failed connection attempts.
	Logger *slog.Logger
	// MaxIdleConnsPerHost bounds the idle connections kept per origin
	// host; 0 means 256.
	MaxIdleConnsPerHost int
	// TLSClientConfig is used for HTTPS origins (cloned per Transport).
	TLSClientConfig *tls.Config
	// DialContext makes one connection attempt; nil means a net.Dialer.
	// Tests use it to count or stall attempts.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock for signatures; nil means time.Now.
	Now func() time.Time
}

// Fetcher fetches objects from origins. It is safe for concurrent use.
type Fetcher struct {
	s3Endpoint     *url.URL
	creds          aws.CredentialsProvider
	region         string
	log            *slog.Logger
	signer         *v4.Signer
	now            func() time.Time
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig      *tls.Config
	maxIdlePerHost int

	mu         sync.RWMutex
	transports map[transportKey]*http.Transport // requests with a body
	pools      map[poolKey]*connPool            // GET and HEAD
}

// New returns a Fetcher. Without Options.Credentials it loads the default
// AWS configuration (which reads files but does not yet fetch credentials).
func New(ctx context.Context, opts Options) (*Fetcher, error) {
	f := &Fetcher{
		s3Endpoint:     opts.S3Endpoint,
		creds:          opts.Credentials,
		region:         opts.Region,
		log:            opts.Logger,
		signer:         v4.NewSigner(),
		now:            opts.Now,
		dial:           opts.DialContext,
		tlsConfig:      opts.TLSClientConfig,
		maxIdlePerHost: opts.MaxIdleConnsPerHost,
		transports:     make(map[transportKey]*http.Transport),
		pools:          make(map[poolKey]*connPool),
	}
	if f.s3Endpoint != nil && (f.s3Endpoint.Scheme == "" || f.s3Endpoint.Host == "") {
		return nil, fmt.Errorf("origin: S3 endpoint %q: want scheme://host[:port]", f.s3Endpoint)
	}
	if f.creds == nil {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("origin: load AWS config: %w", err)
		}
		f.creds = cfg.Credentials
	}
	if _, cached := f.creds.(*aws.CredentialsCache); !cached && f.creds != nil {
		f.creds = aws.NewCredentialsCache(f.creds)
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.dial == nil {
		f.dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	if f.maxIdlePerHost <= 0 {
		f.maxIdlePerHost = 256
	}
	return f, nil
}

// Fetch sends req to the origin spec and returns its response, whatever its
// status; the caller closes the body. ctx bounds the whole fetch, body
// included. When no response arrives the error is an *Error (see StatusFor);
// an unusable spec or path gives another error, which StatusFor maps to 502.
func (f *Fetcher) Fetch(ctx context.Context, spec *Spec, req *Request) (*http.Response, error) {
	var (
		t   target
		err error
	)
	if spec.S3 {
		t, err = f.s3Target(spec, req)
	} else {
		t, err = customTarget(spec, req)
	}
	if err != nil {
		return nil, fmt.Errorf("origin %q: %w", spec.ID, err)
	}
	header, viewerHost := originHeader(req.Header, spec, req.ClientIP)
	if viewerHost != "" && !spec.S3 {
		t.host = viewerHost
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hreq := &http.Request{
		Method:     method,
		URL:        &t.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       t.host,
	}
	if req.Body != nil {
		// No GetBody: a body is sent at most once.
		hreq.Body, hreq.ContentLength = io.NopCloser(req.Body), req.ContentLength
		if rc, ok := req.Body.(io.ReadCloser); ok {
			hreq.Body = rc
		}
	}
	sign, err := shouldSign(spec, header)
	if err != nil {
		return nil, fmt.Errorf("origin %q: %w", spec.ID, err)
	}
	if sign {
		if err := f.sign(ctx, hreq, t.region); err != nil {
			return nil, fmt.Errorf("origin %q: %w", spec.ID, err)
		}
	}

	var resp *http.Response
	if hreq.Body == nil && (method == http.MethodGet || method == http.MethodHead) && asciiHost(hreq.Host) {
		resp, err = f.roundTrip(ctx, keyOf(spec), hreq)
	} else {
		resp, err = f.transport(keyOf(spec)).RoundTrip(hreq.WithContext(ctx))
	}
	if err != nil {
		return nil, fetchError(spec.ID, err)
	}
	return resp, nil
}

// Close closes the idle connections of every pooled Transport. Call it on
// shutdown, after in-flight fetches finished; the Fetcher stays usable.
func (f *Fetcher) Close() {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, t := range f.transports {
		t.CloseIdleConnections()
	}
	for _, p := range f.pools {
		p.closeIdle()
	}
}

// keyOf applies the defaults to spec's timeouts.
func keyOf(spec *Spec) transportKey {
	k := transportKey{
		connectTimeout: spec.ConnectTimeout,
		readTimeout:    spec.ReadTimeout,
		keepalive:      spec.KeepaliveTimeout,
		attempts:       spec.ConnectionAttempts,
	}
	if k.connectTimeout <= 0 {
		k.connectTimeout = DefaultConnectTimeout
	}
	if k.readTimeout <= 0 {
		k.readTimeout = DefaultReadTimeout
	}
	if k.keepalive <= 0 {
		k.keepalive = DefaultKeepaliveTimeout
	}
	if k.attempts <= 0 {
		k.attempts = DefaultConnectionAttempts
	}
	return k
}
