package routing

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/model"
)

// Errors about a primary's continuous-deployment policy. The primary still
// serves; only its CD decision is affected.
var (
	ErrUnknownPolicy = errors.New("continuous-deployment policy not found")
	ErrInvalidPolicy = errors.New("invalid continuous-deployment policy")
	// ErrNoStickyKey: the snapshot has no StickyKey, so weighted policies
	// with stickiness fall back to one draw per request.
	ErrNoStickyKey = errors.New("no sticky-session key")
)

// DistributionRecord is a stored distribution with the store ModRevision
// that last wrote it.
type DistributionRecord struct {
	Distribution *model.Distribution
	ModRevision  int64
}

// PolicyRecord is a stored continuous-deployment policy with its ModRevision.
type PolicyRecord struct {
	Policy      *model.Policy
	ModRevision int64
}

// Snapshot is everything the edge has read from the store at one revision.
type Snapshot struct {
	Revision      int64 // the store revision the records were read at
	Distributions []DistributionRecord
	Policies      []PolicyRecord
	// StickyKey authenticates sticky-session cookies (HMAC-SHA256). Every
	// edge node reads the same key, so any node honours any node's cookie.
	StickyKey []byte
	// OACs are the origin access controls; their SigningBehavior decides
	// whether the edge signs requests to the origins that name them.
	OACs []*model.OriginAccessControl
	// The custom cache, origin request and response headers policies that
	// behaviors may name besides the managed ones.
	CachePolicies           []CustomPolicyRecord[cloudfront.CachePolicyConfig]
	OriginRequestPolicies   []CustomPolicyRecord[cloudfront.OriginRequestPolicyConfig]
	ResponseHeadersPolicies []CustomPolicyRecord[cloudfront.ResponseHeadersPolicyConfig]
	// KeyGroups and PublicKeys are what restricted behaviors trust.
	KeyGroups  []KeyGroupRecord
	PublicKeys []PublicKeyRecord
}

// CompileError reports a record that did not compile. The distribution
// keeps its last good entry, if it had one.
type CompileError struct {
	DistributionID string
	PolicyID       string // set when the primary's policy is at fault
	Revision       int64  // ModRevision of the record at fault
	Err            error
}

func (e CompileError) Error() string {
	if e.PolicyID != "" {
		return fmt.Sprintf("distribution %s: policy %s (revision %d): %v", e.DistributionID, e.PolicyID, e.Revision, e.Err)
	}
	return fmt.Sprintf("distribution %s (revision %d): %v", e.DistributionID, e.Revision, e.Err)
}

func (e CompileError) Unwrap() error { return e.Err }

// Status is what a host lookup found.
type Status uint8

// Statuses. The edge answers 403 for StatusStaging and StatusDisabled: a
// staging distribution is never reachable directly: AWS says viewers always reach it through
// the primary (docs/cloudfront.md).
const (
	StatusNotFound Status = iota
	StatusOK
	StatusStaging
	StatusDisabled
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusStaging:
		return "staging"
	case StatusDisabled:
		return "disabled"
	}
	return "not-found"
}

// Table is an immutable routing table. Methods are safe for concurrent use;
// a nil *Table routes nothing.
type Table struct {
	// Revision is the store revision of the snapshot it was compiled from.
	Revision int64

	byID     map[string]*Dist
	ids      []string         // sorted
	exact    map[string]*Dist // lowercased domain name or alias
	wildcard map[string]*Dist // "*.example.com" is stored as "example.com"
	errs     []CompileError
	sign     *signer // nil without a sticky key
	// signing is each origin access control's SigningBehavior by id.
	signing map[string]string
}

// OACSigning returns the SigningBehavior (always | never | no-override) of
// an origin access control, or "" when the table does not know it.
func (t *Table) OACSigning(id string) string {
	if t == nil {
		return ""
	}
	return t.signing[id]
}

// maxHostLen is the longest DNS name.
const maxHostLen = 255

// Lookup finds the distribution for a Host header (or TLS server name): the
// port is ignored, case does not matter, and an exact domain name or alias
// beats a wildcard alias, which matches exactly one label. It does not
// allocate.
func (t *Table) Lookup(host string) (*Dist, Status) {
	if t == nil {
		return nil, StatusNotFound
	}
	host = hostOnly(host)
	if host == "" || len(host) > maxHostLen {
		return nil, StatusNotFound
	}
	var buf [maxHostLen]byte
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	h := buf[:len(host)]
	d := t.exact[string(h)]
	if d == nil {
		for i, c := range h {
			if c == '.' {
				if i > 0 {
					d = t.wildcard[string(h[i+1:])]
				}
				break
			}
		}
	}
	if d == nil {
		return nil, StatusNotFound
	}
	switch {
	case d.Staging:
		return d, StatusStaging
	case !d.Enabled:
		return d, StatusDisabled
	}
	return d, StatusOK
}

