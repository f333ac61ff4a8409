package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagefront/stagefront/internal/release"
)

// Client calls the JSON release API, signing each request with
// SigV4 (service cloudfront, region us-east-1) like the CloudFront API.
type Client struct {
	endpoint string
	creds    aws.Credentials
	http     *http.Client
	signer   *v4.Signer
	now      func() time.Time
}

// NewClient is a client of the release API at endpoint, signing as the
// given key pair.
func NewClient(endpoint, accessKeyID, secret string) (*Client, error) {
	if accessKeyID == "" || secret == "" {
		return nil, errors.New("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (see `stagefront credentials add NAME`)")
	}
	if _, err := url.Parse(endpoint); err != nil {
		return nil, fmt.Errorf("--endpoint: %w", err)
	}
	return &Client{
		endpoint: strings.TrimRight(endpoint, "/"),
		creds:    aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret},
		http:     &http.Client{Timeout: 2 * time.Minute},
		signer:   v4.NewSigner(),
		now:      time.Now,
	}, nil
}

// APIError is the release API's JSON error, as the client sees it.
type APIError struct {
	Status   int
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Problems []string `json:"problems"`
}

// Error is the message, or every problem of a refused spec.
func (e *APIError) Error() string {
	if len(e.Problems) > 1 {
		return fmt.Sprintf("%s:\n  %s", e.Code, strings.Join(e.Problems, "\n  "))
	}
	return e.Message
}

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "cloudfront", "us-east-1", c.now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error APIError `json:"error"`
		}
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Code: resp.Status, Message: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))}
		}
		eb.Error.Status = resp.StatusCode
		return &eb.Error
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Start starts a release.
func (c *Client) Start(ctx context.Context, spec *release.Spec) (*release.Release, error) {
	body, err := json.Marshal(release.StartRequest{Spec: spec})
	if err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	var rel release.Release
	return &rel, c.do(ctx, http.MethodPost, "/stagefront/v1/releases", "application/json", body, &rel)
}

// Status is a release with its live window.
func (c *Client) Status(ctx context.Context, name string) (*release.Live, error) {
	var live release.Live
	return &live, c.do(ctx, http.MethodGet, "/stagefront/v1/releases/"+url.PathEscape(name), "", nil, &live)
}

// List lists releases.
func (c *Client) List(ctx context.Context) ([]*release.Release, error) {
	var out struct {
		Releases []*release.Release `json:"releases"`
	}
	return out.Releases, c.do(ctx, http.MethodGet, "/stagefront/v1/releases", "", nil, &out)
}

// Decide sends approve, reject or abort.
func (c *Client) Decide(ctx context.Context, name, verb, comment string) (*release.Release, error) {
	body, _ := json.Marshal(release.DecisionRequest{Comment: comment})
	var rel release.Release
	return &rel, c.do(ctx, http.MethodPost, "/stagefront/v1/releases/"+url.PathEscape(name)+"/"+verb, "application/json", body, &rel)
}

// History lists a primary's generations.
func (c *Client) History(ctx context.Context, primary string) ([]release.Generation, error) {
	var out struct {
		Generations []release.Generation `json:"generations"`
	}
	return out.Generations, c.do(ctx, http.MethodGet, "/stagefront/v1/primaries/"+url.PathEscape(primary)+"/generations", "", nil, &out)
}

// Rollback restores generation to on primary.
func (c *Client) Rollback(ctx context.Context, primary string, to int) (*release.Generation, error) {
	body, _ := json.Marshal(release.RollbackRequest{To: &to})
	var gen release.Generation
	return &gen, c.do(ctx, http.MethodPost, "/stagefront/v1/primaries/"+url.PathEscape(primary)+"/rollback", "application/json", body, &gen)
}

// Endpoint is the API address the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }
