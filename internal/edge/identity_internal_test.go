package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagefront/stagefront/internal/edge/cache"
	"github.com/stagefront/stagefront/internal/edge/origin"
	"github.com/stagefront/stagefront/internal/routing"
)

// identityFields is every field of every struct the cache identity is
// built from, and whether omitFromIdentity leaves it out. A struct that
// gains a field fails TestIdentityConsidersEveryField until the field is
// listed here: decide whether it changes the origin request or the
// response as stored (then it stays in the identity, which is the
// default) or not (then omitFromIdentity leaves it out).
var identityFields = map[reflect.Type]map[string]bool{
	reflect.TypeFor[identitySource](): {"Dist": false, "Behavior": false, "Specs": false},
	reflect.TypeFor[routing.Dist](): {
		"ID": true, "DomainName": true, "Aliases": true, "Revision": true, "Enabled": true, "Staging": true,
		"DefaultRootObject": true, "PolicyID": true, "Origins": true, "OriginGroups": true, "Behaviors": true,
		"Default": true, "ErrorResponses": false, "CD": true, "Err": true, "PolicyRevisions": true,
		"Logging": true,
	},
	reflect.TypeFor[routing.ErrorResponse](): {"ErrorCode": false, "ResponsePagePath": false, "ResponseCode": false, "CachingMinTTL": false},
	reflect.TypeFor[routing.Behavior](): {
		"Pattern": true, "TargetOriginID": true, "Origin": false, "Group": false, "ViewerProtocolPolicy": true,
		"AllowedMethods": true, "CachedMethods": true, "Compress": false, "CachePolicyID": false,
		"OriginRequestPolicyID": false, "ResponseHeadersPolicyID": true, "TTL": false, "CacheKey": false,
		"OriginRequest": false, "ResponseHeaders": true, "Restricted": true, "KeyGroupIDs": true, "TrustedKeys": true,
	},
	reflect.TypeFor[routing.Origin](): {
		"ID": true, "DomainName": false, "OriginPath": false, "S3": false, "OriginAccessControlID": false,
		"OriginAccessIdentity": false, "ProtocolPolicy": false, "HTTPPort": false, "HTTPSPort": false,
		"SSLProtocols": false, "ReadTimeout": true, "KeepaliveTimeout": true, "ConnectionAttempts": true,
		"ConnectionTimeout": true, "Headers": false, "Shield": true, "ShieldRegion": true,
	},
	reflect.TypeFor[routing.Header]():      {"Name": false, "Value": false},
	reflect.TypeFor[routing.OriginGroup](): {"ID": true, "Members": false, "FailoverStatusCodes": false},
	reflect.TypeFor[routing.TTLs]():        {"Min": false, "Default": false, "Max": false},
	reflect.TypeFor[routing.CacheKey](): {
		"QueryStrings": false, "QueryStringNames": false, "Headers": false, "HeaderNames": false,
		"Cookies": false, "CookieNames": false, "Gzip": false, "Brotli": false,
	},
	reflect.TypeFor[routing.OriginRequest](): {
		"QueryStrings": false, "QueryStringNames": false, "Headers": false, "HeaderNames": false, "Host": false,
		"CloudFrontHeaders": false, "Cookies": false, "CookieNames": false, "S3ExcludedQuery": false,
	},
	reflect.TypeFor[origin.Spec](): {
		"ID": true, "DomainName": false, "OriginPath": false, "S3": false, "OACID": false, "OACSigning": false,
		"ProtocolPolicy": false, "HTTPPort": false, "HTTPSPort": false, "ReadTimeout": true,
		"KeepaliveTimeout": true, "ConnectTimeout": true, "ConnectionAttempts": true, "CustomHeaders": false,
	},
}

