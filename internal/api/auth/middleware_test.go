package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

// serveOnce runs req through Middleware(v) and reports what the handler saw
// and which error onErr got.
func serveOnce(t *testing.T, v *Verifier, req *http.Request) (principal, body string, called bool, gotErr error) {
	t.Helper()
	onErr := func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(http.StatusForbidden)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		principal = PrincipalFrom(r.Context())
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler reading body: %v", err)
		}
		body = string(b)
	})
	Middleware(v, onErr)(next).ServeHTTP(httptest.NewRecorder(), req)
	return principal, body, called, gotErr
}

func sdkSignedRequest(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hashHex([]byte(body)), Service, "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMiddleware(t *testing.T) {
	const body = "<InvalidationBatch><CallerReference>r1</CallerReference></InvalidationBatch>"
	tests := []struct {
		name          string
		verifier      *Verifier
		req           func(t *testing.T) *http.Request
		wantPrincipal string
		wantBody      string
		wantErr       *cloudfront.Error
	}{
		{
			name:     "signed request reaches the handler with its body",
			verifier: testVerifier(testNow),
			req: func(t *testing.T) *http.Request {
				return sdkSignedRequest(t, "POST", "/2020-05-31/distribution/E1/invalidation", body)
			},
			wantPrincipal: testName, wantBody: body,
		},
		{
			name:     "unsigned request is refused",
			verifier: testVerifier(testNow),
			req:      func(*testing.T) *http.Request { return httptest.NewRequest("GET", "/2020-05-31/distribution", nil) },
			wantErr:  cloudfront.ErrMissingAuthenticationToken,
		},
		{
			name:     "unsigned request is refused without its body being read",
			verifier: testVerifier(testNow),
			req: func(*testing.T) *http.Request {
				return httptest.NewRequest("POST", "/2020-05-31/distribution", unreadable{})
			},
			wantErr: cloudfront.ErrMissingAuthenticationToken,
		},
		{
			name:     "malformed Authorization is refused without its body being read",
			verifier: testVerifier(testNow),
			req: func(*testing.T) *http.Request {
				req := httptest.NewRequest("POST", "/2020-05-31/distribution", unreadable{})
				req.Header.Set("Authorization", "Bearer x")
				return req
			},
			wantErr: cloudfront.ErrIncompleteSignature,
		},
		{
			name:     "unknown access key is refused without its body being read",
			verifier: testVerifier(testNow),
			req: func(t *testing.T) *http.Request {
				req := sdkSignedRequest(t, "POST", "/2020-05-31/distribution", "")
				req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), testKeyID, "AKIDUNKNOWN000000000", 1))
				req.Body = unreadable{}
				return req
			},
			wantErr: cloudfront.ErrInvalidClientTokenID,
		},
		{
			name:     "oversized body is refused before verification",
			verifier: testVerifier(testNow),
			req: func(t *testing.T) *http.Request {
				req := sdkSignedRequest(t, "POST", "/2020-05-31/distribution", "")
				req.Body = io.NopCloser(io.LimitReader(zeros{}, MaxBodyBytes+1))
				req.ContentLength = -1 // unknown: the limit must be enforced while reading
				return req
			},
			wantErr: ErrRequestEntityTooLarge,
		},
		{
			name:     "declared oversized body is refused without reading",
			verifier: testVerifier(testNow),
			req: func(t *testing.T) *http.Request {
				req := sdkSignedRequest(t, "POST", "/2020-05-31/distribution", "")
				req.Body = unreadable{}
				req.ContentLength = MaxBodyBytes + 1
				return req
			},
			wantErr: ErrRequestEntityTooLarge,
		},
		{
			name:     "None lets everything through as anonymous",
			verifier: None(),
			req: func(*testing.T) *http.Request {
				return httptest.NewRequest("PUT", "/2020-05-31/distribution/E1/config", strings.NewReader(body))
			},
			wantPrincipal: Anonymous, wantBody: body,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			principal, gotBody, called, err := serveOnce(t, tt.verifier, tt.req(t))
			if tt.wantErr != nil {
				if called {
					t.Errorf("handler called for a refused request")
				}
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("onErr got %v, want %s", err, tt.wantErr.Code)
				}
				return
			}
			if err != nil || !called {
				t.Fatalf("handler called = %v, onErr = %v; want handler called", called, err)
			}
			if principal != tt.wantPrincipal {
				t.Errorf("PrincipalFrom = %q, want %q", principal, tt.wantPrincipal)
			}
			if gotBody != tt.wantBody {
				t.Errorf("handler body = %q, want %q", gotBody, tt.wantBody)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestMiddlewareNilVerifierPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("Middleware(nil, ...) did not panic")
		}
	}()
	Middleware(nil, func(http.ResponseWriter, *http.Request, error) {})
}

func TestPrincipalFromEmptyContext(t *testing.T) {
	if got := PrincipalFrom(context.Background()); got != "" {
		t.Errorf("PrincipalFrom(empty) = %q, want \"\"", got)
	}
}

// unreadable is a body that fails the test's expectation if read: the
// request must be refused before it is.
type unreadable struct{}

func (unreadable) Read([]byte) (int, error) { panic("the body of a refused request was read") }
func (unreadable) Close() error             { return nil }
