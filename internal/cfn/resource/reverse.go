package resource

import (
	"encoding/json"
	"fmt"
	"strings"
)

// reverseRenames maps API member names back to CloudFormation's.
var reverseRenames = map[string]string{
	"IsIPV6Enabled":      "IPV6Enabled",
	"CustomHeaders":      "OriginCustomHeaders",
	"OriginSslProtocols": "OriginSSLProtocols",
	"ACMCertificateArn":  "AcmCertificateArn",
	"IAMCertificateId":   "IamCertificateId",
	"SSLSupportMethod":   "SslSupportMethod",
}

// toCFN renders API shapes in CloudFormation shape, with every scalar as
// text (the form resolved template properties have), for drift detection.
func toCFN(v map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("resource: encode actual state: %w", err)
	}
	var generic any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("resource: decode actual state: %w", err)
	}
	out, _ := reverse(generic).(map[string]any)
	return out, nil
}

func reverse(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			if k == "_unknown" {
				continue
			}
			if r, ok := reverseRenames[k]; ok {
				k = r
			}
			m[k] = reverse(e)
		}
		if am, ok := m["AllowedMethods"].(map[string]any); ok {
			if cm, has := am["CachedMethods"]; has {
				m["CachedMethods"] = cm
			}
			m["AllowedMethods"] = orEmpty(am["Items"])
		}
		if _, q := m["Quantity"]; q {
			onlyWrapper := true
			for k := range m {
				onlyWrapper = onlyWrapper && (k == "Quantity" || k == "Items" || k == "Enabled")
			}
			if onlyWrapper {
				return orEmpty(m["Items"])
			}
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = reverse(e)
		}
		return out
	case bool:
		if t {
			return "true"
		}
		return "false"
	case json.Number:
		return t.String()
	}
	return v
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}
