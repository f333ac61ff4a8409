package edge

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
)

func tlsWarnTable(t *testing.T, policies map[string]string) *routing.Table {
	t.Helper()
	var snap routing.Snapshot
	for id, vpp := range policies {
		snap.Distributions = append(snap.Distributions, routing.DistributionRecord{ModRevision: 1, Distribution: &model.Distribution{
			ID: id, DomainName: strings.ToLower(id) + ".cdn.localhost", Config: &cloudfront.DistributionConfig{
				CallerReference: cloudfront.String(id), Comment: cloudfront.String(""), Enabled: cloudfront.Bool(true),
				Origins: &cloudfront.Origins{Quantity: cloudfront.Int32(1), Items: []cloudfront.Origin{{
					Id: cloudfront.String("web"), DomainName: cloudfront.String("origin.example"),
					CustomOriginConfig: &cloudfront.CustomOriginConfig{HTTPPort: cloudfront.Int32(80), HTTPSPort: cloudfront.Int32(443), OriginProtocolPolicy: cloudfront.String("http-only")},
				}}},
				DefaultCacheBehavior: &cloudfront.DefaultCacheBehavior{TargetOriginId: cloudfront.String("web"), ViewerProtocolPolicy: cloudfront.String(vpp),
					CachePolicyId: cloudfront.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")},
			}}})
	}
	table, errs := routing.Compile(nil, snap)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return table
}

// TestRedirectWithoutTLSWarns: a distribution asking for redirect-to-https
// on an edge without an HTTPS listener is logged once and shown by the
// gauge until it no longer asks; with a listener nothing is reported.
func TestRedirectWithoutTLSWarns(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	w, err := newTLSWarner(false, slog.New(slog.NewTextHandler(&logs, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	gauge := func() map[string]float64 {
		out := map[string]float64{}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		return out
	}

	if got := w.check(tlsWarnTable(t, map[string]string{"EREDIRECT": "redirect-to-https", "EPLAIN": "allow-all"})); len(got) != 1 || got[0] != "EREDIRECT" {
		t.Fatalf("check = %v, want [EREDIRECT]", got)
	}
	if n := strings.Count(logs.String(), "no HTTPS listener"); n != 1 || !strings.Contains(logs.String(), "EREDIRECT") {
		t.Fatalf("logs after the first table:\n%s", logs.String())
	}
	if g := gauge(); g["EREDIRECT"] != 1 || len(g) != 1 {
		t.Fatalf("gauge = %v, want EREDIRECT=1 only", g)
	}
	w.check(tlsWarnTable(t, map[string]string{"EREDIRECT": "redirect-to-https"})) // the same again: no new line
	if n := strings.Count(logs.String(), "no HTTPS listener"); n != 1 {
		t.Errorf("logged %d times for one distribution, want once", n)
	}
	w.check(tlsWarnTable(t, map[string]string{"EREDIRECT": "https-only"}))
	if g := gauge(); len(g) != 0 {
		t.Errorf("gauge after the distribution stopped redirecting: %v, want empty", g)
	}

	withTLS, err := newTLSWarner(true, slog.New(slog.NewTextHandler(&logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if got := withTLS.check(tlsWarnTable(t, map[string]string{"EREDIRECT": "redirect-to-https"})); got != nil {
		t.Errorf("with an HTTPS listener: %v, want nothing reported", got)
	}
}
