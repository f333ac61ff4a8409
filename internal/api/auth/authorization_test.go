package auth

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/cloudfront"
)

const testSig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

func TestParseAuthorization(t *testing.T) {
	want := Authorization{
		AccessKeyID:   "AKIDEXAMPLE",
		Date:          "20260101",
		Region:        "us-east-1",
		Service:       "cloudfront",
		SignedHeaders: []string{"host", "x-amz-date"},
		Signature:     testSig,
	}
	cred := "Credential=AKIDEXAMPLE/20260101/us-east-1/cloudfront/aws4_request"
	tests := []struct {
		name   string
		header string
	}{
		{"sdk form", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + testSig},
		{"commas only", "AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=host;x-amz-date,Signature=" + testSig},
		{"spaces only", "AWS4-HMAC-SHA256 " + cred + " SignedHeaders=host;x-amz-date Signature=" + testSig},
		{"extra whitespace", "  AWS4-HMAC-SHA256   " + cred + " ,\tSignedHeaders=host;x-amz-date ,  Signature=" + testSig + " "},
		{"tab after algorithm", "AWS4-HMAC-SHA256\t" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + testSig},
		{"other order", "AWS4-HMAC-SHA256 Signature=" + testSig + ", " + cred + ", SignedHeaders=host;x-amz-date"},
		{"uppercase signature", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + strings.ToUpper(testSig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.header)
			if err != nil {
				t.Fatalf("ParseAuthorization(%q) error: %v", tt.header, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseAuthorization(%q)\n got %+v\nwant %+v", tt.header, got, want)
			}
		})
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	cred := "Credential=AKIDEXAMPLE/20260101/us-east-1/cloudfront/aws4_request"
	sh := "SignedHeaders=host;x-amz-date"
	sig := "Signature=" + testSig
	tests := []struct {
		name    string
		header  string
		wantMsg string
	}{
		{"empty", "", "algorithm"},
		{"other algorithm", "AWS4-HMAC-SHA512 " + cred + ", " + sh + ", " + sig, "algorithm"},
		{"sigv2", "AWS AKIDEXAMPLE:c2lnbmF0dXJl", "algorithm"},
		{"algorithm only", "AWS4-HMAC-SHA256", "requires 'Credential'"},
		{"missing credential", "AWS4-HMAC-SHA256 " + sh + ", " + sig, "requires 'Credential'"},
		{"missing signed headers", "AWS4-HMAC-SHA256 " + cred + ", " + sig, "requires 'SignedHeaders'"},
		{"missing signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh, "requires 'Signature'"},
		{"repeated", "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sh + ", " + sig, "repeated"},
		{"unknown component", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Foo=bar", "unknown"},
		{"no equals", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", junk", "key=value"},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront, " + sh + ", " + sig, "Credential must"},
		{"empty key id", "AWS4-HMAC-SHA256 Credential=/20260101/us-east-1/cloudfront/aws4_request, " + sh + ", " + sig, "Credential must"},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AKID/2026-01-01/us-east-1/cloudfront/aws4_request, " + sh + ", " + sig, "YYYYMMDD"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws5_request, " + sh + ", " + sig, "terminator"},
		{"empty signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig, "SignedHeaders"},
		{"uppercase signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig, "SignedHeaders"},
		{"short signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=abc", "hexadecimal"},
		{"non-hex signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.Repeat("g", 64), "hexadecimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAuthorization(tt.header)
			var cfErr *cloudfront.Error
			if !errors.As(err, &cfErr) || !errors.Is(err, cloudfront.ErrIncompleteSignature) {
				t.Fatalf("ParseAuthorization(%q) error = %v, want IncompleteSignature", tt.header, err)
			}
			if !strings.Contains(cfErr.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", cfErr.Message, tt.wantMsg)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + testSig)
	f.Add("AWS4-HMAC-SHA256 Credential=AKSF0123456789ABCDEF/20260101/eu-west-3/cloudfront/aws4_request,SignedHeaders=content-length;content-type;host;x-amz-date,Signature=" + testSig)
	f.Add("AWS4-HMAC-SHA256 Signature=" + testSig + " Credential=A/20260101/r/s/aws4_request SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256 Credential=A//r/s/aws4_request, SignedHeaders=, Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,,")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		auth, err := ParseAuthorization(header)
		if err != nil {
			if !errors.Is(err, cloudfront.ErrIncompleteSignature) {
				t.Fatalf("ParseAuthorization(%q) error %v is not IncompleteSignature", header, err)
			}
			return
		}
		// Round trip: what parsed renders back to a header that parses to
		// the same value.
		again, err := ParseAuthorization(auth.String())
		if err != nil {
			t.Fatalf("ParseAuthorization(%q) = %+v, but its String() %q does not parse: %v", header, auth, auth.String(), err)
		}
		if !reflect.DeepEqual(again, auth) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", header, again, auth)
		}
		if len(auth.Signature) != signatureHexLen || len(auth.SignedHeaders) == 0 || auth.AccessKeyID == "" {
			t.Fatalf("ParseAuthorization(%q) accepted an incomplete value %+v", header, auth)
		}
	})
}
