package fleet

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// sharedFamilies are the edge metrics the release controller's analysis
// and the console's live traffic read; every edge publishes them so both
// see the whole fleet.
var sharedFamilies = []string{"stagefront_edge_requests_total", "stagefront_edge_request_duration_seconds",
	"stagefront_cache_hits_total", "stagefront_cache_misses_total"}

// metricsTTL drops a silent edge's numbers from the aggregate.
const metricsTTL = 30 * time.Second

func (r *Registry) metricsPrefix() string {
	return strings.TrimSuffix(r.prefix, "edges/") + "metrics/"
}

// PublishMetrics writes the edge's per-variant request metrics to etcd every
// interval until ctx ends, under a lease, so the release controller on
// whichever node leads can aggregate the fleet.
func (r *Registry) PublishMetrics(ctx context.Context, node string, g prometheus.Gatherer, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lease clientv3.LeaseID
	for {
		if err := r.publishOnce(ctx, node, g, &lease); err != nil && ctx.Err() == nil {
			r.log.Debug("publish fleet metrics", "node", node, "err", err)
			lease = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (r *Registry) publishOnce(ctx context.Context, node string, g prometheus.Gatherer, lease *clientv3.LeaseID) error {
	fams, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	var buf bytes.Buffer
	for _, mf := range fams {
		for _, name := range sharedFamilies {
			if mf.GetName() == name {
				if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
					return fmt.Errorf("encode %s: %w", name, err)
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if *lease == 0 {
		l, err := r.cli.Grant(ctx, int64(metricsTTL/time.Second))
		if err != nil {
			return fmt.Errorf("grant metrics lease: %w", err)
		}
		*lease = l.ID
	} else if _, err := r.cli.KeepAliveOnce(ctx, *lease); err != nil {
		*lease = 0
		return fmt.Errorf("renew metrics lease: %w", err)
	}
	if _, err := r.cli.Put(ctx, r.metricsPrefix()+node, buf.String(), clientv3.WithLease(*lease)); err != nil {
		return fmt.Errorf("put metrics: %w", err)
	}
	return nil
}

// Gatherer returns the fleet-wide sum of every live edge's published
// metrics, in the same families and labels an edge exports.
func (r *Registry) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := r.cli.Get(ctx, r.metricsPrefix(), clientv3.WithPrefix())
		if err != nil {
			return nil, fmt.Errorf("read fleet metrics: %w", err)
		}
		merged := map[string]*dto.MetricFamily{}
		series := map[string]*dto.Metric{}
		for _, kv := range resp.Kvs {
			parser := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := parser.TextToMetricFamilies(bytes.NewReader(kv.Value))
			if err != nil {
				return nil, fmt.Errorf("parse metrics of %s: %w", kv.Key, err)
			}
			for name, mf := range fams {
				dst, ok := merged[name]
				if !ok {
					dst = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
					merged[name] = dst
				}
				for _, m := range mf.Metric {
					key := name + labelKey(m)
					if prev, ok := series[key]; ok {
						addMetric(prev, m)
						continue
					}
					series[key] = m
					dst.Metric = append(dst.Metric, m)
				}
			}
		}
		out := make([]*dto.MetricFamily, 0, len(merged))
		for _, mf := range merged {
			out = append(out, mf)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
		return out, nil
	})
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString("|" + l.GetName() + "=" + l.GetValue())
	}
	return b.String()
}

// addMetric adds src's counter or histogram into dst (same labels).
func addMetric(dst, src *dto.Metric) {
	if dst.Counter != nil && src.Counter != nil {
		v := dst.Counter.GetValue() + src.Counter.GetValue()
		dst.Counter.Value = &v
	}
	if dh, sh := dst.Histogram, src.Histogram; dh != nil && sh != nil {
		count := dh.GetSampleCount() + sh.GetSampleCount()
		sum := dh.GetSampleSum() + sh.GetSampleSum()
		dh.SampleCount, dh.SampleSum = &count, &sum
		for i := range dh.Bucket {
			if i < len(sh.Bucket) && dh.Bucket[i].GetUpperBound() == sh.Bucket[i].GetUpperBound() {
				c := dh.Bucket[i].GetCumulativeCount() + sh.Bucket[i].GetCumulativeCount()
				dh.Bucket[i].CumulativeCount = &c
			}
		}
	}
}

// Lead runs fn only while this process is the fleet's leader for name (an
// etcd election), so the release controller runs on one node at a time. When
// the leader dies its session lease expires and another node takes over and
// resumes from the persisted state.
func (r *Registry) Lead(ctx context.Context, name, node string, ttl time.Duration, fn func(context.Context) error) error {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	for ctx.Err() == nil {
		err := r.leadOnce(ctx, name, node, ttl, fn)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("leadership lost; campaigning again", "election", name, "node", node, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (r *Registry) leadOnce(ctx context.Context, name, node string, ttl time.Duration, fn func(context.Context) error) error {
	session, err := concurrency.NewSession(r.cli, concurrency.WithTTL(int(ttl/time.Second)), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("election session: %w", err)
	}
	defer session.Close()
	election := concurrency.NewElection(session, strings.TrimSuffix(r.prefix, "edges/")+"leader/"+name)
	if err := election.Campaign(ctx, node); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	r.log.Info("elected leader", "election", name, "node", node)
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-session.Done(): // lease lost: stop leading at once
			cancel()
		case <-leadCtx.Done():
		}
	}()
	err = fn(leadCtx)
	resignCtx, cancelResign := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancelResign()
	_ = election.Resign(resignCtx)
	if err != nil {
		return err
	}
	return fmt.Errorf("leadership ended")
}
