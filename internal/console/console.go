package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/identity"
	"github.com/stagefront/stagefront/internal/release"
)

// Prefix is where the console lives on the API listener.
const Prefix = "/console/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Distributions is what the console reads and does through the control
// plane (control.Service implements it).
type Distributions interface {
	ListDistributions(ctx context.Context, marker string, maxItems int) (*cf.DistributionList, error)
	GetDistribution(ctx context.Context, id string) (*control.DistributionResult, error)
	ListPolicies(ctx context.Context, marker string, maxItems int) (*cf.ContinuousDeploymentPolicyList, error)
	CreateInvalidation(ctx context.Context, distID string, batch *cf.InvalidationBatch) (*cf.Invalidation, error)
	ListInvalidations(ctx context.Context, distID, marker string, maxItems int) (*cf.InvalidationList, error)
	// PolicyAttachments maps each primary id to its attached policy's id.
	PolicyAttachments(ctx context.Context) (map[string]string, error)
	// InvalidationHistory lists invalidations with who asked for them.
	InvalidationHistory(ctx context.Context, distID string) ([]control.InvalidationRecord, error)
}

// Releases is what the console reads and does through the release
// controller (release.Controller implements it).
type Releases interface {
	List(ctx context.Context) ([]*release.Release, error)
	Status(ctx context.Context, name string) (*release.Live, error)
	Decide(ctx context.Context, name, verdict, by, comment string) (*release.Release, error)
	History(ctx context.Context, primary string) ([]release.Generation, error)
	Rollback(ctx context.Context, primary string, to int, by string) (*release.Generation, error)
}

// Options configure the console. Credentials, Distributions and Releases
// are required.
type Options struct {
	Credentials   Credentials
	Distributions Distributions
	Releases      Releases
	// Metrics is the gatherer the release analysis reads (the fleet-wide
	// sum when edges share an etcd store); nil shows no live traffic.
	Metrics prometheus.Gatherer
	Logger  *slog.Logger
	// Clock and Random are injected so tests are exact.
	Clock  func() time.Time
	Random io.Reader
	// IdleTimeout and AbsoluteTimeout end sessions (defaults 30 min, 12 h).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// MaxFailures failed sign-ins per credential or client address within
	// FailureWindow throttle further ones (defaults 5 in 15 min).
	MaxFailures   int
	FailureWindow time.Duration
	// LiveInterval is how often a live-traffic stream sends (default 1 s).
	LiveInterval time.Duration
}

