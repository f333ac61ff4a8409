package api

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/store"
)

// errorResponse is CloudFront's error document, the form botocore's
// RestXMLParser and the Go SDK's awsxml decoder read.
type errorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     errorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

type errorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError is the one place an error becomes a response. A
// *cloudfront.Error anywhere in the chain gives its code, status and
// message; anything else is logged and answered with a bare 500
// InternalError, so internals never reach the client.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	id := requestID(ctx)
	var apiErr *cf.Error
	switch {
	case !errors.As(err, &apiErr) && errors.Is(err, store.ErrNoSpace):
		// A full disk (or etcd's NOSPACE alarm): the write did not happen
		// and a retry may succeed once an operator frees space, which is
		// what a 503 tells a client. Logged at error level: someone must act.
		s.log.LogAttrs(ctx, slog.LevelError, "api: store out of space",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		apiErr = cf.ErrServiceUnavailable.WithMessage("The service cannot store changes right now (no space left). Try again later.")
	case !errors.As(err, &apiErr) && errors.Is(err, store.ErrUnavailable):
		// The store (etcd) is unreachable: answer at once, never hang.
		s.log.LogAttrs(ctx, slog.LevelWarn, "api: store unavailable",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		apiErr = cf.ErrServiceUnavailable
	case !errors.As(err, &apiErr):
		s.log.LogAttrs(ctx, slog.LevelError, "api: internal error",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		apiErr = cf.ErrInternalError
	case apiErr.Status >= http.StatusInternalServerError:
		s.log.LogAttrs(ctx, slog.LevelError, "api: server error",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", apiErr.Code), slog.Any("err", err))
	default:
		s.log.LogAttrs(ctx, slog.LevelDebug, "api: client error",
			slog.String("request_id", id), slog.String("code", apiErr.Code), slog.Any("err", err))
	}
	status := apiErr.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	body, encErr := xml.Marshal(errorResponse{
		Xmlns:     cf.Namespace,
		Error:     errorDetail{Type: apiErr.ErrorType(), Code: apiErr.Code, Message: apiErr.Message},
		RequestID: id,
	})
	if encErr != nil { // only strings: cannot happen, but never answer with half a body
		s.log.LogAttrs(ctx, slog.LevelError, "api: encoding error response", slog.Any("err", encErr))
		http.Error(w, "InternalError", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Del("ETag")
	h.Del("Location")
	h.Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

func errNoRoute(path string) error {
	return cf.ErrNotFound.WithMessage("No operation matches the path %s.", path)
}

func errMethodNotAllowed(method, path string) error {
	return cf.ErrMethodNotAllowed.WithMessage("The method %s is not allowed against %s.", method, path)
}
