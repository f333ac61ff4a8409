package origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Signing behaviors of an origin access control
// (OriginAccessControlConfig.SigningBehavior).
const (
	SignAlways     = "always"
	SignNever      = "never"
	SignNoOverride = "no-override"
)

const (
	// emptySHA256 is the payload hash of a request without a body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// unsignedPayload lets a body stream through without being hashed first.
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// shouldSign applies the OAC signing behavior. Only S3 origins are signed;
// OAC for other services (Lambda URLs, MediaStore) is not implemented.
func shouldSign(spec *Spec, header http.Header) (bool, error) {
	if !spec.S3 || spec.OACID == "" {
		return false, nil
	}
	switch spec.OACSigning {
	case SignAlways, "":
		return true, nil
	case SignNever:
		return false, nil
	case SignNoOverride:
		// The viewer's own Authorization (forwarded by the origin request
		// policy) wins; without one, sign.
		return header.Get("Authorization") == "", nil
	}
	return false, fmt.Errorf("%w: OAC signing behavior %q", errBadSpec, spec.OACSigning)
}

// sign adds a SigV4 signature for service s3 to hreq.
//
// It signs a copy that holds only host and the x-amz-* headers (S3 requires
// those to be signed) and copies the result back: headers such as Via or
// X-Forwarded-For stay unsigned, so a proxy between us and the bucket that
// rewrites them cannot invalidate the signature.
func (f *Fetcher) sign(ctx context.Context, hreq *http.Request, region string) error {
	if f.creds == nil {
		return errors.New("sign: no AWS credentials provider")
	}
	creds, err := f.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("sign: retrieve credentials: %w", err)
	}
	payloadHash := emptySHA256
	if hreq.Body != nil && hreq.ContentLength != 0 {
		payloadHash = unsignedPayload
	}
	// Our signature replaces whatever the viewer sent.
	for _, key := range [...]string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token"} {
		delete(hreq.Header, key)
	}
	hreq.Header["X-Amz-Content-Sha256"] = []string{payloadHash}
	u := *hreq.URL
	signing := &http.Request{
		Method:        hreq.Method,
		URL:           &u,
		Host:          hreq.Host,
		Header:        make(http.Header, 4),
		ContentLength: hreq.ContentLength,
	}
	for key, values := range hreq.Header {
		if strings.HasPrefix(key, "X-Amz-") {
			signing.Header[key] = values
		}
	}
	err = f.signer.SignHTTP(ctx, creds, signing, payloadHash, "s3", region, f.now(), func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true // S3 canonical URIs are escaped once; setPath did it
	})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	for _, key := range [...]string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if values, ok := signing.Header[key]; ok {
			hreq.Header[key] = values
		}
	}
	// The signer canonicalizes the query (sorted, escaped) and may drop a
	// default port from Host; send exactly what was signed.
	hreq.URL.RawQuery = signing.URL.RawQuery
	hreq.Host = signing.Host
	return nil
}
