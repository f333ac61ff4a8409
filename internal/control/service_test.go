package control_test

import (
	"errors"
	"path/filepath"
	"testing"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/store"
	"github.com/stagefront/stagefront/internal/store/bolt"
)

// TestStoreUnavailableReachesCaller checks that the service leaves a store
// outage untranslated: the API's error encoder is the one place that turns
// store.ErrUnavailable into CloudFront's 503 ServiceUnavailable.
func TestStoreUnavailableReachesCaller(t *testing.T) {
	t.Parallel()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stagefront.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	svc := control.New(st, control.Options{DomainSuffix: "cdn.test"})
	ctx := t.Context()
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateDistribution", func() error { _, err := svc.CreateDistribution(ctx, distConfig("ref", false), nil); return err }},
		{"GetDistribution", func() error { _, err := svc.GetDistribution(ctx, "E1"); return err }},
		{"ListDistributions", func() error { _, err := svc.ListDistributions(ctx, "", 10); return err }},
		{"CreateOAC", func() error {
			_, err := svc.CreateOAC(ctx, oacConfig("oac"))
			return err
		}},
		{"CreateOAI", func() error {
			_, _, err := svc.CreateOAI(ctx, &cf.CloudFrontOriginAccessIdentityConfig{CallerReference: cf.String("r"), Comment: cf.String("")})
			return err
		}},
		{"Bootstrap", func() error { return svc.Bootstrap(ctx) }},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed store: error = %v; want one wrapping store.ErrUnavailable", c.name, err)
		}
		var apiErr *cf.Error
		if errors.As(err, &apiErr) {
			t.Errorf("%s on a closed store: error carries CloudFront error %s; want it translated only by the API", c.name, apiErr.Code)
		}
	}
}

func oacConfig(name string) *cf.OriginAccessControlConfig {
	return &cf.OriginAccessControlConfig{
		Name: cf.String(name), Description: cf.String(""), SigningProtocol: cf.String("sigv4"),
		SigningBehavior: cf.String("always"), OriginAccessControlOriginType: cf.String("s3"),
	}
}
