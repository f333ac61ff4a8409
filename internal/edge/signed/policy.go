package signed

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// decodeBase64 reads CloudFront's URL-safe base64: '-', '_' and '~' stand
// for '+', '=' and '/'.
func decodeBase64(s string) ([]byte, error) {
	r := strings.NewReplacer("-", "+", "_", "=", "~", "/")
	return base64.StdEncoding.DecodeString(r.Replace(s))
}

// EncodeBase64 writes CloudFront's URL-safe base64 (what a signer puts in
// Policy and Signature).
func EncodeBase64(b []byte) string {
	r := strings.NewReplacer("+", "-", "=", "_", "/", "~")
	return r.Replace(base64.StdEncoding.EncodeToString(b))
}

// CannedPolicy is the policy statement a canned-policy signature covers:
// the URL and its expiry, in exactly the bytes CloudFront and its signers
// build (no white space).
func CannedPolicy(resource string, expires int64) string {
	return `{"Statement":[{"Resource":"` + jsonEscape(resource) + `","Condition":{"DateLessThan":{"AWS:EpochTime":` +
		strconv.FormatInt(expires, 10) + `}}}]}`
}

// jsonEscape escapes what JSON requires in a string; a URL rarely has any.
func jsonEscape(s string) string {
	if !strings.ContainsAny(s, "\"\\") && !hasControl(s) {
		return s
	}
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

// policy is a parsed policy statement.
type policy struct {
	resource    string // "" means any
	hasResource bool
	notAfter    int64 // DateLessThan: valid while now < notAfter
	notBefore   int64 // DateGreaterThan: valid once now >= notBefore (0: none)
	sourceIP    netip.Prefix
	hasIP       bool
}

var errMalformed = errors.New("malformed policy")

// epoch is the {"AWS:EpochTime": N} of a date condition.
type epoch struct {
	EpochTime json.Number `json:"AWS:EpochTime"`
}

type statementJSON struct {
	Resource  *string `json:"Resource"`
	Condition *struct {
		DateLessThan    *epoch `json:"DateLessThan"`
		DateGreaterThan *epoch `json:"DateGreaterThan"`
		IPAddress       *struct {
			SourceIP string `json:"AWS:SourceIp"`
		} `json:"IpAddress"`
	} `json:"Condition"`
}

// parsePolicy reads a policy statement: exactly one statement with a
// DateLessThan; DateGreaterThan, IpAddress and Resource are optional.
func parsePolicy(b []byte) (*policy, error) {
	var doc struct {
		Statement []statementJSON `json:"Statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", errMalformed)
	}
	if len(doc.Statement) != 1 {
		return nil, fmt.Errorf("%w: %d statements, want 1", errMalformed, len(doc.Statement))
	}
	st := doc.Statement[0]
	if st.Condition == nil || st.Condition.DateLessThan == nil {
		return nil, fmt.Errorf("%w: no DateLessThan", errMalformed)
	}
	p := &policy{}
	var err error
	if p.notAfter, err = epochSeconds(st.Condition.DateLessThan.EpochTime); err != nil {
		return nil, err
	}
	if g := st.Condition.DateGreaterThan; g != nil {
		if p.notBefore, err = epochSeconds(g.EpochTime); err != nil {
			return nil, err
		}
	}
	if ip := st.Condition.IPAddress; ip != nil {
		src := ip.SourceIP
		if !strings.Contains(src, "/") {
			if a, err := netip.ParseAddr(src); err == nil {
				src += "/" + strconv.Itoa(a.BitLen())
			}
		}
		pfx, err := netip.ParsePrefix(src)
		if err != nil {
			return nil, fmt.Errorf("%w: AWS:SourceIp %q", errMalformed, ip.SourceIP)
		}
		p.sourceIP, p.hasIP = pfx.Masked(), true
	}
	if st.Resource != nil {
		p.resource, p.hasResource = *st.Resource, true
	}
	return p, nil
}

func epochSeconds(n json.Number) (int64, error) {
	v, err := n.Int64()
	if err != nil || v < 0 || v > math.MaxInt32*4 {
		return 0, fmt.Errorf("%w: AWS:EpochTime %q", errMalformed, n)
	}
	return v, nil
}

// allows reports whether the policy's conditions hold for a request for
// url from addr() (read only when the policy names addresses) at now.
func (p *policy) allows(url string, addr func() netip.Addr, now time.Time) bool {
	sec := now.Unix()
	if sec >= p.notAfter || (p.notBefore != 0 && sec < p.notBefore) {
		return false
	}
	if p.hasIP {
		if a := addr(); !a.IsValid() || !p.sourceIP.Contains(a) {
			return false
		}
	}
	return !p.hasResource || matchWildcard(p.resource, url)
}

// matchWildcard matches s against pattern, where * stands for any run of
// characters (none included) and ? for exactly one. Linear time: the
// classic backtracking over the last star only.
func matchWildcard(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