// Console is the web console's HTTP handler.
type Console struct {
	opts     Options
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns the console.
func New(opts Options) (*Console, error) {
	if opts.Credentials == nil || opts.Distributions == nil || opts.Releases == nil {
		return nil, errors.New("console.New: Credentials, Distributions and Releases are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Random == nil {
		opts.Random = defaultRandom()
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = 12 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.LiveInterval <= 0 {
		opts.LiveInterval = time.Second
	}
	c := &Console{
		opts: opts, log: opts.Logger,
		sessions: newSessions(opts.Credentials, opts.Clock, opts.Random, sessionLimits{
			Idle: opts.IdleTimeout, Absolute: opts.AbsoluteTimeout,
			MaxFailures: opts.MaxFailures, FailureWindow: opts.FailureWindow, MaxSessions: 10_000,
		}),
	}
	pages, err := parsePages(opts.Clock)
	if err != nil {
		return nil, err
	}
	c.pages = pages
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	mux.Handle("GET /console/assets/", http.StripPrefix("/console/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /console/signin", c.signInPage)
	mux.HandleFunc("POST /console/signin", c.signIn)
	mux.HandleFunc("POST /console/signout", c.authed(c.signOut))
	mux.HandleFunc("GET /console/{$}", c.authed(c.overview))
	mux.HandleFunc("GET /console/distributions", c.authed(c.distributionsPage))
	mux.HandleFunc("GET /console/distributions/{id}", c.authed(c.distributionPage))
	mux.HandleFunc("POST /console/distributions/{id}/invalidate", c.authed(c.invalidate))
	mux.HandleFunc("GET /console/distributions/{id}/rollback", c.authed(c.rollbackPage))
	mux.HandleFunc("POST /console/distributions/{id}/rollback", c.authed(c.rollback))
	mux.HandleFunc("GET /console/distributions/{id}/live", c.authed(c.live))
	mux.HandleFunc("GET /console/releases", c.authed(c.releasesPage))
	mux.HandleFunc("GET /console/releases/{name}", c.authed(c.releasePage))
	mux.HandleFunc("POST /console/releases/{name}/decide", c.authed(c.decide))
	mux.HandleFunc("GET /console/history", c.authed(c.historyPage))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
	})
	c.mux = mux
}

// ServeHTTP implements http.Handler, with the console's security headers
// on every response.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/console/assets/") {
		h.Set("Cache-Control", "no-store")
	}
	if r.URL.Path == "/console" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// Mount returns a handler that serves the console under /console/ and
// everything else with next.
func (c *Console) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/console" || strings.HasPrefix(r.URL.Path, Prefix) {
			c.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionCookie is the cookie holding the session token. It is HttpOnly,
// SameSite=Strict, scoped to /console/, and Secure when the console is
// served over TLS.
const sessionCookie = "stagefront_console"

// request is what an authenticated handler gets.
type request struct {
	*http.Request
	session *Session
	token   string
}

// authed wraps a handler that needs a signed-in session: without one, a
// GET is redirected to sign-in (back to where it was going afterwards) and
// anything else is refused. A state-changing request must carry the
// session's CSRF token and, when the browser sends one, a same-origin Origin.
func (c *Console) authed(fn func(w http.ResponseWriter, r *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if ck, err := r.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		isStream := strings.HasSuffix(r.URL.Path, "/live")
		sess := c.sessions.Lookup(token, !isStream)
		if sess == nil {
			if safe && !isStream {
				http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if !safe {
			if err := checkCSRF(r, sess); err != nil {
				c.errorPage(w, r, sess, http.StatusForbidden, err.Error())
				return
			}
		}
		// The control plane records who acted from the context, as it
		// does for the API's SigV4 principal.
		r = r.WithContext(identity.With(r.Context(), sess.Principal))
		fn(w, &request{Request: r, session: sess, token: token})
	}
}

// maxFormBytes bounds a posted form.
const maxFormBytes = 64 << 10

// checkCSRF accepts a state-changing request only with the session's CSRF
// token in the form, and from the console's own origin.
func checkCSRF(r *http.Request, sess *Session) error {
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return errors.New("this request came from another site and was refused")
		}
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errors.New("the form could not be read")
	}
	got := r.PostForm.Get("csrf")
	if got == "" || !equalConstantTime(got, sess.CSRF) {
		return errors.New("the form's security token is missing or stale: reload the page and try again")
	}
	return nil
}

// safeNext returns where to go after sign-in: a console path, never
// another site (an open redirect) and never a scheme-relative URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(path.Clean(u.Path)+"/", Prefix) {
		return Prefix // and "/console/../metrics" is not a console page either
	}
	return next
}

// render writes a page with the layout.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, data pageData) {
	t, ok := c.pages[page]
	if !ok {
		c.log.Error("console: no template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		c.log.Error("console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	_ = r
}

// errorPage renders a message with a status.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, sess *Session, status int, message string) {
	data := pageData{Title: http.StatusText(status), Session: sess, Body: errorView{Status: status, Message: message}}
	if sess != nil {
		data.Pending = c.pendingApprovals(r.Context())
	}
	c.render(w, r, status, "error", data)
}

// pageData is what the layout renders; Body is the page's own view.
type pageData struct {
	Title   string
	Session *Session
	Pending []pendingApproval
	Flash   string
	Body    any
}

type errorView struct {
	Status  int
	Message string
}
