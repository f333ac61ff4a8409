package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/aws/smithy-go"
)

// APIPrefix is where the release API lives on the API address.
const APIPrefix = "/stagefront/v1/"

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// Principal names the authenticated caller of a request (cmd wires
	// auth.PrincipalFrom; the handler runs behind the SigV4 middleware).
	Principal func(r *http.Request) string
	Logger    *slog.Logger
}

// maxSpecBytes bounds a posted spec.
const maxSpecBytes = 4 << 20

// Handler serves the JSON release API:
//
//	POST /stagefront/v1/releases                      start (YAML spec, or JSON {"spec": …})
//	GET  /stagefront/v1/releases                      list
//	GET  /stagefront/v1/releases/{name}               status, with the live analysis window
//	POST /stagefront/v1/releases/{name}/approve       {"comment": "…"}
//	POST /stagefront/v1/releases/{name}/reject        {"comment": "…"}
//	POST /stagefront/v1/releases/{name}/abort         {"comment": "…"}
//	GET  /stagefront/v1/primaries/{primary}/generations
//	POST /stagefront/v1/primaries/{primary}/rollback  {"to": N}
func (c *Controller) Handler(opts HandlerOptions) http.Handler {
	if opts.Principal == nil {
		opts.Principal = func(*http.Request) string { return "" }
	}
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	h := &handler{c: c, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /stagefront/v1/releases", h.wrap(h.start))
	mux.HandleFunc("GET /stagefront/v1/releases", h.wrap(h.list))
	mux.HandleFunc("GET /stagefront/v1/releases/{name}", h.wrap(h.status))
	mux.HandleFunc("POST /stagefront/v1/releases/{name}/{verb}", h.wrap(h.decide))
	mux.HandleFunc("GET /stagefront/v1/primaries/{primary}/generations", h.wrap(h.history))
	mux.HandleFunc("POST /stagefront/v1/primaries/{primary}/rollback", h.wrap(h.rollback))
	mux.HandleFunc("/stagefront/v1/", h.wrap(func(r *http.Request) (int, any, error) {
		return 0, nil, &apiError{Status: http.StatusNotFound, Code: "NotFound", Message: "no release API operation at " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

type handler struct {
	c    *Controller
	opts HandlerOptions
}

// apiError is the JSON error body: {"error": {"code", "message", "problems"}}.
type apiError struct {
	Status   int      `json:"-"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Problems []string `json:"problems,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// ErrorBody is what every failed request answers.
type ErrorBody struct {
	Error apiError `json:"error"`
}

// WriteError writes err as the release API's JSON error.
func WriteError(w http.ResponseWriter, err error) {
	writeAPIError(w, toAPIError(err))
}

// WriteCodedError writes an error that already has its status and code
// (cmd uses it for authentication failures, which happen before Handler).
func WriteCodedError(w http.ResponseWriter, status int, code, message string) {
	writeAPIError(w, &apiError{Status: status, Code: code, Message: message})
}

func writeAPIError(w http.ResponseWriter, ae *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: *ae})
}

// ErrorStatus is the HTTP status and code the release API answers err
// with; an error it does not know is 500 InternalError. The console shows
// the controller's errors with the same statuses.
func ErrorStatus(err error) (status int, code string) {
	ae := toAPIError(err)
	return ae.Status, ae.Code
}

// VerdictFor is the verdict a decision verb records (approve, reject or
// abort, as the release API's path and the console's form name them).
func VerdictFor(verb string) (string, bool) {
	switch verb {
	case "approve":
		return VerdictApproved, true
	case "reject":
		return VerdictRejected, true
	case "abort":
		return VerdictAbort, true
	}
	return "", false
}

func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *SpecError
	if errors.As(err, &se) {
		out := &apiError{Status: http.StatusBadRequest, Code: "InvalidSpec", Message: err.Error()}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				out.Problems = append(out.Problems, e.Error())
			}
		}
		return out
	}
	var api smithy.APIError
	switch {
	case errors.Is(err, ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "NotFound", Message: err.Error()}
	case errors.Is(err, ErrExists), errors.Is(err, ErrPrimaryBusy), errors.Is(err, ErrNotApprovable), errors.Is(err, ErrFinished):
		return &apiError{Status: http.StatusConflict, Code: "Conflict", Message: err.Error()}
	case errors.Is(err, ErrInvalidSpec):
		return &apiError{Status: http.StatusBadRequest, Code: "InvalidSpec", Message: err.Error()}
	case errors.As(err, &api):
		return &apiError{Status: http.StatusBadGateway, Code: api.ErrorCode(), Message: err.Error()}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "InternalError", Message: err.Error()}
}

func (h *handler) wrap(fn func(r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body, err := fn(r)
		if err != nil {
			if ae := toAPIError(err); ae.Status >= 500 {
				h.opts.Logger.Error("release api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			WriteError(w, err)
			return
		}
		raw, err := json.MarshalIndent(body, "", "  ")
		if err != nil {
			WriteError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(append(raw, '\n'))
	}
}

// StartRequest is the JSON form of a start.
type StartRequest struct {
	Spec *Spec `json:"spec"`
}

func (h *handler) start(r *http.Request) (int, any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSpecBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("read spec: %w", err)
	}
	var spec *Spec
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var req StartRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Spec == nil {
			return 0, nil, &apiError{Status: http.StatusBadRequest, Code: "InvalidSpec", Message: fmt.Sprintf("expected {\"spec\": {...}}: %v", err)}
		}
		spec = req.Spec
	} else if spec, err = Parse(body, "spec", nil); err != nil {
		return 0, nil, err
	}
	rel, err := h.c.Start(r.Context(), spec, h.opts.Principal(r))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, rel, nil
}

func (h *handler) list(r *http.Request) (int, any, error) {
	rels, err := h.c.List(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"releases": rels}, nil
}

func (h *handler) status(r *http.Request) (int, any, error) {
	live, err := h.c.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, live, nil
}

// DecisionRequest is the body of approve, reject and abort.
type DecisionRequest struct {
	Comment string `json:"comment,omitempty"`
}

func (h *handler) decide(r *http.Request) (int, any, error) {
	verdict, ok := VerdictFor(r.PathValue("verb"))
	if !ok {
		return 0, nil, &apiError{Status: http.StatusNotFound, Code: "NotFound", Message: "unknown operation " + r.PathValue("verb")}
	}
	var req DecisionRequest
	if err := decodeOptional(r, &req); err != nil {
		return 0, nil, err
	}
	rel, err := h.c.Decide(r.Context(), r.PathValue("name"), verdict, h.opts.Principal(r), req.Comment)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rel, nil
}

func (h *handler) history(r *http.Request) (int, any, error) {
	gens, err := h.c.History(r.Context(), r.PathValue("primary"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"generations": gens}, nil
}

// RollbackRequest is the body of a rollback.
type RollbackRequest struct {
	To *int `json:"to"`
}

func (h *handler) rollback(r *http.Request) (int, any, error) {
	var req RollbackRequest
	if err := decodeOptional(r, &req); err != nil {
		return 0, nil, err
	}
	if req.To == nil {
		if v := r.URL.Query().Get("to"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, nil, &apiError{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: "to must be a generation number"}
			}
			req.To = &n
		} else {
			return 0, nil, &apiError{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: `the body needs {"to": GENERATION}`}
		}
	}
	gen, err := h.c.Rollback(r.Context(), r.PathValue("primary"), *req.To, h.opts.Principal(r))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, gen, nil
}

func decodeOptional(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: "the body is not valid JSON: " + err.Error()}
	}
	return nil
}
