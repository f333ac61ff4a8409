// Package queryapi is the CloudFormation API (version 2010-05-15, the AWS
// Query protocol: form-encoded POST to "/", XML answers) over the stack
// manager. It shares the CloudFront API's listener and key pairs but
// requires signatures scoped to the "cloudformation" service.
package queryapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/cfn/stack"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// Namespace is the XML namespace of every answer.
const Namespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

// Version is the API version requests must name.
const Version = "2010-05-15"

// ServiceName is the SigV4 service name CloudFormation clients sign for.
const ServiceName = "cloudformation"

// DefaultRegion is used when a request carries no credential scope
// (authentication off and an unsigned request).
const DefaultRegion = "us-east-1"

// maxBody caps a request: a TemplateBody is at most 51,200 bytes.
const maxBody = 1 << 20

type server struct {
	m   *stack.Manager
	log *slog.Logger
}

// New returns the handler. verifier is the CloudFront API's (its keys and
// clock); the handler requires the cloudformation service scope.
func New(m *stack.Manager, verifier *auth.Verifier, log *slog.Logger) http.Handler {
	if verifier == nil {
		panic("queryapi.New: nil verifier (use auth.None() to disable authentication)")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &server{m: m, log: log}
	authed := auth.Middleware(verifier.ForService(ServiceName), s.authError)(http.HandlerFunc(s.serve))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newUUID()
		w.Header().Set("x-amzn-RequestId", id)
		r = r.WithContext(withRequestID(r.Context(), id))
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			s.writeError(w, r, &stack.Error{Code: "InvalidAction", Status: 400, Message: fmt.Sprintf("The HTTP method %s is not valid for this web service.", r.Method)})
			return
		}
		if r.ContentLength > maxBody {
			s.writeError(w, r, &stack.Error{Code: "RequestEntityTooLarge", Status: 413, Message: "The request body is larger than the maximum allowed size."})
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// IsQueryRequest reports whether r is addressed to the Query API: the
// endpoint root, where CloudFront's REST API has nothing.
func IsQueryRequest(r *http.Request) bool { return r.URL.Path == "/" || r.URL.Path == "" }

func (s *server) authError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *cf.Error
	if errors.As(err, &ce) {
		s.writeError(w, r, &stack.Error{Code: ce.Code, Status: ce.Status, Message: ce.Message})
		return
	}
	s.writeError(w, r, &stack.Error{Code: "AccessDenied", Status: 403, Message: err.Error()})
}

// region is the credential scope's region.
func region(r *http.Request) string {
	if a, err := auth.ParseAuthorization(r.Header.Get("Authorization")); err == nil && a.Region != "" {
		return a.Region
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		if parts := strings.Split(c, "/"); len(parts) == 5 {
			return parts[2]
		}
	}
	return DefaultRegion
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	action := form.Get("Action")
	if action == "" {
		s.writeError(w, r, &stack.Error{Code: "MissingAction", Status: 400, Message: "Could not find operation Action for version 2010-05-15"})
		return
	}
	if v := form.Get("Version"); v != Version {
		s.writeError(w, r, &stack.Error{Code: "InvalidParameterValue", Status: 400, Message: fmt.Sprintf("Could not find operation %s for version %s", action, v)})
		return
	}
	op, ok := operations[action]
	if !ok {
		s.writeError(w, r, &stack.Error{Code: "InvalidAction", Status: 400, Message: fmt.Sprintf("Could not find operation %s for version %s", action, Version)})
		return
	}
	c := &call{s: s, r: r, form: form, region: region(r)}
	for _, key := range op.required {
		if err := c.require(key); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	result, err := op.run(c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeResult(w, r, action, result)
}

func readForm(r *http.Request) (url.Values, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	var buf bytes.Buffer
	if r.Body != nil {
		if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, maxBody)); err != nil {
			return nil, &stack.Error{Code: "RequestEntityTooLarge", Status: 413, Message: "The request body is larger than the maximum allowed size."}
		}
	}
	form, err := url.ParseQuery(buf.String())
	if err != nil {
		return nil, &stack.Error{Code: "MalformedQueryString", Status: 400, Message: "The request body is not a valid form-encoded document."}
	}
	return form, nil
}

type result struct {
	// body is the <Op>Result element's content; nil means an op without output.
	body    any
	wrapper bool
}

func (s *server) writeResult(w http.ResponseWriter, r *http.Request, action string, res result) {
	var buf bytes.Buffer
	buf.WriteString(`<` + action + `Response xmlns="` + Namespace + `">`)
	if res.body != nil {
		b, err := xml.Marshal(struct {
			XMLName xml.Name
			Body    any
		}{XMLName: xml.Name{Local: action + "Result"}, Body: res.body})
		if err != nil {
			s.writeError(w, r, fmt.Errorf("queryapi: encode %s: %w", action, err))
			return
		}
		// The anonymous Body field has no element name of its own: drop it.
		b = bytes.Replace(b, []byte("<Body>"), nil, 1)
		b = bytes.Replace(b, []byte("</Body>"), nil, 1)
		buf.Write(b)
	} else if res.wrapper {
		buf.WriteString(`<` + action + `Result/>`)
	}
	buf.WriteString(`<ResponseMetadata><RequestId>` + requestID(r.Context()) + `</RequestId></ResponseMetadata>`)
	buf.WriteString(`</` + action + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := stack.AsError(err)
	if !ok {
		var ce *cf.Error
		if errors.As(err, &ce) {
			e = &stack.Error{Code: ce.Code, Status: ce.Status, Message: ce.Message}
		} else {
			s.log.Error("cloudformation: internal error", "err", err, "request_id", requestID(r.Context()))
			e = &stack.Error{Code: "InternalFailure", Status: 500, Message: "We encountered an internal error. Please try again."}
		}
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	var buf bytes.Buffer
	buf.WriteString(`<ErrorResponse xmlns="` + Namespace + `"><Error><Type>` + typ + `</Type><Code>`)
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString(`</Code><Message>`)
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString(`</Message></Error><RequestId>` + requestID(r.Context()) + `</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_, _ = w.Write(buf.Bytes())
}

// call is one request being served.
type call struct {
	s      *server
	r      *http.Request
	form   url.Values
	region string
}

func (c *call) str(key string) string { return c.form.Get(key) }

func (c *call) boolean(key string) bool { return c.form.Get(key) == "true" }

// required returns a member or the "must not be null" validation error.
// require fails when the member key (StackName) is absent or empty, with
// the validation message naming it as CloudFormation's model does (stackName).
func (c *call) require(key string) error {
	if c.form.Get(key) != "" {
		return nil
	}
	member := strings.ToLower(key[:1]) + key[1:]
	return &stack.Error{Code: "ValidationError", Status: 400, Message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)}
}

// list returns Key.member.N values in N order ("Key=" alone is an empty list).
func (c *call) list(key string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	prefix := key + ".member."
	for k, vs := range c.form {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && len(vs) > 0 {
				items = append(items, item{n, vs[0]})
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// structs returns Key.member.N.Field values in N order.
func (c *call) structs(key string) []map[string]string {
	byN := map[int]map[string]string{}
	prefix := key + ".member."
	for k, vs := range c.form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vs) == 0 {
			continue
		}
		ns, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil {
			continue
		}
		if byN[n] == nil {
			byN[n] = map[string]string{}
		}
		byN[n][field] = vs[0]
	}
	keys := make([]int, 0, len(byN))
	for n := range byN {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]map[string]string, len(keys))
	for i, n := range keys {
		out[i] = byN[n]
	}
	return out
}

func (c *call) parameters() []stack.ParamInput {
	var out []stack.ParamInput
	for _, p := range c.structs("Parameters") {
		out = append(out, stack.ParamInput{Key: p["ParameterKey"], Value: p["ParameterValue"], UsePrevious: p["UsePreviousValue"] == "true"})
	}
	return out
}

// tags returns nil when the request has no Tags member at all, an empty
// list for the bare "Tags=".
func (c *call) tags() []stack.Tag {
	raw := c.structs("Tags")
	if len(raw) == 0 {
		if _, present := c.form["Tags"]; present {
			return []stack.Tag{}
		}
		return nil
	}
	out := make([]stack.Tag, len(raw))
	for i, t := range raw {
		out[i] = stack.Tag{Key: t["Key"], Value: t["Value"]}
	}
	return out
}

func (c *call) input() (stack.Input, error) {
	if c.str("TemplateURL") != "" {
		return stack.Input{}, &stack.Error{Code: "ValidationError", Status: 400, Message: "TemplateURL is not supported by stagefront; send TemplateBody"}
	}
	caps := c.list("Capabilities")
	return stack.Input{Region: c.region, StackName: c.str("StackName"), TemplateBody: c.str("TemplateBody"),
		UsePreviousTemplate: c.boolean("UsePreviousTemplate"), Parameters: c.parameters(), Capabilities: caps,
		Tags: c.tags(), DisableRollback: c.boolean("DisableRollback"), OnFailure: c.str("OnFailure"),
		NotificationARNs: c.list("NotificationARNs")}, nil
}

type requestIDKey struct{}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// timestamp renders a time the way CloudFormation does.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