// TestIdentityConsidersEveryField walks every struct the identity encodes
// (following the fields it does not omit) and fails on a field nobody
// has decided about, or on an omission that is not the recorded decision.
func TestIdentityConsidersEveryField(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem())
			return
		case reflect.Map:
			walk(typ.Key())
			walk(typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		decided, ok := identityFields[typ]
		if !ok {
			t.Errorf("the cache identity encodes %s, which identityFields does not list: decide about each of its fields", typ)
			return
		}
		fields := map[string]bool{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			fields[f.Name] = true
			omitted, known := decided[f.Name]
			switch {
			case !known:
				t.Errorf("%s.%s is new: decide whether it changes the origin request or the stored response "+
					"(keep it in the cache identity) or not (omit it in omitFromIdentity), then list it in identityFields", typ, f.Name)
			case omitFromIdentity(typ, f.Name) != omitted:
				t.Errorf("omitFromIdentity(%s, %s) = %v; identityFields says %v", typ, f.Name, !omitted, omitted)
			}
			if !omitFromIdentity(typ, f.Name) {
				walk(f.Type)
			}
		}
		for name := range decided {
			if !fields[name] {
				t.Errorf("identityFields lists %s.%s, which no longer exists", typ, name)
			}
		}
	}
	walk(reflect.TypeFor[identitySource]())
	for typ := range identityFields {
		if !seen[typ] {
			t.Errorf("identityFields lists %s, which the identity no longer reaches", typ)
		}
	}
}

// captureOrigin is a loopback origin that records each request as it
// arrived on the wire, with the address the edge dialed, and answers
// every one alike: a compressible page that sets a cookie.
type captureOrigin struct {
	ln net.Listener

	mu     sync.Mutex
	dialed string
	raw    []byte
}

const capturedPage = "<html><body>" + "stagefront page " + "</body></html>"

func newCaptureOrigin(t *testing.T) *captureOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &captureOrigin{ln: ln}
	t.Cleanup(func() { ln.Close() })
	body := strings.Repeat(capturedPage, 80)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			var raw bytes.Buffer
			br := bufio.NewReader(io.TeeReader(conn, &raw))
			if req, err := http.ReadRequest(br); err == nil {
				req.Body.Close()
				c.mu.Lock()
				c.raw = bytes.Clone(raw.Bytes())
				c.mu.Unlock()
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: max-age=60\r\n"+
					"Set-Cookie: session=s1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			}
			conn.Close()
		}
	}()
	return c
}

func (c *captureOrigin) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	c.dialed = addr
	c.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, c.ln.Addr().String())
}

