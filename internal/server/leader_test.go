package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestLeaderEndpointAndGauge: while the wrapped controller loop runs, GET
// /leader says so and stagefront_release_leader is 1; once it returns
// (leadership lost, or shutdown) both say 0.
func TestLeaderEndpointAndGauge(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newLeadership("api-1", func() time.Time { return now }, reg)
	p := &process{reg: reg, leader: l, ready: func() bool { return true }}
	admin := p.adminHandler()

	get := func() leaderStatus {
		t.Helper()
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/leader", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /leader: %d %s", rec.Code, rec.Body)
		}
		var st leaderStatus
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	gauge := func() float64 {
		t.Helper()
		return gaugeValue(t, reg, "stagefront_release_leader")
	}

	if st := get(); st.Leader || st.Node != "api-1" || gauge() != 0 {
		t.Fatalf("before running: %+v, gauge %v; want not leading", st, gauge())
	}
	running, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- l.wrap(func(context.Context) error { close(running); <-release; return nil })(t.Context())
	}()
	<-running
	now = now.Add(time.Minute)
	if st := get(); !st.Leader || !strings.Contains(st.Summary, "runs the release controller") || gauge() != 1 {
		t.Fatalf("while leading: %+v, gauge %v", st, gauge())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := get(); st.Leader || gauge() != 0 || !st.Since.Equal(now) {
		t.Fatalf("after the loop returned: %+v, gauge %v", st, gauge())
	}
}

// gaugeValue reads a registered gauge's value.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
