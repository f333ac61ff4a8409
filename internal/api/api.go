package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
)

// APIVersion is the path prefix of every operation.
const APIVersion = "/2020-05-31"

// Options configure the handler New returns.
type Options struct {
	// Verifier checks each request's SigV4 signature. Required: pass
	// auth.None() to accept every request (loopback only).
	Verifier *auth.Verifier
	// BaseURL prefixes Location headers, e.g. "https://cf.example.com".
	// Empty: derived from each request's scheme and Host.
	BaseURL string
	// Logger receives internal errors and a debug line per request.
	// Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps a request document (larger → 413). Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestID returns the id of a new request (x-amzn-RequestId and the
	// error body's RequestId). Nil means a random UUID v4.
	RequestID func() string
}

// server routes requests to the control service.
type server struct {
	svc     *control.Service
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	configs *configCache
}

// New returns the CloudFront 2020-05-31 REST-XML API over svc: request ids,
// then SigV4 verification, then routing. It panics if svc or
// opts.Verifier is nil (a missing verifier must never mean "no auth").
func New(svc *control.Service, opts Options) http.Handler {
	if svc == nil {
		panic("api.New: nil *control.Service")
	}
	if opts.Verifier == nil {
		panic("api.New: nil Options.Verifier (use auth.None() to disable authentication)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RequestID == nil {
		opts.RequestID = newUUID
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &server{svc: svc, opts: opts, log: opts.Logger, mux: http.NewServeMux(), configs: newConfigCache()}
	s.routes()
	authed := auth.Middleware(opts.Verifier, s.writeError)(http.HandlerFunc(s.route))
	return s.withRequestID(authed)
}

// reply is what a handler answers: a status, optionally a payload document
// with its root element name, and the CloudFront headers.
type reply struct {
	status   int
	root     string // payload root element; "" means no body
	body     any
	etag     string
	location string
}

// handlerFunc handles one operation. It does not write to the response:
// the adapter writes the reply, or the error through writeError.
type handlerFunc func(r *http.Request) (*reply, error)

func (s *server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rep, err := h(r)
		if err == nil {
			err = s.writeReply(w, rep)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeReply encodes the whole document before writing anything, so an
// encoding failure can still become a proper error response.
func (s *server) writeReply(w http.ResponseWriter, rep *reply) error {
	var body []byte
	if rep.root != "" {
		var err error
		if body, err = encodeXMLCached(rep.root, rep.body, s.configs); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/xml")
	}
	if rep.etag != "" {
		w.Header().Set("ETag", rep.etag)
	}
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	w.WriteHeader(rep.status)
	if len(body) > 0 {
		if _, err := w.Write(body); err != nil {
			// The status is sent; all that is left is to tell the operator.
			s.log.Debug("api: writing response body", "err", err)
		}
	}
	return nil
}

// location is the absolute URL of a resource path for the Location header.
func (s *server) location(r *http.Request, path string) string {
	base := s.opts.BaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + APIVersion + path
}

// route dispatches to the mux, answering unknown paths and wrong methods
// with CloudFront-style errors instead of the mux's plain-text ones.
func (s *server) route(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, errMethodNotAllowed(r.Method, r.URL.Path))
		return
	}
	s.writeError(w, r, errNoRoute(r.URL.Path))
}

type requestIDKey struct{}

// requestID returns the id withRequestID gave the request.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request an id (header and context) before
// anything else runs, so auth failures carry one too, and logs the outcome.
func (s *server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.opts.RequestID()
		// Set directly to keep CloudFront's spelling; header names are
		// case-insensitive to every client.
		w.Header()["x-amzn-RequestId"] = []string{id}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		sw := &statusWriter{ResponseWriter: w}
		began := time.Now()
		next.ServeHTTP(sw, r.WithContext(ctx))
		s.log.LogAttrs(ctx, slog.LevelDebug, "api request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(began)))
	})
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
