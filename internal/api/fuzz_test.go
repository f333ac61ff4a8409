package api_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/stagefront/stagefront/internal/api"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// FuzzDecodeDistributionConfig checks that the request decoder never
// panics, fails only with a 400-class CloudFront error, and that what it
// accepts survives encode → decode unchanged (what a client PUTs, a GET
// returns, unknown elements included).
func FuzzDecodeDistributionConfig(f *testing.F) {
	f.Add([]byte(cliCreateBody))
	f.Add(marshalRequest(f, "DistributionConfig", fullDistributionConfig("E2OACEXAMPLE01", false)))
	f.Add(marshalRequest(f, "DistributionConfig", fullDistributionConfig("E2OACEXAMPLE01", true)))
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><DistributionConfig ` + ns + `><Comment>a&amp;b&#13;</Comment></DistributionConfig>`))
	f.Add([]byte(`<DistributionConfig ` + ns + ` xmlns:p="urn:p"><p:Future p:a="1" b="2" xml:lang="en"><p:x/>t</p:Future>` +
		`<Aliases><Quantity>0</Quantity><Items></Items><Extra xmlns="urn:e"><Items></Items></Extra></Aliases></DistributionConfig>`))
	f.Add([]byte(`<DistributionConfig><Origins><Items><Origin><CustomOriginConfig><HTTPPort> 80 </HTTPPort></CustomOriginConfig></Origin></Items></Origins></DistributionConfig>`))
	f.Add([]byte(`<DistributionConfig ` + ns + `><OriginGroups><Items><OriginGroup><FailoverCriteria><StatusCodes><Items><StatusCode>500</StatusCode></Items></StatusCodes></FailoverCriteria></OriginGroup></Items></OriginGroups></DistributionConfig>`))
	f.Add([]byte(`<DistributionConfig/>`))
	f.Add([]byte(``))
	f.Add([]byte(`<Distribution/>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var first cf.DistributionConfig
		if err := api.DecodeXML(data, "DistributionConfig", &first); err != nil {
			var apiErr *cf.Error
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
				t.Fatalf("decode error is not a 400 CloudFront error: %v", err)
			}
			return
		}
		encoded, err := api.EncodeXML("DistributionConfig", &first)
		if err != nil {
			t.Fatalf("encoding a decoded config: %v", err)
		}
		var second cf.DistributionConfig
		if err := api.DecodeXML(encoded, "DistributionConfig", &second); err != nil {
			t.Fatalf("decoding our own encoding: %v\ninput: %q\nencoded: %s", err, data, encoded)
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("decode → encode → decode changed the config\ninput:   %q\nencoded: %s\nfirst:  %+v\nsecond: %+v", data, encoded, first, second)
		}
		again, err := api.EncodeXML("DistributionConfig", &second)
		if err != nil || string(again) != string(encoded) {
			t.Fatalf("encoding is not stable (err %v):\n%s\n%s", err, encoded, again)
		}
	})
}

func TestEncodeXMLWithoutDocument(t *testing.T) {
	t.Parallel()
	for _, v := range []any{nil, (*cf.DistributionConfig)(nil), (*cf.Time)(nil)} {
		if b, err := api.EncodeXML("DistributionConfig", v); err == nil {
			t.Errorf("EncodeXML(%T) = %s, want an error", v, b)
		}
	}
}
