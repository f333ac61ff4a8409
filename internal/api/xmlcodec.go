package api

import (
	"bytes"
	"encoding"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/stagefront/stagefront/internal/api/auth"
	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// DefaultMaxBodyBytes caps a request document. CloudFront's largest
// documents (a DistributionConfig with hundreds of behaviors) stay far below.
const DefaultMaxBodyBytes = 1 << 20

// readBody reads at most limit bytes of the request body.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, auth.ErrRequestEntityTooLarge.WithMessage("The request body (%d bytes) is larger than the maximum of %d bytes.", r.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("api: reading request body: %w", cf.ErrMalformedInput.WithMessage("The request body could not be read."))
	}
	if int64(len(body)) > limit {
		return nil, auth.ErrRequestEntityTooLarge.WithMessage("The request body is larger than the maximum of %d bytes.", limit)
	}
	return body, nil
}

// decodeXML parses a request document whose root element must be root (in
// CloudFront's namespace, or in none: botocore always sends the namespace,
// hand-written requests often do not). Every failure is a *cloudfront.Error:
// MissingBody for an empty document, MalformedInput for anything else.
func decodeXML(body []byte, root string, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return cf.ErrMissingBody
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	start, err := rootElement(dec)
	if err != nil {
		return malformed(err)
	}
	if start.Name.Local != root || (start.Name.Space != "" && start.Name.Space != cf.Namespace) {
		return cf.ErrMalformedInput.WithMessage("The root element must be <%s xmlns=%q>, not <%s> in namespace %q.",
			root, cf.Namespace, start.Name.Local, start.Name.Space)
	}
	if err := dec.DecodeElement(v, &start); err != nil {
		return malformed(err)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformed(err)
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return cf.ErrMalformedInput.WithMessage("The document has text after its root element.")
			}
		default:
			return cf.ErrMalformedInput.WithMessage("The document has more than one root element.")
		}
	}
	normalizeUnknown(reflect.ValueOf(v))
	return nil
}

// rootElement skips the prolog (declaration, comments, whitespace) and
// returns the first start element.
func rootElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, errors.New("the document has no root element")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		case xml.EndElement:
			return xml.StartElement{}, errors.New("end element before the root element")
		}
	}
}

func malformed(err error) error {
	return cf.ErrMalformedInput.WithMessage("The XML document you provided was not well-formed or did not validate: %v.", err)
}

var (
	rawXMLType        = reflect.TypeFor[cf.RawXML]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// normalizeUnknown rewrites every kept unknown element (cloudfront.RawXML)
// into a form that encodes back to itself: encoding/xml resolves prefixes to
// namespace URLs on decode, which it cannot turn back into prefixes on
// encode. The element inherits the document's default namespace; namespace
// declarations (xmlns, xmlns:p) and xml:* attributes are kept verbatim;
// other prefixed attributes are dropped, as are duplicates.
func normalizeUnknown(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalizeUnknown(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		for i := range v.Len() {
			normalizeUnknown(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == rawXMLType {
			if v.CanAddr() {
				normalizeRaw(v.Addr().Interface().(*cf.RawXML))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeUnknown(v.Field(i))
			}
		}
	}
}

func normalizeRaw(raw *cf.RawXML) {
	raw.XMLName.Space = ""
	var attrs []xml.Attr
	seen := map[string]bool{}
	for _, a := range raw.Attr {
		switch a.Name.Space {
		case "":
		case "xmlns":
			a.Name = xml.Name{Local: "xmlns:" + a.Name.Local}
		case "http://www.w3.org/XML/1998/namespace":
			a.Name = xml.Name{Local: "xml:" + a.Name.Local}
		default:
			continue
		}
		if seen[a.Name.Local] {
			continue
		}
		seen[a.Name.Local] = true
		attrs = append(attrs, a)
	}
	raw.Attr = attrs
}

// encodeXML writes v as a CloudFront response document: the XML
// declaration, then the root element in CloudFront's namespace, members in
// model order (the generated struct order), unknown elements last.
//
// It walks the generated shapes itself instead of calling
// xml.Encoder.EncodeElement on them because encoding/xml writes an empty
// wrapper (<Items></Items>) for a nil slice tagged "Items>X,omitempty",
// which CloudFront never sends (Quantity 0 comes without Items).
func encodeXML(root string, v any) ([]byte, error) { return encodeXMLCached(root, v, nil) }

// encodeXMLCached is encodeXML with a cache of encoded DistributionConfig
// elements (nil: none).
func encodeXMLCached(root string, v any, configs *configCache) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	e := &xmlEncoder{enc: xml.NewEncoder(&buf), buf: &buf, configs: configs}
	start := xml.StartElement{
		Name: xml.Name{Local: root},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: cf.Namespace}},
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Kind() == reflect.Pointer {
		return nil, fmt.Errorf("encode %s: no document (%T)", root, v)
	}
	if err := e.writeElement(start, rv); err != nil {
		return nil, fmt.Errorf("encode %s: %w", root, err)
	}
	if err := e.enc.Flush(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", root, err)
	}
	return buf.Bytes(), nil
}

// xmlEncoder writes one response document.
type xmlEncoder struct {
	enc     *xml.Encoder
	buf     *bytes.Buffer
	configs *configCache
}

// configCache keeps the encoded <DistributionConfig> element of configs the
// control plane hands out. Those are shared, read-only records decoded once
// per store revision, so a pointer names one content for its whole life; a
// GetDistribution of an unchanged distribution then skips re-encoding it.
type configCache struct {
	mu sync.Mutex
	m  map[*cf.DistributionConfig][]byte
}

const configCacheSize = 4096

func newConfigCache() *configCache { return &configCache{m: map[*cf.DistributionConfig][]byte{}} }

func (c *configCache) get(k *cf.DistributionConfig) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *configCache) put(k *cf.DistributionConfig, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= configCacheSize { // configs of old revisions pile up: start over
		clear(c.m)
	}
	c.m[k] = b
}

