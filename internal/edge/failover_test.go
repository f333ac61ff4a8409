package edge_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// TestOriginGroupFailover: a behavior targeting an origin group goes to the
// secondary origin when the primary answers a failover status code or cannot
// be reached, for GET; other statuses, and POST, stay on the primary.
func TestOriginGroupFailover(t *testing.T) {
	h := newHarness(t, harnessOptions{tables: true})
	var primaryStatus atomic.Int32
	primaryStatus.Store(http.StatusServiceUnavailable)
	primary := h.newTestOrigin("primary.origin.test", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(primaryStatus.Load()))
		_, _ = io.WriteString(w, "primary "+r.Method)
	})
	secondary := h.newTestOrigin("secondary.origin.test", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "secondary "+r.Method)
	})
	cfg := customOriginConfig("failover", primary.host, "", cachingDisabled)
	second := cfg.Origins.Items[0]
	second.Id, second.DomainName = aws.String("backup"), aws.String(secondary.host)
	cfg.Origins = &types.Origins{Quantity: aws.Int32(2), Items: []types.Origin{cfg.Origins.Items[0], second}}
	cfg.OriginGroups = &types.OriginGroups{Quantity: aws.Int32(1), Items: []types.OriginGroup{{
		Id: aws.String("group"),
		FailoverCriteria: &types.OriginGroupFailoverCriteria{StatusCodes: &types.StatusCodes{
			Quantity: aws.Int32(2), Items: []int32{500, 503}}},
		Members: &types.OriginGroupMembers{Quantity: aws.Int32(2), Items: []types.OriginGroupMember{
			{OriginId: aws.String("web")}, {OriginId: aws.String("backup")}}},
	}}}
	cfg.DefaultCacheBehavior.TargetOriginId = aws.String("group")
	cfg.DefaultCacheBehavior.AllowedMethods = &types.AllowedMethods{Quantity: aws.Int32(7),
		Items: []types.Method{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}}
	d := h.createDistribution(cfg)
	h.waitServed()

	for _, c := range []struct {
		name       string
		status     int32
		method     string
		wantStatus int
		wantBody   string
	}{
		{"503 fails over", 503, http.MethodGet, 200, "secondary GET"},
		{"500 fails over", 500, http.MethodGet, 200, "secondary GET"},
		{"404 is not a failover code", 404, http.MethodGet, 404, "primary GET"},
		{"200 stays on the primary", 200, http.MethodGet, 200, "primary GET"},
		{"POST never fails over", 503, http.MethodPost, 503, "primary POST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			primaryStatus.Store(c.status)
			r, err := h.do(c.method, d.domain, "/x", nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != c.wantStatus || r.body != c.wantBody {
				t.Errorf("%s with the primary answering %d: got %d %q, want %d %q", c.method, c.status, r.status, r.body, c.wantStatus, c.wantBody)
			}
		})
	}

	t.Run("unreachable primary fails over", func(t *testing.T) {
		primary.srv.Close()
		r := h.get(d.domain, "/x", nil)
		if r.status != 200 || r.body != "secondary GET" {
			t.Errorf("primary down: got %d %q, want 200 \"secondary GET\"", r.status, r.body)
		}
	})
}