// hostOnly strips the port and a trailing dot from a Host value.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") { // IPv6 literal
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// Dist returns a distribution by id, or nil.
func (t *Table) Dist(id string) *Dist {
	if t == nil {
		return nil
	}
	return t.byID[id]
}

// Dists returns every distribution, sorted by id.
func (t *Table) Dists() []*Dist {
	if t == nil {
		return nil
	}
	out := make([]*Dist, len(t.ids))
	for i, id := range t.ids {
		out[i] = t.byID[id]
	}
	return out
}

// Errors returns the compile errors of this table's snapshot.
func (t *Table) Errors() []CompileError {
	if t == nil {
		return nil
	}
	return slices.Clone(t.errs)
}

// Compile turns a snapshot into a new Table. prev is the table in use (nil
// at start): a distribution whose record did not change is taken over
// without recompiling, and one whose config fails to compile keeps its entry
// from prev (marked with Err) while the others still change. Every failure
// is returned, and kept in Table.Errors.
func Compile(prev *Table, snap Snapshot) (*Table, []CompileError) {
	t := &Table{
		Revision: snap.Revision,
		byID:     make(map[string]*Dist, len(snap.Distributions)),
		exact:    make(map[string]*Dist),
		wildcard: make(map[string]*Dist),
	}
	var errs []CompileError
	var managed map[string]managedPolicy // built on the first compile
	customRevs := customPolicyRevisions(snap)
	for _, rec := range sortedDistributions(snap.Distributions) {
		id := rec.Distribution.ID
		old := prev.Dist(id)
		if old != nil && old.Err == nil && rec.ModRevision != 0 && old.Revision == rec.ModRevision && sameRevisions(old.PolicyRevisions, customRevs) {
			t.byID[id] = reuse(old, nil)
			continue
		}
		if managed == nil {
			managed = managedPolicies()
			addCustomPolicies(managed, snap)
			addKeyGroups(managed, snap)
		}
		d, err := compileDist(rec.Distribution, rec.ModRevision, managed)
		if err != nil {
			errs = append(errs, CompileError{DistributionID: id, Revision: rec.ModRevision, Err: err})
			if old != nil {
				t.byID[id] = reuse(old, err)
			}
			continue
		}
		t.byID[id] = d
	}
	t.signing = make(map[string]string, len(snap.OACs))
	for _, oac := range snap.OACs {
		if oac != nil && oac.Config != nil {
			t.signing[oac.ID] = cloudfront.Str(oac.Config.SigningBehavior)
		}
	}
	t.ids = slices.Sorted(maps.Keys(t.byID))
	for _, id := range t.ids {
		t.index(t.byID[id])
	}
	t.sign = prev.signerFor(snap.StickyKey)
	errs = append(errs, t.linkPolicies(snap)...)
	t.errs = errs
	return t, errs
}

// reuse copies a Dist of the previous table: its compiled parts are shared
// (they are immutable), its CD is rebuilt against the new table.
func reuse(old *Dist, err error) *Dist {
	d := *old
	d.CD = nil
	d.Err = err
	return &d
}

// signerFor returns the previous table's signer when the key did not
// change, so its pool of HMAC states stays warm across table swaps.
func (t *Table) signerFor(key []byte) *signer {
	if t != nil && t.sign != nil && bytes.Equal(t.sign.key, key) {
		return t.sign
	}
	return newSigner(key)
}

func sortedDistributions(in []DistributionRecord) []DistributionRecord {
	out := make([]DistributionRecord, 0, len(in))
	for _, r := range in {
		if r.Distribution != nil {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b DistributionRecord) int { return cmp.Compare(a.Distribution.ID, b.Distribution.ID) })
	return out
}

// index adds d's domain name and aliases to the host index. The control
// plane keeps names unique; should two distributions claim one, the lower
// id keeps it.
func (t *Table) index(d *Dist) {
	for _, name := range append([]string{d.DomainName}, d.Aliases...) {
		name = strings.TrimSuffix(name, ".")
		if name == "" {
			continue
		}
		m := t.exact
		if rest, ok := strings.CutPrefix(name, "*."); ok {
			m, name = t.wildcard, rest
		}
		if _, taken := m[name]; !taken {
			m[name] = d
		}
	}
}

