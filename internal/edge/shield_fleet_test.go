package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/edge"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/edge/shield"
	"github.com/stagefront/stagefront/internal/fleet"
	"github.com/stagefront/stagefront/internal/model"
	"github.com/stagefront/stagefront/internal/routing"
	"github.com/stagefront/stagefront/internal/store/etcd/etcdtest"
	"github.com/stagefront/stagefront/internal/testutil"
)

// fleetEdge is one edge of an Origin Shield fleet test: its viewer and
// shield listeners on loopback, its fleet registration and member watch.
type fleetEdge struct {
	name       string
	srv        *edge.Server
	reg        *prometheus.Registry
	ring       *shield.Ring
	viewerURL  string
	shieldSrv  *httptest.Server
	viewerStop func()
	leave      context.CancelFunc // ends its fleet registration
	left       chan struct{}
}

// servedRevision is a fleet.Source for an edge whose table is fixed.
type servedRevision int64

func (r servedRevision) Watermark(context.Context) model.Watermark {
	return model.Watermark{Revision: int64(r)}
}

// shieldFleet starts n edges on one embedded etcd, each serving table.
func shieldFleet(t *testing.T, n int, table *routing.Table) []*fleetEdge {
	t.Helper()
	etcd := etcdtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	t.Cleanup(func() { cancel(); loops.Wait() })
	edges := make([]*fleetEdge, n)
	for i := range edges {
		e := &fleetEdge{name: fmt.Sprintf("edge-%d", i), reg: prometheus.NewRegistry(), left: make(chan struct{})}
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint}, DialTimeout: 5 * time.Second})
		testutil.Must(t, err)
		// Stop the member loops before the client closes: a loop that
		// ends removes its member record through this client.
		t.Cleanup(func() { cancel(); loops.Wait(); cli.Close() })
		registry := fleet.NewRegistry(cli, "/shield-test/", slog.New(slog.DiscardHandler))
		secret, err := registry.ShieldSecret(ctx)
		testutil.Must(t, err)
		signer, err := shield.NewSigner(secret)
		testutil.Must(t, err)
		fetcher, err := origin.New(ctx, origin.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDSHIELD", "shield-secret", "")})
		testutil.Must(t, err)
		t.Cleanup(fetcher.Close)
		e.ring = shield.NewRing(e.name)
		e.srv, err = edge.New(edge.Options{Fetcher: fetcher, Registry: e.reg, Logger: slog.New(slog.DiscardHandler),
			Shield: &edge.ShieldOptions{Ring: e.ring, Signer: signer}})
		testutil.Must(t, err)
		t.Cleanup(e.srv.Close)
		e.srv.Publish(table, nil)
		// The first edge serves viewers on net/http, the second on
		// fasthttp, the others on the event loops (the default engine):
		// each hands misses to the shield.
		switch i {
		case 0:
			vs := httptest.NewServer(e.srv)
			e.viewerURL, e.viewerStop = vs.URL, vs.Close
		case 1:
			e.viewerURL = serveFast(t, e.srv)
			e.viewerStop = func() {}
		default:
			e.viewerURL = serveLoop(t, e.srv)
			e.viewerStop = func() {}
		}
		t.Cleanup(e.viewerStop)
		e.shieldSrv = httptest.NewServer(e.srv.ShieldHandler())
		t.Cleanup(e.shieldSrv.Close)

		memberCtx, leave := context.WithCancel(ctx)
		e.leave = leave
		self := fleet.Self{Node: e.name, Addr: strings.TrimPrefix(e.viewerURL, "http://"), ShieldAddr: e.shieldSrv.Listener.Addr().String()}
		loops.Add(2)
		go func() {
			defer loops.Done()
			defer close(e.left)
			_ = registry.AnnounceSelf(memberCtx, self, servedRevision(table.Revision), 2*time.Second)
		}()
		go func() {
			defer loops.Done()
			_ = registry.WatchMembers(ctx, func(ms []fleet.Member) {
				peers := make([]shield.Peer, 0, len(ms))
				for _, m := range ms {
					peers = append(peers, shield.Peer{Node: m.Node, Addr: m.ShieldAddr})
				}
				e.ring.Set(peers)
			})
		}()
		edges[i] = e
	}
	for _, e := range edges {
		testutil.Eventually(t, 10*time.Second, e.name+" to see the whole fleet", func() bool { return len(e.ring.Peers()) == n })
	}
	return edges
}

