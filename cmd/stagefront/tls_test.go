package main

import (
	"github.com/stagefront/stagefront/internal/testutil"

	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// selfSigned writes a throwaway certificate for *.cdn.localhost.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	testutil.Must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stagefront test"},
		DNSNames: []string{"*.cdn.localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	testutil.Must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	testutil.Must(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testutil.Must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	testutil.Must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// TestEdgeHTTPSAndRedirect: with --tls-cert the edge serves HTTPS, and a
// redirect-to-https behavior sends plain-HTTP viewers there.
func TestEdgeHTTPSAndRedirect(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	certFile, keyFile := selfSigned(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secure "+r.URL.Path) }))
	defer origin.Close()
	api, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	edgeAddr, tlsAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cmd := startProc(t, bin, "serve", "--auth", "none", "--data-dir", t.TempDir(), "--api-addr", api, "--admin-addr", admin,
		"--edge-addr", edgeAddr, "--tls-addr", tlsAddr, "--tls-cert", certFile, "--tls-key", keyFile)
	waitHealthy(t, admin, cmd)
	cf := (&serveProc{api: api}).client()
	var port int32
	fmt.Sscan(strings.TrimPrefix(origin.URL, "http://127.0.0.1:"), &port)
	out, err := cf.CreateDistribution(context.Background(), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
		CallerReference: aws.String("tls"), Comment: aws.String(""), Enabled: aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{Id: aws.String("o"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(port), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly}}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("o"), ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId: aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")},
	}})
	testutil.Must(t, err)
	host := *out.Distribution.DomainName

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(10 * time.Second)
	var resp *http.Response
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+edgeAddr+"/a?b=1", nil)
		req.Host = host
		resp, err = noFollow.Do(req)
		testutil.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || time.Now().After(deadline) { // 403 until the edge has the distribution
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://"+host+"/a?b=1" {
		t.Fatalf("plain HTTP: %d Location %q; want 301 to https://%s/a?b=1", resp.StatusCode, resp.Header.Get("Location"), host)
	}

	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+tlsAddr+"/a", nil)
	req.Host = host
	resp, err = tlsClient.Do(req)
	testutil.Must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "secure /a" {
		t.Fatalf("HTTPS: %d %q; want 200 \"secure /a\"", resp.StatusCode, body)
	}

	// An HTTP/1.0 request without a Host header is routed by its SNI.
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"http/1.1"}})
	testutil.Must(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, "GET /sni HTTP/1.0\r\n\r\n")
	testutil.Must(t, err)
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	testutil.Must(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "secure /sni" {
		t.Fatalf("HTTP/1.0 over TLS without Host, SNI %s: %d %q; want 200 \"secure /sni\"", host, resp.StatusCode, body)
	}
}