// linkPolicies attaches the CD decision data to each primary.
func (t *Table) linkPolicies(snap Snapshot) []CompileError {
	policies := make(map[string]PolicyRecord, len(snap.Policies))
	for _, p := range snap.Policies {
		if p.Policy != nil {
			policies[p.Policy.ID] = p
		}
	}
	byDomain := make(map[string]*Dist, len(t.byID))
	for _, d := range t.byID {
		byDomain[d.DomainName] = d
	}
	var errs []CompileError
	for _, id := range t.ids {
		d := t.byID[id]
		if d.Staging || d.PolicyID == "" {
			continue
		}
		pr, ok := policies[d.PolicyID]
		if !ok {
			errs = append(errs, CompileError{DistributionID: id, PolicyID: d.PolicyID, Err: ErrUnknownPolicy})
			continue
		}
		cd, err := compileCD(d, pr, byDomain, t.sign)
		if err != nil {
			errs = append(errs, CompileError{DistributionID: id, PolicyID: d.PolicyID, Revision: pr.ModRevision, Err: err})
		}
		d.CD = cd
	}
	return errs
}

// compileCD returns nil when the primary serves alone: the policy is
// disabled or has no TrafficConfig, or the staging distribution is missing
// or disabled. It may return a CD and an error together (a sticky policy
// without a key still routes, without stickiness).
func compileCD(primary *Dist, pr PolicyRecord, byDomain map[string]*Dist, sign *signer) (*CD, error) {
	p := pr.Policy
	c := p.Config
	if c == nil {
		return nil, fmt.Errorf("%w: no config", ErrInvalidPolicy)
	}
	tc := c.TrafficConfig
	if !cloudfront.IsTrue(c.Enabled) || tc == nil {
		return nil, nil
	}
	staging := byDomain[strings.ToLower(p.StagingDNSName())]
	if staging == nil || !staging.Enabled {
		return nil, nil
	}
	if !staging.Staging || staging == primary {
		return nil, fmt.Errorf("%w: %s is not a staging distribution", ErrInvalidPolicy, staging.ID)
	}
	cd := &CD{
		PolicyID:   p.ID,
		Generation: p.Generation,
		Revision:   pr.ModRevision,
		Staging:    staging,
		scope:      scopeOf(primary.ID, p.ID),
	}
	switch cloudfront.Str(tc.Type) {
	case cloudfront.TrafficTypeHeader:
		hc := tc.SingleHeaderConfig
		if hc == nil || cloudfront.Str(hc.Header) == "" {
			return nil, fmt.Errorf("%w: SingleHeader without a header", ErrInvalidPolicy)
		}
		cd.Type = TrafficHeader
		cd.Header = textproto.CanonicalMIMEHeaderKey(cloudfront.Str(hc.Header))
		cd.Value = cloudfront.Str(hc.Value)
		return cd, nil
	case cloudfront.TrafficTypeWeight:
		wc := tc.SingleWeightConfig
		if wc == nil {
			return nil, fmt.Errorf("%w: SingleWeight without SingleWeightConfig", ErrInvalidPolicy)
		}
		w := cloudfront.F64(wc.Weight)
		if math.IsNaN(w) || w < 0 {
			return nil, fmt.Errorf("%w: weight %v", ErrInvalidPolicy, w)
		}
		cd.Type = TrafficWeight
		cd.Weight = w
		cd.Threshold = uint64(math.Round(min(w, 1) * WeightScale))
		sc := wc.SessionStickinessConfig
		if sc == nil {
			return cd, nil
		}
		idle, maxTTL := int64(cloudfront.I32(sc.IdleTTL)), int64(cloudfront.I32(sc.MaximumTTL))
		if idle <= 0 || maxTTL <= 0 {
			return nil, fmt.Errorf("%w: IdleTTL %d, MaximumTTL %d", ErrInvalidPolicy, idle, maxTTL)
		}
		if sign == nil {
			return cd, ErrNoStickyKey
		}
		cd.Sticky = true
		cd.IdleTTL, cd.MaxTTL = time.Duration(idle)*time.Second, time.Duration(maxTTL)*time.Second
		cd.idleSeconds, cd.maxSeconds = idle, maxTTL
		cd.signer = sign
		return cd, nil
	}
	return nil, fmt.Errorf("%w: TrafficConfig Type %q", ErrInvalidPolicy, cloudfront.Str(tc.Type))
}