// countingOrigin serves every path as a cacheable object after delay and
// counts the requests per path.
type countingOrigin struct {
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
	srv    *httptest.Server
}

func newCountingOrigin(t *testing.T, delay time.Duration) *countingOrigin {
	o := &countingOrigin{counts: map[string]int{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.counts[r.URL.Path]++
		o.mu.Unlock()
		o.total.Add(1)
		time.Sleep(delay)
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "object "+r.URL.Path)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *countingOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}

// shieldTable compiles one distribution whose origin (o) has Origin Shield
// enabled.
func shieldTable(t *testing.T, o *countingOrigin, domain string) *routing.Table {
	t.Helper()
	return shieldTableWithPath(t, o, domain, "")
}

// getVia asks edge e for path of the distribution at domain.
func getVia(client *http.Client, e *fleetEdge, domain, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, e.viewerURL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = domain
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// spread sends n concurrent GETs of path, request i to edges[i%len].
func spread(t *testing.T, client *http.Client, edges []*fleetEdge, domain, path string, n int) {
	t.Helper()
	parallel(t, n, n, func(i int) error {
		code, body, err := getVia(client, edges[i%len(edges)], domain, path)
		switch {
		case err != nil:
			return err
		case code != http.StatusOK || body != "object "+path:
			return fmt.Errorf("request %d via %s: %d %q", i, edges[i%len(edges)].name, code, body)
		}
		return nil
	})
}

func shieldAnswers(e *fleetEdge) float64 { return shieldCounter(e, "shield", "entry") }

// shieldCounter reads stagefront_edge_shield_requests_total{side,outcome} of e.
func shieldCounter(e *fleetEdge, side, outcome string) float64 {
	mfs, _ := e.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "stagefront_edge_shield_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if got["side"] == side && got["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestOriginShieldCollapsesTheFleetsMisses(t *testing.T) {
	t.Parallel()
	o := newCountingOrigin(t, 300*time.Millisecond)
	const domain = "eshield.cdn.test"
	edges := shieldFleet(t, 3, shieldTable(t, o, domain))
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	t.Cleanup(client.CloseIdleConnections)

	// 30 concurrent misses over three edges: one origin fetch.
	spread(t, client, edges, domain, "/a.txt", 30)
	if got := o.count("/a.txt"); got != 1 {
		t.Fatalf("origin fetches of /a.txt for 30 misses over 3 edges = %d, want 1", got)
	}
	// Other objects have their own shields (rendezvous spreads them), one
	// origin fetch each, wherever the misses arrive.
	for i := range 6 {
		path := fmt.Sprintf("/objects/%d", i)
		spread(t, client, edges, domain, path, 9)
		if got := o.count(path); got != 1 {
			t.Errorf("origin fetches of %s = %d, want 1", path, got)
		}
	}
	shields := 0
	var shieldOfA *fleetEdge
	for _, e := range edges {
		if shieldAnswers(e) > 0 {
			shields++
		}
	}
	if shields < 2 {
		t.Errorf("%d edges answered as a shield for 7 objects; rendezvous hashing should spread them", shields)
	}

	// Which edge shields /a.txt: the one whose shield answers grow when
	// the other two miss it again after an invalidation.
	before := make([]float64, len(edges))
	for i, e := range edges {
		before[i] = shieldAnswers(e)
		invalidate(e, "/a.txt")
	}
	spread(t, client, edges, domain, "/a.txt", 6)
	for i, e := range edges {
		if shieldAnswers(e) > before[i] {
			shieldOfA = e
		}
	}
	if shieldOfA == nil {
		t.Fatal("no edge answered as the shield of /a.txt")
	}
	// The invalidation reached the shield too (it is an edge like the
	// others): one more origin fetch, not one per edge.
	if got := o.count("/a.txt"); got != 2 {
		t.Errorf("origin fetches of /a.txt after an invalidation = %d, want 2", got)
	}

	// The shield node goes down while still a member (its lease has not
	// run out): the others fall back to the origin and still serve.
	shieldOfA.shieldSrv.Close()
	shieldOfA.viewerStop()
	var live []*fleetEdge
	for _, e := range edges {
		if e != shieldOfA {
			live = append(live, e)
			invalidate(e, "/a.txt")
		}
	}
	fetched := o.count("/a.txt")
	spread(t, client, live, domain, "/a.txt", 10)
	if got := o.count("/a.txt") - fetched; got < 1 || got > len(live) {
		t.Errorf("origin fetches with the shield down = %d, want one per live edge at most (%d)", got, len(live))
	}
	for _, e := range live {
		if n := shieldCounter(e, "edge", "unreachable"); n == 0 {
			t.Errorf("%s never found the shield unreachable", e.name)
		}
	}

	// Once it has left the fleet, the others pick a new shield among
	// themselves: one origin fetch again.
	shieldOfA.leave()
	<-shieldOfA.left
	for _, e := range live {
		testutil.Eventually(t, 10*time.Second, e.name+" to drop the dead shield", func() bool { return len(e.ring.Peers()) == len(live) })
		invalidate(e, "/a.txt")
	}
	fetched = o.count("/a.txt")
	spread(t, client, live, domain, "/a.txt", 20)
	if got := o.count("/a.txt") - fetched; got != 1 {
		t.Errorf("origin fetches after the shield left = %d, want 1", got)
	}
}

func invalidate(e *fleetEdge, paths ...string) {
	e.srv.Publish(e.srv.Table(), []*model.Invalidation{{ID: "I" + strconv.FormatInt(time.Now().UnixNano(), 36), DistributionID: "ESHIELD",
		Batch: &cf.InvalidationBatch{CallerReference: aws.String("ref"), Paths: &cf.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}}}})
}

func TestOriginShieldRefusesForgedRequests(t *testing.T) {
	t.Parallel()
	o := newCountingOrigin(t, 0)
	const domain = "eshield.cdn.test"
	edges := shieldFleet(t, 2, shieldTable(t, o, domain))
	target := edges[0].shieldSrv.URL
	forged, err := shield.NewSigner([]byte("not-the-fleet-secret-0123456789"))
	testutil.Must(t, err)
	fields := url.Values{"dist": {"ESHIELD"}, "key": {"x"}, "client": {"203.0.113.9:1"}, "scheme": {"http"}, "from": {"edge-1"}}.Encode()
	for name, header := range map[string]http.Header{
		"no signature":      {shield.HeaderRequest: {fields}},
		"another secret":    {shield.HeaderRequest: {fields}, shield.HeaderAuth: {forged.Sign(time.Now(), domain, "/a", "", fields)}},
		"signature garbage": {shield.HeaderRequest: {fields}, shield.HeaderAuth: {"1.AAAA"}},
	} {
		req, _ := http.NewRequest(http.MethodGet, target+"/a", nil)
		req.Host = domain
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		testutil.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	if n := o.total.Load(); n != 0 {
		t.Errorf("forged shield requests made %d origin fetches", n)
	}
	// On the viewer listener the shield's headers are just headers: the
	// request is an ordinary viewer request, fetched and cached as one.
	req, _ := http.NewRequest(http.MethodGet, edges[0].viewerURL+"/b", nil)
	req.Host = domain
	req.Header.Set(shield.HeaderAuth, "1.AAAA")
	req.Header.Set(shield.HeaderRequest, fields)
	resp, err := http.DefaultClient.Do(req)
	testutil.Must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "object /b" {
		t.Errorf("viewer request with shield headers: %d %q", resp.StatusCode, body)
	}
}

func TestOriginShieldSkewAndOriginFailure(t *testing.T) {
	t.Parallel()
	o := newCountingOrigin(t, 0)
	const domain = "eshield.cdn.test"
	table := shieldTable(t, o, domain)
	edges := shieldFleet(t, 2, table)
	client := &http.Client{Timeout: 20 * time.Second}

	// The two edges' tables differ (one is a revision behind, say: here
	// its origin path changed, which changes the cache identity): neither
	// takes the other's object. Whoever asks the other falls back to the
	// origin, and every request is served.
	skewed := shieldTableWithPath(t, o, domain, "/other")
	edges[1].srv.Publish(skewed, nil)
	for i := range 8 {
		path := fmt.Sprintf("/skew/%d", i)
		if code, body, err := getVia(client, edges[0], domain, path); err != nil || code != http.StatusOK || body != "object "+path {
			t.Fatalf("edge-0 %s: %d %q %v", path, code, body, err)
		}
		if code, body, err := getVia(client, edges[1], domain, path); err != nil || code != http.StatusOK || body != "object /other"+path {
			t.Fatalf("edge-1 %s: %d %q %v", path, code, body, err)
		}
	}
	refused := shieldCounter(edges[0], "edge", "refused") + shieldCounter(edges[1], "edge", "refused")
	if refused == 0 {
		t.Error("no shield request was refused although the edges' tables differ")
	}
	if got := shieldCounter(edges[0], "edge", "entry") + shieldCounter(edges[1], "edge", "entry"); got != 0 {
		t.Errorf("%v shield entries crossed between edges whose tables differ", got)
	}

	// The origin is gone: an edge whose shield reports the failure
	// answers 502 itself, without asking the origin again.
	edges[1].srv.Publish(table, nil)
	o.srv.Close()
	for i := range 6 {
		path := fmt.Sprintf("/down/%d", i)
		for _, e := range edges {
			if code, _, err := getVia(client, e, domain, path); err != nil || code != http.StatusBadGateway {
				t.Fatalf("%s %s with the origin down: %d %v, want 502", e.name, path, code, err)
			}
		}
	}
	if got := shieldCounter(edges[0], "edge", "origin_error") + shieldCounter(edges[1], "edge", "origin_error"); got == 0 {
		t.Error("no edge got an origin failure reported by its shield")
	}
}

// shieldTableWithPath is shieldTable with an origin path.
func shieldTableWithPath(t *testing.T, o *countingOrigin, domain, originPath string) *routing.Table {
	t.Helper()
	port, err := strconv.Atoi(o.srv.URL[strings.LastIndexByte(o.srv.URL, ':')+1:])
	testutil.Must(t, err)
	sdk := customOriginConfig("shield", "127.0.0.1", originPath, cachingOptimized)
	sdk.Origins.Items[0].CustomOriginConfig.HTTPPort = aws.Int32(int32(port))
	sdk.Origins.Items[0].OriginShield = &types.OriginShield{Enabled: aws.Bool(true), OriginShieldRegion: aws.String("us-east-1")}
	b, err := json.Marshal(sdk)
	testutil.Must(t, err)
	var wire cf.DistributionConfig
	testutil.Must(t, json.Unmarshal(b, &wire))
	cf.ApplyDistributionDefaults(&wire)
	table, errs := routing.Compile(nil, routing.Snapshot{Revision: 2, StickyKey: []byte(stickyKey),
		Distributions: []routing.DistributionRecord{{
			Distribution: &model.Distribution{ID: "ESHIELD", DomainName: domain, Config: &wire}, ModRevision: 2}}})
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return table
}