// writeConfig writes a DistributionConfig element from the cache, or
// encodes it and remembers the bytes.
func (e *xmlEncoder) writeConfig(name string, cfg *cf.DistributionConfig) error {
	if err := e.enc.Flush(); err != nil {
		return err
	}
	if b, ok := e.configs.get(cfg); ok {
		e.buf.Write(b)
		return nil
	}
	start := e.buf.Len()
	if err := e.writeElement(xml.StartElement{Name: xml.Name{Local: name}}, reflect.ValueOf(cfg).Elem()); err != nil {
		return err
	}
	if err := e.enc.Flush(); err != nil {
		return err
	}
	e.configs.put(cfg, bytes.Clone(e.buf.Bytes()[start:]))
	return nil
}

// writeElement writes one element holding v (not a pointer).
func (e *xmlEncoder) writeElement(start xml.StartElement, v reflect.Value) error {
	if v.Type().Implements(textMarshalerType) {
		text, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		return e.writeText(start, string(text))
	}
	switch v.Kind() {
	case reflect.String:
		return e.writeText(start, v.String())
	case reflect.Bool:
		return e.writeText(start, strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.writeText(start, strconv.FormatInt(v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		return e.writeText(start, strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits()))
	case reflect.Struct:
		if err := e.enc.EncodeToken(start); err != nil {
			return err
		}
		for i := range v.NumField() {
			if err := e.writeField(v.Type().Field(i), v.Field(i)); err != nil {
				return err
			}
		}
		return e.enc.EncodeToken(start.End())
	}
	return fmt.Errorf("element %s: unsupported kind %s", start.Name.Local, v.Kind())
}

func (e *xmlEncoder) writeText(start xml.StartElement, text string) error {
	if err := e.enc.EncodeToken(start); err != nil {
		return err
	}
	if err := e.enc.EncodeToken(xml.CharData(text)); err != nil {
		return err
	}
	return e.enc.EncodeToken(start.End())
}

// writeField writes one struct member per its xml tag: "Name,omitempty",
// "Wrapper>Member,omitempty" or ",any" (kept unknown elements).
func (e *xmlEncoder) writeField(f reflect.StructField, v reflect.Value) error {
	tag := f.Tag.Get("xml")
	name, opts, _ := strings.Cut(tag, ",")
	if !f.IsExported() || tag == "-" {
		return nil
	}
	if opts == "any" {
		raws, ok := v.Interface().([]cf.RawXML)
		if !ok {
			return fmt.Errorf("field %s: ,any on %s", f.Name, f.Type)
		}
		for _, raw := range raws {
			if raw.XMLName.Local == "" {
				continue
			}
			// The start carries the name only: EncodeElement adds the
			// attributes from RawXML.Attr (",any,attr") itself.
			if err := e.enc.EncodeElement(raw, xml.StartElement{Name: xml.Name{Local: raw.XMLName.Local}}); err != nil {
				return err
			}
		}
		return nil
	}
	if name == "" {
		return nil
	}
	if cfg, ok := v.Interface().(*cf.DistributionConfig); ok && cfg != nil && e.configs != nil {
		return e.writeConfig(name, cfg)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice || v.Type().Implements(textMarshalerType) {
		return e.writeElement(xml.StartElement{Name: xml.Name{Local: name}}, v)
	}
	if v.Len() == 0 {
		return nil
	}
	wrapper, member, wrapped := strings.Cut(name, ">")
	if !wrapped {
		member = name // a flattened list: one element per item
	}
	var ws xml.StartElement
	if wrapped {
		ws = xml.StartElement{Name: xml.Name{Local: wrapper}}
		if err := e.enc.EncodeToken(ws); err != nil {
			return err
		}
	}
	for i := range v.Len() {
		item := v.Index(i)
		if item.Kind() == reflect.Pointer {
			if item.IsNil() {
				continue
			}
			item = item.Elem()
		}
		if err := e.writeElement(xml.StartElement{Name: xml.Name{Local: member}}, item); err != nil {
			return err
		}
	}
	if wrapped {
		return e.enc.EncodeToken(ws.End())
	}
	return nil
}