// take returns and forgets the last request, as sent but for the order
// of its header lines: the origin client writes fields of different names
// in map order, which HTTP leaves without meaning (RFC 9110 §5.3). Lines
// are sorted stably by name, so lines of one name keep their order.
func (c *captureOrigin) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	head, body, _ := strings.Cut(string(c.raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	fields := lines[1:]
	slices.SortStableFunc(fields, func(a, b string) int {
		na, _, _ := strings.Cut(a, ":")
		nb, _, _ := strings.Cut(b, ":")
		return strings.Compare(strings.ToLower(na), strings.ToLower(nb))
	})
	out := "dialed " + c.dialed + "\n" + strings.Join(lines, "\n") + "\n\n" + body
	c.dialed, c.raw = "", nil
	return out
}

// identityCase is one compiled config: a distribution, the behavior the
// request takes, and the origin specs the fetcher gets.
type identityCase struct {
	d    *routing.Dist
	b    *routing.Behavior
	lt   *liveTable
	desc string
}

func pick[T any](r *rand.Rand, choices ...T) T { return choices[r.IntN(len(choices))] }

// randomOrigin draws an origin from small domains, so that configs often
// agree on some fields and differ on others.
func randomOrigin(r *rand.Rand, id string) *routing.Origin {
	o := &routing.Origin{
		ID:                 pick(r, id, id+"-renamed"),
		OriginPath:         pick(r, "", "/v2"),
		ProtocolPolicy:     pick(r, "http-only", "match-viewer"),
		HTTPPort:           pick(r, 80, 8080),
		HTTPSPort:          pick(r, 443, 8443),
		SSLProtocols:       pick(r, []string{"TLSv1.2"}, []string{"TLSv1.2", "TLSv1.1"}),
		ReadTimeout:        pick(r, 5*time.Second, 7*time.Second),
		KeepaliveTimeout:   pick(r, 5*time.Second, 9*time.Second),
		ConnectionAttempts: pick(r, 1, 3),
		ConnectionTimeout:  pick(r, 2*time.Second, 4*time.Second),
		Headers: pick(r, nil, []routing.Header{{Name: "X-Tenant", Value: "a"}}, []routing.Header{{Name: "X-Tenant", Value: "b"}},
			[]routing.Header{{Name: "X-Tenant", Value: "a"}, {Name: "X-Other", Value: "1"}}),
	}
	if r.IntN(3) == 0 {
		o.S3 = true
		o.ProtocolPolicy = "https-only"
		o.DomainName = pick(r, "one.s3.us-east-1.amazonaws.com", "two.s3.us-east-1.amazonaws.com")
		o.OriginAccessControlID = pick(r, "", "E1OAC")
		o.OriginAccessIdentity = pick(r, "", "origin-access-identity/cloudfront/E1OAI")
	} else {
		o.DomainName = pick(r, "a.origin.test", "b.origin.test")
	}
	return o
}

func randomCacheKey(r *rand.Rand) routing.CacheKey {
	ck := routing.CacheKey{Gzip: pick(r, false, true), Brotli: pick(r, false, true)}
	switch r.IntN(3) {
	case 1:
		ck.QueryStrings = routing.SelectAll
	case 2:
		ck.QueryStrings, ck.QueryStringNames = routing.SelectAllowList, []string{"v"}
	}
	switch r.IntN(3) {
	case 1:
		ck.Headers, ck.HeaderNames = routing.SelectAllowList, []string{"X-A"}
	case 2:
		ck.Headers, ck.HeaderNames = routing.SelectAllowList, []string{"Authorization"}
	}
	switch r.IntN(3) {
	case 1:
		ck.Cookies = routing.SelectAll
	case 2:
		ck.Cookies, ck.CookieNames = routing.SelectAllowList, []string{"theme"}
	}
	return ck
}

// randomCase draws one config.
func randomCase(r *rand.Rand) identityCase {
	o := randomOrigin(r, "web")
	b := &routing.Behavior{
		TargetOriginID:       pick(r, "web", "other"),
		Origin:               o,
		ViewerProtocolPolicy: pick(r, "allow-all", "redirect-to-https"),
		AllowedMethods:       pick(r, routing.MethodGet|routing.MethodHead, routing.MethodGet|routing.MethodHead|routing.MethodOptions),
		CachedMethods:        routing.MethodGet | routing.MethodHead,
		Compress:             pick(r, false, true),
		CachePolicyID:        pick(r, "", "p1"),
		TTL:                  routing.TTLs{Min: pick(r, 0, time.Second), Default: time.Minute, Max: pick(r, time.Hour, 2*time.Hour)},
		CacheKey:             randomCacheKey(r),
	}
	if r.IntN(3) == 0 {
		b.ResponseHeaders = &routing.ResponseHeaders{}
		b.ResponseHeadersPolicyID = "rhp"
	}
	if r.IntN(3) == 0 {
		b.OriginRequest = &routing.OriginRequest{
			QueryStrings: routing.SelectAll, Cookies: pick(r, routing.SelectNone, routing.SelectAll),
			Headers: routing.SelectAllExcept, HeaderNames: []string{"Authorization"}, Host: pick(r, false, true),
		}
	}
	if r.IntN(4) == 0 {
		b.Group = &routing.OriginGroup{
			ID: pick(r, "g", "g2"), Members: []*routing.Origin{o, randomOrigin(r, "backup")},
			FailoverStatusCodes: pick(r, []int{500}, []int{503}),
		}
	}
	d := &routing.Dist{ID: pick(r, "E1", "E2"), DomainName: pick(r, "d1.example", "d2.example"), Default: *b}
	if r.IntN(3) == 0 {
		d.ErrorResponses = []routing.ErrorResponse{{ErrorCode: 404, ResponsePagePath: "/e.html", ResponseCode: 200, CachingMinTTL: pick(r, 0, 10*time.Second)}}
	}
	return identityCase{d: d, b: &d.Default}
}

// withOmittedChanged is c with every field the identity omits drawn
// again: the same identity, and so it must send the same request.
func withOmittedChanged(r *rand.Rand, c identityCase) identityCase {
	d := *c.d
	d.ID, d.DomainName, d.Revision = d.ID+"x", "other.example", d.Revision+1
	b := d.Default
	b.TargetOriginID = b.TargetOriginID + "-renamed"
	b.ViewerProtocolPolicy = pick(r, "allow-all", "https-only")
	b.AllowedMethods |= routing.MethodPost
	b.CachedMethods = routing.MethodGet
	b.ResponseHeaders, b.ResponseHeadersPolicyID = &routing.ResponseHeaders{}, "rhp-2"
	o := *b.Origin
	o.ID, o.ReadTimeout, o.KeepaliveTimeout, o.ConnectionAttempts, o.ConnectionTimeout = "renamed", 11*time.Second, time.Second, 2, 3*time.Second
	b.Origin = &o
	if b.Group != nil {
		g := *b.Group
		g.ID = "renamed-group"
		g.Members = append([]*routing.Origin{&o}, g.Members[1:]...)
		b.Group = &g
	}
	d.Default = b
	return identityCase{d: &d, b: &d.Default}
}

// copyCase copies c deep enough that a mutator can change any field.
func copyCase(c identityCase) identityCase {
	d := *c.d
	b := d.Default
	o := *b.Origin
	b.Origin = &o
	if b.Group != nil {
		g := *b.Group
		g.Members = append([]*routing.Origin{&o}, g.Members[1:]...)
		b.Group = &g
	}
	d.Default = b
	return identityCase{d: &d, b: &d.Default}
}

// mutators each change one field the identity must hold, to a value
// that changes the request or the entry for some viewer request: a
// forgotten field then shows as equal identities with different requests.
var mutators = []func(c identityCase){
	func(c identityCase) {
		c.b.Origin.Headers = append(slices.Clip(c.b.Origin.Headers), routing.Header{Name: "X-Tenant", Value: "z"})
	},
	func(c identityCase) { c.b.Origin.OriginPath += "/more" },
	func(c identityCase) { c.b.Origin.DomainName = "c" + c.b.Origin.DomainName },
	func(c identityCase) { c.b.Origin.HTTPPort++ },
	func(c identityCase) { c.b.Compress = !c.b.Compress },
	func(c identityCase) {
		c.b.CacheKey.Gzip, c.b.CacheKey.Brotli = !c.b.CacheKey.Gzip, !c.b.CacheKey.Brotli
	},
	func(c identityCase) {
		c.b.CacheKey.QueryStrings = (c.b.CacheKey.QueryStrings + 1) % 4
		c.b.CacheKey.QueryStringNames = []string{"x"}
	},
	func(c identityCase) {
		c.b.CacheKey.Cookies = (c.b.CacheKey.Cookies + 1) % 4
		c.b.CacheKey.CookieNames = []string{"s"}
	},
	func(c identityCase) {
		if c.b.OriginRequest == nil {
			c.b.OriginRequest = &routing.OriginRequest{Headers: routing.SelectAll, Host: true}
		} else {
			c.b.OriginRequest = nil
		}
	},
	func(c identityCase) { c.b.TTL.Min += 90 * time.Second }, // above the origin's max-age=60
}

// prepare derives the case's live table, as a publish would, with
// signing as its OACs' signing behavior.
func (c *identityCase) prepare(signing string) {
	c.lt = &liveTable{upstreams: map[*routing.Origin]*upstream{}, routes: map[*routing.Behavior]*route{}}
	add := func(o *routing.Origin) {
		spec := originSpec(o)
		spec.OACSigning = signing
		c.lt.upstreams[o] = &upstream{spec: spec}
	}
	add(c.b.Origin)
	if c.b.Group != nil {
		for _, m := range c.b.Group.Members[1:] {
			add(m)
		}
	}
	c.desc = fmt.Sprintf("dist %+v\nbehavior %+v\norigin %+v\nsigning %s", *c.d, *c.b, *c.b.Origin, signing)
}

// TestEqualIdentitySendsEqualRequest is the property the cache relies on:
// two configs with equal cache identities send the origin byte-identical
// requests for the same viewer request, and store the same entry for the
// same response. Configs are drawn at random from small domains (and each
// also with every omitted field changed), fetched through the real origin
// client to a loopback origin that records the request as sent.
func TestEqualIdentitySendsEqualRequest(t *testing.T) {
	capture := newCaptureOrigin(t)
	endpoint := "http://" + capture.ln.Addr().String()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fetcher, err := origin.New(context.Background(), origin.Options{
		S3Endpoint:  mustParseURL(t, endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDIDENTITYTEST", "secret", ""),
		Region:      "us-east-1",
		DialContext: capture.dial,
		Now:         func() time.Time { return fixed },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fetcher.Close)
	s, err := New(Options{Fetcher: fetcher, Clock: func() time.Time { return fixed }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)

	viewers := []*http.Request{
		viewerRequest("/p?v=1&x=2", http.Header{
			"X-A": {"1"}, "Authorization": {"Bearer t"}, "Cookie": {"theme=dark; s=1"},
			"Accept-Encoding": {"gzip, br"}, "User-Agent": {"ua/1"},
		}),
		viewerRequest("/p", nil),
	}
	observe := func(c identityCase) string {
		var out strings.Builder
		for _, req := range viewers {
			v := &netViewer{r: req}
			e, err := s.fetchEntry(context.Background(), v, c.lt, c.d, c.b, c.lt.upstream(c.b.Origin), req.URL.EscapedPath())
			fmt.Fprintf(&out, "%s\n", capture.take())
			if err != nil {
				fmt.Fprintf(&out, "error %v\n", err)
				continue
			}
			keys := slices.Sorted(maps.Keys(e.Header))
			fmt.Fprintf(&out, "status %d ttl %v private %q\n", e.Status, e.TTL, e.Private)
			for _, k := range keys {
				fmt.Fprintf(&out, "%s: %q\n", k, e.Header[k])
			}
			fmt.Fprintf(&out, "body sha256 %x\n", sha256.Sum256(e.Body))
		}
		return out.String()
	}

	r := rand.New(rand.NewPCG(1, 2))
	type seen struct {
		obs, desc string
	}
	byIdentity := map[cache.Identity]seen{}
	shared, distinct := 0, 0
	for range 100 {
		base := randomCase(r)
		signing := pick(r, origin.SignAlways, origin.SignNever, origin.SignNoOverride)
		mutated := copyCase(base)
		pick(r, mutators...)(mutated)
		for _, c := range []identityCase{base, withOmittedChanged(r, base), mutated} {
			c.prepare(signing)
			id := cacheIdentity(c.d, c.b, behaviorSpecs(c.lt, c.b))
			obs := observe(c)
			prev, ok := byIdentity[id]
			if !ok {
				byIdentity[id] = seen{obs, c.desc}
				distinct++
				continue
			}
			shared++
			if prev.obs != obs {
				t.Fatalf("equal cache identities, different origin requests or entries:\n--- first config\n%s\n%s\n--- second config\n%s\n%s",
					prev.desc, prev.obs, c.desc, obs)
			}
		}
	}
	// The draw must exercise both sides of the property.
	if shared < 50 || distinct < 50 {
		t.Fatalf("%d configs shared an identity, %d identities: draw more varied configs", shared, distinct)
	}
}

func viewerRequest(target string, header http.Header) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://viewer.example"+target, nil)
	req.RemoteAddr = "203.0.113.9:41000"
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
